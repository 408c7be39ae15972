#include "detect/statistical/timeseries.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/statistical/detail/test_support.h"

namespace granska::detect {
namespace {

struct Line {
    std::string account;
    double amount;  // major units
    int month;      // of 2024
    int day;
};

transform::TransactionFrame MakeFrame(const std::vector<Line>& lines) {
    std::vector<testing::TestLine> test_lines;
    for (const Line& line : lines)
        test_lines.push_back({line.account, line.amount, *Date::FromYmd(2024, line.month, line.day)});
    return testing::MakeFrame(test_lines);
}

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    return testing::MakeAlgorithm<TimeseriesParams, Timeseries>(params);
}

using testing::Score;

// Account A on the Mondays of January 2024 (1, 8, 15, 22, 29): 100.00 each, but 9 900.00 + 100.00 on the 29th.
std::vector<Line> MondaySpike() {
    return {{"A", 100, 1, 1},  {"A", 100, 1, 8},   {"A", 100, 1, 15},
            {"A", 100, 1, 22}, {"A", 9900, 1, 29}, {"A", 100, 1, 29}};
}

TEST(TimeseriesTest, DailySpikeAgainstItsWeekdayMonthCell) {
    const auto output = Make({{"shrinkage", 0},
                              {"min_days", 5},
                              {"weekly", false},
                              {"regular_days", false},
                              {"min_scale", 0.01},
                              {"threshold", 2.0}})
                            ->Run(MakeFrame(MondaySpike()), {});
    ASSERT_TRUE(output);
    // x = ln 101 on four days, ln 10 001 on the 29th: median ln 101, MAD 0 → 1.2533 × mean deviation
    // = 1.2533 × (ln 10 001 − ln 101) / 5, so z = 5 / 1.2533 = 3.989 whatever the logs.
    const double z = 5.0 / 1.2533;
    // The 9 900.00 line carries the whole excess (10 000 − 100 = 9 900): weight sqrt(1) = 1.
    EXPECT_NEAR(output->score[4], Score(z, 2.0), 1e-9);
    // The 100.00 line beside it: weight sqrt(100 / 9 900).
    EXPECT_NEAR(output->score[5], Score(z, 2.0) * std::sqrt(100.0 / 9900.0), 1e-9);
    EXPECT_EQ(output->reason[4],
              "Account A's postings on 2024-01-29 total 10 000.00, 4.0 robust deviations above its usual 100.00 for a "
              "Monday in January.");
    EXPECT_EQ(output->reason[5], "");
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(output->score[i], 0.0) << i;
    EXPECT_NEAR(output->confidence[0], 5.0 / 10.0, 1e-12);  // 5 posting days, min_days 5
}

TEST(TimeseriesTest, SmallCellsAreShrunkTowardsTheWeekdayProfile) {
    // Mondays of February (5, 12, 19, 26) at 1 000.00 each join January's Mondays.
    std::vector<Line> lines = MondaySpike();
    for (const int day : {5, 12, 19, 26}) lines.push_back({"A", 1000, 2, day});
    const auto output = Make({{"shrinkage", 5},
                              {"min_days", 5},
                              {"weekly", false},
                              {"regular_days", false},
                              {"min_scale", 0.01},
                              {"threshold", 2.0}})
                            ->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    const double a = std::log(101.0), b = std::log(1001.0), c = std::log(10001.0);
    // All Mondays (9 days): 4 × a, 4 × b, c → median b; deviations 4 × (b − a), 4 × 0, c − b → MAD b − a.
    const double weekday_centre = b, weekday_scale = 1.4826 * (b - a);
    // The account profile is the same nine days, so shrinking the weekday towards it changes nothing.
    // January cell (5 days): centre a, scale 1.2533 × (c − a) / 5; shrunk with k = 5: (5·own + 5·weekday) / 10.
    const double centre = (a + weekday_centre) / 2.0;
    const double scale = (1.2533 * (c - a) / 5.0 + weekday_scale) / 2.0;
    const double z = (c - centre) / scale;
    const double typical = std::exp(centre) - 1.0;
    EXPECT_NEAR(output->score[4], Score(z, 2.0) * std::sqrt(std::min(1.0, 9900.0 / (10000.0 - typical))), 1e-9);
}

TEST(TimeseriesTest, WeeklyLevelShiftAgainstThePreviousWeeks) {
    // 1 000.00 on each Monday from 1 January to 4 March (10 weeks), then 1 000.00 every day of 11–17 March.
    std::vector<Line> lines;
    for (int week = 0; week < 10; ++week) {
        const Date date{Date::FromYmd(2024, 1, 1)->days + 7 * week};
        lines.push_back({"W", 1000, date.Month(), date.DayOfMonth()});
    }
    for (int day = 11; day <= 17; ++day) lines.push_back({"W", 1000, 3, day});
    const auto output = Make({{"min_days", 10}, {"regular_days", false}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    // Every day totals 1 000.00: no daily spike. The week totals 7 000.00 against a median of ln 1 001 over
    // the previous 8 weeks with no spread: scale = floor 0.25, z = (ln 7 001 − ln 1 001) / 0.25 = 7.78.
    const double z = (std::log(7001.0) - std::log(1001.0)) / 0.25;
    // Each 1 000.00 line carries a sixth of the 6 000.00 excess: weight sqrt(1 / 6).
    for (size_t i = 10; i < lines.size(); ++i)
        EXPECT_NEAR(output->score[i], Score(z, 4.0) * std::sqrt(1.0 / 6.0), 1e-9);
    for (size_t i = 0; i < 10; ++i) EXPECT_EQ(output->score[i], 0.0) << i;
    EXPECT_EQ(output->reason[10],
              "Account W's postings in the week of 2024-03-11 total 7 000.00, 7.8 robust deviations above the median "
              "1 000.00 of its previous 8 weeks.");
}

TEST(TimeseriesTest, PostingOffTheRegularDayOfMonth) {
    // Salary on the 25th of every month (two lines), and one on 14 June.
    std::vector<Line> lines;
    for (int month = 1; month <= 12; ++month) {
        lines.push_back({"7010", 30000, month, 25});
        lines.push_back({"7010", 32000, month, 25});
    }
    lines.push_back({"7010", 31000, 6, 14});
    const auto output = Make({})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    // 24 of 25 lines within day 25 ± 2 (share 0.96, 12 months); the 14th is 11 − 2 = 9 days outside: 81 / (81 + 9).
    EXPECT_NEAR(output->score[24], 81.0 / 90.0, 1e-12);
    EXPECT_NEAR(output->confidence[24], 24.0 / 25.0, 1e-12);
    EXPECT_EQ(output->reason[24],
              "Account 7010 is posted on day 25 (±2) in 12 of 12 months, but this entry is dated the 14th.");
    for (size_t i = 0; i < 24; ++i) EXPECT_EQ(output->score[i], 0.0) << i;

    const auto off = Make({{"regular_days", false}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(off);
    EXPECT_EQ(off->score[24], 0.0);
}

TEST(TimeseriesTest, RegularDayCountedBackFromMonthEnd) {
    // Rent posted on the last day of each month (29, 30 or 31), and once on 15 June; tolerance 0.
    static constexpr int kLastDay[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    std::vector<Line> lines;
    for (int month = 1; month <= 12; ++month) lines.push_back({"5010", 12000, month, kLastDay[month - 1]});
    lines.push_back({"5010", 12000, 6, 15});
    const auto output = Make({{"regular_tolerance", 0}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    // Counted from the 1st, day 31 holds only 7 lines (7 / 13 < 0.8); back from month end, 12 of 13 sit at 0.
    // 15 June is 15 days before month end: 225 / (225 + 9).
    EXPECT_NEAR(output->score[12], 225.0 / 234.0, 1e-12);
    EXPECT_EQ(output->reason[12],
              "Account 5010 is posted on the last day of the month (±0) in 12 of 12 months, but this entry is dated the "
              "15th (15 days before month end).");
}

TEST(TimeseriesTest, AccountPostedAllMonthIsNotRegular) {
    std::vector<Line> lines;
    for (int month = 1; month <= 8; ++month)
        for (int day = 1; day <= 28; day += 3) lines.push_back({"1930", 500, month, day});
    const auto output = Make({{"weekly", false}, {"threshold", 100.0}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (size_t i = 0; i < lines.size(); ++i) EXPECT_LT(output->score[i], 0.01) << i;
}

TEST(TimeseriesTest, RareSecondDayNeedsHalfTheMonths) {
    // Day 25 in 12 months plus day 12 in 10 of them (tax): both modal days; day 12 in only 8 months (< 3/4) is not.
    std::vector<Line> lines;
    for (int month = 1; month <= 12; ++month) {
        for (int k = 0; k < 4; ++k) lines.push_back({"2710", 5000, month, 25});
        if (month <= 10) lines.push_back({"2710", 5000, month, 12});
    }
    const nlohmann::json regular_only = {{"min_days", 100}};  // too few posting days for the daily profile
    const auto output = Make(regular_only)->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(output->score[i], 0.0) << i;

    std::vector<Line> few;
    for (int month = 1; month <= 12; ++month) {
        for (int k = 0; k < 4; ++k) few.push_back({"2710", 5000, month, 25});
        if (month <= 8) few.push_back({"2710", 5000, month, 12});
    }
    const auto flagged = Make(regular_only)->Run(MakeFrame(few), {});
    ASSERT_TRUE(flagged);
    // 48 of 56 lines near day 25 (0.857); the 12th is 13 − 2 = 11 days outside day 25 ± 2.
    EXPECT_NEAR(flagged->score[4], 121.0 / 130.0, 1e-12);
}

TEST(TimeseriesParamsTest, RejectsBadFieldsByPath) {
    const std::vector<std::pair<nlohmann::json, std::string>> cases = {
        {{{"threshold", 0}}, "p.threshold"},
        {{{"min_days", 1}}, "p.min_days"},
        {{{"shrinkage", -1}}, "p.shrinkage"},
        {{{"min_scale", 0}}, "p.min_scale"},
        {{{"weeks", 1}}, "p.weeks"},
        {{{"weekly", 1}}, "p.weekly"},
        {{{"regular_share", 0.5}}, "p.regular_share"},
        {{{"regular_share", 1.2}}, "p.regular_share"},
        {{{"regular_tolerance", -1}}, "p.regular_tolerance"},
        {{{"regular_tolerance", 8}}, "p.regular_tolerance"},
        {{{"regular_min_months", 1}}, "p.regular_min_months"},
        {{{"regular_threshold", 0}}, "p.regular_threshold"},
        {{{"regular_days", "yes"}}, "p.regular_days"},
        {{{"seasonal", true}}, "p.seasonal"},
    };
    testing::ExpectRejected<TimeseriesParams>(cases);
}

}  // namespace
}  // namespace granska::detect
