#include "detect/rules/weekend_threshold.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules1_testing.h"

namespace granska::detect {
namespace {

using rules1::MakeFrame;
using rules1::TestRow;

WeekendThreshold Make(const nlohmann::json& params) {
    return rules1::MakeAlgorithm<WeekendThreshold, WeekendThresholdParams>(params);
}

// SizeScore(r) = x² / (x² + 0.75²) with x = log10(r) + 0.5.
double SizeOf(double ratio) {
    const double x = std::log10(ratio) + 0.5;
    return x * x / (x * x + 0.5625);
}

TEST(WeekendThresholdTest, ScoreGrowsWithTheExcessOverTheThreshold) {
    const auto frame = MakeFrame({{.date = "2024-02-24", .minor = 10'000'000},    // Saturday 100 000.00
                                  {.date = "2024-02-24", .minor = 1'200'000},     // Saturday 12 000.00
                                  {.date = "2024-02-25", .minor = -900'000},      // Sunday -9 000.00
                                  {.date = "2024-02-21", .minor = 10'000'000}});  // Wednesday 100 000.00
    const auto output = Make({}).Run(frame, {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[0], 0.8, 1e-12);      // ratio 10: x = 1.5, 2.25 / (2.25 + 0.5625)
    EXPECT_NEAR(output->score[1], 0.373574, 1e-6);  // ratio 1.2: x = 0.579181, 0.335451 / 0.897951
    EXPECT_NEAR(output->score[1], SizeOf(1.2), 1e-12);
    EXPECT_EQ(output->score[2], 0.0);
    EXPECT_EQ(output->score[3], 0.0);
    ASSERT_EQ(output->flags.size(), 2u);
    EXPECT_EQ(output->flags[0].row, 0u);
    EXPECT_EQ(output->flags[0].rule, "weekend_amount");
    EXPECT_TRUE(output->flags[0].triggered);
    EXPECT_DOUBLE_EQ(output->flags[0].value, 100'000.0);
    const auto metadata = nlohmann::json::parse(output->flags[0].metadata);
    EXPECT_EQ(metadata["threshold"], 10'000.0);
    EXPECT_EQ(metadata["weekday"], "Saturday");
    EXPECT_EQ(output->flags[1].row, 1u);
}

TEST(WeekendThresholdTest, ReasonNamesDayDateAmountAndThreshold) {
    const auto output = Make({}).Run(MakeFrame({{.date = "2024-02-24", .minor = 8'506'245}}), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->reason[0], "Posted on Saturday 2024-02-24 (a weekend) for 85 062.45, above 10 000.00.");
}

TEST(WeekendThresholdTest, PublicHolidaysCountUnlessSwitchedOff) {
    const auto frame = MakeFrame({{.date = "2024-05-01", .minor = 5'000'000}});  // Första maj, a Wednesday
    const auto with = Make({}).Run(frame, {});
    const auto without = Make({{"holidays", false}}).Run(frame, {});
    ASSERT_TRUE(with && without);
    EXPECT_NEAR(with->score[0], SizeOf(5.0), 1e-12);
    EXPECT_EQ(with->reason[0], "Posted on Wednesday 2024-05-01 (a public holiday) for 50 000.00, above 10 000.00.");
    EXPECT_EQ(without->score[0], 0.0);
    EXPECT_TRUE(without->flags.empty());
}

TEST(WeekendThresholdTest, ClosingEntriesOnThePeriodsLastDayAreSkippedByDefault) {
    const auto frame = MakeFrame({{.date = "2024-03-31", .minor = 150'000'000}});  // Sunday, last day of March
    const auto skipped = Make({}).Run(frame, {});
    const auto kept = Make({{"skip_period_end", false}}).Run(frame, {});
    ASSERT_TRUE(skipped && kept);
    EXPECT_EQ(skipped->score[0], 0.0);
    EXPECT_NEAR(kept->score[0], SizeOf(150.0), 1e-12);
}

TEST(WeekendThresholdTest, RelativeThresholdIsTheAccountsWeekdayQuantile) {
    std::vector<TestRow> rows;
    for (int k = 1; k <= 20; ++k) rows.push_back({.date = "2024-02-21", .minor = k * 100'000, .account = "4010"});
    rows.push_back({.date = "2024-02-24", .minor = 1'500'000, .account = "4010"});  // 15 000.00 < P90 18 000.00
    rows.push_back({.date = "2024-02-24", .minor = 3'600'000, .account = "4010"});  // 36 000.00 = 2 × P90
    rows.push_back({.date = "2024-02-24", .minor = 1'500'000, .account = "6540"});  // no history: 10 000.00 applies
    const auto output = Make({{"relative_to_account", true}}).Run(MakeFrame(rows), {});
    ASSERT_TRUE(output);
    // P90 of 1 000 .. 20 000: the ceil(0.9 × 20) = 18th smallest, 18 000.00.
    EXPECT_EQ(output->score[20], 0.0);
    EXPECT_NEAR(output->score[21], 0.532866, 1e-6);  // x = 0.80103: 0.641649 / 1.204149
    EXPECT_NEAR(output->confidence[21], 20.0 / 40.0, 1e-12);
    EXPECT_EQ(output->reason[21],
              "Posted on Saturday 2024-02-24 (a weekend) for 36 000.00, above 18 000.00 (the 90th percentile of "
              "account 4010's weekday amounts).");
    EXPECT_NEAR(output->score[22], SizeOf(1.5), 1e-12);
    EXPECT_EQ(output->confidence[22], 1.0);  // 6540 has no weekday lines: the absolute threshold
}

TEST(WeekendThresholdParamsTest, RejectsBadFieldsByPath) {
    const auto threshold = WeekendThresholdParams::FromJson({{"threshold", 0}}, "algorithms[1].params");
    ASSERT_FALSE(threshold);
    EXPECT_EQ(threshold.error().column, "algorithms[1].params.threshold");
    const auto quantile = WeekendThresholdParams::FromJson({{"account_quantile", 1.0}}, "p");
    ASSERT_FALSE(quantile);
    EXPECT_EQ(quantile.error().column, "p.account_quantile");
    const auto lines = WeekendThresholdParams::FromJson({{"min_account_lines", 0}}, "p");
    ASSERT_FALSE(lines);
    EXPECT_EQ(lines.error().column, "p.min_account_lines");
    const auto type = WeekendThresholdParams::FromJson({{"holidays", "yes"}}, "p");
    ASSERT_FALSE(type);
    EXPECT_EQ(type.error().column, "p.holidays");
    const auto unknown = WeekendThresholdParams::FromJson({{"treshold", 5}}, "p");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().column, "p.treshold");
}

}  // namespace
}  // namespace granska::detect
