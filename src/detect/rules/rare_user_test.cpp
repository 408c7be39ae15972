#include "detect/rules/rare_user.h"

#include <gtest/gtest.h>

#include <atomic>

#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules2_test_frame.h"

namespace granska::detect {
namespace {

using rules2_test::MakeTestFrame;
using rules2_test::TestLine;

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    auto params_or = RareUserParams::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(params_or) << params_or.error().message;
    return std::make_unique<RareUser>(*params_or);
}

// AL posts B 1..B 12 (one line each), EXT posts B 13 (two lines, rows 12 and 13), SYS posts B 14..B 16,
// B 17 has no user (row 17).
std::vector<TestLine> Postings() {
    std::vector<TestLine> lines;
    for (int v = 1; v <= 12; ++v) lines.push_back({.series = "B", .number = std::to_string(v), .user = "AL"});
    lines.push_back({.account = "2440", .series = "B", .number = "13", .user = "EXT"});
    lines.push_back({.account = "1930", .series = "B", .number = "13", .user = "EXT"});
    for (int v = 14; v <= 16; ++v) lines.push_back({.series = "B", .number = std::to_string(v), .user = "SYS"});
    lines.push_back({.series = "B", .number = "17", .user = ""});
    return lines;
}

TEST(RareUserTest, EveryLineOfARareUserScoresByRarity) {
    const auto output = Make({{"max_share", 1.0}})->Run(MakeTestFrame(Postings()), {});
    ASSERT_TRUE(output);
    // max_count 10: EXT in 1 voucher → (10 + 1 − 1) / 10 = 1.0; SYS in 3 → (10 + 1 − 3) / 10 = 0.8; AL (12) not rare.
    EXPECT_NEAR(output->score[12], 1.0, 1e-12);
    EXPECT_NEAR(output->score[13], 1.0, 1e-12);
    EXPECT_NEAR(output->score[14], 0.8, 1e-12);
    EXPECT_EQ(output->score[0], 0.0);
    // 17 vouchers in all: confidence 17 / (17 + 1000).
    EXPECT_NEAR(output->confidence[0], 17.0 / 1017.0, 1e-12);
}

TEST(RareUserTest, ReasonSaysHowManyVouchersTheUserPosted) {
    const auto output = Make({{"max_share", 1.0}})->Run(MakeTestFrame(Postings()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->reason[12], "User EXT posted 1 of 17 vouchers.");
    EXPECT_EQ(output->reason[14], "User SYS posted 3 of 17 vouchers.");
    EXPECT_TRUE(output->reason[0].empty());
}

TEST(RareUserTest, LinesWithoutAUserScoreZeroWithNoConfidence) {
    const auto output = Make({{"max_share", 1.0}})->Run(MakeTestFrame(Postings()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[17], 0.0);
    EXPECT_EQ(output->confidence[17], 0.0);
    EXPECT_TRUE(output->reason[17].empty());
}

TEST(RareUserTest, FlagsEveryLineOfTheRareUsers) {
    const auto output = Make({{"max_share", 1.0}})->Run(MakeTestFrame(Postings()), {});
    ASSERT_TRUE(output);
    ASSERT_EQ(output->flags.size(), 5u);  // EXT's two lines, SYS's three
    for (const RuleFlag& flag : output->flags) {
        EXPECT_EQ(flag.rule, "rare_user");
        const auto meta = nlohmann::json::parse(flag.metadata);
        if (flag.row == 12) {
            EXPECT_EQ(flag.value, 1.0);
            EXPECT_EQ(meta["value"], "EXT");
            EXPECT_EQ(meta["max_count"], 10);
        }
    }
}

TEST(RareUserTest, MaxCountBoundsWhoIsRare) {
    const auto output = Make({{"max_share", 1.0}, {"max_count", 2}})->Run(MakeTestFrame(Postings()), {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[12], 1.0, 1e-12);  // (2 + 1 − 1) / 2
    EXPECT_EQ(output->score[14], 0.0);           // SYS: 3 vouchers > 2
}

TEST(RareUserTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    const auto output = Make({})->Run(MakeTestFrame(Postings()), RunContext{.cancelled = &cancelled});
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().message, "cancelled");
}

TEST(RareUserParamsTest, RejectsBadFieldsByPath) {
    const auto count = RareUserParams::FromJson({{"max_count", -2}}, "algorithms[4].params");
    ASSERT_FALSE(count);
    EXPECT_EQ(count.error().column, "algorithms[4].params.max_count");
    const auto share = RareUserParams::FromJson({{"max_share", 0}}, "p");
    ASSERT_FALSE(share);
    EXPECT_EQ(share.error().column, "p.max_share");
    const auto wrong_type = RareUserParams::FromJson({{"max_count", "few"}}, "p");
    ASSERT_FALSE(wrong_type);
    EXPECT_EQ(wrong_type.error().column, "p.max_count");
    const auto unknown = RareUserParams::FromJson({{"voucher_weight", 0.5}}, "p");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().column, "p.voucher_weight");
}

}  // namespace
}  // namespace granska::detect
