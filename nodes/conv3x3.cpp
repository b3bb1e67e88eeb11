// The weight and bias gradients of a 3 x 3, padding 1 convolution of a few input channels: per
// pair of output and input channel, nine sums over every image, row and column, in registers.
#include "nodes/conv3x3.hpp"
#include "nodes/vec4.hpp"

#include <ATen/Parallel.h>

#include <array>

namespace cs::nodes {

namespace {

/// LibTorch 1.13's custom functions take no undefined tensor: a convolution without a bias (none
/// in the zoo opens with one) is LibTorch's.
bool own_gradient_takes(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  return torch::GradMode::is_enabled() && weight.requires_grad() && bias.defined() && bias.requires_grad() &&
         !x.requires_grad() && x.device().is_cpu() && x.scalar_type() == torch::kFloat && x.dim() == 4 &&
         x.is_contiguous() && x.size(1) <= kOwnGradientChannels && weight.scalar_type() == torch::kFloat &&
         weight.is_contiguous() &&
         // Autocast is on where its key is not excluded (LibTorch 1.13 and 2 alike).
         c10::impl::tls_is_dispatch_key_excluded(c10::DispatchKey::AutocastCPU);
}

/// The planes one output channel's gradient meets one input channel in: g[n][o] and the padded
/// xp[n][c], image after image.
struct ChannelPair {
  const float* g;               ///< g[0][o]
  const float* x;               ///< xp[0][c]
  std::int64_t g_step, x_step;  ///< from one image to the next
  std::int64_t images, rows, cols, padded_cols;
};

/// The nine tap sums of g[y][x] * xp[y + ky][x + kx] over images, rows and columns, and the sum
/// of g itself (the bias gradient), read in memory order. Four columns at a time: each load of g
/// serves all nine taps, and each tap keeps its sum in a register of its own, added into a double
/// after each image.
std::array<double, 10> tap_sums(const ChannelPair& p) {
  std::array<double, 10> total{};
  for (std::int64_t n = 0; n < p.images; ++n) {
    F4 acc[10] = {};
    float rest[10] = {};  // the last cols % 4 columns, one at a time
    const float* g = p.g + n * p.g_step;
    const float* x = p.x + n * p.x_step;
    for (std::int64_t y = 0; y < p.rows; ++y, g += p.cols, x += p.padded_cols) {
      std::int64_t x0 = 0;
      for (; x0 + 4 <= p.cols; x0 += 4) {
        const F4 gv = load4(g + x0);
        for (int ky = 0; ky < 3; ++ky) {
          for (int kx = 0; kx < 3; ++kx) acc[ky * 3 + kx] += gv * load4(x + x0 + ky * p.padded_cols + kx);
        }
        acc[9] += gv;
      }
      for (; x0 < p.cols; ++x0) {
        for (int k = 0; k < 9; ++k) rest[k] += g[x0] * x[x0 + k / 3 * p.padded_cols + k % 3];
        rest[9] += g[x0];
      }
    }
    for (std::size_t k = 0; k < 10; ++k) {
      total[k] += static_cast<double>(acc[k][0] + acc[k][1] + acc[k][2] + acc[k][3] + rest[k]);
    }
  }
  return total;
}

/// dL/dweight [O, C, 3, 3] and dL/dbias [O] from the output gradient g [N, O, H, W] and the input
/// padded by one on each side, xp [N, C, H + 2, W + 2]; one task per pair of channels.
std::pair<torch::Tensor, torch::Tensor> weight_gradient(const torch::Tensor& g, const torch::Tensor& xp) {
  const std::int64_t images = g.size(0), outs = g.size(1), h = g.size(2), w = g.size(3);
  const std::int64_t ins = xp.size(1), pw = w + 2, plane = (h + 2) * pw;
  auto grad_w = torch::empty({outs, ins, 3, 3}, g.options());
  auto grad_b = torch::empty({outs}, g.options());
  const float* gd = g.data_ptr<float>();
  const float* xd = xp.data_ptr<float>();
  float* gw = grad_w.data_ptr<float>();
  float* gb = grad_b.data_ptr<float>();
  at::parallel_for(0, outs * ins, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t k = begin; k < end; ++k) {
      const std::int64_t o = k / ins, c = k % ins;
      const auto sums = tap_sums({gd + o * h * w, xd + c * plane, outs * h * w, ins * plane, images, h, w, pw});
      for (int tap = 0; tap < 9; ++tap) gw[k * 9 + tap] = static_cast<float>(sums[static_cast<std::size_t>(tap)]);
      if (c == 0) gb[o] = static_cast<float>(sums[9]);
    }
  });
  return {grad_w, grad_b};
}

/// The convolution as an autograd function: oneDNN's forward pass, our weight gradient.
struct Conv3x3Function : torch::autograd::Function<Conv3x3Function> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->save_for_backward({x});
    return torch::conv2d(x, weight, bias, 1, 1);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    auto [grad_w, grad_b] = weight_gradient(grads[0].contiguous(), torch::constant_pad_nd(x, {1, 1, 1, 1}));
    return {torch::Tensor(), grad_w, grad_b};
  }
};

}  // namespace

torch::Tensor conv3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (!own_gradient_takes(x, weight, bias)) return torch::conv2d(x, weight, bias, 1, 1);
  return Conv3x3Function::apply(x, weight, bias);
}

}  // namespace cs::nodes
