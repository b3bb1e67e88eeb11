// Everything a worker measured for one trial: the unit the results store writes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "energy/meter_session.hpp"
#include "search/trial_spec.hpp"

namespace cs::io {

struct EpochRecord {
  std::int32_t epoch = 0;  ///< from 1
  double train_loss = 0.0;
  double objective = 0.0;  ///< maximised: test accuracy (fraction) for CNNs, -f(x) for functions
  double energy_j = 0.0;   ///< primary meter, this epoch only
  double duration_s = 0.0;
};

struct MeterReading {
  std::string meter;  ///< "estimate", ...
  std::string kind;   ///< "hardware" | "software"
  double energy_j = 0.0;
};

struct TrialResult {
  search::TrialSpec spec;
  search::TrialStatus status = search::TrialStatus::kCompleted;
  std::string error;  ///< why it failed, empty otherwise
  std::string site;
  std::int32_t rank = 0;
  std::string host;
  std::int32_t threads = 0;  ///< LibTorch intra-op threads
  double start_unix_s = 0.0;
  double end_unix_s = 0.0;
  std::int32_t epochs_done = 0;
  double train_loss = 0.0;
  double val_accuracy = 0.0;            ///< NaN for the function family
  double objective = 0.0;               ///< the value the search maximises
  double pruning_saved_energy_j = 0.0;  ///< pruned trials: estimated energy of the epochs not run
  std::vector<EpochRecord> epochs;
  std::vector<MeterReading> meters;
  std::vector<energy::PowerSample> samples;  ///< PowerSample::meter indexes `meters`
  std::string primary_meter;
  double energy_j = 0.0;  ///< device energy from the primary meter
  double pue = 1.0;
  double facility_energy_j = 0.0;  ///< energy_j x pue
  double intensity_g_per_kwh = 0.0;
  double co2_g = 0.0;
  double sampler_cpu_s = 0.0;  ///< CPU time of the sampling thread during the trial
};

}  // namespace cs::io
