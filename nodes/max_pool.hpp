// 2 x 2 max pooling with stride 2, the pooling of the model zoo's convolution blocks, with its own
// CPU kernel for evaluation (no gradients) of contiguous NCHW float tensors, where LibTorch 1.13's
// ran 12-18x slower.
#pragma once

#include <torch/torch.h>

namespace cs::nodes {

/// max_pool2d(x, 2) exactly (NaNs included). With gradients, and for other devices, types and
/// layouts, it is LibTorch's own kernel.
torch::Tensor max_pool_2x2(const torch::Tensor& x);

/// The model zoo's pooling layer: max_pool_2x2 as a module (its name holds "Pool", so the layer
/// profiler counts it as pooling).
struct MaxPool2x2Impl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return max_pool_2x2(x); }
};
TORCH_MODULE(MaxPool2x2);

}  // namespace cs::nodes
