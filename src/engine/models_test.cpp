// ML algorithms in the engine: features from the file's own columns, models saved with the run and used again
// on a later upload, calibration recorded in the run.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "store/sqlite/sqlite_store.h"

namespace granska::engine {
namespace {

constexpr std::string_view kWorkspace = store::kDefaultWorkspaceId;

class EngineModelsTest : public ::testing::Test {
protected:
    EngineModelsTest()
        : dir_(std::filesystem::temp_directory_path() /
               ("granska-models-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name())),
          store_(store::OpenSqliteStore(":memory:")) {
        std::filesystem::create_directories(dir_);
        detect::RegisterBuiltinAlgorithms(registry_);
    }
    ~EngineModelsTest() override { std::filesystem::remove_all(dir_); }

    std::string Upload(std::string_view name, const std::string& csv) {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << csv;
        const store::Upload upload = store_->CreateUpload(
            {.workspace_id = std::string(kWorkspace), .filename = std::string(name), .file_type = "csv"});
        const IngestReport report =
            IngestFile(*store_, kWorkspace, upload.id, path, {.parse = {.file_name = std::string(name)}});
        EXPECT_TRUE(report.ok()) << name;
        return upload.id;
    }

    Expected<AnalysisOutcome> Analyse(const std::string& upload_id, const nlohmann::json& strategy,
                                      std::string* run_id = nullptr, AnalysisOptions options = {}) {
        const std::string id = store_
                                   ->CreateRun({.workspace_id = std::string(kWorkspace),
                                                .upload_id = upload_id,
                                                .strategy_name = "t",
                                                .configuration = strategy.dump()})
                                   .id;
        if (run_id != nullptr) *run_id = id;
        return RunAnalysis(*store_, registry_, kWorkspace, id, options);
    }

    std::filesystem::path dir_;
    std::unique_ptr<store::Store> store_;
    detect::Registry registry_;
};

// 60 lines whose own column "pressure" is 10.0–15.9 and amount 100.00–159.00; the line with id `odd` (if any) has
// pressure 95.0.
std::string Readings(const std::string& odd = "") {
    std::string csv = "id,date,account,amount,pressure\n";
    for (int i = 0; i < 60; ++i) {
        const std::string id = "R" + std::to_string(i);
        csv += fmt::format("{},2024-05-{:02},4010,{}.00,{}\n", id, i % 28 + 1, 100 + i,
                           id == odd ? "\"95,0\"" : fmt::format("{}.{}", 10 + i / 10, i % 10));
    }
    return csv;
}

nlohmann::json Forest(nlohmann::json params = {{"features", {"pressure"}}}) {
    return {{"name", "t"},
            {"algorithms", {{{"name", "isolation_forest"}, {"params", std::move(params)}}}},
            {"threshold", {{"type", "top_k"}, {"value", 1}}}};
}

TEST_F(EngineModelsTest, ANumericColumnOfTheFileIsAFeature) {
    const std::string upload = Upload("a.csv", Readings("R33"));
    const auto outcome = Analyse(upload, Forest());
    ASSERT_TRUE(outcome) << outcome.error().ToString();
    EXPECT_EQ(outcome->rank[33], 1);
    EXPECT_EQ(outcome->flagged[33], 1);
    ASSERT_FALSE(outcome->reasons[33].empty());
    EXPECT_NE(outcome->reasons[33][0].find("pressure"), std::string::npos) << outcome->reasons[33][0];
}

TEST_F(EngineModelsTest, AColumnThatIsTextOrAbsentFailsTheRunNamingTheFeature) {
    const std::string upload = Upload("a.csv", "id,date,amount,note\nA,2024-01-01,1.00,x\nB,2024-01-02,2.00,y\n");
    for (const std::string feature : {"note", "depth"}) {
        const auto outcome = Analyse(upload, Forest({{"features", {"log_amount", feature}}}));
        ASSERT_FALSE(outcome) << feature;
        EXPECT_EQ(outcome.error().kind, ErrorKind::kInvalidInput);
        EXPECT_EQ(outcome.error().column, "algorithms[0].params.features[1]");
        EXPECT_NE(outcome.error().message.find(feature), std::string::npos) << outcome.error().message;
    }
}

TEST_F(EngineModelsTest, AModelFittedByOneRunScoresALaterUploadWithTheSameScaling) {
    const std::string last_year = Upload("last.csv", Readings());
    std::string training_run;
    const auto trained = Analyse(last_year, Forest(), &training_run);
    ASSERT_TRUE(trained) << trained.error().ToString();
    ASSERT_EQ(trained->models.size(), 1u);
    const auto saved = store_->GetModel(kWorkspace, training_run, "isolation_forest");
    ASSERT_TRUE(saved);
    EXPECT_EQ(saved->document, trained->models[0].second);
    const auto document = nlohmann::json::parse(saved->document);
    EXPECT_EQ(document["calibration"]["method"], "gaussian");
    const auto training_metadata = nlohmann::json::parse(store_->GetRun(kWorkspace, training_run)->metadata);
    EXPECT_EQ(training_metadata["algorithms"][0]["model"], "fitted");
    EXPECT_EQ(training_metadata["algorithms"][0]["calibration"], document["calibration"]);

    // The same upload scored with the saved model: the same scores.
    nlohmann::json reuse = Forest();
    reuse["algorithms"][0]["model_run"] = training_run;
    const auto again = Analyse(last_year, reuse);
    ASSERT_TRUE(again) << again.error().ToString();
    EXPECT_EQ(again->algorithm_scores, trained->algorithm_scores);
    EXPECT_TRUE(again->models.empty());

    // This month's upload, with one odd reading: at least as anomalous as the highest training reading (a tree
    // cannot isolate a value beyond the training range more than the extreme training value), scaled with last
    // year's constants.
    const std::string this_month = Upload("month.csv", Readings("R7"));
    std::string month_run;
    const auto month = Analyse(this_month, reuse, &month_run);
    ASSERT_TRUE(month) << month.error().ToString();
    const std::vector<double>& scores = month->algorithm_scores[0];
    EXPECT_GE(scores[7], scores[59]);  // 15.9, the highest reading
    EXPECT_GT(scores[7], 0.5);
    EXPECT_LT(scores[30], 0.1);
    const auto metadata = nlohmann::json::parse(store_->GetRun(kWorkspace, month_run)->metadata);
    EXPECT_EQ(metadata["algorithms"][0]["model"], training_run);
    EXPECT_EQ(metadata["algorithms"][0]["calibration"], document["calibration"]);
    EXPECT_FALSE(store_->GetModel(kWorkspace, month_run, "isolation_forest"));  // nothing new was fitted

    // The CLI's way: the document itself, by label.
    const auto given = Analyse(this_month, Forest(), nullptr, {.models = {{"isolation_forest", saved->document}}});
    ASSERT_TRUE(given);
    EXPECT_EQ(given->algorithm_scores, month->algorithm_scores);
}

TEST_F(EngineModelsTest, AModelRunThatSavedNoModelFailsNamingTheField) {
    const std::string upload = Upload("a.csv", Readings());
    std::string zscore_run;
    ASSERT_TRUE(Analyse(upload, {{"name", "z"}, {"algorithms", {{{"name", "zscore"}}}}}, &zscore_run));
    nlohmann::json reuse = Forest();
    reuse["algorithms"][0]["model_run"] = zscore_run;
    std::string run_id;
    const auto outcome = Analyse(upload, reuse, &run_id);
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(outcome.error().column, "algorithms[0].model_run");
    EXPECT_EQ(store_->GetRun(kWorkspace, run_id)->status, "failed");
}

}  // namespace
}  // namespace granska::engine
