// The HTTP surface end to end, in process: a real Server on a free port over a temporary SQLite database,
// driven by an httplib client.

#include "api/server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "api/detail/test_server.h"
#include "core/uuid.h"

namespace granska::api {
namespace {

namespace fs = std::filesystem;
using detail::Body;
using detail::ExpectErrorBody;
using nlohmann::json;

constexpr int kRows = 60;
constexpr std::string_view kOutlierId = "T42";

// 60 rows: account 1930 has 30 lines around 100-130 and one of 11500.00 (T42, 100×); account 3001 has 30 lines
// around -860, one of them exactly -862.26 (T7).
std::string SmallLedger() {
    std::string csv = "id,date,account,amount,text\n";
    for (int i = 1; i <= kRows; ++i) {
        const bool bank = i % 2 == 0;
        std::string amount;
        if (fmt::format("T{}", i) == kOutlierId) {
            amount = "11500.00";
        } else if (i == 7) {
            amount = "-862.26";
        } else if (bank) {
            amount = fmt::format("{}.{:02}", 100 + (i * 7) % 31, (i * 13) % 100);
        } else {
            amount = fmt::format("-{}.{:02}", 850 + (i * 5) % 23, (i * 17) % 100);
        }
        csv += fmt::format("T{},2024-{:02}-{:02},{},{},line {}\n", i, 1 + i % 12, 1 + i % 28, bank ? "1930" : "3001",
                           amount, i);
    }
    return csv;
}

// Forwards to a real store, but can be told to throw like a store whose database has gone away.
class BreakableStore final : public store::Store {
public:
    explicit BreakableStore(store::Store& inner) : inner_(inner) {}

    std::atomic<bool> reads_throw = false;     // GetWorkspace, GetUpload, GetRun, ListUploads
    std::atomic<bool> loading_throws = false;  // ForEachTransaction (the analysis's first step)

    std::string_view Backend() const override { return inner_.Backend(); }
    int Migrate() override { return inner_.Migrate(); }
    store::Workspace CreateWorkspace(std::string_view name) override { return inner_.CreateWorkspace(name); }
    Expected<store::Workspace> GetWorkspace(std::string_view id) override {
        Check(reads_throw);
        return inner_.GetWorkspace(id);
    }
    store::Upload CreateUpload(const store::NewUpload& upload) override { return inner_.CreateUpload(upload); }
    Expected<store::Upload> GetUpload(std::string_view workspace_id, std::string_view id) override {
        Check(reads_throw);
        return inner_.GetUpload(workspace_id, id);
    }
    store::Page<store::Upload> ListUploads(std::string_view workspace_id, int64_t limit, int64_t offset) override {
        Check(reads_throw);
        return inner_.ListUploads(workspace_id, limit, offset);
    }
    void MarkUploadProcessing(std::string_view workspace_id, std::string_view id) override {
        inner_.MarkUploadProcessing(workspace_id, id);
    }
    void FailUpload(std::string_view workspace_id, std::string_view id, const Error& error,
                    std::string_view metadata) override {
        inner_.FailUpload(workspace_id, id, error, metadata);
    }
    std::unique_ptr<store::TransactionWriter> BeginTransactions(std::string_view workspace_id,
                                                                std::string_view upload_id) override {
        return inner_.BeginTransactions(workspace_id, upload_id);
    }
    void ForEachTransaction(std::string_view workspace_id, std::string_view upload_id, size_t batch_size,
                            const std::function<void(std::span<const store::StoredTransaction>)>& visit) override {
        Check(loading_throws);
        inner_.ForEachTransaction(workspace_id, upload_id, batch_size, visit);
    }
    Expected<store::Strategy> CreateStrategy(const store::NewStrategy& strategy) override {
        return inner_.CreateStrategy(strategy);
    }
    Expected<store::Strategy> GetStrategy(std::string_view workspace_id, std::string_view id) override {
        return inner_.GetStrategy(workspace_id, id);
    }
    store::Page<store::Strategy> ListStrategies(std::string_view workspace_id, bool include_inactive, int64_t limit,
                                                int64_t offset) override {
        return inner_.ListStrategies(workspace_id, include_inactive, limit, offset);
    }
    Expected<store::Strategy> UpdateStrategy(std::string_view workspace_id, std::string_view id, std::string_view name,
                                             std::string_view description, std::string_view configuration) override {
        return inner_.UpdateStrategy(workspace_id, id, name, description, configuration);
    }
    Expected<void> DeactivateStrategy(std::string_view workspace_id, std::string_view id) override {
        return inner_.DeactivateStrategy(workspace_id, id);
    }
    Expected<std::vector<store::StrategyVersion>> ListStrategyVersions(std::string_view workspace_id,
                                                                       std::string_view id) override {
        return inner_.ListStrategyVersions(workspace_id, id);
    }
    store::Run CreateRun(const store::NewRun& run) override { return inner_.CreateRun(run); }
    Expected<store::Run> GetRun(std::string_view workspace_id, std::string_view id) override {
        Check(reads_throw);
        return inner_.GetRun(workspace_id, id);
    }
    void UpdateRunProgress(std::string_view workspace_id, std::string_view id, std::string_view stage, double progress,
                           std::string_view progress_detail) override {
        inner_.UpdateRunProgress(workspace_id, id, stage, progress, progress_detail);
    }
    void FailRun(std::string_view workspace_id, std::string_view id, std::string_view message) override {
        inner_.FailRun(workspace_id, id, message);
    }
    std::unique_ptr<store::RunResultWriter> BeginRunResults(std::string_view workspace_id,
                                                            std::string_view run_id) override {
        return inner_.BeginRunResults(workspace_id, run_id);
    }
    store::Page<store::ResultRow> ListResults(std::string_view workspace_id, std::string_view run_id,
                                              const store::ResultQuery& query) override {
        return inner_.ListResults(workspace_id, run_id, query);
    }
    store::Page<store::RuleFlag> ListRuleFlags(std::string_view workspace_id, std::string_view run_id, int64_t limit,
                                               int64_t offset) override {
        return inner_.ListRuleFlags(workspace_id, run_id, limit, offset);
    }
    std::vector<store::TransactionFlag> ListTransactionFlags(std::string_view workspace_id,
                                                             std::string_view transaction_id) override {
        return inner_.ListTransactionFlags(workspace_id, transaction_id);
    }
    Expected<store::SavedModel> GetModel(std::string_view workspace_id, std::string_view run_id,
                                         std::string_view label) override {
        return inner_.GetModel(workspace_id, run_id, label);
    }
    // Read endpoints (issue 6)
    store::Page<store::TransactionRow> ListTransactions(std::string_view workspace_id,
                                                        const store::TransactionQuery& query) override {
        return inner_.ListTransactions(workspace_id, query);
    }
    Expected<store::TransactionDetail> GetTransactionDetail(std::string_view workspace_id,
                                                            std::string_view transaction_id) override {
        return inner_.GetTransactionDetail(workspace_id, transaction_id);
    }
    Expected<store::Run> LatestCompletedRun(std::string_view workspace_id, std::string_view strategy) override {
        return inner_.LatestCompletedRun(workspace_id, strategy);
    }
    // Jobs (issue 7)
    store::Job CreateJob(const store::NewJob& job) override { return inner_.CreateJob(job); }
    Expected<store::Job> GetJob(std::string_view workspace_id, std::string_view id) override {
        return inner_.GetJob(workspace_id, id);
    }
    Expected<store::Job> GetJobFor(std::string_view workspace_id, std::string_view target_id) override {
        return inner_.GetJobFor(workspace_id, target_id);
    }
    store::Page<store::Job> ListJobs(std::string_view workspace_id, const store::JobQuery& query) override {
        return inner_.ListJobs(workspace_id, query);
    }
    std::optional<store::Job> ClaimJob(std::string_view id, std::string_view worker,
                                       std::chrono::milliseconds lease) override {
        return inner_.ClaimJob(id, worker, lease);
    }
    std::optional<store::Job> ClaimNextJob(std::string_view worker, std::chrono::milliseconds lease) override {
        return inner_.ClaimNextJob(worker, lease);
    }
    std::optional<store::Job> RenewLease(std::string_view id, std::string_view worker,
                                         std::chrono::milliseconds lease) override {
        return inner_.RenewLease(id, worker, lease);
    }
    std::optional<store::Job> FinishJob(std::string_view id, std::string_view worker,
                                        const store::JobEnd& end) override {
        return inner_.FinishJob(id, worker, end);
    }
    Expected<store::Job> CancelJobFor(std::string_view workspace_id, std::string_view target_id) override {
        return inner_.CancelJobFor(workspace_id, target_id);
    }
    std::vector<store::Job> ClaimableJobs(size_t limit) override { return inner_.ClaimableJobs(limit); }
    int ExpireLeases() override { return inner_.ExpireLeases(); }
    Expected<void> DeleteUpload(std::string_view workspace_id, std::string_view id) override {
        return inner_.DeleteUpload(workspace_id, id);
    }

private:
    static void Check(const std::atomic<bool>& fail) {
        if (fail) throw std::runtime_error("connection to the database lost");
    }
    store::Store& inner_;
};

class ServerTest : public detail::ApiServerTest {
protected:
    void SetUp() override { Start({}); }

    // The server uses breakable_: store_, able to fail on demand.
    void Start(const ServerOptions& options) {
        OpenStore();
        breakable_ = std::make_unique<BreakableStore>(*store_);
        Serve(*breakable_, options);
    }

    void TearDown() override {
        StopServing();
        breakable_.reset();
        ApiServerTest::TearDown();
    }

    // Uploads the small ledger and returns its id.
    std::string UploadLedger() { return UploadCsv(SmallLedger()); }

    // Uploads the small ledger, runs the default strategy and waits for it; returns the run id.
    std::string CompletedRun() {
        const std::string run_id = QueueRun({{"upload_id", UploadLedger()}});
        if (run_id.empty()) return "";
        EXPECT_EQ(WaitForRun(run_id).value("status", ""), "completed");
        return run_id;
    }

    json Results(const std::string& run_id, const std::string& query = "") {
        return GetJson("/api/v1/analysis/" + run_id + "/results" + query);
    }

    std::unique_ptr<BreakableStore> breakable_;
};

TEST_F(ServerTest, HealthReportsTheDatabase) {
    const auto result = client_->Get("/api/v1/health");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
    const json body = Body(result);
    EXPECT_EQ(body["status"], "ok");
    EXPECT_EQ(body["database"], "sqlite");
    EXPECT_FALSE(body.value("version", "").empty());
}

TEST_F(ServerTest, UnknownRouteIsJson404) {
    ExpectErrorBody(client_->Get("/api/v1/nothing-here"), 404, "not_found");
    ExpectErrorBody(client_->Get("/"), 404, "not_found");
}

TEST_F(ServerTest, UploadIngestsTheFileInTheRequest) {
    const auto result = Upload(SmallLedger());
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << result->body;
    const json body = Body(result);
    EXPECT_EQ(body["status"], "completed");
    EXPECT_EQ(body["row_count"], kRows);
    EXPECT_EQ(body["filename"], "ledger.csv");
    EXPECT_EQ(body["file_type"], "csv");
    EXPECT_EQ(body["file_size"], SmallLedger().size());
    EXPECT_EQ(body["workspace_id"], store::kDefaultWorkspaceId);
    const json& report = body["report"];
    EXPECT_EQ(report["format"], "csv");
    EXPECT_EQ(report["encoding"], "utf-8");
    EXPECT_EQ(report["dialect"]["delimiter"], ",");
    EXPECT_EQ(report["dialect"]["decimal_separator"], ".");
    EXPECT_EQ(report["headers"], json::array({"id", "date", "account", "amount", "text"}));
    EXPECT_EQ(report["mapping"]["amount"], "amount");
    EXPECT_EQ(report["rows_read"], kRows);
    EXPECT_EQ(report["rows_rejected"], 0);
    EXPECT_TRUE(body["error"].is_null());
    EXPECT_FALSE(body["completed_at"].is_null());
    EXPECT_FALSE(body.contains("run_id"));

    const json status = Body(client_->Get("/api/v1/upload/" + body["id"].get<std::string>() + "/status"));
    EXPECT_EQ(status["status"], "completed");
    EXPECT_EQ(status["row_count"], kRows);
    EXPECT_EQ(status["report"], report);
}

TEST_F(ServerTest, UploadKeepsTheFileOnDiskUnderASanitizedName) {
    const auto result = Upload(SmallLedger(), {}, "../../my ledger.csv");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << result->body;
    EXPECT_EQ(Body(result)["filename"], "my ledger.csv");
    size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(root_ / "uploads")) {
        if (!entry.is_regular_file()) continue;
        ++files;
        EXPECT_EQ(entry.path().filename(), "my_ledger.csv");
        EXPECT_EQ(entry.path().parent_path().parent_path(), root_ / "uploads");
    }
    EXPECT_EQ(files, 1u);
}

TEST_F(ServerTest, UploadHonoursDelimiterDecimalAndMappingParts) {
    const std::string csv = "Datum;Konto;Belopp SEK\n2024-01-02;1930;1 234,50\n2024-01-03;1930;-10,00\n";
    const auto result = Upload(csv, {{.name = "delimiter", .content = ";"},
                                     {.name = "decimal", .content = ","},
                                     {.name = "mapping", .content = R"({"amount": "Belopp SEK"})"}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << result->body;
    const json body = Body(result);
    EXPECT_EQ(body["row_count"], 2);
    EXPECT_EQ(body["report"]["dialect"]["delimiter"], ";");
    EXPECT_EQ(body["report"]["dialect"]["decimal_separator"], ",");
    EXPECT_EQ(body["mapping"], json({{"amount", "Belopp SEK"}}));
}

// Midsommarafton 2024 (a Swedish non-working eve).
constexpr std::string_view kHolidayLedger = "id,date,account,amount\nM,2024-06-21,5460,100.00\n";

bool FirstRowIsHoliday(store::Store& store, const std::string& upload_id) {
    bool holiday = false;
    store.ForEachTransaction(store::kDefaultWorkspaceId, upload_id, 10, [&](auto batch) {
        holiday = json::parse(batch[0].transaction.processed_data)["is_holiday"].template get<bool>();
    });
    return holiday;
}

TEST_F(ServerTest, UploadKeepsTheCalendarFieldsAndMarksHolidaysByTheCountry) {
    const auto sweden = Upload(std::string(kHolidayLedger));
    ASSERT_TRUE(sweden);
    ASSERT_EQ(sweden->status, 201) << sweden->body;
    EXPECT_EQ(Body(sweden)["report"]["calendar"], json({{"country", "SE"}, {"fiscal_year_start", "01-01"}}));
    EXPECT_TRUE(FirstRowIsHoliday(*store_, Body(sweden)["id"]));

    const auto none = Upload(std::string(kHolidayLedger), {{.name = "country", .content = "none"},
                                                           {.name = "fiscal_year_start", .content = "07-01"}});
    ASSERT_TRUE(none);
    ASSERT_EQ(none->status, 201) << none->body;
    EXPECT_EQ(Body(none)["report"]["calendar"], json({{"country", "none"}, {"fiscal_year_start", "07-01"}}));
    EXPECT_FALSE(FirstRowIsHoliday(*store_, Body(none)["id"]));
}

TEST_F(ServerTest, UploadWithAnUnknownCountryIs400NamingCountryAndStoresNothing) {
    ExpectErrorBody(Upload(std::string(kHolidayLedger), {{.name = "country", .content = "XX"}}), 400,
                    "unknown_country");
    EXPECT_EQ(Body(Upload(std::string(kHolidayLedger), {{.name = "country", .content = "XX"}}))["column"], "country");
    const auto bad_start = Upload(std::string(kHolidayLedger), {{.name = "fiscal_year_start", .content = "13-01"}});
    ExpectErrorBody(bad_start, 400, "bad_parameter");
    EXPECT_EQ(Body(bad_start)["column"], "fiscal_year_start");
    EXPECT_EQ(store_->ListUploads(store::kDefaultWorkspaceId, 10, 0).total, 0);
}

TEST_F(ServerTest, UploadWithStrategyQueuesARun) {
    const auto result = Upload(SmallLedger(), {{.name = "strategy", .content = "quick-scan"}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << result->body;
    const std::string run_id = Body(result).value("run_id", "");
    ASSERT_TRUE(IsUuid(run_id)) << result->body;
    const json status = WaitForRun(run_id);
    EXPECT_EQ(status["status"], "completed");
    EXPECT_EQ(status["strategy"], "quick-scan");
}

TEST_F(ServerTest, RunWithoutAStrategyGivesALedgerTheJournalEntryAudit) {
    // Voucher numbers make a file a ledger; the small ledger above has none and got quick-scan.
    const std::string csv =
        "verifikation,datum,konto,belopp\nA1,2024-01-02,1930,-100.00\nA1,2024-01-02,5010,100.00\n"
        "A2,2024-01-03,1930,-250.00\nA2,2024-01-03,5010,250.00\n";
    const auto uploaded = Upload(csv);
    ASSERT_TRUE(uploaded);
    ASSERT_EQ(uploaded->status, 201) << uploaded->body;
    const auto started = StartRun({{"upload_id", Body(uploaded).value("id", "")}});
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 202) << started->body;
    EXPECT_EQ(Body(started)["strategy"], "journal-entry-audit");
    EXPECT_EQ(WaitForRun(Body(started)["run_id"]).value("status", ""), "completed");
}

TEST_F(ServerTest, RunCompletesAndRanksThePlantedOutlierFirst) {
    const std::string upload_id = UploadLedger();
    const auto started = StartRun({{"upload_id", upload_id}});
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 202) << started->body;
    const json accepted = Body(started);
    EXPECT_EQ(accepted["status"], "queued");
    EXPECT_EQ(accepted["strategy"], "quick-scan");

    const json status = WaitForRun(accepted["run_id"]);
    ASSERT_EQ(status["status"], "completed") << status.dump();
    EXPECT_EQ(status["upload_id"], upload_id);
    EXPECT_DOUBLE_EQ(status["progress"].get<double>(), 1.0);
    EXPECT_TRUE(status["error"].is_null());
    EXPECT_GE(status["flagged_count"].get<int>(), 1);
    EXPECT_TRUE(status["metadata"].is_object());
    EXPECT_FALSE(status["started_at"].is_null());
    EXPECT_FALSE(status["completed_at"].is_null());

    const json results = Results(accepted["run_id"], "?limit=500");
    EXPECT_EQ(results["total"], kRows);
    EXPECT_EQ(results["run_status"], "completed");
    ASSERT_EQ(results["items"].size(), static_cast<size_t>(kRows));
    for (size_t i = 0; i < results["items"].size(); ++i) {
        EXPECT_EQ(results["items"][i]["rank"], i + 1);
        if (i > 0) {
            EXPECT_LE(results["items"][i]["score"], results["items"][i - 1]["score"]);
        }
    }
    const json& top = results["items"][0];
    EXPECT_EQ(top["transaction"]["external_id"], kOutlierId);
    EXPECT_EQ(top["transaction"]["amount"], "11500.00");
    EXPECT_EQ(top["transaction"]["account"], "1930");
    EXPECT_TRUE(top["flagged"].get<bool>());
    ASSERT_FALSE(top["reasons"].empty());
    EXPECT_NE(top["reasons"][0].get<std::string>().find("1930"), std::string::npos) << top["reasons"].dump();
    EXPECT_TRUE(top["algorithms"].contains("zscore"));
    EXPECT_EQ(top["algorithms"]["zscore"]["reason"], top["reasons"][0]);

    // Amounts come back exactly as the file wrote them.
    bool found_exact = false;
    for (const json& item : results["items"]) {
        if (item["transaction"]["external_id"] == "T7") {
            EXPECT_EQ(item["transaction"]["amount"], "-862.26");
            EXPECT_EQ(item["transaction"]["date"], "2024-08-08");
            found_exact = true;
        }
    }
    EXPECT_TRUE(found_exact);
}

TEST_F(ServerTest, ResultsPaginateWithLimitAndOffset) {
    const std::string run_id = CompletedRun();
    const json first = Results(run_id, "?limit=10&offset=0");
    EXPECT_EQ(first["total"], kRows);
    EXPECT_EQ(first["limit"], 10);
    EXPECT_EQ(first["offset"], 0);
    ASSERT_EQ(first["items"].size(), 10u);
    EXPECT_EQ(first["items"][0]["rank"], 1);
    const json last = Results(run_id, "?limit=10&offset=55");
    EXPECT_EQ(last["total"], kRows);
    ASSERT_EQ(last["items"].size(), 5u);
    EXPECT_EQ(last["items"][0]["rank"], 56);
    EXPECT_EQ(last["items"][4]["rank"], 60);
    EXPECT_TRUE(Results(run_id, "?offset=1000")["items"].empty());
}

TEST_F(ServerTest, ResultsFilterByMinScoreAndFlagged) {
    const std::string run_id = CompletedRun();
    const json high = Results(run_id, "?min_score=0.5&limit=500");
    EXPECT_LT(high["total"].get<int>(), kRows);
    EXPECT_EQ(high["total"], high["items"].size());
    for (const json& item : high["items"]) EXPECT_GE(item["score"].get<double>(), 0.5);

    const json flagged = Results(run_id, "?flagged=true");
    const json status = Body(client_->Get("/api/v1/analysis/" + run_id + "/status"));
    EXPECT_EQ(flagged["total"], status["flagged_count"]);
    for (const json& item : flagged["items"]) EXPECT_TRUE(item["flagged"].get<bool>());
    EXPECT_EQ(Results(run_id, "?flagged=false")["total"], kRows);
}

TEST_F(ServerTest, AFittedModelIsDownloadableAndScoresALaterRun) {
    const std::string upload_id = UploadLedger();
    const json forest = {{"name", "ml"},
                         {"algorithms", {{{"name", "isolation_forest"}, {"params", {{"features", {"log_amount"}}}}}}}};
    const auto started = StartRun({{"upload_id", upload_id}, {"strategy", forest}});
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 202) << started->body;
    const std::string run_id = Body(started)["run_id"];
    ASSERT_EQ(WaitForRun(run_id)["status"], "completed");

    const auto model = client_->Get("/api/v1/analysis/" + run_id + "/models/isolation_forest");
    ASSERT_TRUE(model);
    EXPECT_EQ(model->status, 200);
    EXPECT_EQ(model->get_header_value("Content-Type"), "application/json");
    EXPECT_NE(model->get_header_value("Content-Disposition").find("isolation_forest.model.json"), std::string::npos);
    const json document = json::parse(model->body);
    EXPECT_EQ(document["format"], "granska-model");
    EXPECT_EQ(document["algorithm"], "isolation_forest");
    ExpectErrorBody(client_->Get("/api/v1/analysis/" + run_id + "/models/zscore"), 404, "not_found");

    // A later run names it: it scores with it and fits nothing.
    json reuse = forest;
    reuse["algorithms"][0]["model_run"] = run_id;
    const auto second = StartRun({{"upload_id", upload_id}, {"strategy", reuse}});
    ASSERT_TRUE(second);
    ASSERT_EQ(second->status, 202) << second->body;
    const std::string second_id = Body(second)["run_id"];
    const json status = WaitForRun(second_id);
    ASSERT_EQ(status["status"], "completed") << status.dump();
    ExpectErrorBody(client_->Get("/api/v1/analysis/" + second_id + "/models/isolation_forest"), 404, "not_found");
    EXPECT_EQ(Results(second_id, "?limit=500")["items"].size(), Results(run_id, "?limit=500")["items"].size());
}

TEST_F(ServerTest, ResultsRejectBadQueryParameters) {
    const std::string run_id = CompletedRun();
    const std::string base = "/api/v1/analysis/" + run_id + "/results";
    for (const char* query : {"?min_score=1.5", "?min_score=-0.1", "?min_score=high", "?limit=0", "?limit=501",
                              "?limit=x", "?offset=-3", "?flagged=maybe"}) {
        SCOPED_TRACE(query);
        ExpectErrorBody(client_->Get(base + query), 400, "bad_parameter");
    }
    EXPECT_EQ(Body(client_->Get(base + "?min_score=2"))["column"], "min_score");
}

// An SIE export with one unbalanced voucher, sent as bytes: detected by content, strict unless lenient=true.
constexpr std::string_view kUnbalancedSie =
    "#FLAGGA 0\n#PROGRAM \"Test\" 1.0\n#FORMAT PC8\n#SIETYP 4\n#FNAMN \"Testbolaget AB\"\n"
    "#RAR 0 20240101 20241231\n#KONTO 1910 \"Kassa\"\n#KONTO 3010 \"F\x94rs\x84ljning\"\n"
    "#VER A 1 20240110 \"Obalans\"\n{\n#TRANS 1910 {} 100.00\n#TRANS 3010 {} -90.00\n}\n"
    "#VER A 2 20240111 \"Balans\"\n{\n#TRANS 1910 {} 5.00\n#TRANS 3010 {} -5.00\n}\n";

TEST_F(ServerTest, SieUploadIsDetectedByContentAndStrictUnlessLenient) {
    const auto strict = Upload(std::string(kUnbalancedSie), {}, "export.txt");
    ASSERT_TRUE(strict);
    EXPECT_EQ(strict->status, 422) << strict->body;
    const json rejected = Body(strict);
    EXPECT_EQ(rejected["error"], "unbalanced_voucher");
    EXPECT_EQ(rejected["line"], 9);
    EXPECT_EQ(rejected["report"]["format"], "sie");
    EXPECT_EQ(rejected["report"]["problems"][0]["location"], "voucher A 1");
    const json failed = Body(client_->Get("/api/v1/upload/" + rejected["upload_id"].get<std::string>() + "/status"));
    EXPECT_EQ(failed["status"], "failed");
    EXPECT_EQ(failed["file_type"], "sie");
    EXPECT_EQ(failed["report"]["problems"][0]["code"], "unbalanced_voucher");

    const auto lenient = Upload(std::string(kUnbalancedSie), {{.name = "lenient", .content = "true"}}, "export.txt");
    ASSERT_TRUE(lenient);
    ASSERT_EQ(lenient->status, 201) << lenient->body;
    const json accepted = Body(lenient);
    EXPECT_EQ(accepted["row_count"], 4);
    EXPECT_EQ(accepted["file_type"], "sie");
    EXPECT_EQ(accepted["report"]["error_count"], 1);
}

TEST_F(ServerTest, TooManyRowsIs413) {
    const auto result = Upload(SmallLedger(), {{.name = "max_rows", .content = "5"}});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 413) << result->body;
    EXPECT_EQ(Body(result)["error"], "too_many_rows");
}

TEST_F(ServerTest, UnknownFormatOptionIs400BeforeAnUploadExists) {
    const auto result = Upload(SmallLedger(), {{.name = "format", .content = "pdf"}});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 400) << result->body;
    EXPECT_EQ(Body(result)["error"], "bad_parameter");
    const json history = Body(client_->Get("/api/v1/upload/history"));
    EXPECT_EQ(history["total"], 0);
}

TEST_F(ServerTest, BadRowIsSkippedAndReportedByDefault) {
    const std::string csv =
        "id,date,account,amount\n1,2024-01-01,1930,1.00\n2,2024-01-02,1930,2.00\n3,2024-01-03,1930\n4,2024-01-04,1930,"
        "4.00\n";
    const auto result = Upload(csv, {}, "broken.csv");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << result->body;
    const json body = Body(result);
    EXPECT_EQ(body["row_count"], 3);
    EXPECT_EQ(body["report"]["rows_read"], 4);
    EXPECT_EQ(body["report"]["rows_rejected"], 1);
    ASSERT_EQ(body["report"]["problems"].size(), 1u) << result->body;
    EXPECT_EQ(body["report"]["problems"][0]["code"], "wrong_column_count");
    EXPECT_EQ(body["report"]["problems"][0]["line"], 4);
}

TEST_F(ServerTest, BadCsvIs422WithLineAndLeavesAFailedUpload) {
    const std::string csv =
        "id,date,account,amount\n1,2024-01-01,1930,1.00\n2,2024-01-02,1930,2.00\n3,2024-01-03,1930\n4,2024-01-04,1930,"
        "4.00\n";
    const auto result = Upload(csv, {{.name = "bad_rows", .content = "reject_file"}}, "broken.csv");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 422) << result->body;
    const json body = Body(result);
    EXPECT_EQ(body["line"], 4) << result->body;
    EXPECT_EQ(body["file"], "broken.csv");
    EXPECT_FALSE(body.value("error", "").empty());
    EXPECT_FALSE(body.value("message", "").empty());
    const std::string upload_id = body.value("upload_id", "");
    ASSERT_TRUE(IsUuid(upload_id)) << result->body;

    const json status = Body(client_->Get("/api/v1/upload/" + upload_id + "/status"));
    EXPECT_EQ(status["status"], "failed");
    EXPECT_EQ(status["row_count"], 0);
    ASSERT_TRUE(status["error"].is_object()) << status.dump();
    EXPECT_EQ(status["error"]["line"], 4);

    // Analysing a failed upload is a conflict.
    const auto run = StartRun({{"upload_id", upload_id}});
    ExpectErrorBody(run, 409, "upload_not_ready");
}

TEST_F(ServerTest, UnknownOrMalformedIdsAre404) {
    const std::string unknown = NewUuidV7();
    for (const std::string& path : std::vector<std::string>{
             "/api/v1/upload/" + unknown + "/status", "/api/v1/upload/not-a-uuid/status",
             "/api/v1/analysis/" + unknown + "/status", "/api/v1/analysis/1%27%20OR%201=1/status",
             "/api/v1/analysis/" + unknown + "/results", "/api/v1/analysis/zzz/results",
             "/api/v1/upload/history?workspace_id=" + unknown, "/api/v1/upload/history?workspace_id=nope"}) {
        SCOPED_TRACE(path);
        ExpectErrorBody(client_->Get(path), 404, "not_found");
    }
    ExpectErrorBody(StartRun({{"upload_id", unknown}}), 404, "not_found");
    ExpectErrorBody(StartRun({{"upload_id", "not-a-uuid"}}), 404, "not_found");
}

TEST_F(ServerTest, RunRequestMustBeJsonWithUploadId) {
    ExpectErrorBody(client_->Post("/api/v1/analysis/run", "not json", "application/json"), 400, "bad_json");
    const std::string form = R"({"upload_id": "00000000-0000-7000-8000-000000000009"})";
    ExpectErrorBody(client_->Post("/api/v1/analysis/run", form, "application/x-www-form-urlencoded"), 415,
                    "unsupported_media_type");
    ExpectErrorBody(StartRun({{"strategy", "quick-scan"}}), 400, "missing_upload_id");
}

TEST_F(ServerTest, InvalidStrategyIs422WithThePath) {
    const std::string upload_id = UploadLedger();
    const json strategy = {{"name", "mine"}, {"algorithms", {{{"name", "zscore"}, {"params", {{"threshold", -1}}}}}}};
    const auto result = StartRun({{"upload_id", upload_id}, {"strategy", strategy}});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 422) << result->body;
    EXPECT_EQ(Body(result)["column"], "algorithms[0].params.threshold");
}

TEST_F(ServerTest, UnknownAlgorithmIs422) {
    const std::string upload_id = UploadLedger();
    const json strategy = {{"name", "mine"}, {"algorithms", {{{"name", "crystal_ball"}}}}};
    const auto result = StartRun({{"upload_id", upload_id}, {"strategy", strategy}});
    ExpectErrorBody(result, 422, "unknown_algorithm");
    ExpectErrorBody(StartRun({{"upload_id", upload_id}, {"strategy", "no-such-preset"}}), 422, "unknown_strategy");
}

TEST_F(ServerTest, InvalidStrategyPartRejectsTheUploadBeforeIngesting) {
    const auto result = Upload(SmallLedger(), {{.name = "strategy",
                                                .content = R"({"name": "s", "algorithms": [{"name": "zscore", )"
                                                           R"("params": {"threshold": "high"}}]})"}});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 422) << result->body;
    EXPECT_EQ(Body(result)["column"], "algorithms[0].params.threshold");
    EXPECT_FALSE(Body(result).contains("upload_id"));
    EXPECT_EQ(Body(client_->Get("/api/v1/upload/history"))["total"], 0);
}

TEST_F(ServerTest, MissingFilePartIs400) {
    const auto result =
        client_->Post("/api/v1/upload", httplib::MultipartFormDataItems{{.name = "strategy", .content = "quick-scan"}});
    ExpectErrorBody(result, 400, "missing_file");
    ExpectErrorBody(client_->Post("/api/v1/upload", "a,b\n", "text/csv"), 415, "not_multipart");
    EXPECT_EQ(Body(client_->Get("/api/v1/upload/history"))["total"], 0);
}

TEST_F(ServerTest, HistoryListsNewestFirstWithPaging) {
    const std::string first = UploadLedger();
    const std::string second = UploadLedger();
    const json history = Body(client_->Get("/api/v1/upload/history"));
    EXPECT_EQ(history["total"], 2);
    EXPECT_EQ(history["limit"], 50);
    EXPECT_EQ(history["offset"], 0);
    ASSERT_EQ(history["items"].size(), 2u);
    EXPECT_EQ(history["items"][0]["id"], second);
    EXPECT_EQ(history["items"][1]["id"], first);
    const json page = Body(client_->Get("/api/v1/upload/history?limit=1&offset=1"));
    ASSERT_EQ(page["items"].size(), 1u);
    EXPECT_EQ(page["items"][0]["id"], first);
    EXPECT_EQ(page["total"], 2);
    const auto bad = client_->Get("/api/v1/upload/history?limit=0");
    ExpectErrorBody(bad, 400, "bad_parameter");
    EXPECT_EQ(Body(bad)["column"], "limit");
    ExpectErrorBody(client_->Get("/api/v1/upload/history?offset=abc"), 400, "bad_parameter");
}

TEST_F(ServerTest, ResultsOfARunNotCompletedAre409) {
    const std::string upload_id = UploadLedger();
    // Created in the store but never handed to a worker: it stays queued.
    const store::Run pending = store_->CreateRun({.workspace_id = std::string(store::kDefaultWorkspaceId),
                                                  .upload_id = upload_id,
                                                  .strategy_name = "quick-scan",
                                                  .configuration = "{}"});
    const auto result = client_->Get("/api/v1/analysis/" + pending.id + "/results");
    ExpectErrorBody(result, 409, "run_not_ready");
    EXPECT_EQ(Body(result)["run_status"], "queued");

    store_->FailRun(store::kDefaultWorkspaceId, pending.id, "broken");
    ExpectErrorBody(client_->Get("/api/v1/analysis/" + pending.id + "/results"), 409, "run_not_ready");
    EXPECT_EQ(Body(client_->Get("/api/v1/analysis/" + pending.id + "/status"))["error"], "broken");
}

TEST_F(ServerTest, StopIsIdempotent) {
    ASSERT_TRUE(client_->Get("/api/v1/health"));  // Run() is serving
    server_->Stop();
    server_->Stop();
    EXPECT_FALSE(client_->Get("/api/v1/health"));
}

TEST_F(ServerTest, HealthIs503WhenTheDatabaseDoesNotAnswer) {
    breakable_->reads_throw = true;
    const auto result = client_->Get("/api/v1/health");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 503);
    const json body = Body(result);
    EXPECT_EQ(body["status"], "unavailable");
    EXPECT_EQ(body["database"], "sqlite");
}

TEST_F(ServerTest, StoreExceptionIsJson500AndTheServerCarriesOn) {
    const std::string upload_id = UploadLedger();
    breakable_->reads_throw = true;
    const auto failed = client_->Get("/api/v1/upload/" + upload_id + "/status");
    ExpectErrorBody(failed, 500, "internal");
    EXPECT_EQ(Body(failed)["message"].get<std::string>().find("connection"), std::string::npos)
        << "internal details stay in the log";
    breakable_->reads_throw = false;
    const auto status = client_->Get("/api/v1/upload/" + upload_id + "/status");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->status, 200);
}

TEST_F(ServerTest, AnalysisThatThrowsEndsFailedAndTheWorkerCarriesOn) {
    const std::string upload_id = UploadLedger();
    breakable_->loading_throws = true;
    const auto broken = StartRun({{"upload_id", upload_id}});
    ASSERT_TRUE(broken);
    ASSERT_EQ(broken->status, 202) << broken->body;
    const json failed = WaitForRun(Body(broken)["run_id"]);
    EXPECT_EQ(failed["status"], "failed");
    EXPECT_FALSE(failed["error"].is_null());

    breakable_->loading_throws = false;
    const auto healthy = StartRun({{"upload_id", upload_id}});
    ASSERT_TRUE(healthy);
    EXPECT_EQ(WaitForRun(Body(healthy)["run_id"])["status"], "completed");
}

// A stopped server leaves its queued jobs queued (the jobs table keeps them) and the next one runs them.
TEST_F(ServerTest, QueuedRunsOutliveAStoppedServerAndTheNextOneRunsThem) {
    const std::string upload_id = UploadLedger();
    StopServing();
    Serve(*breakable_, {.workers = 0});
    std::vector<std::string> runs;
    for (int i = 0; i < 5; ++i) runs.push_back(Body(StartRun({{"upload_id", upload_id}}))["run_id"]);
    StopServing();
    for (const std::string& id : runs) {
        const auto run = store_->GetRun(store::kDefaultWorkspaceId, id);
        ASSERT_TRUE(run);
        EXPECT_EQ(run->status, "queued") << run->error_message;
    }
    Serve(*breakable_);
    for (const std::string& id : runs) EXPECT_EQ(WaitForRun(id)["status"], "completed") << id;
}

class SmallLimitServerTest : public ServerTest {
protected:
    void SetUp() override { Start({.max_upload_bytes = 200}); }
};

TEST_F(SmallLimitServerTest, OversizedUploadIs413AndLeavesNothing) {
    const auto result = Upload(SmallLedger());
    ExpectErrorBody(result, 413, "too_large");
    EXPECT_EQ(Body(client_->Get("/api/v1/upload/history"))["total"], 0);
    EXPECT_TRUE(!fs::exists(root_ / "uploads") || fs::is_empty(root_ / "uploads"));
}

TEST_F(SmallLimitServerTest, KeepAliveClientIsNotConfusedAfterA413) {
    client_->set_keep_alive(true);
    ExpectErrorBody(Upload(SmallLedger() + std::string(200'000, '#')), 413, "too_large");
    const auto health = client_->Get("/api/v1/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200) << health->body;
    EXPECT_EQ(Body(health)["status"], "ok");
}

TEST_F(SmallLimitServerTest, UploadUnderTheLimitStillWorks) {
    const auto result = Upload("date,account,amount\n2024-01-01,1930,1.00\n");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 201) << result->body;
}

}  // namespace
}  // namespace granska::api
