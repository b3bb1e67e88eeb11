// trainer_bench DATASET_DIR TRAIN_N TEST_N BATCH BLOCKS CHANNELS THREADS EPOCHS [DEVICE]: our trainer on
// real Fashion-MNIST (on DEVICE: cpu, or cuda:0), one line of JSON per epoch with training and
// evaluation images/s. The same loop in eager PyTorch is bench/trainer_pytorch.py;
// bench/trainer.sh runs both, alternating.
#include <chrono>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "nodes/image_dataset.hpp"
#include "nodes/trainer.hpp"

int main(int argc, char** argv) {
  if (argc != 9 && argc != 10) {
    std::cerr << "usage: trainer_bench DATASET_DIR TRAIN_N TEST_N BATCH BLOCKS CHANNELS THREADS EPOCHS [DEVICE]\n";
    return 2;
  }
  const auto arg = [&](int i) { return std::atoll(argv[i + 1]); };
  using namespace cs::nodes;
  const auto train = load_idx(argv[1], Split::kTrain, arg(1));
  const auto test = load_idx(argv[1], Split::kTest, arg(2));
  set_torch_threads(static_cast<int>(arg(6)));
  // The PyTorch side evaluates on the test images each epoch: so do we (as the validation set).
  Trainer trainer(train, test, test, cs::study::DatasetConfig{}, argc == 10 ? argv[9] : "cpu");
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
  cs::study::TrainSettings s;
  s.training.epochs = static_cast<int>(arg(7));
  s.optimizer.lr = 0.05;
  s.optimizer.momentum = 0.9;
  s.training.batch_size = arg(3);
  s.model.conv_layers = arg(4);
  s.model.channels = arg(5);
  s.seed = 1;
  trainer.train(s, callbacks);
  return 0;
}
