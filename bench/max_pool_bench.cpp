// max_pool_bench [ROUNDS]: the model zoo's 2 x 2 max pooling without gradients (nodes/max_pool.cpp,
// the evaluation pass) against LibTorch's max_pool2d, on SimpleCNN's two pooled activations in
// evaluation batches of 1024 images, 2 threads, alternating the sides ROUNDS times (default 5);
// prints the median milliseconds per call and the ratio.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <vector>

#include <fmt/format.h>

#include "nodes/max_pool.hpp"

namespace {

/// Milliseconds per call of `pool` on x, over `calls` calls.
double time_ms(const torch::Tensor& x, torch::Tensor (*pool)(const torch::Tensor&), int calls) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) pool(x);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / calls;
}

torch::Tensor torch_pool(const torch::Tensor& x) { return torch::max_pool2d(x, 2); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::clamp(std::atoi(argv[1]), 1, 100) : 5;
  torch::set_num_threads(2);
  torch::manual_seed(1);
  torch::NoGradGuard no_grad;
  std::cout << fmt::format("{:>20} {:>12} {:>12} {:>8}\n", "input", "LibTorch ms", "ours ms", "ratio");
  for (const auto& shape : {std::vector<std::int64_t>{1024, 16, 28, 28}, std::vector<std::int64_t>{1024, 32, 14, 14}}) {
    const auto x = torch::relu(torch::randn(shape));
    std::vector<double> theirs, ours;
    for (int r = 0; r < rounds; ++r) {
      theirs.push_back(time_ms(x, &torch_pool, 10));
      ours.push_back(time_ms(x, &cs::nodes::max_pool_2x2, 10));
    }
    const double t = median(theirs), o = median(ours);
    std::cout << fmt::format("{:>20} {:12.2f} {:12.2f} {:7.1f}x\n",
                             fmt::format("{}x{}x{}x{}", shape[0], shape[1], shape[2], shape[3]), t, o, t / o);
  }
  return 0;
}
