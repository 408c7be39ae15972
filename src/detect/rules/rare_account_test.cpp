#include "detect/rules/rare_account.h"

#include <gtest/gtest.h>

#include <atomic>

#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules2_test_frame.h"

namespace granska::detect {
namespace {

using rules2_test::MakeTestFrame;
using rules2_test::TestLine;

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    auto params_or = RareAccountParams::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(params_or) << params_or.error().message;
    return std::make_unique<RareAccount>(*params_or);
}

// Ten vouchers A 1..A 10 of two lines (bank 1930 + a cost account): 5010 in A 1..A 7, 6072 in A 8 and A 9,
// 3990 in A 10. Row 2k is the 1930 line of A k+1, row 2k+1 its cost line.
std::vector<TestLine> TenVouchers() {
    std::vector<TestLine> lines;
    for (int v = 1; v <= 10; ++v) {
        const std::string cost = v <= 7 ? "5010" : v <= 9 ? "6072" : "3990";
        lines.push_back({.account = "1930", .minor = -v * 1000, .series = "A", .number = std::to_string(v)});
        lines.push_back({.account = cost, .minor = v * 1000, .series = "A", .number = std::to_string(v)});
    }
    return lines;
}

TEST(RareAccountTest, ScoresFallLinearlyWithTheNumberOfVouchers) {
    const auto output = Make({{"max_share", 1.0}})->Run(MakeTestFrame(TenVouchers()), {});
    ASSERT_TRUE(output);
    // max_count 5: 3990 in 1 voucher → (5 + 1 − 1) / 5 = 1.0; 6072 in 2 → (5 + 1 − 2) / 5 = 0.8.
    EXPECT_NEAR(output->score[19], 1.0, 1e-12);
    EXPECT_NEAR(output->score[15], 0.8, 1e-12);
    EXPECT_NEAR(output->score[17], 0.8, 1e-12);
    // 5010 (7 vouchers) and 1930 (10) are not rare.
    EXPECT_EQ(output->score[1], 0.0);
    EXPECT_EQ(output->score[0], 0.0);
    // Confidence 10 vouchers / (10 + 100 × 5).
    EXPECT_NEAR(output->confidence[0], 10.0 / 510.0, 1e-12);
}

TEST(RareAccountTest, TheVouchersOtherLinesCarryHalfTheScore) {
    const auto output = Make({{"max_share", 1.0}})->Run(MakeTestFrame(TenVouchers()), {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[18], 0.5, 1e-12);  // 0.5 × 1.0 (A 10's bank line)
    EXPECT_NEAR(output->score[14], 0.4, 1e-12);  // 0.5 × 0.8 (A 8's bank line)
    EXPECT_EQ(output->reason[18], "Voucher A 10 uses the rare account 3990 (in 1 of 10 vouchers).");
    const auto only_line = Make({{"max_share", 1.0}, {"voucher_weight", 0.0}})->Run(MakeTestFrame(TenVouchers()), {});
    ASSERT_TRUE(only_line);
    EXPECT_EQ(only_line->score[18], 0.0);
}

TEST(RareAccountTest, ReasonAndFlagsNameTheAccountAndItsCount) {
    const auto output = Make({{"max_share", 1.0}})->Run(MakeTestFrame(TenVouchers()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->reason[19], "Account 3990 is used in 1 of 10 vouchers.");
    EXPECT_EQ(output->reason[15], "Account 6072 is used in 2 of 10 vouchers.");
    EXPECT_TRUE(output->reason[1].empty());
    // Flags: three rare lines and their three bank lines.
    ASSERT_EQ(output->flags.size(), 6u);
    int rare = 0;
    for (const RuleFlag& flag : output->flags) {
        const auto meta = nlohmann::json::parse(flag.metadata);
        if (flag.rule == "rare_account") {
            ++rare;
            EXPECT_TRUE(flag.row == 15 || flag.row == 17 || flag.row == 19) << flag.row;
            EXPECT_EQ(meta["total_vouchers"], 10);
        } else {
            EXPECT_EQ(flag.rule, "rare_account_voucher");
            if (flag.row == 18) {
                EXPECT_EQ(meta["rare_row"], 20);
                EXPECT_EQ(meta["value"], "3990");
                EXPECT_EQ(flag.value, 1.0);
            }
        }
    }
    EXPECT_EQ(rare, 3);
}

TEST(RareAccountTest, MaxShareKeepsSmallUploadsQuiet) {
    // Default max_share 0.005: in 10 vouchers, even 1 use is 10 % of them.
    const auto output = Make({})->Run(MakeTestFrame(TenVouchers()), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
    EXPECT_TRUE(output->flags.empty());
}

TEST(RareAccountTest, LinesWithoutAVoucherCountAsVouchersOfTheirOwn) {
    std::vector<TestLine> lines = TenVouchers();
    lines.push_back({.account = "3990", .minor = 500});  // no voucher number: a voucher of its own
    const auto output = Make({{"max_share", 1.0}})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    // 3990 now in 2 of 11 vouchers: (5 + 1 − 2) / 5.
    EXPECT_NEAR(output->score[20], 0.8, 1e-12);
    EXPECT_EQ(output->reason[20], "Account 3990 is used in 2 of 11 vouchers.");
}

TEST(RareAccountTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    const auto output = Make({})->Run(MakeTestFrame(TenVouchers()), RunContext{.cancelled = &cancelled});
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().message, "cancelled");
}

TEST(RareAccountParamsTest, RejectsBadFieldsByPath) {
    const auto count = RareAccountParams::FromJson({{"max_count", 0}}, "algorithms[3].params");
    ASSERT_FALSE(count);
    EXPECT_EQ(count.error().column, "algorithms[3].params.max_count");
    const auto share = RareAccountParams::FromJson({{"max_share", 1.5}}, "p");
    ASSERT_FALSE(share);
    EXPECT_EQ(share.error().column, "p.max_share");
    const auto weight = RareAccountParams::FromJson({{"voucher_weight", -0.1}}, "p");
    ASSERT_FALSE(weight);
    EXPECT_EQ(weight.error().column, "p.voucher_weight");
    const auto unknown = RareAccountParams::FromJson({{"max_counts", 3}}, "p");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().column, "p.max_counts");
}

}  // namespace
}  // namespace granska::detect
