// Search-space validation and unit-cube mapping.
#include "search/space.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::search {

std::string to_string(const ParamValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
          return v;
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

void validate(const ParamSpec& spec) {
  const auto fail = [&](const std::string& why) {
    throw ConfigError(fmt::format("search parameter '{}': {}", spec.name, why));
  };
  if (spec.kind == ParamKind::kCategorical) {
    if (spec.choices.empty()) fail("a categorical needs at least one choice");
    for (const auto& c : spec.choices) {
      if (c.index() != spec.choices.front().index()) fail("all choices must have the same type");
    }
    return;
  }
  if (!std::isfinite(spec.low) || !std::isfinite(spec.high)) fail("low and high must be finite");
  if (!(spec.low < spec.high)) fail(fmt::format("low ({}) must be below high ({})", spec.low, spec.high));
  if (spec.log && spec.low <= 0.0) fail(fmt::format("log scale needs low > 0, got {}", spec.low));
  if (spec.kind == ParamKind::kInt && (spec.low != std::floor(spec.low) || spec.high != std::floor(spec.high))) {
    fail("int bounds must be whole numbers");
  }
}

SearchSpace::SearchSpace(std::vector<ParamSpec> params) : params_(std::move(params)) {
  if (params_.empty()) throw ConfigError("search space is empty: define at least one parameter");
  for (const auto& p : params_) validate(p);
}

ParamValue SearchSpace::from_unit(std::size_t k, double u) const {
  const ParamSpec& p = params_.at(k);
  u = std::clamp(u, 0.0, std::nextafter(1.0, 0.0));
  switch (p.kind) {
    case ParamKind::kCategorical: {
      const auto i = static_cast<std::size_t>(u * static_cast<double>(p.choices.size()));
      return p.choices[std::min(i, p.choices.size() - 1)];
    }
    case ParamKind::kInt: {
      // Widen the range by one so that every integer gets an equal share of [0, 1).
      const double lo = p.log ? std::log(p.low) : p.low;
      const double hi = p.log ? std::log(p.high + 1.0) : p.high + 1.0;
      const double x = lo + u * (hi - lo);
      const double v = std::floor(p.log ? std::exp(x) : x);
      return static_cast<std::int64_t>(std::clamp(v, p.low, p.high));
    }
    case ParamKind::kFloat: break;
  }
  if (p.log) return std::exp(std::log(p.low) + u * (std::log(p.high) - std::log(p.low)));
  return p.low + u * (p.high - p.low);
}

double SearchSpace::to_unit(std::size_t k, const ParamValue& value) const {
  const ParamSpec& p = params_.at(k);
  switch (p.kind) {
    case ParamKind::kCategorical: {
      const auto it = std::find(p.choices.begin(), p.choices.end(), value);
      if (it == p.choices.end()) throw ConfigError(fmt::format("'{}' is not a choice of {}", to_string(value), p.name));
      return (static_cast<double>(it - p.choices.begin()) + 0.5) / static_cast<double>(p.choices.size());
    }
    case ParamKind::kInt: {
      const double v = static_cast<double>(std::get<std::int64_t>(value)) + 0.5;
      const double lo = p.log ? std::log(p.low) : p.low;
      const double hi = p.log ? std::log(p.high + 1.0) : p.high + 1.0;
      return ((p.log ? std::log(v) : v) - lo) / (hi - lo);
    }
    case ParamKind::kFloat: break;
  }
  const double v = std::get<double>(value);
  if (p.log) return (std::log(v) - std::log(p.low)) / (std::log(p.high) - std::log(p.low));
  return (v - p.low) / (p.high - p.low);
}

namespace {
const ParamValue& find_param(const std::vector<Param>& params, const std::string& name) {
  for (const auto& p : params) {
    if (p.name == name) return p.value;
  }
  throw ConfigError(fmt::format("the trial has no parameter '{}'", name));
}
}  // namespace

double param_as_double(const std::vector<Param>& params, const std::string& name) {
  const ParamValue& v = find_param(params, name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  throw ConfigError(fmt::format("parameter '{}' must be a number, got '{}'", name, std::get<std::string>(v)));
}

std::int64_t param_as_int(const std::vector<Param>& params, const std::string& name) {
  const ParamValue& v = find_param(params, name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v); d && *d == std::floor(*d)) return static_cast<std::int64_t>(*d);
  throw ConfigError(fmt::format("parameter '{}' must be a whole number, got '{}'", name, to_string(v)));
}

}  // namespace cs::search
