// The journal: records survive, a torn tail is dropped, another study is refused.
#include "io/journal.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "io/results_store.hpp"
#include "tests/test_dir.hpp"

namespace cs::io {
namespace {

namespace fs = std::filesystem;

TrialResult result(std::int64_t id) {
  TrialResult r;
  r.spec = {id, "random", {{"lr", 0.001 * static_cast<double>(id + 1)}}};
  r.site = "s";
  r.energy_j = 10.0 + static_cast<double>(id);
  r.co2_g = 0.5;
  r.epochs = {{1, 0.5, 0.7, 10.0, 1.0}};
  return r;
}

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cs::testing::make_test_dir("cs-journal");
    path_ = (dir_ / "j").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

TEST_F(JournalTest, RecordsReadBackInOrder) {
  {
    auto j = Journal::create(path_, "study A");
    for (int i = 0; i < 5; ++i) j.append(result(i));
    j.sync();
  }
  const auto c = read_journal(path_);
  EXPECT_EQ(c.study_toml, "study A");
  ASSERT_EQ(c.results.size(), 5u);
  EXPECT_EQ(c.results[3].spec, result(3).spec);
  EXPECT_DOUBLE_EQ(c.results[3].energy_j, 13.0);
  EXPECT_EQ(c.torn_bytes, 0u);
  EXPECT_EQ(c.valid_bytes, fs::file_size(path_));
}

TEST_F(JournalTest, ATornLastRecordIsDroppedAndAppendingGoesOnAfterTheValidPrefix) {
  {
    auto j = Journal::create(path_, "s");
    for (int i = 0; i < 3; ++i) j.append(result(i));
    j.sync();
  }
  const auto whole = fs::file_size(path_);
  fs::resize_file(path_, whole - 7);  // a kill in the middle of the last write
  auto c = read_journal(path_);
  ASSERT_EQ(c.results.size(), 2u);
  EXPECT_GT(c.torn_bytes, 0u);
  {
    auto j = Journal::reopen(path_, c.valid_bytes);
    j.append(result(7));
    j.sync();
  }
  c = read_journal(path_);
  ASSERT_EQ(c.results.size(), 3u);
  EXPECT_EQ(c.results[2].spec.id, 7);
  EXPECT_EQ(c.torn_bytes, 0u);
}

TEST_F(JournalTest, ACorruptByteEndsTheValidPrefixThere) {
  {
    auto j = Journal::create(path_, "s");
    for (int i = 0; i < 4; ++i) j.append(result(i));
    j.sync();
  }
  const auto size = fs::file_size(path_);
  std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(size - 20));
  f.put('\x7f');
  f.close();
  EXPECT_EQ(read_journal(path_).results.size(), 3u);
}

TEST_F(JournalTest, DuplicateTrialIdsKeepTheFirst) {
  {
    auto j = Journal::create(path_, "s");
    j.append(result(1));
    auto again = result(1);
    again.energy_j = 999;
    j.append(again);
    j.sync();
  }
  const auto c = read_journal(path_);
  ASSERT_EQ(c.results.size(), 1u);
  EXPECT_DOUBLE_EQ(c.results[0].energy_j, 11.0);
}

TEST_F(JournalTest, NotAJournalIsAnIoError) {
  std::ofstream(path_) << "hello";
  EXPECT_THROW(read_journal(path_), IoError);
  EXPECT_THROW(read_journal((dir_ / "missing").string()), IoError);
}

StudyMeta meta(const std::string& toml) {
  return {toml, search::SearchSpace({{"lr", search::ParamKind::kFloat, 1e-4, 1.0, true, {}}}), {}, {"estimate"}, {}};
}

TEST_F(JournalTest, ResumeRefusesAnotherStudysResults) {
  const auto out = (dir_ / "r.h5").string();
  {
    ResultsStore store(out, meta("study A"));
    store.start_fresh();
    store.append(result(0));
    store.commit();
    store.flush();
  }
  ResultsStore other(out, meta("study B"));
  EXPECT_THROW(other.open_for_resume(), IoError);
  // Without a journal, the results file itself is checked.
  fs::remove(out + ".journal");
  EXPECT_THROW(other.open_for_resume(), IoError);
  ResultsStore same(out, meta("study A"));
  EXPECT_EQ(same.open_for_resume().recovered, 1u);
}

}  // namespace
}  // namespace cs::io

namespace cs::io {
namespace {

TEST(Journal, AJournalOfAnotherFormatIsRefusedWithAMessage) {
  const auto path = std::filesystem::temp_directory_path() / "cs-old-format.journal";
  std::ofstream(path, std::ios::binary) << "CSJOURNAL1\nanything";
  try {
    read_journal(path.string());
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("journal format 1, this build writes 5"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace cs::io
