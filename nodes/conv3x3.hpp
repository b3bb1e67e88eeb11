// The 3 x 3 convolution (stride 1, padding 1) that opens the model zoo's networks, with a CPU
// kernel of our own for its weight gradient: the first layer's input needs no gradient and has 1-3
// channels, where oneDNN (LibTorch 1.13) ran the weight gradient at 7-10 GFLOP/s, 1.8 ms per
// SimpleCNN step for 7.2M multiply-accumulates.
#pragma once

#include <torch/torch.h>

namespace cs::nodes {

/// conv2d(x, weight, bias, stride 1, padding 1) through oneDNN, its weight and bias gradients
/// through our kernel when x is a contiguous NCHW float tensor on the CPU that needs no gradient,
/// with at most kOwnGradientChannels channels, there is a bias, and autocast is off. Otherwise
/// LibTorch's throughout.
torch::Tensor conv3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

/// The input channels up to which the weight gradient is ours (the first layer's 1 or 3).
constexpr std::int64_t kOwnGradientChannels = 4;

/// A Conv2d of 3 x 3 with padding 1 whose forward pass is conv3x3 (its name holds "Conv", and it
/// is a Conv2dImpl, so layer types, parameters and multiply-accumulates count as for any conv).
struct Conv3x3Impl : torch::nn::Conv2dImpl {
  Conv3x3Impl(std::int64_t in, std::int64_t out)
      : torch::nn::Conv2dImpl(torch::nn::Conv2dOptions(in, out, 3).padding(1)) {}
  torch::Tensor forward(const torch::Tensor& x) { return conv3x3(x, weight, bias); }
};
TORCH_MODULE(Conv3x3);

}  // namespace cs::nodes
