// Every setting of [model], [optimizer] and [training] is searchable by its dotted name; bad names,
// types and values are file:line:key errors at parse time; parameters that do not apply are recorded.
#include "study/train_settings.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"
#include "study/study_config.hpp"

namespace cs::study {
namespace {

std::string study_with(const std::string& tables) {
  return R"([study]
name = "t"
budget_trials = 2
[search]
strategy = "random"
)" + tables +
         R"(
[dataset]
train_subset = 100
[[sites]]
name = "a"
pue = 1.2
intensity_g_per_kwh = 100
)";
}

std::string error_of(const std::string& text) {
  try {
    parse_study(text, "s.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(TrainSettings, EverySettingHasARangeASetterAndAnApplicabilityRule) {
  for (const auto& s : settings()) {
    EXPECT_TRUE(s.set != nullptr && s.applies != nullptr) << s.key;
    EXPECT_EQ(find_setting(s.key), &s);
    if (s.type == SettingType::kInt || s.type == SettingType::kFloat) {
      EXPECT_LT(s.low, s.high) << s.key;
    }
    if (s.type == SettingType::kChoice) {
      EXPECT_FALSE(s.choices.empty()) << s.key;
    }
  }
  EXPECT_EQ(find_setting("lr")->key, "optimizer.lr");  // today's short names stay
  EXPECT_EQ(find_setting("conv_blocks")->key, "model.conv_layers");
  EXPECT_EQ(find_setting("training.channels")->key, "model.channels");
  EXPECT_EQ(find_setting("optimizer.banana"), nullptr);
}

TEST(TrainSettings, ParametersSetTheirSettingsAndThoseThatDoNotApplyAreRecorded) {
  TrainSettings defaults;
  std::vector<std::string> inactive;
  const auto s = apply_params(defaults,
                              {{"optimizer.name", std::string("adam")},
                               {"optimizer.beta1", 0.5},
                               {"momentum", 0.8},
                               {"model.arch", std::string("vgg19")},
                               {"model.batch_norm", std::string("true")},
                               {"batch_size", std::int64_t{32}}},
                              7, &inactive);
  EXPECT_EQ(s.optimizer.name, OptimizerKind::kAdam);
  EXPECT_DOUBLE_EQ(s.optimizer.beta1, 0.5);
  EXPECT_EQ(s.model.family, ModelFamily::kVgg);
  EXPECT_EQ(s.model.depth, 19);
  EXPECT_TRUE(s.model.batch_norm);
  EXPECT_EQ(s.training.batch_size, 32);
  EXPECT_EQ(model_name(s.model), "vgg19");
  EXPECT_EQ(inactive, std::vector<std::string>{"momentum"});  // Adam has no momentum setting
}

TEST(TrainSettings, AValueOutsideItsRangeIsAnErrorNamingTheTrialAndParameter) {
  try {
    apply_params({}, {{"optimizer.beta1", 1.0}}, 12);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("trial 12: parameter 'optimizer.beta1': expected a value in [0, 0.999999]"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(apply_params({}, {{"model.arch", std::string("vgg12")}}, 1), ConfigError);
  TrainSettings vgg;
  vgg.model.family = ModelFamily::kVgg;
  EXPECT_THROW(apply_params(vgg, {{"model.depth", std::int64_t{50}}}, 1), ConfigError);  // a resnet depth
}

TEST(TrainSettings, TheStudyFileReadsEveryTableAndTheShortNamesStillWork) {
  const auto c = parse_study(study_with(R"(
[search.space.optimizer.beta1]
type = "float"
low = 0.1
high = 0.999
[search.space."optimizer.lr"]
type = "float"
low = 1e-5
high = 0.1
log = true
[model]
family = "simple_cnn"
conv_layers = 4
linear_layers = 3
batch_norm = true
activation = "none"
[optimizer]
name = "adam"
beta2 = 0.99
weight_decay = 0.01
schedule = "cosine"
[training]
epochs = 3
batch_size = 512
)"),
                             "s.toml");
  ASSERT_EQ(c.space.size(), 2u);
  EXPECT_EQ(c.space.params()[0].name, "optimizer.beta1");  // the nested table, named by its path
  EXPECT_EQ(c.model.conv_layers, 4);
  EXPECT_EQ(c.model.linear_layers, 3);
  EXPECT_TRUE(c.model.batch_norm);
  EXPECT_EQ(c.model.activation, Activation::kNone);
  EXPECT_EQ(c.optimizer.name, OptimizerKind::kAdam);
  EXPECT_DOUBLE_EQ(c.optimizer.beta2, 0.99);
  EXPECT_EQ(c.optimizer.schedule, Schedule::kCosine);
  EXPECT_EQ(c.training.batch_size, 512);
  // [training] lr and channels, as studies wrote them before [optimizer] and [model] existed.
  const auto old = parse_study(study_with("[search.space.lr]\ntype = \"float\"\nlow = 0.01\nhigh = 0.1\n"
                                          "[training]\nlr = 0.2\nchannels = 8\nconv_blocks = 3\n"),
                               "s.toml");
  const auto arch = parse_study(
      study_with("[search.space.lr]\ntype = \"float\"\nlow = 0.01\nhigh = 0.1\n[model]\narch = \"resnet50\"\n"),
      "s.toml");
  EXPECT_EQ(arch.model.family, ModelFamily::kResnet);  // arch in the file sets family and depth
  EXPECT_EQ(arch.model.depth, 50);
  EXPECT_NE(error_of(study_with("[search.space.lr]\ntype = \"float\"\nlow = 0.01\nhigh = 0.1\n[model]\narch = "
                                "\"vgg12\"\n"))
                .find("key 'arch' in [model]: expected one of:"),
            std::string::npos);
  EXPECT_DOUBLE_EQ(old.optimizer.lr, 0.2);
  EXPECT_EQ(old.model.channels, 8);
  EXPECT_EQ(old.model.conv_layers, 3);
}

TEST(TrainSettings, BadNamesTypesAndValuesAreFileLineKeyErrors) {
  const auto space = [](const std::string& name, const std::string& body) {
    return study_with("[search.space." + name + "]\n" + body);
  };
  EXPECT_NE(error_of(space("optimizer.betta1", "type = \"float\"\nlow = 0.1\nhigh = 0.9\n"))
                .find("s.toml:6: key 'optimizer.betta1' in [search]: no setting is named 'optimizer.betta1'"),
            std::string::npos);
  EXPECT_NE(error_of(space("model.conv_layers", "type = \"float\"\nlow = 1\nhigh = 4\n")).find("is an integer"),
            std::string::npos);
  EXPECT_NE(error_of(space("model.activation", "type = \"int\"\nlow = 0\nhigh = 1\n")).find("takes names"),
            std::string::npos);
  EXPECT_NE(error_of(space("model.activation", "type = \"categorical\"\nchoices = [\"relu\", \"gelu\"]\n"))
                .find("expected one of: relu, none"),
            std::string::npos);
  EXPECT_NE(error_of(study_with("[search.space.lr]\ntype = \"float\"\nlow = 0.01\nhigh = 0.1\n"
                                "[optimizer]\nname = \"adam\"\nbeta1 = 1.0\n"))
                .find("key 'beta1' in [optimizer]: expected a value in [0, 0.999999]"),
            std::string::npos);
  EXPECT_NE(error_of(study_with("[search.space.lr]\ntype = \"float\"\nlow = 0.01\nhigh = 0.1\n"
                                "[model]\nfamily = \"vgg\"\ndepth = 17\n"))
                .find("model.depth 17 is not a vgg depth; expected one of: 11, 13, 16, 19"),
            std::string::npos);
  EXPECT_NE(error_of(study_with("[search.space.lr]\ntype = \"float\"\nlow = 0.01\nhigh = 0.1\n"
                                "[model]\nfamily = \"torchscript\"\n"))
                .find("needs path"),
            std::string::npos);
  EXPECT_NE(
      error_of(space("model.depth", "type = \"categorical\"\nchoices = [16, 50]\n") + "[model]\nfamily = \"vgg\"\n")
          .find("model.depth 50 is not a vgg depth"),
      std::string::npos);
}

TEST(TrainSettings, ASettingThatCannotApplyIsRefusedUnlessTheSearchDecidesIt) {
  const std::string beta1 = "[search.space.\"optimizer.beta1\"]\ntype = \"float\"\nlow = 0.1\nhigh = 0.9\n";
  EXPECT_NE(error_of(study_with(beta1))
                .find("optimizer.beta1 applies only to the adam and adamw optimizers, and this study trains simple_cnn "
                      "with sgd"),
            std::string::npos);
  EXPECT_NE(error_of(study_with(beta1 + "[model]\nfamily = \"vgg\"\nconv_layers = 3\n[optimizer]\nname = \"adam\"\n"))
                .find("key 'model.conv_layers' in [model]: model.conv_layers applies only to the simple_cnn family"),
            std::string::npos);
  const std::string lr = "[search.space.\"optimizer.lr\"]\ntype = \"float\"\nlow = 0.01\nhigh = 0.1\n";
  // bf16 runs anywhere; fp16's loss scaling only on a GPU, fixed or searched.
  EXPECT_NE(
      error_of(study_with(lr + "[training]\nprecision = \"fp16\"\n"))
          .find("s.toml:11: key 'precision' in [training]: training.precision = \"fp16\" needs device = \"cuda\""),
      std::string::npos)
      << error_of(study_with(lr + "[training]\nprecision = \"fp16\"\n"));
  EXPECT_EQ(parse_study(study_with(lr + "[training]\nprecision = \"bf16\"\n"), "s.toml").training.precision,
            Precision::kBf16);
  EXPECT_NE(error_of(study_with(lr + "[search.space.\"training.precision\"]\ntype = \"categorical\"\n"
                                     "choices = [\"bf16\", \"fp16\"]\n"))
                .find("needs device = \"cuda\""),
            std::string::npos);
  EXPECT_NE(error_of(study_with(lr + "[training]\ndevice = \"cuda\"\nprecision = \"fp8\"\n")).find("fp16"),
            std::string::npos);
  // Searching the optimizer makes beta1 conditional: it applies to the trials that use Adam.
  const auto c = parse_study(
      study_with(beta1 + "[search.space.\"optimizer.name\"]\ntype = \"categorical\"\nchoices = [\"sgd\", \"adam\"]\n"),
      "s.toml");
  EXPECT_EQ(c.space.size(), 2u);
}

}  // namespace
}  // namespace cs::study
