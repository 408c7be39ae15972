#include "strategy/strategy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace granska::strategy {
namespace {

class StrategyTest : public ::testing::Test {
protected:
    StrategyTest() { detect::RegisterBuiltinAlgorithms(registry_); }

    Expected<Strategy> Parse(std::string_view json) { return ParseStrategy(json, registry_); }
    std::string ErrorPath(std::string_view json) {
        auto parsed = Parse(json);
        EXPECT_FALSE(parsed);
        return parsed ? "" : parsed.error().column;
    }

    detect::Registry registry_;
};

TEST_F(StrategyTest, EveryPresetParses) {
    ASSERT_FALSE(Presets().empty());
    for (const Preset& preset : Presets()) {
        auto parsed = Parse(preset.json);
        ASSERT_TRUE(parsed) << preset.name << ": " << parsed.error().message;
        EXPECT_EQ(parsed->name, preset.name);
    }
    EXPECT_NE(FindPreset(kDefaultPreset), nullptr);
}

TEST_F(StrategyTest, ReadsAlgorithmsCombineAndThreshold) {
    auto parsed = Parse(R"({"name": "mine", "algorithms": [
        {"name": "zscore", "weight": 2.5, "params": {"group_by": "none"}},
        {"name": "zscore", "label": "classic", "params": {"robust": false}}],
      "combine": {"method": "max"}, "threshold": {"type": "top_k", "value": 25}})");
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->algorithms.size(), 2u);
    EXPECT_EQ(parsed->algorithms[0].weight, 2.5);
    EXPECT_EQ(parsed->algorithms[1].weight, 1.0);
    EXPECT_EQ(parsed->algorithms[0].params, R"({"group_by":"none"})");
    EXPECT_NE(parsed->algorithms[1].algorithm, nullptr);
    EXPECT_EQ(parsed->combine, CombineMethod::kMax);
    EXPECT_EQ(parsed->threshold.type, ThresholdType::kTopK);
    EXPECT_EQ(parsed->threshold.value, 25.0);
}

TEST_F(StrategyTest, DefaultsToWeightedMeanAndTopOnePercent) {
    auto parsed = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"}]})");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->combine, CombineMethod::kWeightedMean);
    EXPECT_EQ(parsed->threshold.type, ThresholdType::kTopPercent);
    EXPECT_EQ(parsed->threshold.value, 1.0);
}

TEST_F(StrategyTest, CanonicalJsonParsesToTheSameStrategy) {
    auto parsed = Parse(R"({"name": "s", "algorithms": [{"name": "zscore", "weight": 3}]})");
    ASSERT_TRUE(parsed);
    auto again = Parse(parsed->json);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->json, parsed->json);
    const auto json = nlohmann::json::parse(parsed->json);
    EXPECT_EQ(json["threshold"]["type"], "top_percent");
    EXPECT_EQ(json["algorithms"][0]["weight"], 3.0);
}

TEST_F(StrategyTest, ErrorsNameTheField) {
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore"}, {"name": "nope"}]})"),
              "algorithms[1].name");
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore", "params": {"threshold": 0}}]})"),
              "algorithms[0].params.threshold");
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore", "weight": 0}]})"), "algorithms[0].weight");
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore", "wieght": 1}]})"), "algorithms[0].wieght");
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": []})"), "algorithms");
    EXPECT_EQ(ErrorPath(R"({"algorithms": [{"name": "zscore"}]})"), "name");
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore"}], "combine": {"method": "avg"}})"),
              "combine.method");
    EXPECT_EQ(
        ErrorPath(
            R"({"name": "s", "algorithms": [{"name": "zscore"}], "threshold": {"type": "top_percent", "value": 0}})"),
        "threshold.value");
    EXPECT_EQ(
        ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore"}], "threshold": {"type": "top_k", "value": 2.5}})"),
        "threshold.value");
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore"}], "extra": 1})"), "extra");
}

TEST_F(StrategyTest, CalibrationGroupAndModelRunDefaultByTypeAndAreChecked) {
    auto parsed = Parse(R"({"name": "ml", "algorithms": [
        {"name": "isolation_forest", "model_run": "0192f5e0-0000-7000-8000-000000000001", "group": "trees"},
        {"name": "zscore", "calibration": "rank"},
        {"name": "benford"}],
      "combine": {"method": "average_of_maximum"}, "threshold": {"type": "contamination", "value": 0.05}})");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->algorithms[0].calibration, Calibration::kGaussian);  // ml_based
    EXPECT_EQ(parsed->algorithms[0].group, "trees");
    EXPECT_EQ(parsed->algorithms[0].model_run, "0192f5e0-0000-7000-8000-000000000001");
    EXPECT_EQ(parsed->algorithms[1].calibration, Calibration::kRank);
    EXPECT_EQ(parsed->algorithms[1].group, "statistical");
    EXPECT_EQ(parsed->algorithms[2].calibration, Calibration::kNone);
    EXPECT_EQ(parsed->algorithms[2].group, "rule_based");
    EXPECT_EQ(parsed->combine, CombineMethod::kAverageOfMaximum);
    EXPECT_EQ(parsed->threshold.type, ThresholdType::kContamination);
    // The canonical form keeps all of it.
    auto again = Parse(parsed->json);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->json, parsed->json);

    EXPECT_EQ(ErrorPath(R"({"name": "x", "algorithms": [{"name": "zscore", "model_run": "abc"}]})"),
              "algorithms[0].model_run");  // zscore fits no model
    EXPECT_EQ(ErrorPath(R"({"name": "x", "algorithms": [{"name": "isolation_forest", "model_run": 5}]})"),
              "algorithms[0].model_run");
    EXPECT_EQ(ErrorPath(R"({"name": "x", "algorithms": [{"name": "zscore", "calibration": "cubic"}]})"),
              "algorithms[0].calibration");
    EXPECT_EQ(ErrorPath(R"({"name": "x", "algorithms": [{"name": "zscore", "group": ""}]})"), "algorithms[0].group");
    EXPECT_EQ(ErrorPath(R"({"name": "x", "algorithms": [{"name": "zscore"}],
                           "threshold": {"type": "contamination", "value": 0.6}})"),
              "threshold.value");
}

TEST_F(StrategyTest, LabelsLetAnAlgorithmRunTwice) {
    auto parsed = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"},
                                                         {"name": "zscore", "label": "zscore_global", "params": {"group_by": "none"}}]})");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->algorithms[0].label, "zscore");
    EXPECT_EQ(parsed->algorithms[1].label, "zscore_global");
    const auto json = nlohmann::json::parse(parsed->json);
    EXPECT_FALSE(json["algorithms"][0].contains("label"));
    EXPECT_EQ(json["algorithms"][1]["label"], "zscore_global");
}

TEST_F(StrategyTest, RejectsTheSameLabelTwice) {
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore"}, {"name": "zscore"}]})"),
              "algorithms[1].name");
    EXPECT_EQ(
        ErrorPath(
            R"({"name": "s", "algorithms": [{"name": "zscore", "label": "a"}, {"name": "zscore", "label": "a"}]})"),
        "algorithms[1].label");
    EXPECT_EQ(ErrorPath(R"({"name": "s", "algorithms": [{"name": "zscore", "label": ""}]})"), "algorithms[0].label");
}

TEST_F(StrategyTest, RejectsInvalidJson) {
    auto parsed = Parse(R"({"name": "s", )");
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(parsed.error().code, "bad_strategy");
}

}  // namespace
}  // namespace granska::strategy

namespace granska::strategy {
namespace {

TEST(DefaultPresetTest, LedgersGetTheJournalEntryAuditOthersQuickScan) {
    EXPECT_EQ(DefaultPresetFor(R"({"format": "sie", "mapping": {}})"), "journal-entry-audit");
    EXPECT_EQ(DefaultPresetFor(R"({"format": "csv", "mapping": {"amount": "Belopp", "voucher_number": "Ver"}})"),
              "journal-entry-audit");
    EXPECT_EQ(DefaultPresetFor(R"({"format": "xml", "mapping": {"amount": "Amt"}})"), "quick-scan");  // a statement
    EXPECT_EQ(DefaultPresetFor("{}"), "quick-scan");
    EXPECT_EQ(DefaultPresetFor("not json"), "quick-scan");
}

}  // namespace
}  // namespace granska::strategy
