// The read endpoints over HTTP: /api/v1/transactions, /transactions/{id}, /transactions/anomalies and the filters of
// /analysis/{id}/results, on a real Server over a temporary SQLite database. Rows and scores are written through the
// store, so every expected row below is worked out by hand; one test runs a real analysis end to end.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "api/detail/request_parsing.h"
#include "api/detail/test_server.h"
#include "core/uuid.h"

namespace granska::api {
namespace {

using detail::Body;
using nlohmann::json;
using Names = std::vector<std::string>;

constexpr int kRows = 10;
// Row i (1-based, external id "R<i>"): 2024-01-<i>, account 1930 when i is even and 3001 when odd, amount
// ±i × 10.50 (negative when odd), user anna for i ≤ 5 and bo after, text "Invoice <i>", counterparty "Supplier" but
// "ACME 100%" for R3.
constexpr double kNewerScore[kRows] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};  // rank 11 - i
constexpr double kNewerBenford[kRows] = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0};
constexpr double kOlderScore[kRows] = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1};  // rank i
constexpr int64_t kNewerFlagged = 3;                                                       // R10, R9, R8
constexpr int64_t kOlderFlagged = 2;                                                       // R1, R2

// The parameter a 400 names: "column" now, or the first of "details" once errors carry them.
std::string NamedField(const json& body) {
    if (body.contains("column")) return body["column"].get<std::string>();
    if (body.contains("details") && !body["details"].empty()) return body["details"][0].value("field", "");
    return "";
}

std::string Encode(const std::string& text) { return httplib::detail::encode_query_param(text); }

class TransactionRoutesTest : public detail::ApiServerTest {
protected:
    void SetUp() override {
        ApiServerTest::SetUp();
        Seed();
    }

    void Seed() {
        const std::string ws(store::kDefaultWorkspaceId);
        upload_id_ = store_->CreateUpload({.workspace_id = ws, .filename = "ledger.csv", .file_type = "csv"}).id;
        std::vector<Transaction> rows;
        for (int i = 1; i <= kRows; ++i) {
            Transaction t;
            t.row_number = i;
            t.source_line = i + 1;
            t.external_id = fmt::format("R{}", i);
            t.date = *Date::FromYmd(2024, 1, i);
            t.account = i % 2 == 0 ? "1930" : "3001";
            t.amount = Money{.minor = (i % 2 == 0 ? 1 : -1) * i * 1050};
            t.currency = "SEK";
            t.user = i <= 5 ? "anna" : "bo";
            t.text = fmt::format("Invoice {}", i);
            t.counterparty = i == 3 ? "ACME 100%" : "Supplier";
            t.raw_data = fmt::format(R"({{"id": "R{}", "amount": "{}"}})", i, t.amount.ToString());
            t.processed_data = fmt::format(R"({{"weekday": {}}})", t.date.IsoWeekday());
            rows.push_back(t);
        }
        auto writer = store_->BeginTransactions(ws, upload_id_);
        writer->Write(rows);
        writer->Commit("{}");
        store_->ForEachTransaction(ws, upload_id_, 100, [&](std::span<const store::StoredTransaction> batch) {
            for (const store::StoredTransaction& row : batch) ids_.push_back(row.id);
        });

        strategy_id_ = store_->CreateStrategy({.workspace_id = ws, .name = "custom", .configuration = "{}"})->id;
        older_ = store_->CreateRun({.workspace_id = ws,
                                    .upload_id = upload_id_,
                                    .strategy_id = strategy_id_,
                                    .strategy_name = "custom",
                                    .configuration = R"({"name": "custom", "algorithms": [{"name": "zscore"}]})"});
        // Within one millisecond runs are ordered by their random ids: create until the store counts it newer.
        do {
            newer_ = store_->CreateRun(
                {.workspace_id = ws,
                 .upload_id = upload_id_,
                 .strategy_name = "quick-scan",
                 .configuration =
                     R"({"name": "quick-scan", "algorithms": [{"name": "zscore"}, {"name": "benford"}]})"});
        } while (std::tie(newer_.created_at, newer_.id) < std::tie(older_.created_at, older_.id));
        Complete(older_.id, kOlderScore, kOlderFlagged, {}, {});
        Complete(
            newer_.id, kNewerScore, kNewerFlagged, kNewerBenford,
            {{.transaction_id = ids_[9], .rule_name = "zscore.big", .flag_value = 3.5, .metadata = R"({"z": 3.5})"}});
    }

    // Ranks follow the scores (highest first); zscore = the score, benford when given.
    void Complete(const std::string& run_id, const double (&score)[kRows], int64_t flagged,
                  std::span<const double> benford, const std::vector<store::RuleFlag>& flags) {
        std::vector<store::AlgorithmScore> scores;
        std::vector<store::AnalysisResult> results;
        for (int i = 0; i < kRows; ++i) {
            int64_t rank = 1;
            for (int j = 0; j < kRows; ++j) rank += score[j] > score[i] ? 1 : 0;
            scores.push_back({.transaction_id = ids_[i],
                              .algorithm = "zscore",
                              .score = score[i],
                              .confidence = 0.8,
                              .reason = fmt::format("z of R{}", i + 1)});
            if (!benford.empty()) {
                scores.push_back({.transaction_id = ids_[i], .algorithm = "benford", .score = benford[i]});
            }
            results.push_back({.transaction_id = ids_[i],
                               .score = score[i],
                               .flagged = rank <= flagged,
                               .rank = rank,
                               .reasons = fmt::format(R"(["reason of R{}"])", i + 1)});
        }
        auto writer = store_->BeginRunResults(std::string(store::kDefaultWorkspaceId), run_id);
        writer->WriteScores(scores);
        writer->WriteResults(results);
        writer->WriteFlags(flags);
        writer->Commit("{}");
    }

    // The external ids of a page's items: transactions, or result rows (which hold their transaction).
    static Names Ids(const json& page) {
        Names ids;
        for (const json& item : page["items"]) {
            ids.push_back(item.contains("transaction") ? item["transaction"]["external_id"].get<std::string>()
                                                       : item["external_id"].get<std::string>());
        }
        return ids;
    }

    std::string upload_id_;
    std::vector<std::string> ids_;  // R1..R10
    std::string strategy_id_;
    store::Run older_;
    store::Run newer_;
};

TEST_F(TransactionRoutesTest, TransactionFiltersNarrowToTheExpectedRowsAndCountThem) {
    const json account = GetJson("/api/v1/transactions?account=1930");
    EXPECT_EQ(account["total"], 5);
    EXPECT_EQ(account["limit"], 50);
    EXPECT_EQ(account["offset"], 0);
    EXPECT_EQ(Ids(account), (Names{"R2", "R4", "R6", "R8", "R10"}));
    // Amounts are exact decimal text; both bounds are included.
    const json amounts = GetJson("/api/v1/transactions?amount_min=-31.50&amount_max=42");
    EXPECT_EQ(amounts["total"], 4);
    EXPECT_EQ(Ids(amounts), (Names{"R1", "R2", "R3", "R4"}));
    EXPECT_EQ(amounts["items"][2]["amount"], "-31.50");
    const json dates = GetJson("/api/v1/transactions?date_from=2024-01-03&date_to=2024-01-06&user=anna");
    EXPECT_EQ(Ids(dates), (Names{"R3", "R4", "R5"}));
    // "%" is a character to find, not a wildcard; case is ignored.
    EXPECT_EQ(Ids(GetJson("/api/v1/transactions?q=" + Encode("acme 100%"))), (Names{"R3"}));
    EXPECT_EQ(GetJson("/api/v1/transactions?q=" + Encode("1%"))["total"], 0);
    EXPECT_EQ(Ids(GetJson("/api/v1/transactions?upload_id=" + upload_id_ + "&limit=2")), (Names{"R1", "R2"}));
    EXPECT_EQ(GetJson("/api/v1/transactions?upload_id=" + upload_id_ + "&limit=2")["total"], kRows);
}

TEST_F(TransactionRoutesTest, EachTransactionCarriesTheLatestRunsScores) {
    const json page = GetJson("/api/v1/transactions?account=1930&sort=amount&order=desc&limit=1");
    ASSERT_EQ(Ids(page), (Names{"R10"}));
    const json& latest = page["items"][0]["latest"];
    EXPECT_EQ(latest["run_id"], newer_.id);
    EXPECT_EQ(latest["score"], 1.0);
    EXPECT_EQ(latest["rank"], 1);
    EXPECT_EQ(latest["flagged"], true);
    EXPECT_EQ(latest["algorithm_scores"], (json{{"benford", 0.0}, {"zscore", 1.0}}));
    EXPECT_EQ(page["items"][0]["amount"], "105.00");

    // With run_id: that run's scores, its rows only, min_score on its combined score, sorted highest first.
    const json older = GetJson("/api/v1/transactions?run_id=" + older_.id + "&min_score=0.75&sort=score");
    EXPECT_EQ(older["total"], 3);
    EXPECT_EQ(Ids(older), (Names{"R1", "R2", "R3"}));
    for (const json& item : older["items"]) EXPECT_EQ(item["latest"]["run_id"], older_.id);
    EXPECT_EQ(older["items"][2]["latest"]["score"], 0.8);
    EXPECT_EQ(Ids(GetJson("/api/v1/transactions?run_id=" + older_.id + "&min_score=0.75&sort=score&order=asc")),
              (Names{"R3", "R2", "R1"}));

    // Another upload's rows have no run: latest is null.
    const std::string ws(store::kDefaultWorkspaceId);
    const std::string other = store_->CreateUpload({.workspace_id = ws, .filename = "b.csv", .file_type = "csv"}).id;
    Transaction t;
    t.row_number = 1;
    t.external_id = "B1";
    t.date = *Date::FromYmd(2023, 12, 31);
    auto writer = store_->BeginTransactions(ws, other);
    writer->Write(std::vector<Transaction>{t});
    writer->Commit("{}");
    const json dated = GetJson("/api/v1/transactions?sort=date&limit=2");
    EXPECT_EQ(dated["total"], kRows + 1);
    EXPECT_EQ(Ids(dated), (Names{"B1", "R1"}));
    EXPECT_TRUE(dated["items"][0]["latest"].is_null());
    EXPECT_EQ(dated["items"][1]["latest"]["run_id"], newer_.id);
}

TEST_F(TransactionRoutesTest, PagesAreStableWithoutDuplicatesOrOmissions) {
    const Names by_amount = {"R9", "R7", "R5", "R3", "R1", "R2", "R4", "R6", "R8", "R10"};
    Names paged;
    for (int offset = 0; offset < kRows; offset += 3) {
        const json page = GetJson(fmt::format("/api/v1/transactions?sort=amount&limit=3&offset={}", offset));
        EXPECT_EQ(page["total"], kRows);
        EXPECT_EQ(page["offset"], offset);
        for (const std::string& id : Ids(page)) paged.push_back(id);
    }
    EXPECT_EQ(paged, by_amount);

    // The run's results by score, lowest first, 4 at a time: R1 .1 up to R10 1.0.
    Names results;
    for (int offset = 0; offset < kRows; offset += 4) {
        const json page = GetJson(
            fmt::format("/api/v1/analysis/{}/results?sort=score&order=asc&limit=4&offset={}", newer_.id, offset));
        EXPECT_EQ(page["total"], kRows);
        for (const std::string& id : Ids(page)) results.push_back(id);
    }
    EXPECT_EQ(results, (Names{"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R10"}));
    EXPECT_EQ(std::set<std::string>(results.begin(), results.end()).size(), static_cast<size_t>(kRows));
}

TEST_F(TransactionRoutesTest, ResultsFilterByAlgorithmAccountDatesAndFlagAndSortEitherWay) {
    const std::string results = "/api/v1/analysis/" + newer_.id + "/results";
    // benford ≥ 0.8: R1 (0.9, rank 10) and R2 (0.8, rank 9), by rank.
    const json benford = GetJson(results + "?algorithm=benford&min_score=0.8");
    EXPECT_EQ(benford["total"], 2);
    EXPECT_EQ(Ids(benford), (Names{"R2", "R1"}));
    EXPECT_EQ(Ids(GetJson(results + "?account=1930&sort=date&order=desc")), (Names{"R10", "R8", "R6", "R4", "R2"}));
    EXPECT_EQ(Ids(GetJson(results + "?date_from=2024-01-04&date_to=2024-01-06&sort=score")), (Names{"R6", "R5", "R4"}));
    const json flagged = GetJson(results + "?flagged=true&sort=rank&order=desc");
    EXPECT_EQ(flagged["total"], kNewerFlagged);
    EXPECT_EQ(Ids(flagged), (Names{"R8", "R9", "R10"}));
}

TEST_F(TransactionRoutesTest, DetailListsEveryRunNewestFirstWithAlgorithmsAndFlags) {
    const json detail = GetJson("/api/v1/transactions/" + ids_[9]);
    EXPECT_EQ(detail["id"], ids_[9]);
    EXPECT_EQ(detail["external_id"], "R10");
    EXPECT_EQ(detail["upload_id"], upload_id_);
    EXPECT_EQ(detail["amount"], "105.00");
    EXPECT_EQ(detail["raw_data"], (json{{"id", "R10"}, {"amount", "105.00"}}));
    EXPECT_EQ(detail["processed_data"], (json{{"weekday", 3}}));  // 2024-01-10 was a Wednesday
    ASSERT_EQ(detail["runs"].size(), 2u);

    const json& newer = detail["runs"][0];
    EXPECT_EQ(newer["run_id"], newer_.id);
    EXPECT_EQ(newer["strategy"], "quick-scan");
    EXPECT_EQ(newer["created_at"], newer_.created_at);
    EXPECT_EQ(newer["score"], 1.0);
    EXPECT_EQ(newer["rank"], 1);
    EXPECT_EQ(newer["flagged"], true);
    EXPECT_EQ(newer["reasons"], json::array({"reason of R10"}));
    EXPECT_EQ(newer["algorithms"],
              (json::array({{{"name", "benford"}, {"score", 0.0}, {"confidence", 0.0}, {"reason", ""}},
                            {{"name", "zscore"}, {"score", 1.0}, {"confidence", 0.8}, {"reason", "z of R10"}}})));
    EXPECT_EQ(
        newer["flags"],
        (json::array({{{"rule", "zscore.big"}, {"triggered", true}, {"value", 3.5}, {"metadata", {{"z", 3.5}}}}})));

    const json& older = detail["runs"][1];
    EXPECT_EQ(older["run_id"], older_.id);
    EXPECT_EQ(older["strategy"], "custom");
    EXPECT_EQ(older["score"], 0.1);
    EXPECT_EQ(older["rank"], 10);
    EXPECT_EQ(older["flagged"], false);
    EXPECT_EQ(older["algorithms"].size(), 1u);
    EXPECT_TRUE(older["flags"].empty());
}

TEST_F(TransactionRoutesTest, AnomaliesOfARunOrOfTheLatestCompletedRunOfAStrategy) {
    const json by_run = GetJson("/api/v1/transactions/anomalies?run_id=" + newer_.id);
    EXPECT_EQ(by_run["total"], kNewerFlagged);
    EXPECT_EQ(Ids(by_run), (Names{"R10", "R9", "R8"}));
    EXPECT_EQ(by_run["run"]["id"], newer_.id);
    EXPECT_EQ(by_run["items"][0]["rank"], 1);
    EXPECT_EQ(by_run["items"][0]["reasons"], json::array({"reason of R10"}));
    EXPECT_EQ(by_run["items"][0]["algorithms"]["zscore"]["reason"], "z of R10");

    const json by_name = GetJson("/api/v1/transactions/anomalies?strategy_id=quick-scan&limit=2&offset=1");
    EXPECT_EQ(by_name["run"]["id"], newer_.id);
    EXPECT_EQ(by_name["total"], kNewerFlagged);
    EXPECT_EQ(Ids(by_name), (Names{"R9", "R8"}));
    const json by_id = GetJson("/api/v1/transactions/anomalies?strategy_id=" + strategy_id_);
    EXPECT_EQ(by_id["run"]["id"], older_.id);
    EXPECT_EQ(Ids(by_id), (Names{"R1", "R2"}));
    EXPECT_EQ(GetJson("/api/v1/transactions/anomalies?strategy_name=custom")["run"]["id"], older_.id);

    // A newer quick-scan run still queued: the latest completed one answers; asked for by id, it is not ready.
    const store::Run pending = store_->CreateRun({.workspace_id = std::string(store::kDefaultWorkspaceId),
                                                  .upload_id = upload_id_,
                                                  .strategy_name = "quick-scan",
                                                  .configuration = "{}"});
    EXPECT_EQ(GetJson("/api/v1/transactions/anomalies?strategy_id=quick-scan")["run"]["id"], newer_.id);
    const json not_ready = GetJson("/api/v1/transactions/anomalies?run_id=" + pending.id, 409);
    EXPECT_EQ(not_ready["error"], "run_not_ready");
    EXPECT_EQ(not_ready["run_status"], "queued");
    const json none = GetJson("/api/v1/transactions/anomalies?strategy_id=ml-ensemble", 404);
    EXPECT_EQ(none["error"], "no_completed_run");
    EXPECT_NE(none["message"].get<std::string>().find("no completed analysis"), std::string::npos) << none;
}

TEST_F(TransactionRoutesTest, BadParametersAre400NamingTheParameter) {
    const std::string results = "/api/v1/analysis/" + newer_.id + "/results";
    const std::string run = "&run_id=" + newer_.id;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"/api/v1/transactions?sort=foo", "sort"},
        {"/api/v1/transactions?order=up", "order"},
        {"/api/v1/transactions?sort=score", "sort"},  // needs run_id
        {"/api/v1/transactions?date_from=2024-13-01", "date_from"},
        {"/api/v1/transactions?date_to=yesterday", "date_to"},
        {"/api/v1/transactions?date_from=2024-02-01&date_to=2024-01-31", "date_to"},
        {"/api/v1/transactions?amount_min=12.345", "amount_min"},
        {"/api/v1/transactions?amount_max=abc", "amount_max"},
        {"/api/v1/transactions?amount_min=5&amount_max=4.99", "amount_max"},
        {"/api/v1/transactions?min_score=0.5", "min_score"},  // needs run_id
        {"/api/v1/transactions?min_score=2" + run, "min_score"},
        {"/api/v1/transactions?limit=0", "limit"},
        {"/api/v1/transactions?offset=-1", "offset"},
        {results + "?sort=foo", "sort"},
        {results + "?order=sideways", "order"},
        {results + "?min_score=-0.1", "min_score"},
        {results + "?date_to=2024-02-30", "date_to"},
        {results + "?algorithm=isolation_forest", "algorithm"},  // not in the run's strategy
        {"/api/v1/transactions/anomalies", "run_id"},
        {"/api/v1/transactions/anomalies?limit=501&run_id=" + newer_.id, "limit"},
        {"/api/v1/transactions/anomalies?strategy_id=quick-scan" + run, "strategy_id"},
    };
    for (const auto& [path, parameter] : cases) {
        const json body = GetJson(path, 400);
        EXPECT_EQ(body.value("error", ""), "bad_parameter") << path << ": " << body;
        EXPECT_EQ(NamedField(body), parameter) << path << ": " << body;
        EXPECT_NE(body.value("message", "").find(parameter), std::string::npos) << path << ": " << body;
    }
}

TEST_F(TransactionRoutesTest, UnknownIdsAre404) {
    const std::string unknown = NewUuidV7();
    for (const std::string& path :
         {"/api/v1/transactions/" + unknown, std::string("/api/v1/transactions/R10"),
          "/api/v1/transactions?upload_id=" + unknown, "/api/v1/transactions?run_id=" + unknown,
          std::string("/api/v1/transactions?run_id=x"), "/api/v1/transactions/anomalies?run_id=" + unknown,
          "/api/v1/transactions/anomalies?strategy_id=" + unknown,
          "/api/v1/transactions/" + ids_[0] + "?workspace_id=" + unknown}) {
        const json body = GetJson(path, 404);
        EXPECT_FALSE(body.value("error", "").empty()) << path;
        EXPECT_FALSE(body.value("message", "").empty()) << path;
    }
    // A transaction of another workspace is not found in this one.
    const std::string other = store_->CreateWorkspace("other").id;
    GetJson("/api/v1/transactions/" + ids_[0] + "?workspace_id=" + other, 404);
    EXPECT_EQ(GetJson("/api/v1/transactions?workspace_id=" + other)["total"], 0);
}

// A real upload analysed twice with quick-scan (top 1 % of 40 rows: one flagged, the 9000.00 line); the run's status
// is polled with a bounded number of short waits, never one long sleep.
TEST_F(TransactionRoutesTest, ARealAnalysisIsReadBackThroughAnomaliesAndDetail) {
    std::string csv = "id,date,account,amount,text\n";
    for (int i = 1; i <= 40; ++i) {
        csv += fmt::format("T{},2024-02-{:02},1930,{}.00,line {}\n", i, 1 + i % 28, i == 17 ? 9000 : 100 + i % 7, i);
    }
    const auto uploaded = Upload(csv, {}, "e2e.csv");
    ASSERT_TRUE(uploaded);
    ASSERT_EQ(uploaded->status, 201) << uploaded->body;
    const std::string upload = Body(uploaded)["id"];
    auto run = [&] { return WaitForRun(QueueRun({{"upload_id", upload}, {"strategy", "quick-scan"}})); };
    const json first = run();
    ASSERT_EQ(first["status"], "completed") << first;
    const json anomalies = GetJson("/api/v1/transactions/anomalies?strategy_id=quick-scan");
    EXPECT_EQ(anomalies["run"]["id"], first["id"]);
    EXPECT_EQ(anomalies["total"], first["flagged_count"]);
    ASSERT_FALSE(anomalies["items"].empty());
    EXPECT_EQ(anomalies["items"][0]["rank"], 1);
    EXPECT_EQ(anomalies["items"][0]["transaction"]["external_id"], "T17");  // 9000.00 among ~100s
    const std::string t17 = anomalies["items"][0]["transaction"]["id"];

    const json second = run();
    ASSERT_EQ(second["status"], "completed") << second;
    const json detail = GetJson("/api/v1/transactions/" + t17);
    ASSERT_EQ(detail["runs"].size(), 2u);
    EXPECT_EQ(detail["runs"][0]["run_id"], second["id"]);
    EXPECT_EQ(detail["runs"][1]["run_id"], first["id"]);
    EXPECT_EQ(detail["runs"][0]["rank"], 1);
    EXPECT_FALSE(detail["runs"][0]["algorithms"].empty());
    const json listed = GetJson("/api/v1/transactions?upload_id=" + upload + "&q=line%2017");
    ASSERT_EQ(Ids(listed), (Names{"T17"}));
    EXPECT_EQ(listed["items"][0]["latest"]["run_id"], second["id"]);
}

TEST(ParseTransactionQueryTest, ReadsEveryFilterWithExactAmountsAndDefaultOrders) {
    const auto query = detail::ParseTransactionQuery({{"upload_id", "u"},
                                                      {"account", "1930"},
                                                      {"user", "anna"},
                                                      {"date_from", "2024-02-29"},
                                                      {"date_to", "2024-03-01"},
                                                      {"amount_min", "-250.50"},
                                                      {"amount_max", "0.07"},
                                                      {"q", "50%"},
                                                      {"run_id", "r"},
                                                      {"min_score", "0.25"},
                                                      {"sort", "score"},
                                                      {"limit", "7"},
                                                      {"offset", "14"}});
    ASSERT_TRUE(query.has_value()) << query.error().message;
    EXPECT_EQ(query->upload_id, "u");
    EXPECT_EQ(query->account, "1930");
    EXPECT_EQ(query->user, "anna");
    EXPECT_EQ(query->date_from, Date::FromYmd(2024, 2, 29));
    EXPECT_EQ(query->date_to, Date::FromYmd(2024, 3, 1));
    EXPECT_EQ(query->amount_min, -25050);
    EXPECT_EQ(query->amount_max, 7);
    EXPECT_EQ(query->text, "50%");
    EXPECT_EQ(query->run_id, "r");
    EXPECT_EQ(query->min_score, 0.25);
    EXPECT_EQ(query->sort, store::TransactionSort::kScore);
    EXPECT_EQ(query->order, store::SortOrder::kDescending);  // a score sort is highest first unless told
    EXPECT_EQ(query->limit, 7);
    EXPECT_EQ(query->offset, 14);

    const auto defaults = detail::ParseTransactionQuery({});
    ASSERT_TRUE(defaults.has_value());
    EXPECT_EQ(defaults->sort, store::TransactionSort::kRow);
    EXPECT_EQ(defaults->order, store::SortOrder::kAscending);
    EXPECT_FALSE(defaults->amount_min.has_value());
    EXPECT_EQ(defaults->limit, 50);
}

TEST(ParseResultQueryTest, ReadsTheReadEndpointFiltersAndSorts) {
    const auto query = detail::ParseResultQuery(
        {{"algorithm", "zscore"}, {"account", "3001"}, {"date_to", "2024-12-31"}, {"sort", "date"}, {"order", "desc"}});
    ASSERT_TRUE(query.has_value()) << query.error().message;
    EXPECT_EQ(query->algorithm, "zscore");
    EXPECT_EQ(query->account, "3001");
    EXPECT_FALSE(query->date_from.has_value());
    EXPECT_EQ(query->date_to, Date::FromYmd(2024, 12, 31));
    EXPECT_EQ(query->sort, store::ResultSort::kDate);
    EXPECT_EQ(query->order, store::SortOrder::kDescending);
    EXPECT_EQ(detail::ParseResultQuery({{"sort", "score"}})->order, store::SortOrder::kDescending);
    EXPECT_EQ(detail::ParseResultQuery({})->sort, store::ResultSort::kRank);
    EXPECT_EQ(detail::ParseResultQuery({})->order, store::SortOrder::kAscending);
}

TEST(CheckAlgorithmLabelTest, AcceptsTheRunsLabelsAndListsThemOtherwise) {
    const std::string configuration =
        R"({"algorithms": [{"name": "zscore"}, {"name": "zscore", "label": "zscore_by_user"}]})";
    EXPECT_TRUE(detail::CheckAlgorithmLabel(configuration, "zscore").has_value());
    EXPECT_TRUE(detail::CheckAlgorithmLabel(configuration, "zscore_by_user").has_value());
    const auto unknown = detail::CheckAlgorithmLabel(configuration, "benford");
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().column, "algorithm");
    EXPECT_NE(unknown.error().message.find("zscore, zscore_by_user"), std::string::npos) << unknown.error().message;
}

}  // namespace
}  // namespace granska::api
