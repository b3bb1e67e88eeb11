// SplitMix64 over (seed, stream, index), and Box-Muller for the normal draw.
#include "search/counter_random.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace cs::search {

namespace {
std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

double counter_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  const std::uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ index);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

double counter_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  const double u1 = std::max(counter_uniform(seed, stream, index), 1e-300);
  const double u2 = counter_uniform(seed, stream + 1, index);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double counter_normal(std::uint64_t seed, std::uint64_t index) { return counter_normal(seed, 0x6e6f6973, index); }

}  // namespace cs::search
