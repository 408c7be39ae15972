#include "detect/rules/periodization.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules1_testing.h"

namespace granska::detect {
namespace {

using rules1::MakeFrame;
using rules1::TestRow;

Periodization Make(const nlohmann::json& params) {
    return rules1::MakeAlgorithm<Periodization, PeriodizationParams>(params);
}

const RuleFlag* FlagOf(const AlgorithmOutput& output, size_t row, std::string_view rule) {
    for (const RuleFlag& flag : output.flags) {
        if (flag.row == row && flag.rule == rule) return &flag;
    }
    return nullptr;
}

TEST(PeriodizationTest, LatePostingScoresTheWeightedLag) {
    const auto frame = MakeFrame({
        {.date = "2024-02-09", .registration = "2024-03-24"},  // 44 days, into February (closed 2024-03-10)
        {.date = "2024-01-10", .registration = "2024-01-15"},  // 5 days: ordinary
        {.date = "2024-01-30", .registration = "2024-02-20"},  // 21 days, at period end, into closed January
        {.date = "2024-12-20", .registration = "2025-02-15"},  // 57 days, into the closed fiscal year 2024
        {.date = "2024-03-01", .registration = "2024-04-05"},  // 35 days, March not yet closed
    });
    const auto output = Make({{"reversal", false}}).Run(frame, {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[0], 4356.0 / (4356.0 + 900.0), 1e-12);  // w 1.5: 66² / (66² + 30²)
    EXPECT_EQ(output->score[1], 0.0);
    EXPECT_NEAR(output->score[2], 1350.5625 / 2250.5625, 1e-12);        // w 1.75: 36.75² / (36.75² + 30²)
    EXPECT_NEAR(output->score[3], 12996.0 / (12996.0 + 900.0), 1e-12);  // w 2: 114² / (114² + 30²)
    EXPECT_NEAR(output->score[4], 1225.0 / 2125.0, 1e-12);              // w 1: 35² / (35² + 30²)
    EXPECT_EQ(output->reason[0],
              "Dated 2024-02-09 but registered 2024-03-24, 44 days later (limit 30), which dates it into February "
              "2024, closed on 2024-03-10.");
    EXPECT_EQ(output->reason[2],
              "Dated 2024-01-30 but registered 2024-02-20, 21 days later (limit 30), which dates it into January "
              "2024, closed on 2024-02-10, at the period end.");
    EXPECT_EQ(output->reason[3],
              "Dated 2024-12-20 but registered 2025-02-15, 57 days later (limit 30), which dates it into fiscal "
              "year 2024, closed on 2025-01-10.");
    EXPECT_EQ(output->reason[4], "Dated 2024-03-01 but registered 2024-04-05, 35 days later (limit 30).");
    ASSERT_EQ(output->flags.size(), 4u);
    const RuleFlag* flag = FlagOf(*output, 0, "late_posting");
    ASSERT_NE(flag, nullptr);
    EXPECT_EQ(flag->value, 44.0);
    const auto metadata = nlohmann::json::parse(flag->metadata);
    EXPECT_EQ(metadata["closed_period"], true);
    EXPECT_EQ(metadata["closed_year"], false);
    EXPECT_EQ(metadata["period_close"], "2024-03-10");
    EXPECT_EQ(nlohmann::json::parse(FlagOf(*output, 3, "late_posting")->metadata)["closed_year"], true);
}

// Rows 0-1: accrual A 9 at January's end; rows 2-3: its mirror A 11 on 5 February; rows 4-6: ordinary 5410 lines.
std::vector<TestRow> AccrualAndReversal() {
    return {
        {.date = "2024-01-31", .minor = 6'346'133, .account = "5410", .voucher = "A 9"},
        {.date = "2024-01-31", .minor = -6'346'133, .account = "2990", .voucher = "A 9"},
        {.date = "2024-02-05", .minor = 6'346'133, .account = "2990", .voucher = "A 11"},
        {.date = "2024-02-05", .minor = -6'346'133, .account = "5410", .voucher = "A 11"},
        {.date = "2024-01-15", .minor = 200'000, .account = "5410", .voucher = "B 1"},
        {.date = "2024-01-16", .minor = 200'000, .account = "5410", .voucher = "B 2"},
        {.date = "2024-01-17", .minor = 200'000, .account = "5410", .voucher = "B 3"},
    };
}

TEST(PeriodizationTest, ReversalScoresBothLinesBySizeAgainstTheAccountMedian) {
    const auto output = Make({}).Run(MakeFrame(AccrualAndReversal()), {});
    ASSERT_TRUE(output);
    // 5410: median of 63 461.33, 63 461.33, 2 000 × 3 is 2 000.00; ratio 31.730665, x = log10(ratio) + 0.5.
    const double x = std::log10(63'461.33 / 2'000.0) + 0.5;
    EXPECT_NEAR(output->score[0], x * x / (x * x + 0.5625), 1e-12);
    EXPECT_NEAR(output->score[0], 0.876872, 1e-6);
    EXPECT_NEAR(output->score[3], output->score[0], 1e-12);
    // 2990: both lines are 63 461.33, ratio 1, x = 0.5: 0.25 / 0.8125.
    EXPECT_NEAR(output->score[1], 0.25 / 0.8125, 1e-12);
    EXPECT_NEAR(output->score[2], 0.25 / 0.8125, 1e-12);
    EXPECT_EQ(output->score[4], 0.0);
    EXPECT_EQ(
        output->reason[0],
        "Period-end entry of 63 461.33 on 5410 on 2024-01-31 reversed on 2024-02-05 (5 days into the next period), "
        "31.7 times the account's median amount 2 000.00.");
    EXPECT_EQ(output->reason[3],
              "Reverses 63 461.33 posted on 5410 on 2024-01-31, 5 days into the next period (2024-02-05), 31.7 "
              "times the account's median amount 2 000.00.");
    const RuleFlag* flag = FlagOf(*output, 0, "reversal");
    ASSERT_NE(flag, nullptr);
    EXPECT_DOUBLE_EQ(flag->value, 63'461.33);
    const auto metadata = nlohmann::json::parse(flag->metadata);
    EXPECT_EQ(metadata["matched_row"], "4");  // external id of row 3
    EXPECT_EQ(metadata["days_into_next_period"], 5);
    EXPECT_EQ(metadata["counter_accounts_matched"], true);
    EXPECT_EQ(output->flags.size(), 4u);
    EXPECT_EQ(output->confidence[0], 1.0);
}

TEST(PeriodizationTest, PaymentOfAPeriodEndInvoiceIsNoReversal) {
    // 2440 is credited by the invoice and debited by the payment, but the counter accounts differ (6540 vs 1930).
    const std::vector<TestRow> rows = {
        {.date = "2024-01-30", .minor = 500'000, .account = "6540", .voucher = "D 1"},
        {.date = "2024-01-30", .minor = -500'000, .account = "2440", .voucher = "D 1"},
        {.date = "2024-02-08", .minor = 500'000, .account = "2440", .voucher = "E 1"},
        {.date = "2024-02-08", .minor = -500'000, .account = "1930", .voucher = "E 1"},
    };
    const auto strict = Make({}).Run(MakeFrame(rows), {});
    const auto loose = Make({{"match_counter_account", false}}).Run(MakeFrame(rows), {});
    ASSERT_TRUE(strict && loose);
    EXPECT_TRUE(strict->flags.empty());
    EXPECT_EQ(strict->score[1], 0.0);
    EXPECT_NE(FlagOf(*loose, 1, "reversal"), nullptr);
    EXPECT_NE(FlagOf(*loose, 2, "reversal"), nullptr);
}

TEST(PeriodizationTest, ReversalOutsideTheWindowsIsNotMatched) {
    const std::vector<TestRow> rows = {
        {.date = "2024-01-31", .minor = 100'000, .account = "6530"},   // period end ...
        {.date = "2024-02-15", .minor = -100'000, .account = "6530"},  // ... but reversed 15 days in
        {.date = "2024-01-20", .minor = 200'000, .account = "6530"},   // not at period end ...
        {.date = "2024-02-02", .minor = -200'000, .account = "6530"},  // ... reversed early
    };
    const auto output = Make({}).Run(MakeFrame(rows), {});
    ASSERT_TRUE(output);
    EXPECT_TRUE(output->flags.empty());
    const auto wider = Make({{"reversal_days", 15}}).Run(MakeFrame(rows), {});
    ASSERT_TRUE(wider);
    EXPECT_NE(FlagOf(*wider, 0, "reversal"), nullptr);
}

TEST(PeriodizationTest, LinesWithoutVouchersPairWithHalfConfidence) {
    const std::vector<TestRow> rows = {
        {.date = "2024-01-30", .minor = 100'000, .account = "6530"},
        {.date = "2024-02-01", .minor = -100'000, .account = "6530"},
    };
    const auto output = Make({}).Run(MakeFrame(rows), {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[0], 0.25 / 0.8125, 1e-12);  // median 1 000.00: ratio 1
    EXPECT_EQ(output->confidence[0], 0.5);
    EXPECT_EQ(output->confidence[1], 0.5);
    EXPECT_EQ(output->reason[0],
              "Period-end entry of 1 000.00 on 6530 on 2024-01-30 reversed on 2024-02-01 (1 day into the next "
              "period), 1.0 times the account's median amount 1 000.00.");
    EXPECT_EQ(nlohmann::json::parse(FlagOf(*output, 1, "reversal")->metadata)["counter_accounts_matched"], false);
}

TEST(PeriodizationTest, SubRulesSwitchOff) {
    std::vector<TestRow> rows = AccrualAndReversal();
    rows.push_back({.date = "2024-02-09", .registration = "2024-03-24"});
    const auto no_reversal = Make({{"reversal", false}}).Run(MakeFrame(rows), {});
    const auto no_late = Make({{"late_posting", false}}).Run(MakeFrame(rows), {});
    ASSERT_TRUE(no_reversal && no_late);
    ASSERT_EQ(no_reversal->flags.size(), 1u);
    EXPECT_EQ(no_reversal->flags[0].rule, "late_posting");
    EXPECT_EQ(no_late->flags.size(), 4u);
    for (const RuleFlag& flag : no_late->flags) EXPECT_EQ(flag.rule, "reversal");
}

TEST(PeriodizationParamsTest, RejectsBadFieldsByPath) {
    const auto lag = PeriodizationParams::FromJson({{"max_lag_days", 0}}, "algorithms[3].params");
    ASSERT_FALSE(lag);
    EXPECT_EQ(lag.error().column, "algorithms[3].params.max_lag_days");
    const auto close = PeriodizationParams::FromJson({{"close_days", -1}}, "p");
    ASSERT_FALSE(close);
    EXPECT_EQ(close.error().column, "p.close_days");
    const auto end = PeriodizationParams::FromJson({{"period_end_days", 29}}, "p");
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error().column, "p.period_end_days");
    const auto window = PeriodizationParams::FromJson({{"reversal_days", 0}}, "p");
    ASSERT_FALSE(window);
    EXPECT_EQ(window.error().column, "p.reversal_days");
    const auto none = PeriodizationParams::FromJson({{"late_posting", false}, {"reversal", false}}, "p");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().column, "p.late_posting");
    const auto type = PeriodizationParams::FromJson({{"match_counter_account", 1}}, "p");
    ASSERT_FALSE(type);
    EXPECT_EQ(type.error().column, "p.match_counter_account");
}

}  // namespace
}  // namespace granska::detect
