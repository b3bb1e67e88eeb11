// A libFuzzer target for one input kind (CS_FUZZ_KIND): the bytes become a file that the run's
// reader reads. A cs::Error is the expected answer to broken input; anything else is a finding.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "base/error.hpp"
#include "tests/tools/input_readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/cs-fuzz-" + std::to_string(getpid()) + "-" CS_FUZZ_KIND;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    cs::tools::read_input(CS_FUZZ_KIND, path);
  } catch (const cs::Error&) {
  }
  return 0;
}
