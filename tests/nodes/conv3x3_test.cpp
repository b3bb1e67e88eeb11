// The first layer's 3 x 3 convolution against LibTorch's conv2d: the same output, and weight and
// bias gradients equal to float rounding, for 1 and 3 input channels, on even and odd sides; and
// LibTorch's own where its kernel does not apply.
#include "nodes/conv3x3.hpp"

#include <gtest/gtest.h>

namespace cs::nodes {
namespace {

struct Gradients {
  torch::Tensor out, weight, bias, input;
};

/// One backward pass of `run` from a fixed upstream gradient.
Gradients gradients(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, bool via_ours) {
  auto weight = w.detach().clone().requires_grad_(true);
  auto bias = b.defined() ? b.detach().clone().requires_grad_(true) : torch::Tensor();
  const auto out = via_ours ? conv3x3(x, weight, bias) : torch::conv2d(x, weight, bias, 1, 1);
  torch::manual_seed(9);
  out.backward(torch::randn(out.sizes()));
  return {out.detach(), weight.grad(), bias.defined() ? bias.grad() : torch::Tensor(),
          x.requires_grad() ? x.grad() : torch::Tensor()};
}

void expect_close(const torch::Tensor& ours, const torch::Tensor& theirs, const char* what) {
  ASSERT_EQ(ours.defined(), theirs.defined()) << what;
  if (!ours.defined()) return;
  ASSERT_EQ(ours.sizes(), theirs.sizes()) << what;
  // Sums of thousands of products in another order: equal to a few float roundings.
  EXPECT_TRUE(torch::allclose(ours, theirs, 1e-4, 1e-4))
      << what << ": largest difference " << (ours - theirs).abs().max().item<float>();
}

void expect_same_as_torch(const torch::Tensor& x, std::int64_t outs, bool with_bias) {
  torch::manual_seed(7);
  const auto w = torch::randn({outs, x.size(1), 3, 3}).to(x.scalar_type());
  const auto b = with_bias ? torch::randn({outs}).to(x.scalar_type()) : torch::Tensor();
  const auto ours = gradients(x, w, b, true), theirs = gradients(x, w, b, false);
  EXPECT_TRUE(torch::equal(ours.out, theirs.out)) << "the forward pass is LibTorch's";
  expect_close(ours.weight, theirs.weight, "weight gradient");
  expect_close(ours.bias, theirs.bias, "bias gradient");
  expect_close(ours.input, theirs.input, "input gradient");
}

TEST(Conv3x3, WeightAndBiasGradientsMatchLibTorch) {
  torch::manual_seed(1);
  expect_same_as_torch(torch::randn({8, 1, 28, 28}), 16, true);  // SimpleCNN on Fashion-MNIST
  expect_same_as_torch(torch::randn({4, 3, 32, 32}), 8, true);   // VGG on CIFAR
  expect_same_as_torch(torch::randn({3, 2, 5, 7}), 4, true);     // odd sides
  expect_same_as_torch(torch::randn({1, 1, 1, 1}), 2, true);     // only the centre tap sees the image
}

TEST(Conv3x3, TheWeightGradientIsTheCorrelationOfInputAndOutputGradient) {
  // One 2 x 2 image, one output channel, upstream gradient 1 everywhere: each tap's gradient is the
  // sum of the image values it meets over the four output positions.
  const auto x = torch::tensor({1.0F, 2.0F, 3.0F, 4.0F}).view({1, 1, 2, 2});
  auto w = torch::zeros({1, 1, 3, 3}).requires_grad_(true);
  auto b = torch::zeros({1}).requires_grad_(true);
  conv3x3(x, w, b).sum().backward();
  EXPECT_TRUE(torch::equal(w.grad().view({9}), torch::tensor({1.0F, 3.0F, 2.0F, 4.0F, 10.0F, 6.0F, 3.0F, 7.0F, 4.0F})));
  EXPECT_EQ(b.grad().item<float>(), 4.0F);
}

TEST(Conv3x3, WhereOurKernelDoesNotApplyItIsLibTorchs) {
  torch::manual_seed(2);
  expect_same_as_torch(torch::randn({2, 3, 6, 6}).requires_grad_(true), 4, true);  // a later layer
  expect_same_as_torch(torch::randn({2, 3, 6, 6}).contiguous(torch::MemoryFormat::ChannelsLast), 4, true);
  expect_same_as_torch(torch::randn({2, 8, 6, 6}), 4, true);  // more channels than kOwnGradientChannels
  expect_same_as_torch(torch::randn({2, 3, 6, 6}).to(torch::kDouble), 4, true);
  expect_same_as_torch(torch::randn({2, 3, 6, 6}), 4, false);  // no bias
}

}  // namespace
}  // namespace cs::nodes
