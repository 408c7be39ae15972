#include "detect/rules/benford.h"

#include <gtest/gtest.h>

#include <atomic>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules2_test_frame.h"

namespace granska::detect {
namespace {

using rules2_test::MakeTestFrame;
using rules2_test::TestLine;

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    auto params_or = BenfordParams::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(params_or) << params_or.error().message;
    return std::make_unique<Benford>(*params_or);
}

// 1 000 amounts whose first digits follow Benford's law to the unit: round(1000 × log10(1 + 1/d)).
constexpr int kBenfordCounts[10] = {0, 301, 176, 125, 97, 79, 67, 58, 51, 46};

void AddAmounts(std::vector<TestLine>& lines, const std::string& account, int digit, int count) {
    for (int k = 0; k < count; ++k) lines.push_back({.account = account, .minor = digit * 10'000 + (k * 37) % 10'000});
}

// Class 4 (account 4010): Benford's 1 000. Class 5 (account 5010): Benford's 1 000 plus 200 amounts 4xx.xx.
// Class 6 (account 6110): 40 amounts 4xx.xx, too few to test alone. Rows: 4010 first, then 5010, then 6110.
std::vector<TestLine> PlantedFours() {
    std::vector<TestLine> lines;
    for (int d = 1; d <= 9; ++d) AddAmounts(lines, "4010", d, kBenfordCounts[d]);
    for (int d = 1; d <= 9; ++d) AddAmounts(lines, "5010", d, kBenfordCounts[d] + (d == 4 ? 200 : 0));
    AddAmounts(lines, "6110", 4, 40);
    return lines;
}

constexpr size_t kFirstFourOfClass5 = 1000 + 301 + 176 + 125;  // row of the first 5010 amount 4xx.xx
constexpr size_t kFirstOfClass6 = 2200;

TEST(BenfordTest, OverRepresentedDigitsOfANonconformingGroupScore) {
    const auto output = Make({{"test", "first"}})->Run(MakeTestFrame(PlantedFours()), {});
    ASSERT_TRUE(output);
    // Class 5: n = 1 200, digit 4 observed 297 / 1 200 = 0.2475 against e = log10(5/4) = 0.09691: ratio 2.55391.
    // MAD = mean |p − e| over the 9 digits = 0.0334644 (> 0.015: nonconformity).
    // Score = MAD² / (MAD² + 0.015²) × (ratio − 1)² / ((ratio − 1)² + 1) = 0.832697 × 0.707148 = 0.588837.
    EXPECT_NEAR(output->score[kFirstFourOfClass5], 0.5888374570697262, 1e-9);
    EXPECT_NEAR(output->confidence[kFirstFourOfClass5], 1200.0 / 1500.0, 1e-12);
    // The under-represented digits of class 5 and every amount of the conforming class 4 score 0.
    EXPECT_EQ(output->score[1000], 0.0);  // 5010, digit 1
    for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(output->score[i], 0.0) << i;
}

TEST(BenfordTest, ReasonNamesDigitsRatioGroupAndMad) {
    const auto output = Make({{"test", "first"}})->Run(MakeTestFrame(PlantedFours()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->reason[kFirstFourOfClass5],
              "First digit 4 occurs 2.6× as often as Benford's law expects in account class 5 (MAD 0.0335, "
              "nonconformity).");
    EXPECT_TRUE(output->reason[0].empty());
}

TEST(BenfordTest, SmallGroupsAreTestedWithTheWholeUpload) {
    const auto output = Make({{"test", "first"}})->Run(MakeTestFrame(PlantedFours()), {});
    ASSERT_TRUE(output);
    // All 2 240 amounts: digit 4 = 97 + 297 + 40 = 434; ratio 434 / 2 240 / 0.09691 = 1.99928; MAD 0.0215200.
    // Score 0.673018 × 0.499640 = 0.336266; confidence halved: 0.5 × 2 240 / (2 240 + 300).
    EXPECT_NEAR(output->score[kFirstOfClass6], 0.33626551815680467, 1e-9);
    EXPECT_NEAR(output->confidence[kFirstOfClass6], 0.5 * 2240.0 / 2540.0, 1e-12);
    EXPECT_EQ(output->reason[kFirstOfClass6],
              "First digit 4 occurs 2.0× as often as Benford's law expects in all amounts (MAD 0.0215, "
              "nonconformity). Only 40 amounts are in account class 6, too few to test it alone.");
}

TEST(BenfordTest, FlagsCarryTheGroupsMad) {
    const auto output = Make({{"test", "first"}})->Run(MakeTestFrame(PlantedFours()), {});
    ASSERT_TRUE(output);
    // Class 5's 97 + 200 amounts 4xx.xx and class 6's 40 (pooled); nothing of class 4.
    ASSERT_EQ(output->flags.size(), 337u);
    for (const RuleFlag& flag : output->flags) {
        EXPECT_EQ(flag.rule, "first_digit");
        const auto meta = nlohmann::json::parse(flag.metadata);
        EXPECT_EQ(meta["digits"], 4);
        if (flag.row == kFirstFourOfClass5) {
            EXPECT_EQ(meta["group"], "account class 5");
            EXPECT_NEAR(meta["mad"].get<double>(), 0.03346444155376524, 1e-12);
            EXPECT_EQ(meta["conformity"], "nonconformity");
            EXPECT_NEAR(flag.value, 297.0 / 1200.0 / std::log10(1.25), 1e-12);
        }
        if (flag.row == kFirstOfClass6) {
            EXPECT_EQ(meta["group"], "all amounts");
            EXPECT_EQ(meta["pooled"], true);
        }
    }
}

TEST(BenfordTest, AmountsBelowTheMinimumAreNotTested) {
    std::vector<TestLine> lines = PlantedFours();
    for (TestLine& line : lines) line.minor /= 100;  // 4xx.xx → 4.xx: below 10.00
    const auto output = Make({{"test", "first"}})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(output->confidence[i], 0.0) << i;
    EXPECT_TRUE(output->flags.empty());
}

TEST(BenfordTest, GroupingNoneTestsAllAmountsTogether) {
    const auto output = Make({{"test", "first"}, {"group_by", "none"}})->Run(MakeTestFrame(PlantedFours()), {});
    ASSERT_TRUE(output);
    // Every digit-4 amount scores as one of all 2 240 (see SmallGroupsAreTestedWithTheWholeUpload), unpooled.
    EXPECT_NEAR(output->score[kFirstFourOfClass5], 0.33626551815680467, 1e-9);
    EXPECT_NEAR(output->confidence[kFirstFourOfClass5], 2240.0 / 2540.0, 1e-12);
}

TEST(BenfordTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    const auto output = Make({})->Run(MakeTestFrame(PlantedFours()), RunContext{.cancelled = &cancelled});
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().message, "cancelled");
}

TEST(BenfordParamsTest, RejectsBadFieldsByPath) {
    const auto group = BenfordParams::FromJson({{"group_by", "user"}}, "algorithms[1].params");
    ASSERT_FALSE(group);
    EXPECT_EQ(group.error().column, "algorithms[1].params.group_by");
    const auto test = BenfordParams::FromJson({{"test", "last_two"}}, "p");
    ASSERT_FALSE(test);
    EXPECT_EQ(test.error().column, "p.test");
    const auto amount = BenfordParams::FromJson({{"min_amount", -1}}, "p");
    ASSERT_FALSE(amount);
    EXPECT_EQ(amount.error().column, "p.min_amount");
    const auto size = BenfordParams::FromJson({{"min_group_size", 0}}, "p");
    ASSERT_FALSE(size);
    EXPECT_EQ(size.error().column, "p.min_group_size");
    const auto level = BenfordParams::FromJson({{"flag_level", "close"}}, "p");
    ASSERT_FALSE(level);
    EXPECT_EQ(level.error().column, "p.flag_level");
    const auto z = BenfordParams::FromJson({{"min_z", -0.5}}, "p");
    ASSERT_FALSE(z);
    EXPECT_EQ(z.error().column, "p.min_z");
}

}  // namespace
}  // namespace granska::detect
