// Every message survives encode/decode; broken bytes are refused.
#include "orchestrator/protocol.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"
#include "tests/io/gpu_fields.hpp"

namespace cs::orchestrator {
namespace {

io::TrialResult sample_result() {
  io::TrialResult r;
  r.spec = {7, "random", {{"lr", 0.01}, {"batch_size", std::int64_t{64}}, {"act", std::string("relu")}}};
  r.status = search::TrialStatus::kDiverged;
  r.error = "NaN";
  r.site = "oslo";
  r.rank = 3;
  r.host = "n1";
  r.threads = 4;
  r.start_unix_s = 1.0;
  r.end_unix_s = 2.5;
  r.epochs_done = 1;
  r.train_loss = 0.3;
  r.val_accuracy = 0.9;
  r.epochs = {{1, 0.3, 0.9, 12.0, 1.5}};
  r.meters = {{"estimate", "software", 12.0}};
  r.samples = {{0.1, 0, 8.0}, {0.2, 0, 9.0}};
  r.primary_meter = "estimate";
  r.energy_j = 12.0;
  r.pue = 1.1;
  r.facility_energy_j = 13.2;
  r.intensity_g_per_kwh = 30.0;
  r.co2_g = 0.00011;
  r.sampler_cpu_s = 0.01;
  r.test_accuracy = 0.87;
  r.model = "resnet50";
  r.parameters = 23'520'842;
  r.macs = 2.92e9;
  r.inactive_params = "optimizer.momentum";
  cs::testing::set_gpu_fields(r);
  return r;
}

TEST(Protocol, ResultRoundTripsEveryField) {
  const auto original = sample_result();
  const auto decoded = std::get<ResultReport>(decode(encode(ResultReport{original}))).result;
  EXPECT_EQ(decoded.spec, original.spec);
  EXPECT_EQ(decoded.status, original.status);
  EXPECT_EQ(decoded.error, original.error);
  EXPECT_EQ(decoded.site, original.site);
  EXPECT_EQ(decoded.host, original.host);
  EXPECT_EQ(decoded.threads, 4);
  ASSERT_EQ(decoded.epochs.size(), 1u);
  EXPECT_DOUBLE_EQ(decoded.epochs[0].energy_j, 12.0);
  ASSERT_EQ(decoded.meters.size(), 1u);
  EXPECT_EQ(decoded.meters[0].kind, "software");
  ASSERT_EQ(decoded.samples.size(), 2u);
  EXPECT_DOUBLE_EQ(decoded.samples[1].power_w, 9.0);
  EXPECT_DOUBLE_EQ(decoded.co2_g, original.co2_g);
  EXPECT_DOUBLE_EQ(decoded.sampler_cpu_s, 0.01);
  EXPECT_DOUBLE_EQ(decoded.test_accuracy, 0.87);
  EXPECT_EQ(decoded.model, "resnet50");
  EXPECT_EQ(decoded.parameters, 23'520'842);
  EXPECT_DOUBLE_EQ(decoded.macs, 2.92e9);
  EXPECT_EQ(decoded.inactive_params, "optimizer.momentum");
  cs::testing::expect_gpu_fields(decoded);
}

TEST(Protocol, SmallMessagesRoundTrip) {
  EXPECT_EQ(std::get<Ready>(decode(encode(Ready{5}))).rank, 5);
  EXPECT_EQ(std::get<Shutdown>(decode(encode(Shutdown{"done"}))).reason, "done");
  EXPECT_EQ(std::get<Assign>(decode(encode(Assign{sample_result().spec}))).spec, sample_result().spec);
  const auto epoch = std::get<EpochReport>(decode(encode(EpochReport{9, {2, 0.5, 0.6, 3.0, 4.0}})));
  EXPECT_EQ(epoch.trial_id, 9);
  EXPECT_EQ(epoch.record.epoch, 2);
  const auto bye = std::get<Goodbye>(decode(encode(Goodbye{2, "no dataset"})));
  EXPECT_EQ(bye.reason, "no dataset");
  EXPECT_EQ(tag_of(Ready{}), 1);
}

TEST(Protocol, RefusesAnotherVersionTruncationAndTrailingBytes) {
  auto bytes = encode(ResultReport{sample_result()});
  auto other_version = bytes;
  other_version[0] = std::byte{kProtocolVersion + 1};
  EXPECT_THROW(decode(other_version), MpiError);
  for (std::size_t cut : {std::size_t{1}, std::size_t{2}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THROW(decode(std::span(bytes).first(cut)), MpiError) << cut;
  }
  bytes.push_back(std::byte{0});
  EXPECT_THROW(decode(bytes), MpiError);
  EXPECT_THROW(decode(std::vector<std::byte>{std::byte{kProtocolVersion}, std::byte{99}}), MpiError);
}

}  // namespace
}  // namespace cs::orchestrator
