// The GPU step and NVML fields of a trial, set and checked alike by every round-trip test
// (the results file, the MPI protocol).
#pragma once

#include <gtest/gtest.h>

#include "io/trial_result.hpp"

namespace cs::testing {

inline void set_gpu_fields(io::TrialResult& r) {
  r.precision = "bf16";
  r.channels_last = 1;
  r.cuda_graph = "captured";
  r.gpu = "0 GPU-5a1c NVIDIA H200";
  r.gpu_driver = "driver 580.95.05, CUDA 13.0";
  r.gpu_counter_over_polled = 0.97;
  r.gpu_interpolated = 0.25;
}

inline void expect_gpu_fields(const io::TrialResult& r) {
  EXPECT_EQ(r.precision, "bf16");
  EXPECT_EQ(r.channels_last, 1);
  EXPECT_EQ(r.cuda_graph, "captured");
  EXPECT_EQ(r.gpu, "0 GPU-5a1c NVIDIA H200");
  EXPECT_EQ(r.gpu_driver, "driver 580.95.05, CUDA 13.0");
  EXPECT_DOUBLE_EQ(r.gpu_counter_over_polled, 0.97);
  EXPECT_DOUBLE_EQ(r.gpu_interpolated, 0.25);
}

}  // namespace cs::testing
