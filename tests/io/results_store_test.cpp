// The HDF5 results file: write, read back, and refuse what is not ours.
#include "io/results_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "io/hdf5.hpp"
#include "tests/io/gpu_fields.hpp"
#include "tests/test_dir.hpp"

namespace cs::io {
namespace {

namespace fs = std::filesystem;

class ResultsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = cs::testing::make_test_dir("cs-store"); }
  void TearDown() override { fs::remove_all(dir_); }

  static StudyMeta meta() {
    StudyMeta m;
    m.study_toml = "[study]\nname = \"x\"\n";
    m.space = search::SearchSpace({{"lr", search::ParamKind::kFloat, 1e-3, 1e-1, true, {}},
                                   {"opt", search::ParamKind::kCategorical, 0, 1, false, {std::string("sgd")}}});
    study::SiteConfig site;
    site.name = "a";
    site.pue = 1.2;
    site.intensity_g_per_kwh = 100.0;
    site.ranks = 1;
    site.carbon = std::make_shared<carbon::ConstantCarbonSource>(100.0);
    m.sites = {site};
    m.meters = {"estimate"};
    m.provenance = {{"tool_version", "9.9"}, {"hosts", "h1,h2"}};
    return m;
  }

  static TrialResult result(std::int64_t id) {
    TrialResult r;
    r.spec = {id, "random", {{"lr", 0.01 * static_cast<double>(id + 1)}, {"opt", std::string("sgd")}}};
    r.site = "a";
    r.rank = 2;
    r.host = "h1";
    r.start_unix_s = 1.7e9;
    r.end_unix_s = 1.7e9 + 12.5;
    r.epochs_done = 2;
    r.val_accuracy = 0.8;
    r.epochs = {{1, 0.9, 0.7, 10.0, 6.0}, {2, 0.5, 0.8, 11.0, 6.5}};
    r.meters = {{"estimate", "software", 21.0}};
    r.samples = {{0.1, 0, 200.0}, {0.2, 0, 210.0}};
    r.primary_meter = "estimate";
    r.energy_j = 21.0;
    r.pue = 1.2;
    r.facility_energy_j = 25.2;
    r.intensity_g_per_kwh = 100.0;
    r.co2_g = 25.2 / 3.6e6 * 100.0;
    r.test_accuracy = 0.78;
    r.model = "vgg16";
    r.parameters = 14'728'266;
    r.macs = 7.05e8;
    r.inactive_params = "optimizer.beta1,optimizer.beta2";
    cs::testing::set_gpu_fields(r);
    return r;
  }

  fs::path dir_;
};

TEST_F(ResultsStoreTest, WriteThenReadBack) {
  const auto path = (dir_ / "r.h5").string();
  ResultsStore store(path, meta());
  store.append(result(0));
  auto failed = result(1);
  failed.status = search::TrialStatus::kFailed;
  failed.error = "out of memory";
  store.append(failed);
  store.flush();

  const auto loaded = load_results(path);
  EXPECT_EQ(loaded.schema_version, kSchemaVersion);
  EXPECT_EQ(loaded.study_toml, meta().study_toml);
  EXPECT_EQ(loaded.provenance.at("hosts"), "h1,h2");
  ASSERT_EQ(loaded.trials.size(), 2u);
  const auto& t = loaded.trials[0];
  EXPECT_EQ(t.spec, result(0).spec);
  EXPECT_EQ(t.site, "a");
  EXPECT_EQ(t.rank, 2);
  EXPECT_DOUBLE_EQ(t.energy_j, 21.0);
  EXPECT_DOUBLE_EQ(t.co2_g, result(0).co2_g);
  ASSERT_EQ(t.epochs.size(), 2u);
  EXPECT_DOUBLE_EQ(t.epochs[1].energy_j, 11.0);
  ASSERT_EQ(t.meters.size(), 1u);
  EXPECT_EQ(t.meters[0].meter, "estimate");
  EXPECT_DOUBLE_EQ(t.test_accuracy, 0.78);
  EXPECT_EQ(t.model, "vgg16");
  EXPECT_EQ(t.parameters, 14'728'266);
  EXPECT_DOUBLE_EQ(t.macs, 7.05e8);
  EXPECT_EQ(t.inactive_params, "optimizer.beta1,optimizer.beta2");
  cs::testing::expect_gpu_fields(t);
  EXPECT_EQ(loaded.trials[1].status, search::TrialStatus::kFailed);
  EXPECT_EQ(loaded.trials[1].error, "out of memory");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(ResultsStoreTest, ABackgroundCommitMakesTheJournalDurableWhileAppendsGoOn) {
  const auto path = (dir_ / "r.h5").string();
  ResultsStore store(path, meta());
  store.start_fresh();
  store.append(result(0));
  const auto first = store.commit_async();
  store.append(result(1));  // during the first fsync: the next ticket covers it
  const auto second = store.commit_async();
  EXPECT_LT(first, second);
  store.wait_durable(second);
  EXPECT_GE(store.durable(), second);
  const auto journal = read_journal(store.journal_path());
  ASSERT_EQ(journal.results.size(), 2u);
  EXPECT_EQ(journal.results[1].spec, result(1).spec);
  store.commit();       // a blocking commit after background ones
  store.start_fresh();  // replaces the journal its thread synced
  store.append(result(2));
  store.wait_durable(store.commit_async());
  EXPECT_EQ(read_journal(store.journal_path()).results.size(), 1u);
}

TEST_F(ResultsStoreTest, MoreTrialsThanOneCheckpointBatchKeepEveryRowInOrder) {
  // The store keeps trials encoded and writes the per-trial tables a batch of 4,096 at a time;
  // power samples stream to a scratch file and come back 65,536 rows at a time. 9,000 trials of
  // 8 samples span three trial batches and two sample batches, over two checkpoints, and every
  // row of every table comes back, in order.
  const auto path = (dir_ / "many.h5").string();
  constexpr std::int64_t kTrials = 9000;
  {
    ResultsStore store(path, meta());
    store.start_fresh();
    for (std::int64_t id = 0; id < kTrials; ++id) {
      auto r = result(id);
      r.objective = static_cast<double>(id);
      r.samples.clear();
      for (int k = 0; k < 8; ++k) r.samples.push_back({static_cast<double>(id) + 0.1 * k, 0, 100.0 + k});
      store.append(std::move(r));
      if (id == kTrials / 2) store.flush();  // a checkpoint midway; appending goes on after it
    }
    store.flush();
    EXPECT_TRUE(fs::exists(store.samples_path()));
    EXPECT_EQ(store.result_count(), static_cast<std::size_t>(kTrials));
    std::int64_t visited = 0;
    store.for_each_result([&](const TrialResult& r) { EXPECT_EQ(r.spec.id, visited++); });
    EXPECT_EQ(visited, kTrials);
  }
  EXPECT_FALSE(fs::exists(path + ".samples")) << "the scratch file goes with the store";
  const auto loaded = load_results(path);
  ASSERT_EQ(loaded.trials.size(), static_cast<std::size_t>(kTrials));
  for (std::int64_t id = 0; id < kTrials; id += 1499) {
    const auto& t = loaded.trials[static_cast<std::size_t>(id)];
    EXPECT_EQ(t.spec.id, id);
    EXPECT_DOUBLE_EQ(t.objective, static_cast<double>(id));
    EXPECT_DOUBLE_EQ(std::get<double>(t.spec.params.at(0).value), 0.01 * static_cast<double>(id + 1));
    EXPECT_EQ(t.epochs.size(), 2u);
    ASSERT_EQ(t.samples.size(), 8u);
    EXPECT_DOUBLE_EQ(t.samples[7].t_s, static_cast<double>(id) + 0.7);
    EXPECT_DOUBLE_EQ(t.samples[7].power_w, 107.0);
  }
}

TEST_F(ResultsStoreTest, SitesAreBuiltOnceSoATraceMayVanishAfterTheStudyIsRead) {
  fs::copy_file(std::string(CS_TRACES_DIR) + "/fr_2020_ci.csv.gz", dir_ / "fr.csv.gz");
  std::ofstream(dir_ / "study.toml")
      << "[study]\nname = \"x\"\nbudget_trials = 1\n[search]\nstrategy = \"random\"\n[search.space.x1]\n"
         "type = \"float\"\nlow = 0.0\nhigh = 1.0\n[search.space.x2]\ntype = \"float\"\nlow = 0.0\nhigh = "
         "1.0\n[model]\nfamily = \"function\"\nfunction = \"branin\"\n"
         "[[sites]]\nname = \"fr\"\npue = 1.1\ntrace = \"fr.csv.gz\"\n";
  const auto config = study::load_study((dir_ / "study.toml").string());
  fs::remove(dir_ / "fr.csv.gz");  // every flush uses the source read above, never the file again
  const auto path = (dir_ / "r.h5").string();
  ResultsStore store(path, StudyMeta{config.toml_text, config.space, config.sites, {"estimate"}, {}});
  store.flush();
  store.flush();
  const auto loaded = load_results(path);
  ASSERT_EQ(loaded.sites.size(), 1u);
  EXPECT_EQ(loaded.sites[0].carbon->points().size(), 18574u);
  EXPECT_DOUBLE_EQ(loaded.sites[0].carbon->points().front().unix_s, 1576800000.0);
}

TEST_F(ResultsStoreTest, EveryColumnHasAUnitsEntry) {
  const auto path = (dir_ / "r.h5").string();
  ResultsStore store(path, meta());
  store.append(result(0));
  store.flush();
  h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open");
  for (const char* name : {"trials", "params", "epochs", "samples", "sites"}) {
    const auto table = h5::read_table(file.get(), name);
    for (const auto& c : table.columns()) {
      if (c.type != h5::ColumnType::kString && c.name != "trial_id" && c.name != "rank" && c.name != "threads") {
        EXPECT_FALSE(c.units.empty()) << name << "." << c.name;
      }
    }
  }
}

TEST_F(ResultsStoreTest, UnwritableDirectoryFailsBeforeAnyFileExists) {
  std::ofstream(dir_ / "plainfile") << "x";
  EXPECT_THROW(ResultsStore((dir_ / "plainfile" / "r.h5").string(), meta()), IoError);
  EXPECT_THROW(ResultsStore(dir_.string(), meta()), IoError);  // a directory is not a file name
  EXPECT_THROW(ResultsStore("", meta()), IoError);
  // A missing folder is made at the first write, not before: a refused run leaves nothing.
  ResultsStore later((dir_ / "missing" / "deeper" / "r.h5").string(), meta());
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
  EXPECT_TRUE(open_output_folder(later.path()));
  EXPECT_TRUE(fs::is_directory(dir_ / "missing" / "deeper"));
  EXPECT_FALSE(open_output_folder(later.path()));
}

TEST_F(ResultsStoreTest, RefusesFilesThatAreNotResults) {
  const auto empty = (dir_ / "empty.h5").string();
  std::ofstream(empty).close();
  EXPECT_THROW(load_results(empty), IoError);
  const auto text = (dir_ / "text.h5").string();
  std::ofstream(text) << "not hdf5";
  EXPECT_THROW(load_results(text), IoError);
  EXPECT_THROW(load_results((dir_ / "nope.h5").string()), IoError);

  const auto truncated = (dir_ / "truncated.h5").string();
  {
    ResultsStore store((dir_ / "full.h5").string(), meta());
    store.append(result(0));
    store.flush();
    const auto size = fs::file_size(dir_ / "full.h5");
    fs::copy_file(dir_ / "full.h5", truncated);
    fs::resize_file(truncated, size / 2);
  }
  EXPECT_THROW(load_results(truncated), IoError);
}

TEST_F(ResultsStoreTest, RefusesAFutureSchemaVersion) {
  const auto path = (dir_ / "future.h5").string();
  {
    h5::Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "create");
    h5::write_int_attribute(file.get(), "schema_version", kSchemaVersion + 1);
  }
  try {
    load_results(path);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("schema_version"), std::string::npos);
  }
}

}  // namespace
}  // namespace cs::io
