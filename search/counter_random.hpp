// Counter-based random numbers: a draw depends only on (seed, stream, index), never on call
// order, so samplers are reproducible whatever the order trials are asked for.
#pragma once

#include <cstdint>

namespace cs::search {

/// A uniform number in [0, 1) that depends only on (seed, stream, index): a counter-based
/// generator, so draws do not depend on call order.
double counter_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t index);
/// A standard normal draw from two counter-based uniforms (Box-Muller, streams `stream` and
/// `stream + 1`), likewise order-free.
double counter_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t index);
/// The same on the noise stream of the synthetic objectives.
double counter_normal(std::uint64_t seed, std::uint64_t index);

}  // namespace cs::search
