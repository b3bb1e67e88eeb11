// Carbon arithmetic: energy / 3.6e6 x PUE x intensity.
#include "carbon/emissions.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace cs::carbon {
namespace {

/// A trial of `energy` at a constant intensity, without power samples.
Emissions at_constant(Joules energy, double pue, double intensity_g_per_kwh) {
  return *integrate_emissions({}, energy, 60.0, pue, ConstantCarbonSource(intensity_g_per_kwh), 1.6e9);
}

TEST(Emissions, OneKilowattHourAtPue1_5And400GramsIs600Grams) {
  EXPECT_DOUBLE_EQ(co2_g(Joules{3.6e6}, 1.5, 400.0), 600.0);
  const auto e = at_constant(Joules{3.6e6}, 1.5, 400.0);
  EXPECT_DOUBLE_EQ(e.facility_energy.value, 5.4e6);
  EXPECT_DOUBLE_EQ(e.co2_g, 600.0);
  EXPECT_DOUBLE_EQ(e.intensity_g_per_kwh, 400.0);
}

TEST(Emissions, ZeroIntensityIsZeroCarbonButNotZeroEnergy) {
  const auto e = at_constant(Joules{1000.0}, 1.2, 0.0);
  EXPECT_DOUBLE_EQ(e.co2_g, 0.0);
  EXPECT_DOUBLE_EQ(e.facility_energy.value, 1200.0);
}

TEST(Emissions, RejectsPueBelowOne) {
  EXPECT_THROW(at_constant(Joules{1.0}, 0.9, 100.0), ConfigError);
  EXPECT_THROW(at_constant(Joules{1.0}, -1.0, 100.0), ConfigError);
}

TEST(ConstantCarbonSource, RejectsNegativeIntensity) {
  EXPECT_THROW(ConstantCarbonSource(-5.0), ConfigError);
  EXPECT_DOUBLE_EQ(*ConstantCarbonSource(250.0).intensity_g_per_kwh(1.6e9), 250.0);
}

}  // namespace
}  // namespace cs::carbon
