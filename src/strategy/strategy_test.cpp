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

TEST_F(StrategyTest, EveryPresetOfTheIssueExistsWithTheDescriptionItsJsonCarries) {
    for (const std::string_view name : {"quick-scan", "journal-entry-audit", "bank-transactions", "ml-ensemble"}) {
        const Preset* preset = FindPreset(name);
        ASSERT_NE(preset, nullptr) << name;
        EXPECT_GT(preset->description.size(), 20u) << name;
        EXPECT_EQ(nlohmann::json::parse(preset->json)["description"], preset->description) << name;
    }
}

TEST_F(StrategyTest, BankTransactionsLeavesOutTheLedgerAlgorithmsAndFeatures) {
    auto parsed = Parse(FindPreset(kBankPreset)->json);
    ASSERT_TRUE(parsed) << parsed.error().message;
    std::vector<std::string> names;
    for (const AlgorithmSpec& spec : parsed->algorithms) names.push_back(spec.name);
    EXPECT_EQ(names, (std::vector<std::string>{"zscore", "duplicates", "round_amount", "weekend_threshold",
                                               "time_of_day", "isolation_forest"}));
    EXPECT_FALSE(parsed->per_voucher);  // a statement has no vouchers
    EXPECT_EQ(parsed->combine, CombineMethod::kNoisyOr);
    // Every feature is a derived one, so the preset runs on any statement.
    EXPECT_TRUE(UnknownFeatures(*parsed, {}).empty());
}

TEST_F(StrategyTest, UnknownFeaturesNameThePathAndTheNearestFeatureOrColumn) {
    auto parsed = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"},
        {"name": "isolation_forest", "params": {"features": ["log_amount", "log_amout", "Saldo", "vat_rate", "WEEKDAY"]}}]})");
    ASSERT_TRUE(parsed) << parsed.error().message;
    const std::vector<std::string> columns = {"saldo", "Moms"};

    const auto unknown = UnknownFeatures(*parsed, columns);
    ASSERT_EQ(unknown.size(), 4u);
    EXPECT_EQ(unknown[0].path, "algorithms[1].params.features[1]");
    EXPECT_EQ(unknown[0].name, "log_amout");
    EXPECT_EQ(unknown[0].suggestion, "log_amount");  // one letter left out
    EXPECT_EQ(unknown[1].path, "algorithms[1].params.features[2]");
    EXPECT_EQ(unknown[1].suggestion, "saldo");  // a column, its case differs: distance 0 ignoring case
    EXPECT_EQ(unknown[2].name, "vat_rate");
    EXPECT_EQ(unknown[2].suggestion, "");  // nothing within 2 edits
    EXPECT_EQ(unknown[3].suggestion, "weekday");
    EXPECT_NE(unknown[0].Message().find("did you mean \"log_amount\"?"), std::string::npos) << unknown[0].Message();
    EXPECT_EQ(unknown[2].Message().find("did you mean"), std::string::npos);

    const auto checked = CheckFeatures(*parsed, columns);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(checked.error().code, "bad_feature");
    EXPECT_EQ(checked.error().column, "algorithms[1].params.features[1]");

    auto fixed = Parse(R"({"name": "s", "algorithms": [
        {"name": "isolation_forest", "params": {"features": ["log_amount", "saldo", "Moms"]}}]})");
    ASSERT_TRUE(fixed);
    EXPECT_TRUE(CheckFeatures(*fixed, columns));
    // Without the upload's columns, the file's names are what is left over.
    const auto without_upload = UnknownFeatures(*fixed, {});
    ASSERT_EQ(without_upload.size(), 2u);
    EXPECT_EQ(without_upload[0].name, "saldo");
    EXPECT_EQ(without_upload[1].name, "Moms");
}

TEST(FileColumnsTest, AreTheUnmappedHeadersNamedAsRawDataNamesThem) {
    // Datum and Belopp are mapped to fields; a blank header is column_<n>; a repeated one gets _2.
    const auto columns = FileColumns(R"({"format": "csv", "headers": ["Datum", "Belopp", "Saldo", "", "Saldo"],
                                         "mapping": {"date": "Datum", "amount": "Belopp"}})");
    ASSERT_TRUE(columns.has_value());
    EXPECT_EQ(*columns, (std::vector<std::string>{"Saldo", "column_4", "Saldo_2"}));
    EXPECT_FALSE(FileColumns(R"({"format": "sie", "headers": [], "mapping": {}})").has_value());
    EXPECT_FALSE(FileColumns("{}").has_value());
    EXPECT_FALSE(FileColumns("not json").has_value());
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

TEST(DefaultPresetTest, LedgersGetTheJournalEntryAuditStatementsBankTransactionsOthersQuickScan) {
    EXPECT_EQ(DefaultPresetFor(R"({"format": "sie", "mapping": {}})"), "journal-entry-audit");
    EXPECT_EQ(DefaultPresetFor(R"({"format": "csv", "mapping": {"amount": "Belopp", "voucher_number": "Ver"}})"),
              "journal-entry-audit");
    EXPECT_EQ(DefaultPresetFor(R"({"format": "xml", "mapping": {"amount": "Amt"}, "details": {"mode": "camt.053"}})"),
              "bank-transactions");
    EXPECT_EQ(DefaultPresetFor(R"({"format": "csv", "mapping": {"date": "Datum", "amount": "Belopp"}})"),
              "bank-transactions");  // no accounts, no vouchers
    EXPECT_EQ(DefaultPresetFor(R"({"format": "csv", "mapping": {"amount": "amount", "account": "account"}})"),
              "quick-scan");
    EXPECT_EQ(DefaultPresetFor("{}"), "quick-scan");
    EXPECT_EQ(DefaultPresetFor("not json"), "quick-scan");
}

}  // namespace
}  // namespace granska::strategy
