// A fresh temporary directory per test: its name carries the process id and the test's name.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace cs::testing {

/// Creates and returns TMP/PREFIX-<pid>-<test name>; the caller removes it.
inline std::filesystem::path make_test_dir(const std::string& prefix) {
  const auto dir =
      std::filesystem::temp_directory_path() /
      (prefix + "-" + std::to_string(getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace cs::testing
