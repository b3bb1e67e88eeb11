// kernels_bench [ROUNDS]: the model zoo's CPU kernels of our own against LibTorch's, 2 threads,
// alternating the sides ROUNDS times (default 5), at SimpleCNN's shapes: the 2 x 2 max-pool
// without gradients in evaluation batches of 1024 images (nodes/max_pool.cpp), a training step's
// forward and backward pass of the ReLU and max-pool in batches of 64 (as the model runs them), and
// of the first 3 x 3 convolution, whose weight gradient is ours (nodes/conv3x3.cpp). Prints the
// median milliseconds per call and the ratio.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <vector>

#include <fmt/format.h>

#include "nodes/conv3x3.hpp"
#include "nodes/max_pool.hpp"

namespace {

/// Milliseconds per call of `run`, over `calls` calls.
double time_ms(const std::function<void()>& run, int calls) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) run();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / calls;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// One line: the median of each side over `rounds` alternating rounds.
void compare(const std::string& what, int rounds, const std::function<void()>& theirs,
             const std::function<void()>& ours) {
  std::vector<double> t, o;
  for (int r = 0; r < rounds; ++r) {
    t.push_back(time_ms(theirs, 10));
    o.push_back(time_ms(ours, 10));
  }
  std::cout << fmt::format("{:>34} {:12.2f} {:12.2f} {:7.1f}x\n", what, median(t), median(o), median(t) / median(o));
}

std::string shape_text(const std::vector<std::int64_t>& s) {
  return fmt::format("{}x{}x{}x{}", s[0], s[1], s[2], s[3]);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::clamp(std::atoi(argv[1]), 1, 100) : 5;
  torch::set_num_threads(2);
  torch::manual_seed(1);
  std::cout << fmt::format("{:>34} {:>12} {:>12} {:>8}\n", "input", "LibTorch ms", "ours ms", "ratio");
  for (const auto& shape : {std::vector<std::int64_t>{1024, 16, 28, 28}, std::vector<std::int64_t>{1024, 32, 14, 14}}) {
    torch::NoGradGuard no_grad;
    const auto x = torch::relu(torch::randn(shape));
    compare(
        "eval " + shape_text(shape), rounds, [&] { torch::max_pool2d(x, 2); }, [&] { cs::nodes::max_pool_2x2(x); });
  }
  for (const auto& shape : {std::vector<std::int64_t>{64, 16, 28, 28}, std::vector<std::int64_t>{64, 32, 14, 14}}) {
    const auto x = torch::randn(shape).requires_grad_(true);
    const auto grad = torch::randn({shape[0], shape[1], shape[2] / 2, shape[3] / 2});
    compare(
        "relu + pool, fwd + bwd " + shape_text(shape), rounds,
        [&] { torch::max_pool2d(torch::relu(x), 2).backward(grad); },
        [&] { cs::nodes::relu_max_pool_2x2(x).backward(grad); });
  }
  {
    const auto x = torch::randn({64, 1, 28, 28});
    const auto w = (torch::randn({16, 1, 3, 3}) * 0.3).requires_grad_(true);
    const auto b = torch::zeros({16}).requires_grad_(true);
    const auto grad = torch::randn({64, 16, 28, 28});
    compare(
        "conv 3x3 1->16, fwd + bwd 64x1x28x28", rounds, [&] { torch::conv2d(x, w, b, 1, 1).backward(grad); },
        [&] { cs::nodes::conv3x3(x, w, b).backward(grad); });
  }
  return 0;
}
