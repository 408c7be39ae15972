// The bank-transactions preset on a small bank statement (no vouchers, no accounts, no times): it runs, and each
// planted anomaly is found by the algorithm meant for it.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "store/sqlite/sqlite_store.h"
#include "strategy/strategy.h"

namespace granska::engine {
namespace {

constexpr std::string_view kWorkspace = store::kDefaultWorkspaceId;

// March 2024's weekdays but Good Friday (the 29th, a Swedish public holiday).
constexpr std::array<int, 19> kWeekdays = {4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 18, 19, 20, 21, 22, 25, 26, 27, 28};

// 38 card payments of 100.00 to 370.47 (none repeated, none round) to ten shops on weekdays, then, as data rows
// 39 to 42: 50 000.00 to a consultant on a Wednesday (round and far larger than the rest), the rent of 1 234.56
// twice (the 6th and again the 8th), and 12 345.67 on Saturday the 16th (a large weekend payment).
std::string Statement() {
    std::string csv = "date,amount,counterparty,text\n";
    for (int i = 0; i < 38; ++i) {
        const int minor = 10'000 + i * 731;
        csv += fmt::format("2024-03-{:02},-{}.{:02},Shop {},Card purchase\n", kWeekdays[static_cast<size_t>(i % 19)],
                           minor / 100, minor % 100, i % 10);
    }
    csv += "2024-03-13,-50000.00,Consulting AB,Invoice 4711\n";
    csv += "2024-03-06,-1234.56,Rent Co,Rent March\n";
    csv += "2024-03-08,-1234.56,Rent Co,Rent March\n";
    csv += "2024-03-16,-12345.67,Car dealer,Down payment\n";
    return csv;
}

constexpr size_t kConsultant = 38;
constexpr size_t kFirstRent = 39;
constexpr size_t kSecondRent = 40;
constexpr size_t kWeekend = 41;

TEST(BankTransactionsPresetTest, RunsOnAStatementAndEachPlantedAnomalyIsFoundByItsAlgorithm) {
    const auto dir = std::filesystem::temp_directory_path() /
                     fmt::format("granska-bank-test-{}", ::testing::UnitTest::GetInstance()->random_seed());
    std::filesystem::create_directories(dir);
    const auto path = dir / "statement.csv";
    std::ofstream(path, std::ios::binary) << Statement();
    auto store = store::OpenSqliteStore(":memory:");
    detect::Registry registry;
    detect::RegisterBuiltinAlgorithms(registry);

    const store::Upload upload =
        store->CreateUpload({.workspace_id = std::string(kWorkspace), .filename = "statement.csv", .file_type = "csv"});
    const IngestReport report = IngestFile(*store, kWorkspace, upload.id, path, {.parse = {.file_name = "s.csv"}});
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(report.ok()) << report.parse.error->ToString();
    ASSERT_EQ(report.rows, 42);

    const strategy::Preset* preset = strategy::FindPreset(strategy::kBankPreset);
    ASSERT_NE(preset, nullptr);
    const store::Run run = store->CreateRun({.workspace_id = std::string(kWorkspace),
                                             .upload_id = upload.id,
                                             .strategy_name = std::string(preset->name),
                                             .configuration = std::string(preset->json)});
    const auto outcome = RunAnalysis(*store, registry, kWorkspace, run.id, {});
    ASSERT_TRUE(outcome) << outcome.error().ToString();
    EXPECT_EQ(store->GetRun(kWorkspace, run.id)->status, "completed");

    auto scores_of = [&](std::string_view algorithm) {
        const auto at = std::find(outcome->algorithm_names.begin(), outcome->algorithm_names.end(), algorithm);
        EXPECT_NE(at, outcome->algorithm_names.end()) << algorithm;
        if (at == outcome->algorithm_names.end()) return std::vector<double>(42, 0.0);
        return outcome->algorithm_scores[static_cast<size_t>(at - outcome->algorithm_names.begin())];
    };
    auto rows_scoring = [](const std::vector<double>& scores) {
        std::vector<size_t> rows;
        for (size_t i = 0; i < scores.size(); ++i) {
            if (scores[i] > 0) rows.push_back(i);
        }
        return rows;
    };

    // 1 % of 42 rows: the one with the highest score, the consultant's 50 000.00.
    EXPECT_EQ(outcome->flagged_count, 1);
    EXPECT_EQ(outcome->rank[kConsultant], 1);
    EXPECT_TRUE(outcome->flagged[kConsultant]);
    EXPECT_EQ(rows_scoring(scores_of("round_amount")), std::vector<size_t>{kConsultant});
    // The later copy of the rent scores, the first one not.
    const std::vector<double> duplicates = scores_of("duplicates");
    EXPECT_GT(duplicates[kSecondRent], 0.0);
    EXPECT_EQ(duplicates[kFirstRent], 0.0);
    // Only the Saturday payment is above the weekend threshold of 10 000.
    EXPECT_EQ(rows_scoring(scores_of("weekend_threshold")), std::vector<size_t>{kWeekend});
    // A statement without times of day: time_of_day judges no row.
    EXPECT_TRUE(rows_scoring(scores_of("time_of_day")).empty());
    // The 50 000.00 is the statement's most unusual amount; the forest isolates first the two payments that are
    // large and to a one-off counterparty (the Saturday one also on a weekday no other row has).
    const std::vector<double> zscore = scores_of("zscore");
    EXPECT_EQ(std::max_element(zscore.begin(), zscore.end()) - zscore.begin(),
              static_cast<std::ptrdiff_t>(kConsultant));
    const std::vector<double> forest = scores_of("isolation_forest");
    std::vector<size_t> by_forest(forest.size());
    for (size_t i = 0; i < by_forest.size(); ++i) by_forest[i] = i;
    std::sort(by_forest.begin(), by_forest.end(), [&](size_t a, size_t b) { return forest[a] > forest[b]; });
    by_forest.resize(2);
    std::sort(by_forest.begin(), by_forest.end());
    EXPECT_EQ(by_forest, (std::vector<size_t>{kConsultant, kWeekend}));
}

}  // namespace
}  // namespace granska::engine
