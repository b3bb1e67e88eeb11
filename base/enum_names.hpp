// Choices with names: one table per enumeration serves the parser, its error messages and --help.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cs {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

/// The value named `text`; empty when no entry has that name.
template <typename E, std::size_t N>
constexpr std::optional<E> enum_from_name(const std::array<EnumName<E>, N>& names, std::string_view text) {
  for (const auto& n : names) {
    if (n.name == text) return n.value;
  }
  return std::nullopt;
}

/// The name of `value` ("?" for a value not in the table).
template <typename E, std::size_t N>
constexpr std::string_view enum_name(const std::array<EnumName<E>, N>& names, E value) {
  for (const auto& n : names) {
    if (n.value == value) return n.name;
  }
  return "?";
}

/// Every name, quoted and joined: "\"a\", \"b\" or \"c\"".
template <typename E, std::size_t N>
std::string enum_choices(const std::array<EnumName<E>, N>& names) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += '"';
    out += names[i].name;
    out += '"';
  }
  return out;
}

}  // namespace cs
