#include "api/detail/request_parsing.h"

#include <gtest/gtest.h>

namespace granska::api::detail {
namespace {

class RequestParsingTest : public ::testing::Test {
protected:
    RequestParsingTest() { detect::RegisterBuiltinAlgorithms(registry_); }
    detect::Registry registry_;
};

TEST(ParsePagingTest, DefaultsWithoutParameters) {
    const auto paging = ParsePaging({});
    ASSERT_TRUE(paging);
    EXPECT_EQ(paging->limit, 50);
    EXPECT_EQ(paging->offset, 0);
}

TEST(ParsePagingTest, ReadsLimitAndOffset) {
    const auto paging = ParsePaging({{"limit", "500"}, {"offset", "20"}});
    ASSERT_TRUE(paging);
    EXPECT_EQ(paging->limit, 500);
    EXPECT_EQ(paging->offset, 20);
}

TEST(ParsePagingTest, RejectsLimitOutOfRangeNamingIt) {
    for (const char* limit : {"0", "501", "-1", "ten", "5x", ""}) {
        const auto paging = ParsePaging({{"limit", limit}});
        ASSERT_FALSE(paging) << limit;
        EXPECT_EQ(paging.error().kind, ErrorKind::kBadRequest);
        EXPECT_EQ(paging.error().column, "limit");
    }
}

TEST(ParsePagingTest, RejectsNegativeOrNonNumericOffset) {
    for (const char* offset : {"-1", "1.5", "a"}) {
        const auto paging = ParsePaging({{"offset", offset}});
        ASSERT_FALSE(paging) << offset;
        EXPECT_EQ(paging.error().column, "offset");
    }
}

TEST(ParseResultQueryTest, ReadsMinScoreAndFlagged) {
    const auto query = ParseResultQuery({{"min_score", "0.5"}, {"flagged", "true"}, {"limit", "10"}});
    ASSERT_TRUE(query);
    EXPECT_DOUBLE_EQ(query->min_score.value(), 0.5);
    EXPECT_TRUE(query->flagged_only);
    EXPECT_EQ(query->limit, 10);
    const auto unflagged = ParseResultQuery({{"flagged", "false"}});
    ASSERT_TRUE(unflagged);
    EXPECT_FALSE(unflagged->flagged_only);
    EXPECT_FALSE(unflagged->min_score.has_value());
}

TEST(ParseResultQueryTest, RejectsMinScoreOutsideZeroToOne) {
    for (const char* score : {"-0.1", "1.01", "abc", "nan", "inf"}) {
        const auto query = ParseResultQuery({{"min_score", score}});
        ASSERT_FALSE(query) << score;
        EXPECT_EQ(query.error().kind, ErrorKind::kBadRequest);
        EXPECT_EQ(query.error().column, "min_score");
    }
}

TEST(ParseResultQueryTest, RejectsFlaggedThatIsNotABoolean) {
    const auto query = ParseResultQuery({{"flagged", "yes"}});
    ASSERT_FALSE(query);
    EXPECT_EQ(query.error().column, "flagged");
}

TEST_F(RequestParsingTest, StrategyTextAcceptsPresetName) {
    const auto parsed = ParseStrategyText(" quick-scan\n", registry_);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->name, "quick-scan");
}

TEST_F(RequestParsingTest, StrategyTextAcceptsJsonObject) {
    const auto parsed = ParseStrategyText(R"({"name": "mine", "algorithms": [{"name": "zscore"}]})", registry_);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->name, "mine");
}

TEST_F(RequestParsingTest, StrategyTextRejectsUnknownPreset) {
    const auto parsed = ParseStrategyText("no-such-strategy", registry_);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(parsed.error().column, "strategy");
}

TEST_F(RequestParsingTest, RunRequestWithoutAStrategyLeavesTheChoiceToTheUpload) {
    const auto request = ParseRunRequest(R"({"upload_id": "abc"})", registry_);
    ASSERT_TRUE(request) << request.error().message;
    EXPECT_EQ(request->upload_id, "abc");
    EXPECT_FALSE(request->strategy);
}

TEST_F(RequestParsingTest, RunRequestRejectsBodyThatIsNotJson) {
    for (const char* body : {"", "not json", "[1]", "42"}) {
        const auto request = ParseRunRequest(body, registry_);
        ASSERT_FALSE(request) << body;
        EXPECT_EQ(request.error().kind, ErrorKind::kBadRequest);
    }
}

TEST_F(RequestParsingTest, RunRequestNeedsAnUploadId) {
    for (const char* body : {R"({})", R"({"upload_id": 3})", R"({"upload_id": ""})"}) {
        const auto request = ParseRunRequest(body, registry_);
        ASSERT_FALSE(request) << body;
        EXPECT_EQ(request.error().kind, ErrorKind::kBadRequest);
        EXPECT_EQ(request.error().column, "upload_id");
    }
}

TEST_F(RequestParsingTest, RunRequestNamesTheBadStrategyField) {
    const auto request = ParseRunRequest(
        R"({"upload_id": "u", "strategy": {"name": "s", "algorithms": [{"name": "zscore", "params": {"threshold": -1}}]}})",
        registry_);
    ASSERT_FALSE(request);
    EXPECT_EQ(request.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(request.error().column, "algorithms[0].params.threshold");
}

TEST_F(RequestParsingTest, RunRequestRejectsStrategyOfWrongType) {
    const auto request = ParseRunRequest(R"({"upload_id": "u", "strategy": 7})", registry_);
    ASSERT_FALSE(request);
    EXPECT_EQ(request.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(request.error().column, "strategy");
}

TEST_F(RequestParsingTest, RunRequestTakesAStrategyIdButNotTogetherWithAStrategy) {
    const auto request = ParseRunRequest(R"({"upload_id": "u", "strategy_id": "bank-transactions"})", registry_);
    ASSERT_TRUE(request) << request.error().message;
    EXPECT_EQ(request->strategy_id, "bank-transactions");
    EXPECT_FALSE(request->strategy);
    EXPECT_EQ(ParseRunRequest(R"({"upload_id": "u", "strategy_id": null})", registry_)->strategy_id, "");

    for (const char* body : {R"({"upload_id": "u", "strategy_id": "quick-scan", "strategy": "quick-scan"})",
                             R"({"upload_id": "u", "strategy_id": ""})", R"({"upload_id": "u", "strategy_id": 3})"}) {
        const auto refused = ParseRunRequest(body, registry_);
        ASSERT_FALSE(refused) << body;
        EXPECT_EQ(refused.error().kind, ErrorKind::kBadRequest) << body;
        EXPECT_EQ(refused.error().column, "strategy_id") << body;
    }
}

}  // namespace
}  // namespace granska::api::detail
