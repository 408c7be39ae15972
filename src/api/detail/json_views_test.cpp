#include "api/detail/json_views.h"

#include <gtest/gtest.h>

namespace granska::api::detail {
namespace {

using nlohmann::json;

TEST(ErrorJsonTest, DetailsNameThePlaceAndAreEmptyWhenThereIsNone) {
    EXPECT_EQ(ErrorJson(NotFound("upload", "x")),
              json({{"error", "not_found"},
                    {"message", "No upload with id 'x' exists in this workspace."},
                    {"details", json::array()}}));
    Error error = InvalidInput("bad_amount", "Write the amount as 12.50.");
    error.line = 4;
    error.column = "amount";
    error.file = "ledger.csv";
    const json body = ErrorJson(error);
    EXPECT_EQ(body["error"], "bad_amount");
    EXPECT_EQ(body["line"], 4);
    EXPECT_EQ(body["column"], "amount");
    EXPECT_EQ(body["file"], "ledger.csv");
    EXPECT_EQ(body["details"], json::array({{{"message", "Write the amount as 12.50."},
                                             {"field", "amount"},
                                             {"file", "ledger.csv"},
                                             {"line", 4}}}));
}

TEST(UploadJsonTest, UnsetTimestampsAreNullAndMappingIsAnObject) {
    const store::Upload upload{.id = "u",
                               .workspace_id = "w",
                               .filename = "a.csv",
                               .file_type = "csv",
                               .file_size = 12,
                               .status = "running",
                               .mapping = R"({"amount":"Belopp"})",
                               .created_at = "2026-01-01T00:00:00.000Z"};
    const json body = UploadJson(upload);
    EXPECT_EQ(body["mapping"]["amount"], "Belopp");
    EXPECT_TRUE(body["completed_at"].is_null());
    EXPECT_TRUE(body["error"].is_null());
    EXPECT_EQ(body["created_at"], "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(body["file_size"], 12);
}

TEST(UploadJsonTest, FailedUploadCarriesItsErrorDetails) {
    const store::Upload upload{.status = "failed",
                               .error_message = "Row 3 has 3 fields.",
                               .error_details = R"({"error":"bad_row","message":"Row 3 has 3 fields.","line":4})"};
    const json body = UploadJson(upload);
    EXPECT_EQ(body["error"]["error"], "bad_row");
    EXPECT_EQ(body["error"]["line"], 4);
}

TEST(UploadJsonTest, FailedUploadWithoutDetailsStillSaysWhy) {
    const store::Upload upload{.status = "failed", .error_message = "Disk full."};
    EXPECT_EQ(UploadJson(upload)["error"]["message"], "Disk full.");
}

TEST(RunJsonTest, EmbedsMetadataAndNullsWhatIsUnset) {
    const store::Run run{.id = "r",
                         .upload_id = "u",
                         .strategy_name = "quick-scan",
                         .status = "completed",
                         .progress = 1.0,
                         .stage = "done",
                         .metadata = R"({"rows": 3})",
                         .flagged_count = 1};
    const json body = RunJson(run);
    EXPECT_EQ(body["strategy"], "quick-scan");
    EXPECT_EQ(body["metadata"]["rows"], 3);
    EXPECT_TRUE(body["error"].is_null());
    EXPECT_TRUE(body["started_at"].is_null());
    EXPECT_EQ(body["flagged_count"], 1);
    EXPECT_TRUE(body["strategy_id"].is_null());  // an ad-hoc strategy
    EXPECT_TRUE(body["strategy_version"].is_null());
}

TEST(RunJsonTest, CarriesTheProgressDetailAndTheTimingsOfTheMetadata) {
    const store::Run run{.id = "r",
                         .status = "running",
                         .progress_detail = R"({"algorithms": [{"label": "zscore", "state": "running"}]})",
                         .metadata = R"({"timings": {"load_ms": 2.5}})"};
    const json body = RunJson(run);
    EXPECT_EQ(body["progress_detail"]["algorithms"][0]["state"], "running");
    EXPECT_EQ(body["timings"]["load_ms"], 2.5);
    EXPECT_TRUE(RunJson(store::Run{})["timings"].is_null());
    EXPECT_EQ(RunJson(store::Run{})["progress_detail"], json::object());
}

TEST(ResultRowJsonTest, AmountIsAnExactStringAndScoresAreByAlgorithm) {
    store::ResultRow row;
    row.result = {.transaction_id = "t", .score = 0.9, .flagged = true, .rank = 1, .reasons = R"(["big"])"};
    row.transaction.id = "t";
    row.transaction.transaction.amount = Money{.minor = -86226};
    row.transaction.transaction.date = *Date::FromYmd(2024, 3, 31);
    row.transaction.transaction.raw_data = R"({"account_name":"Bank"})";
    row.algorithm_scores.push_back(
        {.transaction_id = "t", .algorithm = "zscore", .score = 0.9, .confidence = 0.8, .reason = "big"});
    const json body = ResultRowJson(row);
    EXPECT_EQ(body["rank"], 1);
    EXPECT_EQ(body["reasons"], json::array({"big"}));
    EXPECT_EQ(body["transaction"]["amount"], "-862.26");
    EXPECT_EQ(body["transaction"]["date"], "2024-03-31");
    EXPECT_TRUE(body["transaction"]["registration_date"].is_null());
    EXPECT_EQ(body["transaction"]["raw_data"]["account_name"], "Bank");
    EXPECT_DOUBLE_EQ(body["algorithms"]["zscore"]["confidence"].get<double>(), 0.8);
}

TEST(StoredJsonTest, FallsBackOnEmptyOrBrokenText) {
    EXPECT_EQ(StoredJson("", json::object()), json::object());
    EXPECT_EQ(StoredJson("{broken", json::array()), json::array());
    EXPECT_EQ(StoredJson("[1]", json::array()), json::array({1}));
}

}  // namespace
}  // namespace granska::api::detail
