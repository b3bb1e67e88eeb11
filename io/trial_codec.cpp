// The result record layout.
#include "io/trial_codec.hpp"

#include <algorithm>

namespace cs::io {

void put_result(ByteWriter& w, const TrialResult& r) {
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
  for (double v :
       {r.energy_j, r.pue, r.facility_energy_j, r.intensity_g_per_kwh, r.co2_g, r.sampler_cpu_s, r.train_energy_j,
        r.eval_energy_j, r.idle_power_w, r.net_energy_j, r.priced_from_unix_s, r.co2_marginal_g}) {
    w.put(v);
  }
  w.put(r.workers_on_node);
  w.put(r.profiled_steps);
  w.put(static_cast<std::uint32_t>(r.layers.size()));
  for (const auto& l : r.layers) {
    w.put(l.type);
    w.put(l.time_s);
    w.put(l.energy_j);
  }
  w.put(r.attempt);
  w.put(r.stall_s);
  for (const auto* s : {&r.slurm.job_id, &r.slurm.step_id, &r.slurm.array_task, &r.slurm.het_component, &r.slurm.node})
    w.put(*s);
  w.put(r.test_accuracy);
  w.put(r.model);
  w.put(r.parameters);
  w.put(r.macs);
  w.put(r.inactive_params);
  w.put(r.precision);
  w.put(r.channels_last);
  w.put(r.cuda_graph);
  w.put(r.gpu);
  w.put(r.gpu_driver);
  w.put(r.gpu_counter_over_polled);
  w.put(r.gpu_interpolated);
}

TrialResult get_result(ByteReader& rd) {
  TrialResult r;
  r.spec = rd.get_spec();
  const auto status = rd.get<std::uint8_t>();
  if (status > static_cast<std::uint8_t>(search::TrialStatus::kInterrupted))
    throw IoError("unknown trial status in a record");
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
  for (auto n = rd.get_count(52); n > 0; --n) r.epochs.push_back(rd.get_epoch());
  for (auto n = rd.get_count(16); n > 0; --n) {
    MeterReading m;
    m.meter = rd.get_string();
    m.kind = rd.get_string();
    m.energy_j = rd.get<double>();
    r.meters.push_back(std::move(m));
  }
  for (auto n = rd.get_count(20); n > 0; --n) {
    PowerSample s;
    s.t_s = rd.get<double>();
    s.meter = rd.get<std::uint32_t>();
    s.power_w = rd.get<double>();
    r.samples.push_back(s);
  }
  r.primary_meter = rd.get_string();
  for (double* v : {&r.energy_j, &r.pue, &r.facility_energy_j, &r.intensity_g_per_kwh, &r.co2_g, &r.sampler_cpu_s,
                    &r.train_energy_j, &r.eval_energy_j, &r.idle_power_w, &r.net_energy_j, &r.priced_from_unix_s,
                    &r.co2_marginal_g}) {
    *v = rd.get<double>();
  }
  r.workers_on_node = rd.get<std::int32_t>();
  r.profiled_steps = rd.get<std::int32_t>();
  for (auto n = rd.get_count(20); n > 0; --n) {
    LayerEnergy l;
    l.type = rd.get_string();
    l.time_s = rd.get<double>();
    l.energy_j = rd.get<double>();
    r.layers.push_back(std::move(l));
  }
  r.attempt = rd.get<std::int32_t>();
  r.stall_s = rd.get<double>();
  for (auto* s : {&r.slurm.job_id, &r.slurm.step_id, &r.slurm.array_task, &r.slurm.het_component, &r.slurm.node})
    *s = rd.get_string();
  r.test_accuracy = rd.get<double>();
  r.model = rd.get_string();
  r.parameters = rd.get<std::int64_t>();
  r.macs = rd.get<double>();
  r.inactive_params = rd.get_string();
  r.precision = rd.get_string();
  r.channels_last = rd.get<std::int32_t>();
  r.cuda_graph = rd.get_string();
  r.gpu = rd.get_string();
  r.gpu_driver = rd.get_string();
  r.gpu_counter_over_polled = rd.get<double>();
  r.gpu_interpolated = rd.get<double>();
  return r;
}

void EncodedResults::push(const TrialResult& r) {
  ByteWriter w;
  put_result(w, r);
  const auto encoded = w.take();
  bytes_.insert(bytes_.end(), encoded.begin(), encoded.end());
  ends_.push_back(bytes_.size());
}

void EncodedResults::clear() {
  bytes_.clear();
  ends_.clear();
}

std::vector<TrialResult> EncodedResults::slice(std::size_t from, std::size_t to) const {
  std::vector<TrialResult> out;
  to = std::min(to, size());
  for (std::size_t i = from; i < to; ++i) {
    const std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    ByteReader rd(std::span<const std::byte>(bytes_.data() + begin, ends_[i] - begin));
    out.push_back(get_result(rd));
  }
  return out;
}

}  // namespace cs::io
