// check_input KIND FILE: reads one input as a run would; exit 0 (good), 2 with the error (broken),
// 1 for anything else (a bug). The bad-input corpus runs it under AddressSanitizer.
#include <iostream>

#include "base/error.hpp"
#include "tests/tools/input_readers.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: check_input KIND FILE (KIND: study, trace, power-log, results, journal, message)\n";
    return 2;
  }
  try {
    cs::tools::read_input(argv[1], argv[2]);
    return 0;
  } catch (const cs::Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << '\n';
    return 1;
  }
}
