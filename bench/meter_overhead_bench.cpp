// Metering overhead: the demo model trained with every available meter sampling at 100 ms,
// against the same training with no meters, alternating in one process (target: < 1%); and
// the cost of the layer profiler when it is on.
// Usage: meter_overhead_bench [rounds] [dataset dir] [device: cpu | cuda:0] [training images]
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/order_statistics.hpp"
#include "energy/meter_factory.hpp"
#include "energy/meter_session.hpp"
#include "nodes/image_dataset.hpp"
#include "nodes/trainer.hpp"

int main(int argc, char** argv) {
  using namespace cs;
  const int rounds = argc > 1 ? std::stoi(argv[1]) : 6;
  const std::string dataset = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
  const std::string device = argc > 3 ? argv[3] : "cpu";  // or cuda:0
  const std::int64_t images = argc > 4 ? std::stoll(argv[4]) : 6000;
  const auto train = nodes::load_idx(dataset, nodes::Split::kTrain, images);
  const auto test = nodes::load_idx(dataset, nodes::Split::kTest, 2000);
  nodes::Trainer trainer(train, test, test, study::DatasetConfig{}, device);
  nodes::set_torch_threads(2);

  std::vector<std::unique_ptr<energy::EnergyMeter>> meters;
  std::vector<energy::EnergyMeter*> borrowed;
  std::vector<std::string> names;
  for (const auto& name : energy::known_meter_names()) {
    if (name == "external") continue;  // needs a power log
    auto meter = energy::make_meter(name, {});
    if (!meter->available()) continue;
    names.push_back(name);
    borrowed.push_back(meter.get());
    meters.push_back(std::move(meter));
  }
  study::TrainSettings settings;
  settings.optimizer.lr = 0.05;
  settings.model.channels = 8;
  settings.seed = 7;
  std::vector<double> with_s, without_s, profiled_s, sampler_cpu_s;
  std::vector<std::vector<double>> energy_j(meters.size());  // per meter, per metered epoch
  // The layer profiler on every 50th step, metered as in a study with [profiling] layers = true.
  nodes::TrainCallbacks profiled;
  profiled.profile_every = 50;
  profiled.energy_now_j = [&] { return borrowed.front()->read().value; };
  trainer.train(settings, {});  // warm-up
  for (int round = 0; round < rounds; ++round) {
    for (const bool metered : {round % 2 == 0, round % 2 != 0}) {
      const auto t0 = std::chrono::steady_clock::now();
      if (metered) {
        energy::MeterSession session(borrowed, std::chrono::milliseconds(100));
        session.start();
        trainer.train(settings, {});
        const auto report = session.stop();
        sampler_cpu_s.push_back(report.sampler_cpu_s);
        for (std::size_t m = 0; m < meters.size(); ++m) energy_j[m].push_back(report.energy[m].energy.value);
      } else {
        trainer.train(settings, {});
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      (metered ? with_s : without_s).push_back(s);
    }
    const auto t0 = std::chrono::steady_clock::now();
    trainer.train(settings, profiled);
    profiled_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double a = median(with_s), b = median(without_s);
  std::cout << fmt::format("device {}, {} training images; meters: {} at 100 ms; {} rounds, alternating\n", device,
                           images, fmt::join(names, ", "), rounds)
            << fmt::format("training epoch, median: {:.3f} s with meters, {:.3f} s without\n", a, b)
            << fmt::format("overhead: {:+.2f}% of training time (target < 1%)\n", 100.0 * (a / b - 1.0))
            << fmt::format("sampling thread CPU time per epoch, median: {:.4f} s ({:.3f}% of the epoch)\n",
                           median(sampler_cpu_s), 100.0 * median(sampler_cpu_s) / a)
            << fmt::format("layer profiler every 50th step: {:.3f} s, {:+.2f}% against no meters\n", median(profiled_s),
                           100.0 * (median(profiled_s) / b - 1.0));
  for (std::size_t m = 0; m < meters.size(); ++m) {
    std::cout << fmt::format("{} ({}): median {:.2f} J per epoch, {:.1f} W\n", names[m],
                             energy::to_string(meters[m]->kind()), median(energy_j[m]), median(energy_j[m]) / a);
  }
  return 0;
}
