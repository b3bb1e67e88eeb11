// trainer_bench DATASET_DIR TRAIN_N TEST_N BATCH BLOCKS CHANNELS THREADS EPOCHS [DEVICE [OPTIONS]]: our
// trainer on real Fashion-MNIST (on DEVICE: cpu, or cuda:0), one line of JSON per epoch with
// training and evaluation images/s, then one with the network's multiply-accumulates and how the
// step ran. OPTIONS: comma-separated settings as a study names them, e.g.
// "model.arch=vgg11,training.precision=bf16,training.cuda_graphs=false,resize=32" (resize: square
// side and 3 channels, for the VGG and ResNet families). The same loop in eager PyTorch is
// bench/trainer_pytorch.py; bench/trainer.sh (CPU) and bench/trainer_gpu.sh run both, alternating.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "nodes/image_dataset.hpp"
#include "nodes/trainer.hpp"
#include "study/train_settings.hpp"

/// "key=value,..." onto the settings (as a study's keys) and `resize=N` onto the images.
bool apply_options(const std::string& options, cs::study::TrainSettings& s, cs::study::DatasetConfig& prep) {
  std::size_t start = 0;
  while (start < options.size()) {
    const auto comma = std::min(options.find(',', start), options.size());
    const auto item = options.substr(start, comma - start);
    start = comma + 1;
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      std::cerr << "trainer_bench: option '" << item << "' is not key=value\n";
      return false;
    }
    const auto key = item.substr(0, eq), text = item.substr(eq + 1);
    char* end = nullptr;
    const double number = std::strtod(text.c_str(), &end);
    const bool numeric = end != text.c_str() && *end == '\0';
    if (key == "resize" && numeric) {
      prep.resize = static_cast<std::int64_t>(number);
      prep.channels = 3;
      continue;
    }
    const auto* setting = cs::study::find_setting(key);
    if (!setting) {
      std::cerr << "trainer_bench: no setting is named '" << key << "'\n";
      return false;
    }
    setting->set(s, numeric ? cs::search::ParamValue{number} : cs::search::ParamValue{text});
  }
  return true;
}

int main(int argc, char** argv) {
  if (argc < 9 || argc > 11) {
    std::cerr << "usage: trainer_bench DATASET_DIR TRAIN_N TEST_N BATCH BLOCKS CHANNELS THREADS EPOCHS [DEVICE "
                 "[OPTIONS]]\n";
    return 2;
  }
  const auto arg = [&](int i) { return std::atoll(argv[i + 1]); };
  using namespace cs::nodes;
  const auto train = load_idx(argv[1], Split::kTrain, arg(1));
  const auto test = load_idx(argv[1], Split::kTest, arg(2));
  set_torch_threads(static_cast<int>(arg(6)));
  cs::study::TrainSettings s;
  s.training.epochs = static_cast<int>(arg(7));
  s.optimizer.lr = 0.05;
  s.optimizer.momentum = 0.9;
  s.training.batch_size = arg(3);
  s.model.conv_layers = arg(4);
  s.model.channels = arg(5);
  s.seed = 1;
  const std::string device = argc >= 10 ? argv[9] : "cpu";
  if (device.starts_with("cuda")) s.training.device = cs::study::Device::kCuda;
  cs::study::DatasetConfig prep;
  if (argc == 11 && !apply_options(argv[10], s, prep)) return 2;
  // The PyTorch side evaluates on the test images each epoch: so do we (as the validation set).
  Trainer trainer(train, test, test, prep, device);
  using Clock = std::chrono::steady_clock;
  auto epoch_start = Clock::now(), eval_start = Clock::now();
  TrainCallbacks callbacks;
  callbacks.on_eval_start = [&] { eval_start = Clock::now(); };
  callbacks.on_epoch = [&](const EpochOutcome& e) {
    const auto now = Clock::now();
    const double train_s = std::chrono::duration<double>(eval_start - epoch_start).count();
    const double eval_s = std::chrono::duration<double>(now - eval_start).count();
    std::cout
        << fmt::format(
               R"({{"side": "ours", "epoch": {}, "train_images_per_s": {:.1f}, "eval_images_per_s": {:.1f}, "loss": {:.4f}, "accuracy": {:.4f}}})",
               e.epoch, static_cast<double>(train.count) / train_s, static_cast<double>(test.count) / eval_s,
               e.train_loss, e.val_accuracy)
        << '\n';
    epoch_start = Clock::now();
    return EpochDecision::kContinue;
  };
  const auto outcome = trainer.train(s, callbacks);
  std::cout << fmt::format(R"({{"side": "ours", "model": "{}", "macs": {:.0f}, "cuda_graph": "{}", "diverged": {}}})",
                           outcome.model, outcome.macs, outcome.cuda_graph, outcome.diverged ? "true" : "false")
            << '\n';
  return 0;
}
