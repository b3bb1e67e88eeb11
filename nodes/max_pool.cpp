// 2 x 2 max pooling, with or without a ReLU before it: plane-parallel CPU kernels for NCHW float,
// forward (one byte per output saved for the gradient) and backward (every input element written
// once, no zero fill first).
#include "nodes/max_pool.hpp"
#include "nodes/vec4.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <utility>

namespace cs::nodes {

namespace {

/// A window's code when no gradient flows back through it: the ReLU made its output 0 (LibTorch's
/// ReLU passes the gradient of a NaN).
constexpr std::uint8_t kNoGradient = 4;

/// Whether our kernels take x: a contiguous NCHW float tensor on the CPU, at least one window.
bool own_kernel_takes(const torch::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat && x.dim() == 4 && x.is_contiguous() &&
         x.size(2) >= 2 && x.size(3) >= 2;
}

/// `t ? v : m` on the bits: the compiler emits a branch for the float ?:, which random data
/// mispredicts (5.5 ms against 0.4 ms per 64 x 16 x 28 x 28 pass).
float select(bool t, float v, float m) {
  const std::uint32_t mask = 0U - static_cast<std::uint32_t>(t);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(v) & mask) | (std::bit_cast<std::uint32_t>(m) & ~mask));
}

/// A window's maximum and its position (0-3, row by row) as LibTorch's kernel scans it: a value
/// takes over when it is larger or NaN (so the first of equal maxima, the last of NaNs).
struct WindowMax {
  float value;
  int at;
};
WindowMax window_max(float a, float b, float c, float d) {
  WindowMax m{a, 0};
  int i = 1;
  for (const float v : {b, c, d}) {
    const bool takes = (v > m.value) | std::isnan(v);
    m.value = select(takes, v, m.value);
    m.at = takes ? i : m.at;
    ++i;
  }
  return m;
}

/// Enough planes per task that a task is worth a thread (LibTorch's grain of 32k elements).
std::int64_t plane_grain(std::int64_t h, std::int64_t w) { return std::max<std::int64_t>(1, 32768 / (h * w)); }

// Four windows at a time in GCC's vector extensions (SSE2 on any x86-64): rows of 7 or 14 windows
// are too short for the compiler's own vectorisation of the loops below, which ran them scalar.

/// The even and the odd elements of 8 floats from p: the left and the right column of 4 windows.
std::pair<F4, F4> columns4(const float* p) {
  const F4 lo = load4(p), hi = load4(p + 4);
  return {__builtin_shufflevector(lo, hi, 0, 2, 4, 6), __builtin_shufflevector(lo, hi, 1, 3, 5, 7)};
}

/// window_max for four windows at once.
void window_max4(const float* row0, const float* row1, F4& m, I4& at) {
  const auto [a, b] = columns4(row0);
  const auto [c, d] = columns4(row1);
  m = a;
  at = I4{0, 0, 0, 0};
  std::int32_t i = 1;
  for (const F4 v : {b, c, d}) {
    const I4 takes = (v > m) | (v != v);
    m = takes ? v : m;
    at = takes ? I4{i, i, i, i} : at;
    ++i;
  }
}

/// Pools planes [begin, end) of x; with `Relu`, max(window, 0) (a NaN stays NaN). With `Codes`,
/// writes each window's argmax into `codes` (kNoGradient where the ReLU made it 0).
template <bool Relu, bool Codes>
void pool_planes(const float* in, float* out, std::uint8_t* codes, std::int64_t begin, std::int64_t end, std::int64_t h,
                 std::int64_t w) {
  const std::int64_t oh = h / 2, ow = w / 2;
  for (std::int64_t p = begin; p < end; ++p) {
    for (std::int64_t r = 0; r < oh; ++r) {
      const float* row0 = in + p * h * w + 2 * r * w;
      const float* row1 = row0 + w;
      const std::int64_t at = (p * oh + r) * ow;
      std::int64_t c = 0;
      for (; c + 4 <= ow; c += 4) {
        F4 m;
        I4 k;
        window_max4(row0 + 2 * c, row1 + 2 * c, m, k);
        const I4 keeps = (m > F4{0, 0, 0, 0}) | (m != m);
        store4(out + at + c, Relu ? (keeps ? m : F4{0, 0, 0, 0}) : m);
        if constexpr (Codes) {
          const I4 code = !Relu ? k : keeps ? k : I4{kNoGradient, kNoGradient, kNoGradient, kNoGradient};
          for (int j = 0; j < 4; ++j) codes[at + c + j] = static_cast<std::uint8_t>(code[j]);
        }
      }
      for (; c < ow; ++c) {
        const float a = row0[2 * c], b = row0[2 * c + 1], d = row1[2 * c], e = row1[2 * c + 1];
        const auto [m, k] = window_max(a, b, d, e);
        const bool keeps = (m > 0.0F) | std::isnan(m);
        out[at + c] = Relu ? select(keeps, m, 0.0F) : m;
        if constexpr (Codes) codes[at + c] = static_cast<std::uint8_t>(!Relu || keeps ? k : kNoGradient);
      }
    }
  }
}

/// Pools x (with a ReLU before it), writing the argmax codes when `codes` is given.
torch::Tensor pool_forward(const torch::Tensor& x, bool relu, std::uint8_t* codes) {
  const std::int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
  auto out = torch::empty({x.size(0), x.size(1), h / 2, w / 2}, x.options());
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const auto kernel = relu ? (codes != nullptr ? &pool_planes<true, true> : &pool_planes<true, false>)
                           : (codes != nullptr ? &pool_planes<false, true> : &pool_planes<false, false>);
  at::parallel_for(0, planes, plane_grain(h, w),
                   [&](std::int64_t begin, std::int64_t end) { kernel(in, o, codes, begin, end, h, w); });
  return out;
}

/// The input gradient: each window's output gradient at the element its code names, 0 elsewhere
/// (and in a last row or column no window covers).
torch::Tensor pool_backward(const torch::Tensor& grad_out, const torch::Tensor& codes, at::IntArrayRef input_sizes) {
  const auto grad = grad_out.contiguous();
  auto grad_in = torch::empty(input_sizes, grad.options());
  const std::int64_t planes = input_sizes[0] * input_sizes[1], h = input_sizes[2], w = input_sizes[3];
  const std::int64_t oh = h / 2, ow = w / 2;
  const float* g = grad.data_ptr<float>();
  const std::uint8_t* code = codes.data_ptr<std::uint8_t>();
  float* gi = grad_in.data_ptr<float>();
  at::parallel_for(0, planes, plane_grain(h, w), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      float* plane = gi + p * h * w;
      for (std::int64_t r = 0; r < oh; ++r) {
        float* row0 = plane + 2 * r * w;
        float* row1 = row0 + w;
        const std::int64_t at = (p * oh + r) * ow;
        std::int64_t c = 0;
        for (; c + 4 <= ow; c += 4) {
          const F4 v = load4(g + at + c), zero{0, 0, 0, 0};
          const I4 k{code[at + c], code[at + c + 1], code[at + c + 2], code[at + c + 3]};
          const F4 top_left = k == 0 ? v : zero, top_right = k == 1 ? v : zero;
          const F4 bottom_left = k == 2 ? v : zero, bottom_right = k == 3 ? v : zero;
          store4(row0 + 2 * c, __builtin_shufflevector(top_left, top_right, 0, 4, 1, 5));
          store4(row0 + 2 * c + 4, __builtin_shufflevector(top_left, top_right, 2, 6, 3, 7));
          store4(row1 + 2 * c, __builtin_shufflevector(bottom_left, bottom_right, 0, 4, 1, 5));
          store4(row1 + 2 * c + 4, __builtin_shufflevector(bottom_left, bottom_right, 2, 6, 3, 7));
        }
        for (; c < ow; ++c) {
          const float v = g[at + c];
          const int k = code[at + c];
          row0[2 * c] = select(k == 0, v, 0.0F);
          row0[2 * c + 1] = select(k == 1, v, 0.0F);
          row1[2 * c] = select(k == 2, v, 0.0F);
          row1[2 * c + 1] = select(k == 3, v, 0.0F);
        }
        if (w % 2 != 0) row0[w - 1] = row1[w - 1] = 0.0F;
      }
      if (h % 2 != 0) std::fill(plane + (h - 1) * w, plane + h * w, 0.0F);
    }
  });
  return grad_in;
}

/// Our pooling as an autograd function: the forward pass keeps a byte per window for the backward.
struct Pool2x2 : torch::autograd::Function<Pool2x2> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, bool relu) {
    auto codes = torch::empty({x.size(0), x.size(1), x.size(2) / 2, x.size(3) / 2}, x.options().dtype(torch::kUInt8));
    auto out = pool_forward(x, relu, codes.data_ptr<std::uint8_t>());
    ctx->saved_data["codes"] = codes;
    ctx->saved_data["sizes"] = x.sizes().vec();
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    return {pool_backward(grads[0], ctx->saved_data["codes"].toTensor(), sizes), torch::Tensor()};
  }
};

torch::Tensor pool(const torch::Tensor& x, bool relu) {
  if (!own_kernel_takes(x)) return torch::max_pool2d(relu ? torch::relu(x) : x, 2);
  if (torch::GradMode::is_enabled() && x.requires_grad()) return Pool2x2::apply(x, relu);
  return pool_forward(x, relu, nullptr);
}

}  // namespace

torch::Tensor max_pool_2x2(const torch::Tensor& x) { return pool(x, false); }

torch::Tensor relu_max_pool_2x2(const torch::Tensor& x) { return pool(x, true); }

}  // namespace cs::nodes
