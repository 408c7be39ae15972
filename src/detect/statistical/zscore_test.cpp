#include "detect/statistical/zscore.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/statistical/detail/test_support.h"

namespace granska::detect {
namespace {

struct Line {
    std::string account;
    int64_t minor;
    int month = 1;  // of 2024
};

transform::TransactionFrame MakeFrame(const std::vector<Line>& lines) {
    std::vector<testing::TestLine> test_lines;
    for (const Line& line : lines)
        test_lines.push_back(
            {line.account, static_cast<double>(line.minor) / 100.0, *Date::FromYmd(2024, line.month, 1)});
    return testing::MakeFrame(test_lines);
}

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    return testing::MakeAlgorithm<ZscoreParams, Zscore>(params);
}

// Account A: 100.00 … 119.00 and one 10 000.00 line (row 21).
std::vector<Line> PlantedOutlier() {
    std::vector<Line> lines;
    for (int i = 0; i < 20; ++i) lines.push_back({"A", (100 + i) * 100});
    lines.push_back({"A", 10'000 * 100});
    return lines;
}

TEST(ZscoreTest, RobustScoresFollowMedianAndMad) {
    const auto frame = MakeFrame(PlantedOutlier());
    const auto output = Make({{"value", "amount"}, {"robust", true}})->Run(frame, {});
    ASSERT_TRUE(output);
    // Median 110, MAD 5 → scale 1.4826 × 5 = 7.413. Row 20 (119.00): z = 9 / 7.413.
    const double z = 9.0 / (1.4826 * 5.0);
    EXPECT_NEAR(output->score[19], z * z / (z * z + 9.0), 1e-9);
    EXPECT_NEAR(output->score[10], 0.0, 1e-12);  // 110.00 is the median
    const double z_outlier = 9890.0 / (1.4826 * 5.0);
    EXPECT_NEAR(output->score[20], z_outlier * z_outlier / (z_outlier * z_outlier + 9.0), 1e-9);
    EXPECT_GT(output->score[20], 0.99);
}

TEST(ZscoreTest, ClassicUsesMeanAndSampleStandardDeviation) {
    // Mean 5, sample variance 32 / 7.
    const std::vector<Line> lines = {{"A", 200}, {"A", 400}, {"A", 400}, {"A", 400},
                                     {"A", 500}, {"A", 500}, {"A", 700}, {"A", 900}};
    const auto output =
        Make({{"value", "amount"}, {"robust", false}, {"min_group_size", 2}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    const double z = 4.0 / std::sqrt(32.0 / 7.0);
    EXPECT_NEAR(output->score[7], z * z / (z * z + 9.0), 1e-9);
    EXPECT_NEAR(output->score[4], 0.0, 1e-12);
}

TEST(ZscoreTest, ScoreIsOneHalfAtTheThreshold) {
    const auto frame = MakeFrame(PlantedOutlier());
    const double z = 9.0 / (1.4826 * 5.0);
    const auto output = Make({{"value", "amount"}, {"threshold", z}})->Run(frame, {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[19], 0.5, 1e-9);
}

TEST(ZscoreTest, ReasonNamesAmountAccountAndTypicalSize) {
    const auto output = Make({})->Run(MakeFrame(PlantedOutlier()), {});
    ASSERT_TRUE(output);
    const std::string& reason = output->reason[20];
    EXPECT_NE(reason.find("Amount 10 000.00"), std::string::npos) << reason;
    EXPECT_NE(reason.find("larger than usual for account A"), std::string::npos) << reason;
    EXPECT_NE(reason.find("typical size 110.00"), std::string::npos) << reason;
    EXPECT_NE(reason.find("21 lines"), std::string::npos) << reason;
    EXPECT_TRUE(output->reason[10].empty());  // the median line is typical: nothing to say
}

TEST(ZscoreTest, PerAccountGroupsDoNotMix) {
    // B's amounts are all 1 000× A's; per account, nobody stands out; globally, B's lines do.
    std::vector<Line> lines;
    for (int i = 0; i < 30; ++i) lines.push_back({"A", (100 + i) * 100});
    for (int i = 0; i < 12; ++i) lines.push_back({"B", (100 + i) * 100'000});
    const auto frame = MakeFrame(lines);
    const auto per_account = Make({{"group_by", "account"}})->Run(frame, {});
    const auto global = Make({{"group_by", "none"}, {"value", "amount"}})->Run(frame, {});
    ASSERT_TRUE(per_account && global);
    for (size_t i = 0; i < lines.size(); ++i) EXPECT_LT(per_account->score[i], 0.2) << i;
    for (size_t i = 30; i < lines.size(); ++i) EXPECT_GT(global->score[i], 0.9) << i;
}

TEST(ZscoreTest, SmallGroupsFallBackToAllLinesWithLowerConfidence) {
    std::vector<Line> lines;
    for (int i = 0; i < 30; ++i) lines.push_back({"A", (100 + i) * 100});
    lines.push_back({"RARE", 115 * 100});
    const auto output = Make({{"min_group_size", 10}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->confidence[0], 30.0 / 40.0, 1e-12);         // own group: 30 lines
    EXPECT_NEAR(output->confidence[30], 0.5 * 31.0 / 41.0, 1e-12);  // all 31 lines, halved
}

TEST(ZscoreTest, DirectionHighIgnoresSmallAmounts) {
    std::vector<Line> lines;
    for (int i = 0; i < 20; ++i) lines.push_back({"A", (100 + i) * 100});
    lines.push_back({"A", 1});
    const auto both = Make({})->Run(MakeFrame(lines), {});
    const auto high = Make({{"direction", "high"}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(both && high);
    EXPECT_GT(both->score[20], 0.9);
    EXPECT_EQ(high->score[20], 0.0);
}

TEST(ZscoreTest, IdenticalAmountsScoreZero) {
    const std::vector<Line> lines(15, Line{"A", 500});
    const auto output = Make({})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
}

// Account A: January 100.00 … 110.00 and a planted 200.00; February 1 000.00 … 1 011.00; March 500.00 twice.
std::vector<Line> MonthlyLevels() {
    std::vector<Line> lines;
    for (int i = 0; i <= 10; ++i) lines.push_back({"A", (100 + i) * 100, 1});
    lines.push_back({"A", 200 * 100, 1});
    for (int i = 0; i < 12; ++i) lines.push_back({"A", (1000 + i) * 100, 2});
    lines.push_back({"A", 500 * 100, 3});
    lines.push_back({"A", 500 * 100, 3});
    return lines;
}

TEST(ZscoreTest, AccountMonthComparesEachLineWithItsMonth) {
    const auto output = Make({{"group_by", "account_month"}, {"value", "amount"}})->Run(MakeFrame(MonthlyLevels()), {});
    ASSERT_TRUE(output);
    // January: median of 100…110 and 200 = (105 + 106) / 2 = 105.5; absolute deviations 0.5, 0.5, 1.5, 1.5, 2.5,
    // 2.5, 3.5, 3.5, 4.5, 4.5, 5.5, 94.5 → MAD 3, scale 1.4826 × 3. The 200.00 line: z = 94.5 / 4.4478.
    const double z = 94.5 / (1.4826 * 3.0);
    EXPECT_NEAR(output->score[11], z * z / (z * z + 9.0), 1e-9);
    EXPECT_NE(output->reason[11].find("account A in 2024-01"), std::string::npos) << output->reason[11];
    EXPECT_NE(output->reason[11].find("the median of account A in 2024-01 (105.50 over 12 lines)"), std::string::npos)
        << output->reason[11];
    // February's 1 011.00: median 1 005.5, MAD 3 → z = 5.5 / 4.4478; per month nothing stands out.
    const double z_feb = 5.5 / (1.4826 * 3.0);
    EXPECT_NEAR(output->score[23], z_feb * z_feb / (z_feb * z_feb + 9.0), 1e-9);
    EXPECT_NEAR(output->confidence[0], 12.0 / 22.0, 1e-12);
}

TEST(ZscoreTest, AccountMonthSmallMonthFallsBackToTheAccount) {
    const auto output = Make({{"group_by", "account_month"}, {"value", "amount"}})->Run(MakeFrame(MonthlyLevels()), {});
    ASSERT_TRUE(output);
    // March has 2 lines (< 10): compared with all 26 lines of A, weight 0.75. Sorted A: 100…110 (11), 200, 500, 500,
    // 1 000…1 011 (12) → median = (500 + 500) / 2 = 500; the 500.00 lines are the median: z = 0.
    EXPECT_NEAR(output->score[24], 0.0, 1e-12);
    EXPECT_NEAR(output->confidence[24], 0.75 * 26.0 / 36.0, 1e-12);
    // The reason, for the same month with a far larger line, names the fallback.
    std::vector<Line> lines = MonthlyLevels();
    lines[25].minor = 1'000'000 * 100;
    const auto planted = Make({{"group_by", "account_month"}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(planted);
    EXPECT_NE(planted->reason[25].find("than usual for account A (2024-03 has only 2 of its lines)"), std::string::npos)
        << planted->reason[25];
}

TEST(ZscoreTest, AccountMonthSmallAccountFallsBackToAllLines) {
    std::vector<Line> lines = MonthlyLevels();
    lines.push_back({"RARE", 90'000'000, 1});
    lines.push_back({"RARE", 300, 1});
    const auto output = Make({{"group_by", "account_month"}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    EXPECT_NE(output->reason[26].find("than usual for all lines (account RARE has only 2)"), std::string::npos)
        << output->reason[26];
    EXPECT_NEAR(output->confidence[26], 0.5 * 28.0 / 38.0, 1e-12);
}

TEST(ZscoreParamsTest, AcceptsAccountMonth) {
    const auto params = ZscoreParams::FromJson({{"group_by", "account_month"}}, "p");
    ASSERT_TRUE(params);
    EXPECT_EQ(params->group_by, "account_month");
}

TEST(ZscoreParamsTest, RejectsBadFieldsByPath) {
    const auto bad_threshold = ZscoreParams::FromJson({{"threshold", -1}}, "algorithms[2].params");
    ASSERT_FALSE(bad_threshold);
    EXPECT_EQ(bad_threshold.error().column, "algorithms[2].params.threshold");

    const auto bad_choice = ZscoreParams::FromJson({{"group_by", "month"}}, "p");
    ASSERT_FALSE(bad_choice);
    EXPECT_EQ(bad_choice.error().column, "p.group_by");
    EXPECT_NE(bad_choice.error().message.find("\"account\""), std::string::npos);

    const auto unknown = ZscoreParams::FromJson({{"robustt", true}}, "p");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().column, "p.robustt");

    const auto wrong_type = ZscoreParams::FromJson({{"robust", "yes"}}, "p");
    ASSERT_FALSE(wrong_type);
    EXPECT_EQ(wrong_type.error().column, "p.robust");
}

}  // namespace
}  // namespace granska::detect
