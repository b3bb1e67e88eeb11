// 2 x 2 max pooling with stride 2, the pooling of the model zoo's convolution blocks, and the same
// pooling of a ReLU's output in one pass, with CPU kernels of our own for contiguous NCHW float
// tensors, where LibTorch 1.13's ran 3-18x slower.
#pragma once

#include <torch/torch.h>

namespace cs::nodes {

/// max_pool2d(x, 2) exactly (NaNs included), and its gradient. For other devices, types and
/// layouts, it is LibTorch's own kernel.
torch::Tensor max_pool_2x2(const torch::Tensor& x);

/// max_pool2d(relu(x), 2) exactly (NaNs included), and its gradient, in one pass over x: the
/// gradient goes to each window's maximum when it is positive or NaN, as LibTorch's does. It keeps one byte per output
/// for the backward pass, where LibTorch keeps the ReLU's output and an int64 index per output.
torch::Tensor relu_max_pool_2x2(const torch::Tensor& x);

/// The model zoo's pooling layer: max_pool_2x2 as a module (its name holds "Pool", so the layer
/// profiler counts it as pooling). A model's forward pass runs a ReLU followed by this layer as
/// relu_max_pool_2x2.
struct MaxPool2x2Impl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return max_pool_2x2(x); }
};
TORCH_MODULE(MaxPool2x2);

}  // namespace cs::nodes
