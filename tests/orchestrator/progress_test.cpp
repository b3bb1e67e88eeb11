// The progress line carries best accuracy, kWh, gCO2 and ETA; the summary groups by site.
#include "orchestrator/progress.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace cs::orchestrator {
namespace {

io::TrialResult finished(std::int64_t id, const std::string& site, double acc, double facility_j, double co2_g) {
  io::TrialResult r;
  r.spec.id = id;
  r.site = site;
  r.val_accuracy = acc;
  r.objective = acc;
  r.energy_j = facility_j;
  r.facility_energy_j = facility_j;
  r.co2_g = co2_g;
  return r;
}

TEST(Progress, LinesAtEachNewBestAndOtherwiseAtMostOncePerInterval) {
  std::ostringstream out;
  Progress p(out, 10, ProgressStyle::kLines, std::chrono::hours(1));
  p.trial_started();
  p.trial_finished(finished(3, "a", 0.8, 3.6e6, 250.0));  // a new best: a line
  for (int i = 4; i < 9; ++i) {
    p.trial_started();
    p.trial_finished(finished(i, "a", 0.5, 1.0, 1.0));  // not better, within the interval: quiet
  }
  auto text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
  p.close();  // where it ended
  text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_NE(text.find("[6/10]"), std::string::npos) << text;
  const auto line = text.substr(0, text.find('\n'));  // the line of the new best
  EXPECT_NE(line.find("[1/10]"), std::string::npos) << line;
  EXPECT_NE(line.find("best 0.8000 (trial 3)"), std::string::npos) << line;
  EXPECT_NE(line.find("1.000000 kWh"), std::string::npos) << line;
  EXPECT_NE(line.find("250.0000 gCO2"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
}

TEST(Progress, FailedTrialsCountButDoNotSetTheBest) {
  std::ostringstream out;
  Progress p(out, 2, ProgressStyle::kTty);
  auto bad = finished(0, "a", 0.99, 1.0, 1.0);
  bad.status = search::TrialStatus::kDiverged;
  p.trial_started();
  p.trial_finished(bad);
  EXPECT_NE(p.line().find("failed 1"), std::string::npos);
  EXPECT_NE(p.line().find("best -"), std::string::npos);
  EXPECT_NE(out.str().find('\r'), std::string::npos);  // redrawn in place on a TTY
}

TEST(Progress, OffPrintsOnlyNotes) {
  std::ostringstream out;
  Progress p(out, 2, ProgressStyle::kOff);
  p.trial_started();
  p.trial_finished(finished(0, "a", 0.9, 1.0, 1.0));
  p.note("warning: something");
  p.close();
  EXPECT_EQ(out.str(), "warning: something\n");
}

TEST(Progress, AutoIsTheTerminalOrTheLaunchersWordElseLines) {
  EXPECT_EQ(auto_progress_style(true), ProgressStyle::kTty);
  setenv("CARBONSWEEP_PROGRESS", "tty", 1);
  EXPECT_EQ(auto_progress_style(false), ProgressStyle::kTty);
  setenv("CARBONSWEEP_PROGRESS", "nonsense", 1);
  EXPECT_EQ(auto_progress_style(false), ProgressStyle::kLines);
  unsetenv("CARBONSWEEP_PROGRESS");
  EXPECT_EQ(auto_progress_style(false), ProgressStyle::kLines);
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(42), "42s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

TEST(SiteSummary, TotalsPerSite) {
  const auto text = site_summary({finished(0, "oslo", 0.7, 3.6e6, 30.0), finished(1, "oslo", 0.8, 3.6e6, 30.0),
                                  finished(2, "warsaw", 0.6, 3.6e6, 700.0)});
  EXPECT_NE(text.find("oslo                  2"), std::string::npos) << text;
  EXPECT_NE(text.find("60.0000"), std::string::npos) << text;
  EXPECT_NE(text.find("warsaw"), std::string::npos);
  EXPECT_NE(text.find("CO2 [g]"), std::string::npos);
}

}  // namespace
}  // namespace cs::orchestrator
