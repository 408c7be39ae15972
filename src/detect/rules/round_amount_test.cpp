#include "detect/rules/round_amount.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules1_testing.h"

namespace granska::detect {
namespace {

using rules1::MakeFrame;
using rules1::TestRow;

RoundAmount Make(const nlohmann::json& params) { return rules1::MakeAlgorithm<RoundAmount, RoundAmountParams>(params); }

// 0.5 + 0.5 SizeScore(ratio), SizeScore = x² / (x² + 0.5625) with x = log10(ratio) + 0.5.
double SizeFactor(double ratio) {
    const double x = std::log10(ratio) + 0.5;
    return 0.5 + 0.5 * x * x / (x * x + 0.5625);
}

// Account 5460: twenty ordinary amounts and one 50 000.00 (row 20).
std::vector<TestRow> PlantedRoundAmount() {
    std::vector<TestRow> rows;
    for (int k = 0; k < 20; ++k) rows.push_back({.minor = 123'456 + 101 * k, .account = "5460"});
    rows.push_back({.minor = 5'000'000, .account = "5460"});
    return rows;
}

TEST(RoundAmountTest, RoundnessSizeAndRarityMakeTheScore) {
    const auto output = Make({}).Run(MakeFrame(PlantedRoundAmount()), {});
    ASSERT_TRUE(output);
    // 5 × 10^4: ρ = 4, 16 / (16 + 9) = 0.64; size ratio 50 → 0.947897; no other 5460 amount is as round.
    EXPECT_NEAR(output->score[20], 0.64 * SizeFactor(50.0), 1e-12);
    EXPECT_NEAR(output->score[20], 0.606654, 1e-6);
    for (size_t i = 0; i < 20; ++i) EXPECT_EQ(output->score[i], 0.0) << i;
    EXPECT_NEAR(output->confidence[20], 0.5 + 0.5 * 21.0 / 41.0, 1e-12);
    EXPECT_EQ(output->reason[20],
              "Amount 50 000.00 is a round 5 × 10 000, and 4.8% of account 5460's amounts (1 of 21) are this round.");
    ASSERT_EQ(output->flags.size(), 1u);
    EXPECT_EQ(output->flags[0].row, 20u);
    EXPECT_EQ(output->flags[0].rule, "round_amount");
    EXPECT_DOUBLE_EQ(output->flags[0].value, 50'000.0);
    const auto metadata = nlohmann::json::parse(output->flags[0].metadata);
    EXPECT_EQ(metadata["exponent"], 4);
    EXPECT_EQ(metadata["significant_digits"], 1);
}

TEST(RoundAmountTest, TinySharesReadAsUnderATenthOfAPercent) {
    std::vector<TestRow> rows;
    for (int k = 0; k < 1'200; ++k) rows.push_back({.minor = -(12'345 + k), .account = "1930"});
    rows.push_back({.minor = -5'000'000, .account = "1930"});
    const auto output = Make({}).Run(MakeFrame(rows), {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[1'200], 0.64 * SizeFactor(50.0), 1e-12);
    EXPECT_EQ(output->reason[1'200],
              "Amount -50 000.00 is a round 5 × 10 000, and under 0.1% of account 1930's amounts (1 of 1 201) are this "
              "round.");
}

TEST(RoundAmountTest, MoreSignificantDigitsAreLessRound) {
    const auto output = Make({}).Run(MakeFrame({{.minor = -12'500'000, .account = "2440"}}), {});
    ASSERT_TRUE(output);
    // 125 × 10^3: ρ = 3 − 0.5 × 2 = 2, 4 / 13; size ratio 125.
    EXPECT_NEAR(output->score[0], 4.0 / 13.0 * SizeFactor(125.0), 1e-12);
    EXPECT_NEAR(output->score[0], 0.295848, 1e-6);
    EXPECT_TRUE(output->reason[0].empty());  // below 0.3: nothing to say
    EXPECT_EQ(output->flags.size(), 1u);
}

TEST(RoundAmountTest, RoundnessUsualForTheAccountScoresNothing) {
    std::vector<TestRow> rows(12, TestRow{.minor = 2'500'000, .account = "5010"});  // rent, 25 000.00 every month
    const auto usual = Make({}).Run(MakeFrame(rows), {});
    const auto without_history = Make({{"account_history", false}}).Run(MakeFrame(rows), {});
    ASSERT_TRUE(usual && without_history);
    EXPECT_EQ(usual->score[0], 0.0);  // the other 11 lines are as round: share 1
    EXPECT_TRUE(usual->flags.empty());
    // 25 × 10^3: ρ = 2.5, 6.25 / 15.25; size ratio 25.
    EXPECT_NEAR(without_history->score[0], 6.25 / 15.25 * SizeFactor(25.0), 1e-12);
    EXPECT_EQ(without_history->confidence[0], 1.0);
}

TEST(RoundAmountTest, SmallOrBarelyRoundAmountsAreLeftAlone) {
    const auto frame = MakeFrame({{.minor = 50'000}, {.minor = 3'060'000}, {.minor = 200'000}});
    const auto output = Make({{"min_amount", 5'000.0}}).Run(frame, {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[0], 0.0);  // 500.00: below min_amount and only hundreds
    EXPECT_EQ(output->score[1], 0.0);  // 30 600.00: 306 × 10^2, exponent 2 < 3
    EXPECT_EQ(output->score[2], 0.0);  // 2 000.00: below min_amount 5 000.00
    EXPECT_TRUE(output->flags.empty());
}

TEST(RoundAmountParamsTest, RejectsBadFieldsByPath) {
    const auto amount = RoundAmountParams::FromJson({{"min_amount", 0}}, "algorithms[4].params");
    ASSERT_FALSE(amount);
    EXPECT_EQ(amount.error().column, "algorithms[4].params.min_amount");
    const auto low = RoundAmountParams::FromJson({{"min_exponent", 0}}, "p");
    ASSERT_FALSE(low);
    EXPECT_EQ(low.error().column, "p.min_exponent");
    const auto high = RoundAmountParams::FromJson({{"min_exponent", 17}}, "p");
    ASSERT_FALSE(high);
    EXPECT_EQ(high.error().column, "p.min_exponent");
    const auto type = RoundAmountParams::FromJson({{"account_history", "no"}}, "p");
    ASSERT_FALSE(type);
    EXPECT_EQ(type.error().column, "p.account_history");
}

}  // namespace
}  // namespace granska::detect
