// The study file: a valid one parses; every kind of broken one names file:line:key.
#include "study/study_config.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "base/error.hpp"

namespace cs::study {
namespace {

const std::string kValid = R"([study]
name = "t"
seed = 3
output = "out.h5"
budget_trials = 4

[search]
strategy = "random"

[search.space.lr]
type = "float"
low = 1e-3
high = 0.1
log = true

[search.space.batch_size]
type = "categorical"
choices = [32, 64]

[dataset]
train_subset = 512
test_subset = 128

[training]
epochs = 1

[[sites]]
name = "a"
pue = 1.2
intensity_g_per_kwh = 100
ranks = 1

[[sites]]
name = "b"
pue = 1.5
intensity_g_per_kwh = 400.0

[energy]
meters = ["estimate"]
interval = "50ms"
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return text.replace(pos, from.size(), to);
}

std::string error_of(const std::string& text) {
  try {
    parse_study(text, "study.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(StudyConfig, ParsesAValidStudy) {
  const auto c = parse_study(kValid, "study.toml");
  EXPECT_EQ(c.name, "t");
  EXPECT_EQ(c.seed, 3u);
  EXPECT_EQ(c.budget_trials, 4);
  EXPECT_EQ(c.space.size(), 2u);
  EXPECT_EQ(c.dataset.train_subset, 512);
  ASSERT_EQ(c.sites.size(), 2u);
  EXPECT_DOUBLE_EQ(c.sites[0].intensity_g_per_kwh, 100.0);  // an integer is accepted as a number
  EXPECT_EQ(c.sites[0].ranks, 1);
  EXPECT_EQ(c.energy.interval.count(), 50);
  EXPECT_EQ(c.toml_text, kValid);
}

TEST(StudyConfig, MalformedTomlNamesFileAndLine) {
  const auto e = error_of(replace(kValid, "seed = 3", "seed = = 3"));
  EXPECT_TRUE(std::regex_search(e, std::regex("^study\\.toml:3: "))) << e;
}

TEST(StudyConfig, UnknownKeyNamesFileLineAndKey) {
  const auto e = error_of(replace(kValid, "seed = 3", "seed = 3\nsede = 4"));
  EXPECT_TRUE(std::regex_search(e, std::regex("^study\\.toml:4: key 'sede' in \\[study\\]: unknown key"))) << e;
}

TEST(StudyConfig, WrongTypeSaysWhatWasExpected) {
  const auto e = error_of(replace(kValid, "budget_trials = 4", "budget_trials = \"four\""));
  EXPECT_TRUE(
      std::regex_search(e, std::regex("^study\\.toml:5: key 'budget_trials'.*expected an integer.*got a string")))
      << e;
}

TEST(StudyConfig, NegativePueIsRejectedWithItsLine) {
  const auto e = error_of(replace(kValid, "pue = 1.2", "pue = -1.2"));
  EXPECT_TRUE(std::regex_search(
      e, std::regex("^study\\.toml:29: key 'pue' in \\[\\[sites\\]\\] #1: expected a number in \\[1, 5\\]")))
      << e;
}

TEST(StudyConfig, EveryBrokenValueIsAConfigErrorNamingItsKey) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"budget_trials = 4", "budget_trials = 0"},
      {"low = 1e-3", "low = 1.0"},             // low >= high
      {"low = 1e-3", "low = 0.0"},             // log with low <= 0
      {"choices = [32, 64]", "choices = []"},  // empty categorical
      {"strategy = \"random\"", "strategy = \"annealing\""},
      {"interval = \"50ms\"", "interval = \"0ms\""},
      {"interval = \"50ms\"", "interval = \"50\""},
      {"interval = \"50ms\"", "interval = \"50ms\"\nidle_baseline = \"-2s\""},
      {"interval = \"50ms\"", "interval = \"50ms\"\nidle_baseline = 5"},
      {"[dataset]", "[profiling]\nlayers = true\nevery = 0\n[dataset]"},
      {"[dataset]", "[profiling]\nlayers = \"yes\"\n[dataset]"},
      {"[dataset]", "[profiling]\nlayer = true\n[dataset]"},
      {"meters = [\"estimate\"]", "meters = [\"rapl9\"]"},
      {"intensity_g_per_kwh = 100", "intensity_g_per_kwh = -1"},
      {"name = \"b\"", "name = \"a\""},  // duplicate site
      {"epochs = 1", "epochs = 0"},
      {"epochs = 1", "epochs = 1\ndevice = \"tpu\""},
      {"[search.space.lr]", "[search.space.dropout]"},  // the model has no such parameter
      {"train_subset = 512", "train_subset = -5"},
  };
  for (const auto& [from, to] : cases) {
    const auto e = error_of(replace(kValid, from, to));
    EXPECT_TRUE(std::regex_search(e, std::regex("^study\\.toml:[0-9]+: "))) << to << " -> " << e;
  }
}

TEST(StudyConfig, MissingSectionsAreNamed) {
  EXPECT_NE(error_of("[study]\nname = \"x\"\nbudget_trials = 1\n").find("[search]"), std::string::npos);
  EXPECT_NE(error_of(kValid.substr(0, kValid.find("[[sites]]"))).find("'sites'"), std::string::npos);
}

TEST(StudyConfig, MissingFileIsAConfigErrorNamingThePath) {
  try {
    load_study("/nonexistent/study.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/study.toml"), std::string::npos);
  }
}

TEST(StudyConfig, DemoStudyInTheRepositoryIsValid) {
  const auto c = load_study(std::string(CS_SOURCE_DIR) + "/studies/demo.toml");
  EXPECT_EQ(c.sites.size(), 3u);
  EXPECT_EQ(c.space.size(), 3u);
}

}  // namespace
}  // namespace cs::study

namespace cs::study {
namespace {

const std::string kArms = R"([study]
name = "arms"
budget_trials = 6
[search]
pruner = "asha"
asha_eta = 3
[[search.arms]]
strategy = "random"
[[search.arms]]
strategy = "bayes"
acquisition = "pi"
[search.space.x1]
type = "float"
low = -5.0
high = 10.0
[search.space.x2]
type = "float"
low = 0.0
high = 15.0
[model]
family = "function"
function = "branin"
[[sites]]
name = "a"
pue = 1.1
intensity_g_per_kwh = 10
)";

TEST(StudyConfigArms, ParsesArmsPrunerAndFunctionFamily) {
  const auto c = parse_study(kArms, "arms.toml");
  ASSERT_EQ(c.arms.size(), 2u);
  EXPECT_EQ(c.arms[0].name, "random");
  EXPECT_EQ(c.arms[1].name, "bayes");
  EXPECT_EQ(c.arms[1].acquisition, search::Acquisition::kPi);
  EXPECT_EQ(c.pruner.kind, search::PrunerKind::kAsha);
  EXPECT_EQ(c.model.family, ModelFamily::kFunction);
  EXPECT_EQ(recorded_meters(c), std::vector<std::string>{"synthetic"});
}

TEST(StudyConfigArms, BrokenSearchSettingsNameTheirKey) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases{
      {"budget_trials = 6", "budget_trials = 7", "'arms'"},  // not divisible
      {"acquisition = \"pi\"", "acquisition = \"thompson\"", "'acquisition'"},
      {"strategy = \"bayes\"", "strategy = \"random\"", "'name'"},  // two arms named random
      {"pruner = \"asha\"", "pruner = \"hyperband\"", "'pruner'"},
      {"asha_eta = 3", "asha_eta = 1", "'asha_eta'"},
      {"function = \"branin\"", "function = \"griewank\"", "'function'"},
      {"[search.space.x2]", "[search.space.y]", "'y'"},  // not a branin parameter
      {"budget_trials = 6", "budget_trials = 0", "'budget_trials'"},
  };
  for (const auto& [from, to, key] : cases) {
    std::string text = kArms;
    text.replace(text.find(from), from.size(), to);
    try {
      parse_study(text, "arms.toml");
      ADD_FAILURE() << "no error for " << to;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << to << " -> " << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("arms.toml:", 0), 0u) << e.what();
    }
  }
}

TEST(StudyConfigArms, EmptySpaceIsAnError) {
  const auto text = std::string("[study]\nname = \"x\"\nbudget_trials = 1\n[search]\nstrategy = \"random\"\n") +
                    "[[sites]]\nname = \"a\"\npue = 1.1\nintensity_g_per_kwh = 1\n";
  try {
    parse_study(text, "e.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("search space is empty"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cs::study

namespace cs::study {
namespace {

std::string trace_study(const std::string& site_lines, const std::string& extra = "") {
  return "[study]\nname = \"t\"\nbudget_trials = 1\n[search.space.x1]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n"
         "[search.space.x2]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n[model]\nfamily = \"function\"\n"
         "function = \"branin\"\n" +
         extra + "[[sites]]\nname = \"a\"\npue = 1.1\n" + site_lines;
}

TEST(StudyConfigCarbon, ATraceSiteLoadsItsTraceAndTimeMapsPricing) {
  const auto c = parse_study(
      trace_study("trace = \"" + std::string(CS_TRACES_DIR) + "/gb_2020_ci.csv.gz\"\ninterpolation = \"step\"\n",
                  "[time]\nstart = \"2020-06-01T00:00:00Z\"\nscale = 3600\n"),
      "t.toml");
  EXPECT_EQ(c.sites[0].interpolation, carbon::Interpolation::kStep);
  EXPECT_TRUE(std::isnan(c.sites[0].intensity_g_per_kwh));
  EXPECT_DOUBLE_EQ(*c.time.start_unix_s, 1590969600.0);
  EXPECT_DOUBLE_EQ(c.time.scale, 3600.0);
  EXPECT_NE(c.sites[0].carbon->describe().find("gb_2020_ci.csv.gz"), std::string::npos);
}

TEST(StudyConfigCarbon, RegionsComeFromThePublishedTable) {
  const auto oregon = parse_study(trace_study("region = \"Oregon\"\n"), "t.toml").sites[0];
  const auto taipei = parse_study(trace_study("region = \"taipei\"\n"), "t.toml").sites[0];
  const auto carolina = parse_study(trace_study("region = \"us-east1\"\n"), "t.toml").sites[0];
  EXPECT_DOUBLE_EQ(oregon.intensity_g_per_kwh, 78.0);
  EXPECT_DOUBLE_EQ(taipei.intensity_g_per_kwh, 540.0);
  EXPECT_DOUBLE_EQ(carolina.intensity_g_per_kwh, 480.0);
  EXPECT_NE(oregon.carbon->describe().find("region oregon (The Dalles, Oregon, USA)"), std::string::npos);
  EXPECT_NE(oregon.carbon->describe().find("Google Cloud"), std::string::npos);
  EXPECT_EQ(oregon.marginal, nullptr);
}

TEST(StudyConfigCarbon, AMarginalTraceIsLoadedBesideTheAverage) {
  const auto site = parse_study(trace_study("intensity_g_per_kwh = 200\nmarginal_trace = \"" +
                                            std::string(CS_TRACES_DIR) + "/fr_2020_ci.csv.gz\"\n"),
                                "t.toml")
                        .sites[0];
  ASSERT_NE(site.marginal, nullptr);
  EXPECT_DOUBLE_EQ(*site.carbon->intensity_g_per_kwh(1.6e9), 200.0);
  EXPECT_NE(site.marginal->describe().find("fr_2020_ci.csv.gz"), std::string::npos);
}

TEST(StudyConfigCarbon, BrokenCarbonSettingsNameTheirKey) {
  const std::string broken = (std::filesystem::temp_directory_path() / "cs-broken-trace.csv").string();
  std::ofstream(broken) << "Time,Carbon Intensity\n2020-01-01 00:00:00,12\n2019-01-01 00:00:00,13\n";
  const std::vector<std::pair<std::string, std::string>> cases{
      {trace_study("intensity_g_per_kwh = 5\ntrace = \"x.csv\"\n"), "exactly one carbon source"},
      {trace_study(""), "exactly one carbon source"},
      {trace_study("trace = \"/nonexistent.csv\"\n"), "key 'trace'.*/nonexistent.csv: cannot open"},
      {trace_study("trace = \"" + broken + "\"\n"), "key 'trace'.*cs-broken-trace.csv:3: time"},
      {trace_study("trace = \"" + broken + "\"\ninterpolation = \"cubic\"\n"), "key 'interpolation'"},
      {trace_study("intensity_g_per_kwh = 5\n", "[time]\nstart = \"June\"\n"), "key 'start'"},
      {trace_study("region = \"atlantis\"\n"), "key 'region'.*unknown region 'atlantis'.*us-west1"},
      {trace_study("region = \"oregon\"\nintensity_g_per_kwh = 5\n"), "exactly one carbon source"},
      {trace_study("intensity_g_per_kwh = 5\nmarginal_trace = \"" + broken + "\"\n"),
       "key 'marginal_trace'.*cs-broken-trace.csv:3"},
      {trace_study("intensity_g_per_kwh = 5\n", "[time]\nstart = \"2020-06-01T00:00:00Z\"\nscale = 0\n"),
       "key 'scale'"},
  };
  for (const auto& [text, pattern] : cases) {
    try {
      parse_study(text, "t.toml");
      ADD_FAILURE() << "accepted " << text;
    } catch (const ConfigError& e) {
      EXPECT_TRUE(std::regex_search(e.what(), std::regex(pattern))) << e.what();
    }
  }
  std::filesystem::remove(broken);
}

}  // namespace
}  // namespace cs::study
