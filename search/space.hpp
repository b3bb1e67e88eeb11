// The search space: typed parameters with bounds, and the mapping to and from the unit cube.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace cs::search {

using ParamValue = std::variant<double, std::int64_t, std::string>;

std::string to_string(const ParamValue& value);

enum class ParamKind { kFloat, kInt, kCategorical };

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::kFloat;
  double low = 0.0;  ///< float and int bounds, inclusive
  double high = 1.0;
  bool log = false;                 ///< sample uniformly in log space
  std::vector<ParamValue> choices;  ///< categorical only, all of one type
};

/// One parameter and its value, as a trial carries it.
struct Param {
  std::string name;
  ParamValue value;
  friend bool operator==(const Param&, const Param&) = default;
};

class SearchSpace {
 public:
  SearchSpace() = default;
  /// Throws ConfigError naming the parameter when a spec is invalid.
  explicit SearchSpace(std::vector<ParamSpec> params);

  const std::vector<ParamSpec>& params() const { return params_; }
  std::size_t size() const { return params_.size(); }

  /// Maps u in [0, 1) to a value of parameter k (log parameters uniformly in log space).
  ParamValue from_unit(std::size_t k, double u) const;
  /// The inverse of from_unit, to the centre of a categorical's bin.
  double to_unit(std::size_t k, const ParamValue& value) const;

 private:
  std::vector<ParamSpec> params_;
};

void validate(const ParamSpec& spec);

/// Looks a parameter up by name; throws ConfigError when it is missing or of another type.
double param_as_double(const std::vector<Param>& params, const std::string& name);
std::int64_t param_as_int(const std::vector<Param>& params, const std::string& name);

}  // namespace cs::search
