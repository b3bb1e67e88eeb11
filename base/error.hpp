// The one exception hierarchy of carbonsweep; every message says what, where and what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace cs {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad user input (study file, trace, meter log, CLI flag). The CLI exits with code 2.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A file or directory that cannot be read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

class MpiError : public Error {
 public:
  using Error::Error;
};

class MeterError : public Error {
 public:
  using Error::Error;
};

}  // namespace cs
