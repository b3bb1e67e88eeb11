// Four floats at a time in GCC's vector extensions (SSE2 on any x86-64), for the model zoo's CPU
// kernels (nodes/max_pool.cpp, nodes/conv3x3.cpp), with unaligned loads and stores.
#pragma once

#include <cstdint>
#include <cstring>

namespace cs::nodes {

using F4 = float __attribute__((vector_size(16)));
using I4 = std::int32_t __attribute__((vector_size(16)));

inline F4 load4(const float* p) {
  F4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store4(float* p, F4 v) { std::memcpy(p, &v, sizeof v); }

}  // namespace cs::nodes
