// Our 2 x 2 max pooling, alone and after a ReLU in one pass, against LibTorch's max_pool2d (of
// relu): outputs and gradients on odd sides, ties, NaNs and infinities, and other layouts and types,
// which it hands to LibTorch.
#include "nodes/max_pool.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace cs::nodes {
namespace {

/// Output and input gradient of `pool` for x, with a fixed random upstream gradient.
std::pair<torch::Tensor, torch::Tensor> pooled_with_grad(const torch::Tensor& x,
                                                         torch::Tensor (*pool)(const torch::Tensor&)) {
  auto input = x.detach().clone().requires_grad_(true);
  auto out = pool(input);
  torch::manual_seed(3);
  out.backward(torch::randn(out.sizes()));
  return {out.detach(), input.grad()};
}

torch::Tensor torch_pool(const torch::Tensor& x) { return torch::max_pool2d(x, 2); }

torch::Tensor torch_relu_pool(const torch::Tensor& x) { return torch::max_pool2d(torch::relu(x), 2); }

void expect_same_as_torch(const torch::Tensor& x, bool relu = false) {
  const auto [ours, ours_grad] = pooled_with_grad(x, relu ? &relu_max_pool_2x2 : &max_pool_2x2);
  const auto [theirs, theirs_grad] = pooled_with_grad(x, relu ? &torch_relu_pool : &torch_pool);
  ASSERT_EQ(ours.sizes(), theirs.sizes());
  EXPECT_TRUE(torch::equal(ours.isnan(), theirs.isnan()));
  EXPECT_TRUE(torch::equal(ours.nan_to_num(0), theirs.nan_to_num(0)));
  EXPECT_TRUE(torch::equal(ours_grad, theirs_grad)) << "the gradient went to another element of a window";
}

/// Both kernels without gradients (evaluation), with and without the ReLU, and with gradients.
void expect_same_pooling(const torch::Tensor& x) {
  {
    torch::NoGradGuard no_grad;
    for (const bool relu : {false, true}) {
      const auto ours = relu ? relu_max_pool_2x2(x) : max_pool_2x2(x);
      const auto theirs = relu ? torch_relu_pool(x) : torch_pool(x);
      ASSERT_EQ(ours.sizes(), theirs.sizes());
      EXPECT_TRUE(torch::equal(ours.isnan(), theirs.isnan())) << "relu " << relu;
      EXPECT_TRUE(torch::equal(ours.nan_to_num(0), theirs.nan_to_num(0))) << "relu " << relu;
    }
  }
  expect_same_as_torch(x);
  expect_same_as_torch(x, true);
}

TEST(MaxPool2x2, MatchesLibTorchOnRandomImagesOfEvenAndOddSides) {
  torch::manual_seed(1);
  expect_same_pooling(torch::randn({4, 3, 8, 8}));
  expect_same_pooling(torch::randn({2, 5, 7, 9}));  // the last row and column are dropped
  expect_same_pooling(torch::randn({1, 1, 2, 2}));
  expect_same_pooling(torch::relu(torch::randn({3, 4, 6, 6})));                 // after a ReLU most windows tie at 0
  expect_same_pooling(torch::randn({2, 3, 28, 28}));                            // SimpleCNN's rows: 14 windows
  expect_same_pooling(torch::randn({2, 3, 14, 15}));                            // 7 windows: 4 at once and 3 alone
  expect_same_pooling(torch::randint(-2, 3, {2, 4, 9, 16}).to(torch::kFloat));  // many ties, of each sign
}

TEST(MaxPool2x2, AfterAReluTheGradientGoesOnlyToPositiveOrNaNMaxima) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto x = torch::tensor({-1.0F, -2.0F, 3.0F, 1.0F, nan, -1.0F, -3.0F, -0.5F, 2.0F, 3.0F, nan, 0.0F})
               .view({1, 1, 2, 6})
               .requires_grad_(true);
  const auto out = relu_max_pool_2x2(x);
  EXPECT_EQ(out[0][0][0][0].item<float>(), 0.0F);
  EXPECT_EQ(out[0][0][0][1].item<float>(), 3.0F);
  EXPECT_TRUE(std::isnan(out[0][0][0][2].item<float>()));
  out.backward(torch::tensor({5.0F, 7.0F, 9.0F}).view({1, 1, 1, 3}));
  // None through the all-negative window; the first of the tied 3s, and the last NaN, take theirs.
  EXPECT_TRUE(torch::equal(
      x.grad(),
      torch::tensor({0.0F, 0.0F, 7.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 9.0F, 0.0F}).view({1, 1, 2, 6})));
}

TEST(MaxPool2x2, NaNsAndInfinitiesPoolAsInLibTorch) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  auto x = torch::tensor({1.0F, nan, 3.0F, -inf, -inf, -inf, nan, 2.0F, inf, 0.0F, nan, nan, 5.0F, -1.0F, 4.0F, 4.0F})
               .view({1, 1, 4, 4});
  expect_same_pooling(x);
  expect_same_pooling(torch::cat({x, -x, x.flip(3)}, 3));  // the same windows 4 at once
  torch::NoGradGuard no_grad;
  const auto out = max_pool_2x2(x);
  EXPECT_TRUE(std::isnan(out[0][0][0][0].item<float>()));
  EXPECT_TRUE(std::isnan(out[0][0][0][1].item<float>()));
  EXPECT_EQ(out[0][0][1][0].item<float>(), inf);
  EXPECT_TRUE(std::isnan(out[0][0][1][1].item<float>()));  // a NaN beats the 4s that follow it
}

TEST(MaxPool2x2, WithGradientsItTrainsAsLibTorchDoes) {
  torch::manual_seed(2);
  expect_same_as_torch(torch::relu(torch::randn({2, 3, 10, 10})));
}

TEST(MaxPool2x2, OtherLayoutsAndTypesRunLibTorchsKernel) {
  torch::manual_seed(4);
  const auto x = torch::randn({2, 4, 6, 6});
  expect_same_as_torch(x.contiguous(torch::MemoryFormat::ChannelsLast));
  expect_same_as_torch(x.to(torch::kDouble));
  expect_same_as_torch(x.transpose(2, 3));
  expect_same_as_torch(x.contiguous(torch::MemoryFormat::ChannelsLast), true);
  expect_same_as_torch(x.to(torch::kDouble), true);
  EXPECT_TRUE(
      max_pool_2x2(x.contiguous(torch::MemoryFormat::ChannelsLast)).is_contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace
}  // namespace cs::nodes
