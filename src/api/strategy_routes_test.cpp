// The strategy endpoints end to end, in process: a real Server on a free port over a temporary SQLite database,
// driven by an httplib client (the store contract tests cover PostgreSQL's side of the same store calls).

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "api/detail/test_server.h"
#include "core/uuid.h"

namespace granska::api {
namespace {

using detail::Body;
using detail::ExpectErrorBody;
using nlohmann::json;

// A bank statement of 40 rows: date, amount, text and the balance after each row (a numeric column of the file).
std::string Statement() {
    std::string csv = "date,amount,text,Saldo\n";
    int64_t balance = 1'000'000;
    for (int i = 1; i <= 40; ++i) {
        const int64_t amount = i == 17 ? -4'500'000 : -(1'000 + (i * 37) % 900) * 10;
        balance += amount;
        csv += fmt::format("2024-03-{:02},{}.{:02},card {},{}.{:02}\n", 1 + i % 28, amount / 100, -amount % 100, i,
                           balance / 100, (balance < 0 ? -balance : balance) % 100);
    }
    return csv;
}

// An isolation forest over a derived feature and the named column of the file.
json WithFeature(std::string_view column) {
    return {{"name", "by balance"},
            {"configuration",
             {{"algorithms",
               {{{"name", "isolation_forest"},
                 {"params", {{"features", {"log_amount", std::string(column)}}, {"n_trees", 20}}}}}}}}};
}

class StrategyRoutesTest : public detail::ApiServerTest {
protected:
    // Creates a strategy and returns its body; fails the test unless the answer is 201.
    json Create(const json& body) {
        const auto result = PostJson("/api/v1/strategies", body);
        EXPECT_TRUE(result);
        if (!result) return json();
        EXPECT_EQ(result->status, 201) << result->body;
        return Body(result);
    }

    std::string UploadStatement(const std::string& csv = Statement()) { return UploadCsv(csv, "statement.csv"); }
};

// The error body's status, code and field path.
void ExpectError(const httplib::Result& result, int status, std::string_view code, std::string_view column) {
    ExpectErrorBody(result, status, code);
    if (!result) return;
    EXPECT_EQ(Body(result).value("column", ""), column) << result->body;
}

const json kZscore = {{"algorithms", {{{"name", "zscore"}, {"params", {{"group_by", "none"}}}}}}};

TEST_F(StrategyRoutesTest, AlgorithmsListEveryRegisteredOneWithItsParamsAndTheirDefaultsAsJson) {
    const json body = Body(client_->Get("/api/v1/algorithms"));
    ASSERT_EQ(body["items"].size(), registry_.List().size());
    EXPECT_EQ(body["total"], registry_.List().size());
    json zscore;
    for (const json& item : body["items"]) {
        if (item["name"] == "zscore") zscore = item;
    }
    EXPECT_EQ(zscore["type"], "statistical");
    EXPECT_EQ(zscore["calibrated"], true);
    EXPECT_FALSE(zscore["description"].get<std::string>().empty());
    json group_by;
    json threshold;
    for (const json& param : zscore["params"]) {
        if (param["name"] == "group_by") group_by = param;
        if (param["name"] == "threshold") threshold = param;
    }
    EXPECT_EQ(group_by["type"], "string");
    EXPECT_EQ(group_by["default"], "account");  // JSON, not the text "\"account\""
    EXPECT_EQ(threshold["default"], 3.0);
}

TEST_F(StrategyRoutesTest, ListShowsThePresetsFirstThenTheSavedOnesPagedAsOneList) {
    Create({{"name", "b-mine"}, {"configuration", kZscore}});
    Create({{"name", "a-mine"}, {"configuration", kZscore}});
    const json all = Body(client_->Get("/api/v1/strategies"));
    EXPECT_EQ(all["total"], 6);  // four presets and two saved
    ASSERT_EQ(all["items"].size(), 6u);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(all["items"][i]["builtin"], true);
        EXPECT_EQ(all["items"][i]["read_only"], true);
        EXPECT_EQ(all["items"][i]["id"], all["items"][i]["name"]);
        EXPECT_FALSE(all["items"][i]["description"].get<std::string>().empty());
        EXPECT_TRUE(all["items"][i]["configuration"]["algorithms"].is_array());
    }
    EXPECT_EQ(all["items"][2]["name"], "bank-transactions");
    EXPECT_EQ(all["items"][4]["name"], "a-mine");  // saved ones by name
    EXPECT_EQ(all["items"][4]["builtin"], false);
    EXPECT_EQ(all["items"][5]["name"], "b-mine");

    // A page that spans both: offset 3, limit 2 = the last preset and the first saved one.
    const json page = Body(client_->Get("/api/v1/strategies?offset=3&limit=2"));
    EXPECT_EQ(page["total"], 6);
    ASSERT_EQ(page["items"].size(), 2u);
    EXPECT_EQ(page["items"][0]["name"], "ml-ensemble");
    EXPECT_EQ(page["items"][1]["name"], "a-mine");
    const json last = Body(client_->Get("/api/v1/strategies?offset=5&limit=2"));
    ASSERT_EQ(last["items"].size(), 1u);
    EXPECT_EQ(last["items"][0]["name"], "b-mine");
    ExpectError(client_->Get("/api/v1/strategies?include_inactive=maybe"), 400, "bad_parameter", "include_inactive");
}

TEST_F(StrategyRoutesTest, CreateAnswers201WithVersionOneAndGetReadsItBack) {
    const json created = Create({{"name", "payments"}, {"description", "Large payments"}, {"configuration", kZscore}});
    ASSERT_TRUE(IsUuid(created.value("id", ""))) << created.dump();
    EXPECT_EQ(created["version"], 1);
    EXPECT_EQ(created["is_active"], true);
    EXPECT_EQ(created["builtin"], false);
    EXPECT_EQ(created["warnings"], json::array());
    // The canonical configuration: the name and description given, every default spelled out.
    EXPECT_EQ(created["configuration"]["name"], "payments");
    EXPECT_EQ(created["configuration"]["description"], "Large payments");
    EXPECT_EQ(created["configuration"]["algorithms"][0]["weight"], 1.0);
    EXPECT_EQ(created["configuration"]["threshold"], json({{"type", "top_percent"}, {"value", 1.0}}));

    const json read = Body(client_->Get("/api/v1/strategies/" + created["id"].get<std::string>()));
    EXPECT_EQ(read["name"], "payments");
    EXPECT_EQ(read["description"], "Large payments");
    EXPECT_EQ(read["configuration"], created["configuration"]);
    EXPECT_EQ(read["created_at"], created["created_at"]);

    // The strategy JSON itself is a body too, its name inside.
    json plain = kZscore;
    plain["name"] = "plain";
    EXPECT_EQ(Create(plain)["name"], "plain");
}

TEST_F(StrategyRoutesTest, BadStrategiesAreRefusedNamingTheFieldInTheBody) {
    ExpectError(
        PostJson("/api/v1/strategies", {{"name", "x"}, {"configuration", {{"algorithms", {{{"name", "nope"}}}}}}}), 422,
        "unknown_algorithm", "configuration.algorithms[0].name");
    ExpectError(PostJson("/api/v1/strategies",
                         {{"name", "x"}, {"configuration", {{"algorithms", {{{"name", "zscore"}, {"weight", -1}}}}}}}),
                422, "bad_strategy", "configuration.algorithms[0].weight");
    ExpectError(PostJson("/api/v1/strategies",
                         {{"name", "x"},
                          {"configuration", {{"algorithms", {{{"name", "zscore"}, {"params", {{"threshold", 0}}}}}}}}}),
                422, "bad_parameter", "configuration.algorithms[0].params.threshold");
    ExpectError(PostJson("/api/v1/strategies", {{"configuration", kZscore}}), 422, "bad_strategy", "name");
    ExpectError(PostJson("/api/v1/strategies", {{"name", "x"}, {"configuration", "zscore"}}), 422, "bad_strategy",
                "configuration");
    ExpectError(PostJson("/api/v1/strategies", {{"name", "x"}, {"configuration", kZscore}, {"colour", "red"}}), 422,
                "bad_strategy", "colour");
    ExpectError(PostJson("/api/v1/strategies", {{"name", std::string(201, 'n')}, {"configuration", kZscore}}), 422,
                "bad_strategy", "name");
    ExpectError(PostJson("/api/v1/strategies", {{"name", "quick-scan"}, {"configuration", kZscore}}), 409,
                "preset_name", "name");
    ExpectError(client_->Post("/api/v1/strategies", "{not json", "application/json"), 400, "bad_json", "");

    Create({{"name", "taken"}, {"configuration", kZscore}});
    ExpectError(PostJson("/api/v1/strategies", {{"name", "taken"}, {"configuration", kZscore}}), 409, "strategy_exists",
                "");
    EXPECT_EQ(store_->ListStrategies(store::kDefaultWorkspaceId, true, 50, 0).total, 1);
}

TEST_F(StrategyRoutesTest, AFeatureThatIsNoDerivedOneIsAWarningWithTheNearestName) {
    const json created = Create(WithFeature("log_amout"));
    ASSERT_EQ(created["warnings"].size(), 1u) << created.dump();
    const json& warning = created["warnings"][0];
    EXPECT_EQ(warning["field"], "configuration.algorithms[0].params.features[1]");
    EXPECT_EQ(warning["name"], "log_amout");
    EXPECT_EQ(warning["suggestion"], "log_amount");
    EXPECT_NE(warning["message"].get<std::string>().find("did you mean \"log_amount\"?"), std::string::npos);
}

TEST_F(StrategyRoutesTest, UpdateSavesVersionTwoAndARunOfVersionOneKeepsItsConfiguration) {
    const std::string upload_id = UploadStatement();
    const json created = Create({{"name", "payments"}, {"configuration", kZscore}});
    const std::string id = created["id"];

    const auto started = PostJson("/api/v1/analysis/run", {{"upload_id", upload_id}, {"strategy_id", id}});
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 202) << started->body;
    const std::string run_id = Body(started)["run_id"];
    EXPECT_EQ(Body(started)["strategy_id"], id);
    EXPECT_EQ(Body(started)["strategy_version"], 1);

    json robust = kZscore;
    robust["algorithms"][0]["params"]["robust"] = false;
    const auto updated = PutJson("/api/v1/strategies/" + id, {{"name", "payments v2"}, {"configuration", robust}});
    ASSERT_TRUE(updated);
    ASSERT_EQ(updated->status, 200) << updated->body;
    EXPECT_EQ(Body(updated)["version"], 2);
    EXPECT_EQ(Body(updated)["name"], "payments v2");
    EXPECT_EQ(Body(updated)["configuration"]["algorithms"][0]["params"]["robust"], false);
    EXPECT_EQ(Body(client_->Get("/api/v1/strategies/" + id))["version"], 2);

    const json versions = Body(client_->Get("/api/v1/strategies/" + id + "/versions"));
    EXPECT_EQ(versions["total"], 2);
    ASSERT_EQ(versions["items"].size(), 2u);
    EXPECT_EQ(versions["items"][0]["version"], 2);
    EXPECT_EQ(versions["items"][0]["name"], "payments v2");
    EXPECT_EQ(versions["items"][1]["version"], 1);
    EXPECT_EQ(versions["items"][1]["configuration"], created["configuration"]);

    // The run made before the update ran version 1, and says so.
    const json status = WaitForRun(run_id);
    EXPECT_EQ(status["status"], "completed") << status.dump();
    EXPECT_EQ(status["strategy_id"], id);
    EXPECT_EQ(status["strategy_version"], 1);
    EXPECT_EQ(status["strategy"], "payments");
    const auto run = store_->GetRun(store::kDefaultWorkspaceId, run_id);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(json::parse(run->configuration), created["configuration"]);

    // A new run takes version 2.
    const auto again = PostJson("/api/v1/analysis/run", {{"upload_id", upload_id}, {"strategy_id", id}});
    ASSERT_TRUE(again);
    ASSERT_EQ(again->status, 202) << again->body;
    EXPECT_EQ(Body(again)["strategy_version"], 2);
    EXPECT_EQ(WaitForRun(Body(again)["run_id"])["status"], "completed");
}

TEST_F(StrategyRoutesTest, UpdateValidatesAgainAndRefusesAnotherStrategysName) {
    const std::string id = Create({{"name", "one"}, {"configuration", kZscore}})["id"];
    Create({{"name", "two"}, {"configuration", kZscore}});
    ExpectError(PutJson("/api/v1/strategies/" + id,
                        {{"name", "one"}, {"configuration", {{"algorithms", {{{"name", "zscore"}, {"weight", 0}}}}}}}),
                422, "bad_strategy", "configuration.algorithms[0].weight");
    ExpectError(PutJson("/api/v1/strategies/" + id, {{"name", "two"}, {"configuration", kZscore}}), 409,
                "strategy_exists", "");
    ExpectError(PutJson("/api/v1/strategies/" + NewUuidV7(), {{"name", "x"}, {"configuration", kZscore}}), 404,
                "not_found", "");
    EXPECT_EQ(Body(client_->Get("/api/v1/strategies/" + id))["version"], 1);  // nothing refused was saved
}

TEST_F(StrategyRoutesTest, DeleteDeactivatesTheStrategyWhichThenCannotRunOrChange) {
    const std::string upload_id = UploadStatement();
    const std::string id = Create({{"name", "old"}, {"configuration", kZscore}})["id"];
    const auto deleted = client_->Delete("/api/v1/strategies/" + id);
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->status, 204);
    EXPECT_EQ(client_->Delete("/api/v1/strategies/" + id)->status, 204);  // again: still gone

    EXPECT_EQ(Body(client_->Get("/api/v1/strategies"))["total"], 4);  // the presets only
    const json with_inactive = Body(client_->Get("/api/v1/strategies?include_inactive=true"));
    ASSERT_EQ(with_inactive["items"].size(), 5u);
    EXPECT_EQ(with_inactive["items"][4]["is_active"], false);
    const json read = Body(client_->Get("/api/v1/strategies/" + id));
    EXPECT_EQ(read["is_active"], false);
    EXPECT_EQ(Body(client_->Get("/api/v1/strategies/" + id + "/versions"))["total"], 1);

    ExpectError(PostJson("/api/v1/analysis/run", {{"upload_id", upload_id}, {"strategy_id", id}}), 409,
                "strategy_inactive", "strategy_id");
    ExpectError(PutJson("/api/v1/strategies/" + id, {{"name", "old"}, {"configuration", kZscore}}), 409,
                "strategy_inactive", "");
    // Its name is free again.
    Create({{"name", "old"}, {"configuration", kZscore}});
}

TEST_F(StrategyRoutesTest, PresetsAreReadOnlyAndRunByName) {
    const json preset = Body(client_->Get("/api/v1/strategies/bank-transactions"));
    EXPECT_EQ(preset["builtin"], true);
    EXPECT_EQ(preset["read_only"], true);
    EXPECT_EQ(preset["version"], 1);
    EXPECT_EQ(preset["configuration"]["combine"]["method"], "noisy_or");
    const json versions = Body(client_->Get("/api/v1/strategies/bank-transactions/versions"));
    ASSERT_EQ(versions["items"].size(), 1u);
    EXPECT_EQ(versions["items"][0]["configuration"], preset["configuration"]);

    ExpectError(PutJson("/api/v1/strategies/quick-scan", {{"name", "quick-scan"}, {"configuration", kZscore}}), 409,
                "read_only", "");
    ExpectError(client_->Delete("/api/v1/strategies/quick-scan"), 409, "read_only", "");

    // A bank statement through the bank-transactions preset, named by strategy_id.
    const auto started =
        PostJson("/api/v1/analysis/run", {{"upload_id", UploadStatement()}, {"strategy_id", "bank-transactions"}});
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 202) << started->body;
    EXPECT_EQ(Body(started)["strategy"], "bank-transactions");
    EXPECT_FALSE(Body(started).contains("strategy_id"));  // a preset is no saved strategy
    const json status = WaitForRun(Body(started)["run_id"]);
    EXPECT_EQ(status["status"], "completed") << status.dump();
    EXPECT_TRUE(status["strategy_id"].is_null());
}

TEST_F(StrategyRoutesTest, UnknownStrategiesAreNotFound) {
    ExpectError(client_->Get("/api/v1/strategies/no-such-preset"), 404, "not_found", "");
    ExpectError(client_->Get("/api/v1/strategies/" + NewUuidV7()), 404, "not_found", "");
    ExpectError(client_->Get("/api/v1/strategies/" + NewUuidV7() + "/versions"), 404, "not_found", "");
    ExpectError(client_->Delete("/api/v1/strategies/" + NewUuidV7()), 404, "not_found", "");
    ExpectError(PostJson("/api/v1/analysis/run", {{"upload_id", UploadStatement()}, {"strategy_id", NewUuidV7()}}), 404,
                "not_found", "");
}

TEST_F(StrategyRoutesTest, ARunRefusesAFeatureThatIsNoColumnOfTheUploadNamingIt) {
    // "Saldo" is a column of the statement: a warning at creation, fine at run time.
    const json by_balance = Create(WithFeature("Saldo"));
    ASSERT_EQ(by_balance["warnings"].size(), 1u);
    const std::string statement = UploadStatement();
    const auto started =
        PostJson("/api/v1/analysis/run", {{"upload_id", statement}, {"strategy_id", by_balance["id"]}});
    ASSERT_TRUE(started);
    EXPECT_EQ(started->status, 202) << started->body;

    // On a statement without the column, the run is refused before it is created.
    std::string without = "date,amount,text\n";
    for (int i = 1; i <= 5; ++i) without += fmt::format("2024-03-0{},-{}.00,card\n", i, i * 10);
    const std::string other = UploadStatement(without);
    const auto refused = PostJson("/api/v1/analysis/run", {{"upload_id", other}, {"strategy_id", by_balance["id"]}});
    ExpectError(refused, 422, "bad_feature", "algorithms[0].params.features[1]");
    // An inline strategy too, with the nearest name.
    const auto typo = PostJson("/api/v1/analysis/run",
                               {{"upload_id", statement}, {"strategy", WithFeature("saldo")["configuration"]}});
    ExpectError(typo, 422, "bad_strategy", "name");  // an inline strategy needs its name
    json inline_strategy = WithFeature("saldo")["configuration"];
    inline_strategy["name"] = "inline";
    const auto near = PostJson("/api/v1/analysis/run", {{"upload_id", statement}, {"strategy", inline_strategy}});
    ExpectError(near, 422, "bad_feature", "algorithms[0].params.features[1]");
    EXPECT_NE(Body(near)["message"].get<std::string>().find("did you mean \"Saldo\"?"), std::string::npos)
        << near->body;
}

TEST_F(StrategyRoutesTest, AnUploadWhoseStrategyNamesAColumnTheFileLacksIsKeptButNotRun) {
    json strategy = WithFeature("Saldo")["configuration"];
    strategy["name"] = "inline";
    const auto result = client_->Post("/api/v1/upload?wait=true",
                                      httplib::MultipartFormDataItems{{.name = "strategy", .content = strategy.dump()},
                                                                      {.name = "file",
                                                                       .content = "date,amount\n2024-03-04,-10.00\n",
                                                                       .filename = "s.csv",
                                                                       .content_type = "text/csv"}});
    ExpectError(result, 422, "bad_feature", "algorithms[0].params.features[1]");
    const std::string upload_id = Body(result).value("upload_id", "");
    ASSERT_TRUE(IsUuid(upload_id)) << result->body;
    EXPECT_EQ(store_->GetUpload(store::kDefaultWorkspaceId, upload_id)->status, "completed");
}

TEST_F(StrategyRoutesTest, AnUploadNamingASavedStrategyStartsARunThatRecordsItsVersion) {
    json request = {{"name", "on upload"}, {"configuration", kZscore}};
    const json created = Create(request);
    request["configuration"]["threshold"] = {{"type", "top_k"}, {"value", 2}};
    ASSERT_EQ(PutJson("/api/v1/strategies/" + created["id"].get<std::string>(), request)->status, 200);
    auto upload = [&](const httplib::MultipartFormDataItems& strategy_parts) {
        return Upload(Statement(), strategy_parts, "s.csv");
    };
    const auto result = upload({{.name = "strategy_id", .content = created["id"]}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << result->body;
    const json status = WaitForRun(Body(result)["run_id"]);
    EXPECT_EQ(status["status"], "completed") << status.dump();
    EXPECT_EQ(status["strategy_id"], created["id"]);
    EXPECT_EQ(status["strategy_version"], 2);
    EXPECT_EQ(status["flagged_count"], 2);  // version 2's top_k
    EXPECT_EQ(status["configuration"]["threshold"]["value"], 2);

    ExpectError(
        upload({{.name = "strategy_id", .content = created["id"]}, {.name = "strategy", .content = "quick-scan"}}), 400,
        "ambiguous_strategy", "strategy_id");
    ExpectError(upload({{.name = "strategy_id", .content = NewUuidV7()}}), 404, "not_found", "");
}

TEST_F(StrategyRoutesTest, ARunWithoutAStrategyGivesABankStatementTheBankTransactionsPreset) {
    const std::string upload_id = UploadStatement();  // date, amount, text, counterparty: no accounts, no vouchers
    const auto started = StartRun({{"upload_id", upload_id}});
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 202) << started->body;
    EXPECT_EQ(Body(started)["strategy"], "bank-transactions");
    EXPECT_EQ(WaitForRun(Body(started)["run_id"]).value("status", ""), "completed");
}

}  // namespace
}  // namespace granska::api
