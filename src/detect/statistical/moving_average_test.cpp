#include "detect/statistical/moving_average.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/statistical/detail/test_support.h"

namespace granska::detect {
namespace {

struct Line {
    std::string account;
    double amount;  // major units
    int day;        // of January 2024
};

transform::TransactionFrame MakeFrame(const std::vector<Line>& lines) {
    std::vector<testing::TestLine> test_lines;
    for (const Line& line : lines)
        test_lines.push_back({line.account, line.amount, Date{Date::FromYmd(2024, 1, 1)->days + line.day - 1}});
    return testing::MakeFrame(test_lines);
}

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    return testing::MakeAlgorithm<MovingAverageParams, MovingAverage>(params);
}

using testing::Score;

TEST(MovingAverageTest, SmaComparesWithThePreviousWindowInDateOrder) {
    // The 130.00 line comes first in the file but is dated last: it is compared with the four lines before it.
    const std::vector<Line> lines = {{"A", 130, 9}, {"A", 100, 1}, {"A", 102, 2}, {"A", 98, 3}, {"A", 100, 4}};
    const auto output = Make({{"method", "sma"},
                              {"window", 4},
                              {"min_history", 4},
                              {"value", "amount"},
                              {"min_spread", 0.01},
                              {"recurrence_days", 0}})
                            ->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    // Average (100 + 102 + 98 + 100) / 4 = 100. Forecast errors: 102 vs 100 → 2, 98 vs 101 → 3, 100 vs 100 → 0;
    // spread = 1.2533 × 5 / 3 = 2.0888; z = 30 / 2.0888 = 14.36.
    const double z = 30.0 / (1.2533 * 5.0 / 3.0);
    EXPECT_NEAR(output->score[0], Score(z, 4.0), 1e-9);
    EXPECT_EQ(output->reason[0],
              "Amount 130.00 is 14.4 deviations above account A's moving average 100.00 over its previous 4 lines.");
    EXPECT_NEAR(output->confidence[0], 4.0 / 8.0, 1e-12);
    for (size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(output->score[i], 0.0) << i;  // history, not scored
}

TEST(MovingAverageTest, EwmaWeighsRecentLines) {
    const std::vector<Line> lines = {{"A", 10, 1}, {"A", 12, 2}, {"A", 14, 3}, {"A", 30, 4}};
    const auto output = Make({{"method", "ewma"},
                              {"alpha", 0.5},
                              {"min_history", 3},
                              {"value", "amount"},
                              {"min_spread", 0.01},
                              {"recurrence_days", 0}})
                            ->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    // Weights max(α, 1/n): average 10 → (10 + 12) / 2 = 11 → 11 + 0.5 × (14 − 11) = 12.5.
    // Errors 2 (vs 10), 3 (vs 11): mean error 2 → 2 + 0.5 × (3 − 2) = 2.5; spread 1.2533 × 2.5.
    const double z = (30.0 - 12.5) / (1.2533 * 2.5);
    EXPECT_NEAR(output->score[3], Score(z, 4.0), 1e-9);
    EXPECT_NE(output->reason[3].find("Amount 30.00 is 5.6 deviations above account A's exponentially weighted moving "
                                     "average 12.50 (alpha 0.5) over its previous 3 lines."),
              std::string::npos)
        << output->reason[3];
}

TEST(MovingAverageTest, FlatHistoryUsesTheSpreadFloor) {
    std::vector<Line> lines;
    for (int d = 1; d <= 12; ++d) lines.push_back({"A", 1000, d});
    lines.push_back({"A", 1500, 13});
    const auto output = Make({})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[11], 0.0);  // equal to its history
    // Every error is 0: the spread is the floor 0.1 log units. z = (ln 1501 − ln 1001) / 0.1 = 4.05.
    const double z = (std::log(1501.0) - std::log(1001.0)) / 0.1;
    EXPECT_NEAR(output->score[12], Score(z, 4.0), 1e-6);
    EXPECT_NE(output->reason[12].find("Amount 1 500.00 is 4.1 deviations larger than account A's"), std::string::npos)
        << output->reason[12];
}

TEST(MovingAverageTest, ShortAccountsAreNotScored) {
    std::vector<Line> lines;
    for (int d = 1; d <= 10; ++d) lines.push_back({"A", 100, d});
    lines.push_back({"B", 1'000'000, 1});
    const auto output = Make({{"min_history", 10}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
}

TEST(MovingAverageTest, AccountsKeepTheirOwnHistory) {
    // A and B interleave; B's amounts are 1 000× A's but each is flat within its account.
    std::vector<Line> lines;
    for (int d = 1; d <= 15; ++d) {
        lines.push_back({"A", 100.0 + d, d});
        lines.push_back({"B", 100'000.0 + 1000.0 * d, d});
    }
    const auto output = Make({})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (size_t i = 0; i < lines.size(); ++i) EXPECT_LT(output->score[i], 0.05) << i;
}

TEST(MovingAverageTest, DefaultDirectionHighIgnoresDrops) {
    std::vector<Line> lines;
    for (int d = 1; d <= 12; ++d) lines.push_back({"A", 1000, d});
    lines.push_back({"A", 10, 13});
    const auto both = Make({{"direction", "both"}})->Run(MakeFrame(lines), {});
    const auto high = Make({})->Run(MakeFrame(lines), {});  // high is the default
    ASSERT_TRUE(both && high);
    EXPECT_GT(both->score[12], 0.9);
    EXPECT_NE(both->reason[12].find("smaller than account A's"), std::string::npos) << both->reason[12];
    EXPECT_EQ(high->score[12], 0.0);
    EXPECT_EQ(high->reason[12], "");
}

TEST(MovingAverageTest, AnOutlierDoesNotHideTheNextOne) {
    // Two huge lines in a row: the first enters the history clipped, so the second still stands out.
    std::vector<Line> lines;
    for (int d = 1; d <= 20; ++d) lines.push_back({"A", 1000.0 + 10.0 * (d % 3), d});
    lines.push_back({"A", 500'000, 21});
    lines.push_back({"A", 500'000, 22});
    const auto output = Make({{"recurrence_days", 0}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    EXPECT_GT(output->score[20], 0.95);
    EXPECT_GT(output->score[21], 0.9);
}

TEST(MovingAverageTest, ASizeReachedWithinRecurrenceDaysIsNotNews) {
    // 100.00 every day, a 10 000.00 settlement on 31 January and again on 29 February (29 days later).
    std::vector<Line> lines;
    for (int d = 1; d <= 30; ++d) lines.push_back({"A", 100, d});
    lines.push_back({"A", 10'000, 31});
    for (int d = 32; d <= 59; ++d) lines.push_back({"A", 100, d});
    lines.push_back({"A", 10'000, 60});
    const auto guarded = Make({{"recurrence_days", 35}})->Run(MakeFrame(lines), {});
    const auto plain = Make({})->Run(MakeFrame(lines), {});  // off by default
    ASSERT_TRUE(guarded && plain);
    EXPECT_GT(guarded->score[30], 0.95);  // the first settlement is news
    // The second equals the largest line of the previous 35 days: only the part beyond it counts, here none.
    EXPECT_EQ(guarded->score[59], 0.0);
    EXPECT_GT(plain->score[59], 0.95);
}

TEST(MovingAverageParamsTest, RejectsBadFieldsByPath) {
    const std::vector<std::pair<nlohmann::json, std::string>> cases = {
        {{{"method", "median"}}, "p.method"},
        {{{"window", 1}}, "p.window"},
        {{{"alpha", 0}}, "p.alpha"},
        {{{"alpha", 1.5}}, "p.alpha"},
        {{{"value", "weekday"}}, "p.value"},
        {{{"direction", "up"}}, "p.direction"},
        {{{"threshold", 0}}, "p.threshold"},
        {{{"min_history", 1}}, "p.min_history"},
        {{{"min_spread", -0.1}}, "p.min_spread"},
        {{{"windows", 5}}, "p.windows"},
        {{{"window", "20"}}, "p.window"},
        {{{"recurrence_days", -1}}, "p.recurrence_days"},
    };
    testing::ExpectRejected<MovingAverageParams>(cases);
    EXPECT_TRUE(MovingAverageParams::FromJson({{"alpha", 1.0}, {"method", "sma"}}, "p"));
}

}  // namespace
}  // namespace granska::detect
