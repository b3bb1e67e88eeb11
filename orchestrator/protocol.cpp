// Little-endian, length-prefixed encoding of every message field.
#include "orchestrator/protocol.hpp"

#include <cstring>

#include <fmt/format.h>

#include "errors/error.hpp"

namespace cs::orchestrator {

namespace {

class Writer {
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
  void put(const io::EpochRecord& e) {
    put(e.epoch);
    put(e.train_loss);
    put(e.objective);
    put(e.energy_j);
    put(e.duration_s);
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

class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}

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
      default: throw MpiError("protocol: unknown parameter type");
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
  io::EpochRecord get_epoch() {
    io::EpochRecord e;
    e.epoch = get<std::int32_t>();
    e.train_loss = get<double>();
    e.objective = get<double>();
    e.energy_j = get<double>();
    e.duration_s = get<double>();
    return e;
  }
  std::uint32_t get_count(std::size_t min_bytes_each) {
    const auto n = get<std::uint32_t>();
    if (static_cast<std::size_t>(n) * min_bytes_each > bytes_.size() - pos_)
      throw MpiError("protocol: truncated message");
    return n;
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  const std::byte* take(std::size_t n) {
    if (n > bytes_.size() - pos_) throw MpiError("protocol: truncated message");
    const std::byte* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

void put_result(Writer& w, const io::TrialResult& r) {
  w.put(r.spec);
  w.put(static_cast<std::uint8_t>(r.status));
  for (const auto* s : {&r.error, &r.site}) w.put(*s);
  w.put(r.rank);
  w.put(r.host);
  w.put(r.threads);
  for (double v : {r.start_unix_s, r.end_unix_s}) w.put(v);
  w.put(r.epochs_done);
  for (double v : {r.train_loss, r.val_accuracy, r.objective, r.pruning_saved_energy_j}) w.put(v);
  w.put(static_cast<std::uint32_t>(r.epochs.size()));
  for (const auto& e : r.epochs) w.put(e);
  w.put(static_cast<std::uint32_t>(r.meters.size()));
  for (const auto& m : r.meters) {
    w.put(m.meter);
    w.put(m.kind);
    w.put(m.energy_j);
  }
  w.put(static_cast<std::uint32_t>(r.samples.size()));
  for (const auto& s : r.samples) {
    w.put(s.t_s);
    w.put(static_cast<std::uint32_t>(s.meter));
    w.put(s.power_w);
  }
  w.put(r.primary_meter);
  for (double v : {r.energy_j, r.pue, r.facility_energy_j, r.intensity_g_per_kwh, r.co2_g, r.sampler_cpu_s}) w.put(v);
}

io::TrialResult get_result(Reader& rd) {
  io::TrialResult r;
  r.spec = rd.get_spec();
  const auto status = rd.get<std::uint8_t>();
  if (status > static_cast<std::uint8_t>(search::TrialStatus::kPruned))
    throw MpiError("protocol: unknown trial status");
  r.status = static_cast<search::TrialStatus>(status);
  r.error = rd.get_string();
  r.site = rd.get_string();
  r.rank = rd.get<std::int32_t>();
  r.host = rd.get_string();
  r.threads = rd.get<std::int32_t>();
  r.start_unix_s = rd.get<double>();
  r.end_unix_s = rd.get<double>();
  r.epochs_done = rd.get<std::int32_t>();
  r.train_loss = rd.get<double>();
  r.val_accuracy = rd.get<double>();
  r.objective = rd.get<double>();
  r.pruning_saved_energy_j = rd.get<double>();
  for (auto n = rd.get_count(36); n > 0; --n) r.epochs.push_back(rd.get_epoch());
  for (auto n = rd.get_count(16); n > 0; --n) {
    io::MeterReading m;
    m.meter = rd.get_string();
    m.kind = rd.get_string();
    m.energy_j = rd.get<double>();
    r.meters.push_back(std::move(m));
  }
  for (auto n = rd.get_count(20); n > 0; --n) {
    energy::PowerSample s;
    s.t_s = rd.get<double>();
    s.meter = rd.get<std::uint32_t>();
    s.power_w = rd.get<double>();
    r.samples.push_back(s);
  }
  r.primary_meter = rd.get_string();
  for (double* v : {&r.energy_j, &r.pue, &r.facility_energy_j, &r.intensity_g_per_kwh, &r.co2_g, &r.sampler_cpu_s}) {
    *v = rd.get<double>();
  }
  return r;
}

}  // namespace

int tag_of(const Message& message) { return static_cast<int>(message.index()) + 1; }

std::vector<std::byte> encode(const Message& message) {
  Writer w;
  w.put(kProtocolVersion);
  w.put(static_cast<std::uint8_t>(tag_of(message)));
  std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Ready>) {
          w.put(m.rank);
        } else if constexpr (std::is_same_v<T, Assign>) {
          w.put(m.spec);
        } else if constexpr (std::is_same_v<T, Shutdown>) {
          w.put(m.reason);
        } else if constexpr (std::is_same_v<T, EpochReport>) {
          w.put(m.trial_id);
          w.put(m.record);
        } else if constexpr (std::is_same_v<T, ResultReport>) {
          put_result(w, m.result);
        } else if constexpr (std::is_same_v<T, Goodbye>) {
          w.put(m.rank);
          w.put(m.reason);
        } else {
          w.put(m.trial_id);
          w.put(static_cast<std::uint8_t>(m.stop));
        }
      },
      message);
  return w.take();
}

Message decode(std::span<const std::byte> bytes) {
  Reader rd(bytes);
  const auto version = rd.get<std::uint8_t>();
  if (version != kProtocolVersion) {
    throw MpiError(
        fmt::format("protocol: message of version {}, this build speaks {}; run one carbonsweep build on "
                    "every rank",
                    version, kProtocolVersion));
  }
  Message m;
  switch (rd.get<std::uint8_t>()) {
    case 1: m = Ready{rd.get<std::int32_t>()}; break;
    case 2: m = Assign{rd.get_spec()}; break;
    case 3: m = Shutdown{rd.get_string()}; break;
    case 4: {
      const auto id = rd.get<std::int64_t>();
      m = EpochReport{id, rd.get_epoch()};
      break;
    }
    case 5: m = ResultReport{get_result(rd)}; break;
    case 6: {
      const auto rank = rd.get<std::int32_t>();
      m = Goodbye{rank, rd.get_string()};
      break;
    }
    case 7: {
      const auto id = rd.get<std::int64_t>();
      m = Decision{id, rd.get<std::uint8_t>() != 0};
      break;
    }
    default: throw MpiError("protocol: unknown message type");
  }
  if (!rd.done()) throw MpiError("protocol: trailing bytes after the message");
  return m;
}

}  // namespace cs::orchestrator
