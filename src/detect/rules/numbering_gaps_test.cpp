#include "detect/rules/numbering_gaps.h"

#include <gtest/gtest.h>

#include <atomic>

#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules2_test_frame.h"

namespace granska::detect {
namespace {

using rules2_test::MakeTestFrame;
using rules2_test::TestLine;

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    auto params_or = NumberingGapsParams::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(params_or) << params_or.error().message;
    return std::make_unique<NumberingGaps>(*params_or);
}

TestLine Voucher(const std::string& series, const std::string& number, const std::string& date) {
    return {.date = date, .series = series, .number = number};
}

// Series A: A 1, A 2, A 3, A 6, A 7, A 8 on consecutive days (rows 0–5): A 4 and A 5 are missing.
std::vector<TestLine> SeriesWithGap() {
    return {Voucher("A", "1", "2024-01-02"), Voucher("A", "2", "2024-01-03"), Voucher("A", "3", "2024-01-04"),
            Voucher("A", "6", "2024-01-05"), Voucher("A", "7", "2024-01-06"), Voucher("A", "8", "2024-01-07")};
}

// Series B: B 1..B 7 dated 1..7 March, except B 4 dated 10 February (rows 0–6).
std::vector<TestLine> SeriesOutOfOrder() {
    std::vector<TestLine> lines;
    for (int n = 1; n <= 7; ++n)
        lines.push_back(Voucher("B", std::to_string(n), n == 4 ? "2024-02-10" : "2024-03-0" + std::to_string(n)));
    return lines;
}

TEST(NumberingGapsTest, VouchersNextToAGapScoreTheGapScore) {
    const auto output = Make({})->Run(MakeTestFrame(SeriesWithGap()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[2], 0.3);  // A 3, before the gap
    EXPECT_EQ(output->score[3], 0.3);  // A 6, after it
    EXPECT_EQ(output->score[0], 0.0);
    EXPECT_EQ(output->score[4], 0.0);
    EXPECT_NEAR(output->confidence[2], 6.0 / 26.0, 1e-12);  // 6 vouchers in the series
    EXPECT_EQ(output->reason[3], "Voucher numbers A 4–A 5 are missing in series A (between A 3 and A 6).");
}

TEST(NumberingGapsTest, GapFlagsListTheMissingNumbersOnBothSides) {
    const auto output = Make({{"gap_score", 0.4}})->Run(MakeTestFrame(SeriesWithGap()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[3], 0.4);
    ASSERT_EQ(output->flags.size(), 2u);
    for (const RuleFlag& flag : output->flags) {
        EXPECT_EQ(flag.rule, "gap");
        EXPECT_EQ(flag.value, 2.0);
        const auto meta = nlohmann::json::parse(flag.metadata);
        EXPECT_EQ(meta["missing"], nlohmann::json::array({4, 5}));
        EXPECT_EQ(meta["missing_count"], 2);
        EXPECT_EQ(meta["before"], "A 3");
        EXPECT_EQ(meta["after"], "A 6");
        EXPECT_EQ(meta["side"], flag.row == 2 ? "before" : "after");
    }
}

TEST(NumberingGapsTest, ASingleMissingNumberAndLongGapsListTwentyNumbers) {
    const std::vector<TestLine> lines = {Voucher("C", "1", "2024-01-02"), Voucher("C", "3", "2024-01-03"),
                                         Voucher("C", "100", "2024-01-04")};
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->reason[0], "Voucher number C 2 is missing in series C (between C 1 and C 3).");
    bool long_gap = false;
    for (const RuleFlag& flag : output->flags) {
        const auto meta = nlohmann::json::parse(flag.metadata);
        if (meta["missing_count"] != 96) continue;
        long_gap = true;
        EXPECT_EQ(meta["missing"].size(), 20u);
        EXPECT_EQ(meta["missing"][0], 4);
        EXPECT_EQ(meta["missing_last"], 99);
    }
    EXPECT_TRUE(long_gap);
}

TEST(NumberingGapsTest, AVoucherDatedFarFromItsNeighboursIsOutOfOrder) {
    const auto output = Make({})->Run(MakeTestFrame(SeriesOutOfOrder()), {});
    ASSERT_TRUE(output);
    // B 4: medians of B 1–B 3 (2 March) and B 5–B 7 (6 March); 10 February is 21 days before 2 March.
    // Score 21² / (21² + 7²) = 441 / 490 = 0.9.
    EXPECT_NEAR(output->score[3], 0.9, 1e-12);
    EXPECT_EQ(output->reason[3], "Voucher B 4 is dated 2024-02-10, but B 3 is dated 2024-03-03 and B 5 2024-03-05.");
    for (const size_t i : {0, 1, 2, 4, 5, 6}) EXPECT_EQ(output->score[i], 0.0) << i;
    ASSERT_EQ(output->flags.size(), 1u);
    EXPECT_EQ(output->flags[0].rule, "out_of_order");
    EXPECT_EQ(output->flags[0].value, 21.0);
    const auto meta = nlohmann::json::parse(output->flags[0].metadata);
    EXPECT_EQ(meta["expected_from"], "2024-03-02");
    EXPECT_EQ(meta["expected_to"], "2024-03-06");
}

TEST(NumberingGapsTest, TheEndsOfASeriesAreOnlyJudgedAgainstTheirOneSide) {
    // E 1 a month before E 2: a series may start any time earlier. E 5 dated before E 2–E 4: out of order.
    const std::vector<TestLine> lines = {Voucher("E", "1", "2024-01-02"), Voucher("E", "2", "2024-02-01"),
                                         Voucher("E", "3", "2024-02-02"), Voucher("E", "4", "2024-02-03"),
                                         Voucher("E", "5", "2024-01-20")};
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[0], 0.0);
    // E 5: 2024-01-20 is 13 days before the median 2024-02-02 of E 2–E 4: 13² / (13² + 7²) = 169 / 218.
    EXPECT_NEAR(output->score[4], 169.0 / 218.0, 1e-12);
    EXPECT_EQ(output->reason[4], "Voucher E 5 is dated 2024-01-20, but E 4 is dated 2024-02-03.");
}

TEST(NumberingGapsTest, DeviationsWithinTheToleranceAreAccepted) {
    const auto output = Make({{"tolerance_days", 21}})->Run(MakeTestFrame(SeriesOutOfOrder()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[3], 0.0);
    EXPECT_TRUE(output->flags.empty());
}

TEST(NumberingGapsTest, NonNumericNumbersAreSkipped) {
    const std::vector<TestLine> lines = {Voucher("D", "X1", "2024-01-02"),
                                         Voucher("D", "X5", "2024-01-03"),
                                         Voucher("D", "7a", "2024-01-04"),
                                         {.date = "2024-01-05"}};
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
    EXPECT_TRUE(output->flags.empty());
}

TEST(NumberingGapsTest, NumberingRestartsEveryFiscalYear) {
    const std::vector<TestLine> lines = {Voucher("A", "1", "2023-12-01"), Voucher("A", "2", "2023-12-02"),
                                         Voucher("A", "1", "2024-01-02"), Voucher("A", "2", "2024-01-03")};
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
    EXPECT_TRUE(output->flags.empty());
}

TEST(NumberingGapsTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    const auto output = Make({})->Run(MakeTestFrame(SeriesWithGap()), RunContext{.cancelled = &cancelled});
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().message, "cancelled");
}

TEST(NumberingGapsParamsTest, RejectsBadFieldsByPath) {
    const auto score = NumberingGapsParams::FromJson({{"gap_score", 0}}, "algorithms[2].params");
    ASSERT_FALSE(score);
    EXPECT_EQ(score.error().column, "algorithms[2].params.gap_score");
    const auto tolerance = NumberingGapsParams::FromJson({{"tolerance_days", -1}}, "p");
    ASSERT_FALSE(tolerance);
    EXPECT_EQ(tolerance.error().column, "p.tolerance_days");
    const auto neighbours = NumberingGapsParams::FromJson({{"neighbours", 0}}, "p");
    ASSERT_FALSE(neighbours);
    EXPECT_EQ(neighbours.error().column, "p.neighbours");
    const auto wrong_type = NumberingGapsParams::FromJson({{"tolerance_days", 1.5}}, "p");
    ASSERT_FALSE(wrong_type);
    EXPECT_EQ(wrong_type.error().column, "p.tolerance_days");
}

}  // namespace
}  // namespace granska::detect
