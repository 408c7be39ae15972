#include "detect/rules/duplicates.h"

#include <gtest/gtest.h>

#include <atomic>

#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules2_test_frame.h"

namespace granska::detect {
namespace {

using rules2_test::MakeTestFrame;
using rules2_test::TestLine;

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    auto params_or = DuplicatesParams::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(params_or) << params_or.error().message;
    return std::make_unique<Duplicates>(*params_or);
}

// A supplier invoice of three lines as voucher D <number> on date.
void AddInvoice(std::vector<TestLine>& lines, const std::string& number, const std::string& date,
                const std::string& text) {
    lines.push_back(
        {.account = "6540", .minor = 4'407'053, .date = date, .series = "D", .number = number, .text = text});
    lines.push_back(
        {.account = "2641", .minor = 1'101'763, .date = date, .series = "D", .number = number, .text = text});
    lines.push_back(
        {.account = "2440", .minor = -5'508'816, .date = date, .series = "D", .number = number, .text = text});
}

constexpr std::string_view kInvoiceText = "Leverantörsfaktura 5554923 IT-Driften i Väst AB";

// D 340 on 13 February (rows 0–2), an unrelated card purchase (row 3), D 400 on 15 February (rows 4–6).
std::vector<TestLine> InvoiceEnteredTwice() {
    std::vector<TestLine> lines;
    AddInvoice(lines, "340", "2024-02-13", std::string(kInvoiceText));
    lines.push_back(
        {.account = "5460", .minor = 68'981, .date = "2024-02-14", .series = "E", .number = "1", .text = "Kortköp"});
    AddInvoice(lines, "400", "2024-02-15", "LEVERANTÖRSFAKTURA  5554923 IT-Driften i Väst AB");
    return lines;
}

TEST(DuplicatesTest, TheLaterCopyScoresAndTheFirstStaysZero) {
    const auto output = Make({})->Run(MakeTestFrame(InvoiceEnteredTwice()), {});
    ASSERT_TRUE(output);
    // Same text (case and spaces normalised), 2 days apart: 0.9 × (1 − 0.5 × 2 / 30) = 0.87.
    for (const size_t i : {4, 5, 6}) EXPECT_NEAR(output->score[i], 0.87, 1e-12) << i;
    for (const size_t i : {0, 1, 2, 3}) EXPECT_EQ(output->score[i], 0.0) << i;
    EXPECT_EQ(output->confidence[0], 1.0);
}

TEST(DuplicatesTest, ReasonNamesAmountAccountMatchedRowAndWholeVoucher) {
    const auto output = Make({})->Run(MakeTestFrame(InvoiceEnteredTwice()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->reason[4],
              "Same amount 44 070.53 on account 6540 with the same text as row 1 (voucher D 340), 2 days earlier. "
              "The whole voucher D 400 repeats voucher D 340.");
    EXPECT_TRUE(output->reason[0].empty());
}

TEST(DuplicatesTest, FlagsTellExactFromNear) {
    std::vector<TestLine> lines = InvoiceEnteredTwice();
    AddInvoice(lines, "401", "2024-02-15", std::string(kInvoiceText));  // a third copy, same day as D 400
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    // D 401 (rows 7–9) repeats D 400 on the same day with the same text: exact, (0.9 + 0.1) × 1, and each amount now
    // occurs 3 times on its account: × 2 / 3. D 400 is 2 days after D 340: 0.9 × (1 − 0.5 × 2 / 30) × 2 / 3.
    EXPECT_NEAR(output->score[7], 2.0 / 3.0, 1e-12);
    EXPECT_NEAR(output->score[4], 0.87 * 2.0 / 3.0, 1e-12);
    ASSERT_EQ(output->flags.size(), 6u);
    for (const RuleFlag& flag : output->flags) {
        const auto meta = nlohmann::json::parse(flag.metadata);
        EXPECT_TRUE(flag.triggered);
        if (flag.row == 4) {
            EXPECT_EQ(flag.rule, "near");
            EXPECT_EQ(flag.value, 44070.53);
            EXPECT_EQ(meta["match_row"], 1);
            EXPECT_EQ(meta["match_voucher"], "D 340");
            EXPECT_EQ(meta["days"], 2);
            EXPECT_EQ(meta["match"], "same_text");
            EXPECT_EQ(meta["repeats_voucher"], "D 340");
        }
        if (flag.row == 7) {
            EXPECT_EQ(flag.rule, "exact");
            EXPECT_EQ(meta["match_voucher"], "D 400");
        }
    }
}

TEST(DuplicatesTest, AnOppositeAmountIsAPaymentNotACopy) {
    std::vector<TestLine> lines;
    AddInvoice(lines, "340", "2024-02-13", std::string(kInvoiceText));
    lines.push_back({.account = "2440",
                     .minor = 5'508'816,
                     .date = "2024-02-20",
                     .series = "E",
                     .number = "9",
                     .text = "Betalning leverantörsfaktura 5554923 IT-Driften i Väst AB"});
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[3], 0.0);
    EXPECT_TRUE(output->flags.empty());
}

TEST(DuplicatesTest, SimilarTextWithOtherDigitsIsANearMatch) {
    const std::vector<TestLine> lines = {
        {.account = "6540", .minor = 250'000, .date = "2024-05-01", .text = "Faktura 1234 Städbolaget AB"},
        {.account = "6540", .minor = 250'000, .date = "2024-05-06", .text = "Faktura 1243 Städbolaget AB"},
        {.account = "6540", .minor = 250'000, .date = "2024-05-07", .text = "Hyra maskin"},
    };
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    // Digits masked, the word sets are equal (Jaccard 1): 0.5 × (1 − 0.5 × 5 / 30); 2 500.00 occurs 3 times: × 2 / 3.
    EXPECT_NEAR(output->score[1], 0.5 * (1 - 0.5 * 5.0 / 30.0) * 2.0 / 3.0, 1e-12);
    EXPECT_EQ(output->reason[1], "Same amount 2 500.00 on account 6540 with similar text as row 1, 5 days earlier.");
    EXPECT_EQ(output->score[2], 0.0);  // different text, no counterparty
}

TEST(DuplicatesTest, CounterpartiesDecideWhenBothAreGiven) {
    const std::vector<TestLine> lines = {
        {.account = "4010", .minor = 99'900, .date = "2024-05-01", .text = "Inköp", .counterparty = "Acme AB"},
        {.account = "4010", .minor = 99'900, .date = "2024-05-04", .text = "Varor", .counterparty = "Acme AB"},
        {.account = "4010", .minor = 99'900, .date = "2024-05-05", .text = "Inköp", .counterparty = "Beta AB"},
    };
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    // Row 2: same counterparty, other text: 0.5 × (1 − 0.5 × 3 / 30); 999.00 occurs 3 times: × 2 / 3.
    EXPECT_NEAR(output->score[1], 0.5 * 0.95 * 2.0 / 3.0, 1e-12);
    EXPECT_NE(output->reason[1].find("with the same counterparty Acme AB as row 1"), std::string::npos);
    EXPECT_EQ(output->score[2], 0.0);  // same text as row 1, but another counterparty
}

TEST(DuplicatesTest, AMonthlyChargeWithoutReferenceScoresLow) {
    const std::vector<TestLine> lines = {
        {.account = "5010", .minor = 1'500'000, .date = "2024-01-31", .text = "Hyra lokal"},
        {.account = "5010", .minor = 1'500'000, .date = "2024-02-29", .text = "Hyra lokal"},
    };
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    // 29 days apart, no reference number: recurring, 0.2 × 0.4 × (1 − 0.5 × 29 / 30).
    EXPECT_NEAR(output->score[1], 0.2 * 0.4 * (1 - 0.5 * 29.0 / 30.0), 1e-12);
    EXPECT_TRUE(output->reason[1].empty());
    ASSERT_EQ(output->flags.size(), 1u);
    EXPECT_EQ(output->flags[0].rule, "recurring");
    EXPECT_FALSE(output->flags[0].triggered);
}

TEST(DuplicatesTest, APeriodicSeriesIsRecurring) {
    std::vector<TestLine> lines;
    for (const char* date : {"2024-03-01", "2024-03-08", "2024-03-15", "2024-03-22"})
        lines.push_back({.account = "6550", .minor = 80'000, .date = date, .text = "Städning vecka"});
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    // Each copy 7 days after the last, and the next gap is 7 days too: recurring, 0.2 × 0.4 × (1 − 0.5 × 7 / 30);
    // the amount occurs 4 times: × 2 / 4.
    for (const size_t i : {1, 2, 3})
        EXPECT_NEAR(output->score[i], 0.2 * 0.4 * (1 - 0.5 * 7.0 / 30.0) * 0.5, 1e-12) << i;
    EXPECT_EQ(output->score[0], 0.0);
}

TEST(DuplicatesTest, TheSameTextWithoutAReferenceNumberScoresLower) {
    const TestLine first{.account = "3001",
                         .minor = 14'300,
                         .date = "2024-06-03",
                         .series = "K",
                         .number = "1",
                         .text = "Kontantförsäljning kassa 1"};
    TestLine second = first;  // the next day's sale of the same price at the same till
    second.date = "2024-06-04";
    second.number = "2";
    const std::vector<TestLine> lines = {first, second};
    const auto output = Make({})->Run(MakeTestFrame(lines), {});
    ASSERT_TRUE(output);
    // "1" is no reference number (fewer than 3 digits): 0.4 × (1 − 0.5 × 1 / 30).
    EXPECT_NEAR(output->score[1], 0.4 * (1 - 0.5 / 30.0), 1e-12);
    ASSERT_EQ(output->flags.size(), 1u);
    EXPECT_EQ(nlohmann::json::parse(output->flags[0].metadata)["reference"], false);
}

TEST(DuplicatesTest, CopiesOutsideTheWindowAreNotMatched) {
    const auto output = Make({{"window_days", 1}})->Run(MakeTestFrame(InvoiceEnteredTwice()), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
}

TEST(DuplicatesTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    const auto output = Make({})->Run(MakeTestFrame(InvoiceEnteredTwice()), RunContext{.cancelled = &cancelled});
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().message, "cancelled");
}

TEST(DuplicatesParamsTest, RejectsBadFieldsByPath) {
    const auto window = DuplicatesParams::FromJson({{"window_days", -3}}, "algorithms[5].params");
    ASSERT_FALSE(window);
    EXPECT_EQ(window.error().column, "algorithms[5].params.window_days");
    const auto similarity = DuplicatesParams::FromJson({{"min_similarity", 1.2}}, "p");
    ASSERT_FALSE(similarity);
    EXPECT_EQ(similarity.error().column, "p.min_similarity");
    const auto wrong_type = DuplicatesParams::FromJson({{"window_days", "month"}}, "p");
    ASSERT_FALSE(wrong_type);
    EXPECT_EQ(wrong_type.error().column, "p.window_days");
    const auto unknown = DuplicatesParams::FromJson({{"window", 10}}, "p");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().column, "p.window");
}

}  // namespace
}  // namespace granska::detect
