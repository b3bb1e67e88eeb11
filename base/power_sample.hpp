// One point of a meter's power series: what meters produce and what carbon pricing integrates.
#pragma once

#include <cstddef>

namespace cs {

struct PowerSample {
  double t_s = 0.0;  ///< seconds since the session started
  std::size_t meter = 0;
  double power_w = 0.0;
};

}  // namespace cs
