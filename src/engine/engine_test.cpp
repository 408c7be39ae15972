// The engine end to end on a real (SQLite) store: ingest a file, analyze it, read the results back.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "store/sqlite/sqlite_store.h"

namespace granska::engine {
namespace {

constexpr std::string_view kWorkspace = store::kDefaultWorkspaceId;

class EngineTest : public ::testing::Test {
protected:
    EngineTest()
        : dir_(std::filesystem::temp_directory_path() /
               ("granska-engine-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name())),
          store_(store::OpenSqliteStore(":memory:")) {
        std::filesystem::create_directories(dir_);
        detect::RegisterBuiltinAlgorithms(registry_);
    }
    ~EngineTest() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path WriteFile(std::string_view name, std::string_view content) {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }

    store::Upload NewUpload(std::string_view name) {
        return store_->CreateUpload(
            {.workspace_id = std::string(kWorkspace), .filename = std::string(name), .file_type = "csv"});
    }

    IngestReport Ingest(std::string_view name, std::string_view content, std::string* upload_id,
                        ingest::BadRowPolicy policy = ingest::BadRowPolicy::kFormatDefault) {
        const auto path = WriteFile(name, content);
        const store::Upload upload = NewUpload(name);
        *upload_id = upload.id;
        return IngestFile(*store_, kWorkspace, upload.id, path,
                          {.parse = {.bad_rows = policy, .file_name = std::string(name)}});
    }

    int64_t StoredRows(std::string_view upload_id) {
        int64_t rows = 0;
        store_->ForEachTransaction(
            kWorkspace, upload_id, 100,
            [&rows](std::span<const store::StoredTransaction> batch) { rows += std::ssize(batch); });
        return rows;
    }

    std::string NewRun(std::string_view upload_id, std::string configuration) {
        return store_
            ->CreateRun({.workspace_id = std::string(kWorkspace),
                         .upload_id = std::string(upload_id),
                         .strategy_name = "test",
                         .configuration = std::move(configuration)})
            .id;
    }

    std::filesystem::path dir_;
    std::unique_ptr<store::Store> store_;
    detect::Registry registry_;
};

// 40 ordinary lines on account 5460 (100.00 … 139.00) and one of 50 000.00 (data row 21).
std::string LedgerWithOutlier() {
    std::string csv = "id,date,account,amount,text\n";
    for (int i = 0; i < 40; ++i) {
        if (i == 20) csv += "T-OUT,2024-03-09,5460,50000.00,Stor faktura\n";
        csv += "T" + std::to_string(i) + ",2024-03-" + (i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1) + ",5460," +
               std::to_string(100 + i) + ".00,Material\n";
    }
    return csv;
}

constexpr std::string_view kQuickScan =
    R"({"name": "t", "algorithms": [{"name": "zscore"}], "threshold": {"type": "top_k", "value": 1}})";

TEST_F(EngineTest, IngestStoresEveryRowWithFeatures) {
    std::string upload_id;
    const auto report = Ingest("a.csv", LedgerWithOutlier(), &upload_id);
    ASSERT_TRUE(report.ok()) << report.parse.error->ToString();
    EXPECT_EQ(report.rows, 41);
    const auto upload = store_->GetUpload(kWorkspace, upload_id);
    ASSERT_TRUE(upload);
    EXPECT_EQ(upload->status, "completed");
    EXPECT_EQ(upload->row_count, 41);

    std::vector<store::StoredTransaction> rows;
    store_->ForEachTransaction(kWorkspace, upload_id, 1000,
                               [&rows](auto batch) { rows.assign(batch.begin(), batch.end()); });
    ASSERT_EQ(rows.size(), 41u);
    EXPECT_EQ(rows[20].transaction.external_id, "T-OUT");
    EXPECT_EQ(rows[20].transaction.amount.minor, 5'000'000);
    // 2024-03-09 is a Saturday.
    const auto features = nlohmann::json::parse(rows[20].transaction.processed_data);
    EXPECT_EQ(features["weekday"], 6);
    EXPECT_EQ(features["is_weekend"], true);
}

TEST_F(EngineTest, BadRowIsSkippedAndReportedInTheUploadMetadata) {
    std::string csv = LedgerWithOutlier();
    csv += "T99,2024-03-01,5460,12x.00,Fel\n";  // line 43
    std::string upload_id;
    const auto report = Ingest("bad.csv", csv, &upload_id);
    ASSERT_TRUE(report.ok()) << report.parse.error->ToString();
    EXPECT_EQ(report.rows, 41);
    const auto upload = store_->GetUpload(kWorkspace, upload_id);
    ASSERT_TRUE(upload);
    EXPECT_EQ(upload->status, "completed");
    EXPECT_EQ(upload->row_count, 41);
    const auto metadata = nlohmann::json::parse(upload->metadata);
    EXPECT_EQ(metadata["format"], "csv");
    EXPECT_EQ(metadata["rows_read"], 42);
    EXPECT_EQ(metadata["rows_accepted"], 41);
    EXPECT_EQ(metadata["rows_rejected"], 1);
    ASSERT_EQ(metadata["problems"].size(), 1u);
    EXPECT_EQ(metadata["problems"][0]["code"], "bad_amount");
    EXPECT_EQ(metadata["problems"][0]["line"], 43);
    EXPECT_EQ(metadata["problems"][0]["field"], "amount");
    EXPECT_EQ(StoredRows(upload_id), 41);
}

TEST_F(EngineTest, BadRowFailsTheUploadUnderTheRejectFilePolicyAndLeavesNoRows) {
    std::string csv = LedgerWithOutlier();
    csv += "T99,2024-03-01,5460,12x.00,Fel\n";  // line 43
    std::string upload_id;
    const auto report = Ingest("bad.csv", csv, &upload_id, ingest::BadRowPolicy::kRejectFile);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.rows, 0);
    EXPECT_EQ(report.parse.error->code, "bad_amount");
    EXPECT_EQ(report.parse.error->line, 43);
    EXPECT_EQ(report.parse.error->column, "amount");
    EXPECT_EQ(report.parse.error->file, "bad.csv");
    const auto upload = store_->GetUpload(kWorkspace, upload_id);
    ASSERT_TRUE(upload);
    EXPECT_EQ(upload->status, "failed");
    EXPECT_FALSE(upload->error_message.empty());
    EXPECT_EQ(nlohmann::json::parse(upload->metadata)["format"], "csv");
    EXPECT_EQ(StoredRows(upload_id), 0);
}

TEST_F(EngineTest, RepeatedIdFailsTheUpload) {
    std::string upload_id;
    const auto report = Ingest("dup.csv", "id,date,amount\nA,2024-01-01,1.00\nA,2024-01-02,2.00\n", &upload_id);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.parse.error->code, "duplicate_id");
    EXPECT_EQ(report.parse.error->line, 3);
    EXPECT_EQ(StoredRows(upload_id), 0);
}

TEST_F(EngineTest, AnalysisRanksThePlantedOutlierFirst) {
    std::string upload_id;
    ASSERT_TRUE(Ingest("a.csv", LedgerWithOutlier(), &upload_id).ok());
    const std::string run_id = NewRun(upload_id, std::string(kQuickScan));
    std::vector<std::pair<std::string, double>> progress;
    const auto outcome = RunAnalysis(
        *store_, registry_, kWorkspace, run_id,
        {.progress = [&](std::string_view stage, double fraction) { progress.emplace_back(stage, fraction); }});
    ASSERT_TRUE(outcome) << outcome.error().ToString();
    EXPECT_EQ(outcome->flagged_count, 1);
    EXPECT_EQ(outcome->rank[20], 1);
    EXPECT_EQ(outcome->flagged[20], 1);
    ASSERT_FALSE(outcome->reasons[20].empty());
    EXPECT_NE(outcome->reasons[20][0].find("account 5460"), std::string::npos);
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.front().first, "loading");
    EXPECT_EQ(progress.back().first, "done");
    EXPECT_DOUBLE_EQ(progress.back().second, 1.0);
    for (size_t i = 1; i < progress.size(); ++i) EXPECT_GE(progress[i].second, progress[i - 1].second);

    const auto run = store_->GetRun(kWorkspace, run_id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, "completed");
    EXPECT_EQ(run->flagged_count, 1);
    const auto metadata = nlohmann::json::parse(run->metadata);
    EXPECT_EQ(metadata["rows"], 41);
    EXPECT_EQ(metadata["algorithms"][0]["name"], "zscore");

    const auto page = store_->ListResults(kWorkspace, run_id, {.limit = 5});
    EXPECT_EQ(page.total, 41);
    ASSERT_EQ(page.items.size(), 5u);
    EXPECT_EQ(page.items[0].transaction.transaction.external_id, "T-OUT");
    EXPECT_TRUE(page.items[0].result.flagged);
    ASSERT_EQ(page.items[0].algorithm_scores.size(), 1u);
    EXPECT_EQ(page.items[0].algorithm_scores[0].algorithm, "zscore");
    for (size_t i = 1; i < page.items.size(); ++i)
        EXPECT_LE(page.items[i].result.score, page.items[i - 1].result.score);
}

TEST_F(EngineTest, RunningARunAgainLeavesOneSetOfResults) {
    std::string upload_id;
    ASSERT_TRUE(Ingest("a.csv", LedgerWithOutlier(), &upload_id).ok());
    const std::string run_id = NewRun(upload_id, std::string(kQuickScan));
    ASSERT_TRUE(RunAnalysis(*store_, registry_, kWorkspace, run_id, {}));
    ASSERT_TRUE(RunAnalysis(*store_, registry_, kWorkspace, run_id, {}));
    EXPECT_EQ(store_->ListResults(kWorkspace, run_id, {}).total, 41);
    EXPECT_EQ(store_->ListResults(kWorkspace, run_id, {.flagged_only = true}).total, 1);
}

TEST_F(EngineTest, InvalidStrategyFailsTheRun) {
    std::string upload_id;
    ASSERT_TRUE(Ingest("a.csv", LedgerWithOutlier(), &upload_id).ok());
    const std::string run_id = NewRun(upload_id, R"({"name": "t", "algorithms": [{"name": "nope"}]})");
    const auto outcome = RunAnalysis(*store_, registry_, kWorkspace, run_id, {});
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, "unknown_algorithm");
    const auto run = store_->GetRun(kWorkspace, run_id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, "failed");
    EXPECT_NE(run->error_message.find("nope"), std::string::npos);
}

TEST_F(EngineTest, ParallelAlgorithmsGiveTheSameVerdictsAsOneThread) {
    std::string upload_id;
    ASSERT_TRUE(Ingest("a.csv", LedgerWithOutlier(), &upload_id).ok());
    const std::string strategy = R"({"name": "three", "algorithms": [
        {"name": "zscore", "weight": 1, "params": {"robust": true}},
        {"name": "zscore", "label": "classic", "weight": 2, "params": {"robust": false, "value": "amount"}},
        {"name": "zscore", "label": "global", "weight": 3, "params": {"group_by": "none", "direction": "high"}}]})";
    const auto serial = RunAnalysis(*store_, registry_, kWorkspace, NewRun(upload_id, strategy), {.max_threads = 1});
    const auto parallel = RunAnalysis(*store_, registry_, kWorkspace, NewRun(upload_id, strategy), {.max_threads = 3});
    ASSERT_TRUE(serial && parallel);
    EXPECT_EQ(serial->algorithm_scores, parallel->algorithm_scores);
    EXPECT_EQ(serial->score, parallel->score);
    EXPECT_EQ(serial->rank, parallel->rank);
    EXPECT_EQ(serial->reasons, parallel->reasons);
    ASSERT_EQ(parallel->algorithm_scores.size(), 3u);
    EXPECT_NE(parallel->algorithm_scores[0], parallel->algorithm_scores[1]);
}

// Midsommarafton 2024 (Friday 21 June, a Swedish non-working eve) and a July day.
constexpr std::string_view kCalendarLedger =
    "id,date,account,amount\nM,2024-06-21,5460,100.00\nJ,2024-07-15,5460,200.00\n";

IngestOptions WithCalendar(std::string_view file_name, std::string country, std::string fiscal_year_start) {
    return {.parse = {.file_name = std::string(file_name)},
            .calendar = {.country = std::move(country), .fiscal_year_start = std::move(fiscal_year_start)}};
}

TEST_F(EngineTest, UploadCalendarIsKeptInTheMetadataAndMarksHolidaysInProcessedData) {
    const auto path = WriteFile("cal.csv", kCalendarLedger);
    const store::Upload sweden = NewUpload("cal.csv");
    ASSERT_TRUE(IngestFile(*store_, kWorkspace, sweden.id, path, WithCalendar("cal.csv", "SE", "01-01")).ok());
    const store::Upload none = NewUpload("cal.csv");
    ASSERT_TRUE(IngestFile(*store_, kWorkspace, none.id, path, WithCalendar("cal.csv", "none", "07-01")).ok());

    auto first_row_features = [&](const std::string& upload_id) {
        nlohmann::json features;
        store_->ForEachTransaction(kWorkspace, upload_id, 10, [&](std::span<const store::StoredTransaction> batch) {
            if (features.is_null()) features = nlohmann::json::parse(batch[0].transaction.processed_data);
        });
        return features;
    };
    EXPECT_EQ(first_row_features(sweden.id)["is_holiday"], true);
    EXPECT_EQ(first_row_features(none.id)["is_holiday"], false);

    const auto metadata = nlohmann::json::parse(store_->GetUpload(kWorkspace, none.id)->metadata);
    EXPECT_EQ(metadata["calendar"], nlohmann::json({{"country", "none"}, {"fiscal_year_start", "07-01"}}));
    EXPECT_EQ(metadata["format"], "csv");  // the validation report is still there
}

TEST_F(EngineTest, FrameOfAnUploadWithAJulyFiscalYearStartsPeriodOneInJuly) {
    const auto path = WriteFile("cal.csv", kCalendarLedger);
    const store::Upload upload = NewUpload("cal.csv");
    ASSERT_TRUE(IngestFile(*store_, kWorkspace, upload.id, path, WithCalendar("cal.csv", "SE", "07-01")).ok());
    const transform::TransactionFrame frame = transform::LoadFrame(*store_, kWorkspace, upload.id);
    ASSERT_EQ(frame.size(), 2u);
    EXPECT_EQ(frame.fiscal_period[1], 1);   // 2024-07-15: first month of the year 2024-07-01 .. 2025-06-30
    EXPECT_EQ(frame.fiscal_period[0], 12);  // 2024-06-21: last month of the year before
    EXPECT_EQ(frame.fiscal_year[1], 2024);
    EXPECT_EQ(frame.fiscal_year[0], 2023);
    EXPECT_EQ(frame.is_holiday[0], 1);
}

TEST_F(EngineTest, UnknownCountryFailsTheUploadNamingTheField) {
    const auto path = WriteFile("cal.csv", kCalendarLedger);
    const store::Upload upload = NewUpload("cal.csv");
    const IngestReport report =
        IngestFile(*store_, kWorkspace, upload.id, path, WithCalendar("cal.csv", "XX", "01-01"));
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.parse.error->column, "country");
    EXPECT_EQ(report.parse.error->kind, ErrorKind::kBadRequest);
    EXPECT_EQ(store_->GetUpload(kWorkspace, upload.id)->status, "failed");
    EXPECT_EQ(StoredRows(upload.id), 0);
}

ingest::OptionLookup Fields(std::map<std::string, std::string, std::less<>> fields) {
    return [fields = std::move(fields)](std::string_view name) -> std::optional<std::string> {
        const auto it = fields.find(name);
        return it == fields.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

TEST(CalendarFromFieldsTest, DefaultsToSwedenAndACalendarYear) {
    const auto calendar = CalendarFromFields(Fields({{"country", ""}}));
    ASSERT_TRUE(calendar);
    EXPECT_EQ(calendar->country, "SE");
    EXPECT_EQ(calendar->fiscal_year_start, "01-01");
}

TEST(CalendarFromFieldsTest, ValuesComeBackCanonical) {
    const auto calendar = CalendarFromFields(Fields({{"country", "se"}, {"fiscal_year_start", "--05-01"}}));
    ASSERT_TRUE(calendar);
    EXPECT_EQ(calendar->country, "SE");
    EXPECT_EQ(calendar->fiscal_year_start, "05-01");
    EXPECT_EQ(CalendarFromFields(Fields({{"country", "none"}}))->country, "none");
}

TEST(CalendarFromFieldsTest, UnknownCountryIsABadRequestNamingCountry) {
    const auto calendar = CalendarFromFields(Fields({{"country", "Narnia"}}));
    ASSERT_FALSE(calendar);
    EXPECT_EQ(calendar.error().kind, ErrorKind::kBadRequest);
    EXPECT_EQ(calendar.error().column, "country");
    EXPECT_NE(calendar.error().message.find("Narnia"), std::string::npos);
}

TEST(CalendarFromFieldsTest, FiscalYearStartThatIsNotADayIsABadRequestNamingIt) {
    for (const char* bad : {"13-01", "02-30", "7-1", "07/01", "2024-07-01"}) {
        SCOPED_TRACE(bad);
        const auto calendar = CalendarFromFields(Fields({{"fiscal_year_start", bad}}));
        ASSERT_FALSE(calendar);
        EXPECT_EQ(calendar.error().kind, ErrorKind::kBadRequest);
        EXPECT_EQ(calendar.error().column, "fiscal_year_start");
    }
}

TEST_F(EngineTest, UnknownRunIsNotFound) {
    const auto outcome = RunAnalysis(*store_, registry_, kWorkspace, "00000000-0000-7000-8000-0000000000ff", {});
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().kind, ErrorKind::kNotFound);
}

}  // namespace
}  // namespace granska::engine
