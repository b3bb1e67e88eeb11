// Byte encoding of trials and results, shared by the MPI protocol and the journal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/error.hpp"
#include "io/trial_result.hpp"

namespace cs::io {

/// Appends fields little-endian (the host order of every machine carbonsweep runs on), strings
/// length-prefixed.
class ByteWriter {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T>
  void put(T v) { append(&v, sizeof(T)); }
  void put(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    append(s.data(), s.size());
  }
  void put(const search::ParamValue& v) {
    put(static_cast<std::uint8_t>(v.index()));
    std::visit([this](const auto& x) { put(x); }, v);
  }
  void put(const search::TrialSpec& spec) {
    put(spec.id);
    put(spec.arm);
    put(static_cast<std::uint32_t>(spec.params.size()));
    for (const auto& p : spec.params) {
      put(p.name);
      put(p.value);
    }
  }
  void put(const EpochRecord& e) {
    put(e.epoch);
    put(e.train_loss);
    put(e.objective);
    put(e.energy_j);
    put(e.duration_s);
    put(e.train_energy_j);
    put(e.eval_energy_j);
  }
  std::vector<std::byte> take() { return std::move(bytes_); }

 private:
  void append(const void* data, std::size_t n) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + n);
    if (n > 0) std::memcpy(bytes_.data() + at, data, n);
  }
  std::vector<std::byte> bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}

  template <typename T>
  requires std::is_arithmetic_v<T> T get() {
    T v{};
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint32_t>();
    const auto* p = reinterpret_cast<const char*>(take(n));
    return std::string(p, n);
  }
  search::ParamValue get_value() {
    switch (get<std::uint8_t>()) {
      case 0: return get<double>();
      case 1: return get<std::int64_t>();
      case 2: return get_string();
      default: throw IoError("unknown parameter type in a record");
    }
  }
  search::TrialSpec get_spec() {
    search::TrialSpec spec;
    spec.id = get<std::int64_t>();
    spec.arm = get_string();
    const auto n = get<std::uint32_t>();
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string name = get_string();
      spec.params.push_back({std::move(name), get_value()});
    }
    return spec;
  }
  EpochRecord get_epoch() {
    EpochRecord e;
    e.epoch = get<std::int32_t>();
    e.train_loss = get<double>();
    e.objective = get<double>();
    e.energy_j = get<double>();
    e.duration_s = get<double>();
    e.train_energy_j = get<double>();
    e.eval_energy_j = get<double>();
    return e;
  }
  std::uint32_t get_count(std::size_t min_bytes_each) {
    const auto n = get<std::uint32_t>();
    if (static_cast<std::size_t>(n) * min_bytes_each > bytes_.size() - pos_) throw IoError("truncated record");
    return n;
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  const std::byte* take(std::size_t n) {
    if (n > bytes_.size() - pos_) throw IoError("truncated record");
    const std::byte* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

/// Every field of a result, in a fixed order.
void put_result(ByteWriter& w, const TrialResult& r);
/// Throws IoError when the bytes are truncated or malformed.
TrialResult get_result(ByteReader& rd);

/// Finished trials kept encoded, one after another in one buffer, and decoded when read: a
/// coordinator holds each at the size of its encoding (well under 1 KiB for a short trial with
/// a few power samples; a TrialResult of the same trial takes about 3.7 KiB).
class EncodedResults {
 public:
  void push(const TrialResult& r);
  std::size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  void clear();
  /// Decodes trials [from, to).
  std::vector<TrialResult> slice(std::size_t from, std::size_t to) const;
  std::vector<TrialResult> all() const { return slice(0, size()); }

 private:
  std::vector<std::byte> bytes_;
  std::vector<std::size_t> ends_;  ///< where each encoding ends in bytes_
};

}  // namespace cs::io
