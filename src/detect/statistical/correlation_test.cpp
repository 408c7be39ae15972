#include "detect/statistical/correlation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>

namespace granska::detect {
namespace {

struct Line {
    std::string voucher;  // "" = no voucher number
    std::string account;
    int64_t minor;
    int day = 1;  // of January 2024
    std::string counterparty;
    std::string text;
};

transform::TransactionFrame MakeFrame(const std::vector<Line>& lines) {
    std::vector<store::StoredTransaction> rows;
    for (size_t i = 0; i < lines.size(); ++i) {
        store::StoredTransaction row;
        row.id = "id-" + std::to_string(i);
        row.transaction.row_number = static_cast<int64_t>(i + 1);
        row.transaction.external_id = std::to_string(i + 1);
        row.transaction.date = *Date::FromYmd(2024, 1, lines[i].day);
        row.transaction.account = lines[i].account;
        row.transaction.amount = Money{lines[i].minor};
        row.transaction.counterparty = lines[i].counterparty;
        row.transaction.text = lines[i].text;
        if (!lines[i].voucher.empty()) {
            row.transaction.voucher_series = "A";
            row.transaction.voucher_number = lines[i].voucher;
        }
        rows.push_back(std::move(row));
    }
    transform::FrameBuilder builder;
    builder.Append(rows);
    return std::move(builder).Finish();
}

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    auto params_or = CorrelationParams::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(params_or) << params_or.error().message;
    return std::make_unique<Correlation>(*params_or);
}

// Appends a voucher booking amount (öre) from debit to credit.
void Book(std::vector<Line>& lines, int number, const std::string& debit, const std::string& credit, int64_t minor) {
    lines.push_back({std::to_string(number), debit, minor});
    lines.push_back({std::to_string(number), credit, -minor});
}

// 40 sales 1510/3041, 40 purchases 6540/2440, one voucher with a one-off account 9999, and (last, rows 162 and
// 163) expense 6540 booked against revenue 3041.
std::vector<Line> PlantedPair() {
    std::vector<Line> lines;
    int number = 1;
    for (int i = 0; i < 40; ++i) Book(lines, number++, "1510", "3041", (100 + i) * 100);
    for (int i = 0; i < 40; ++i) Book(lines, number++, "6540", "2440", (200 + i) * 100);
    Book(lines, number++, "6540", "9999", 300 * 100);
    Book(lines, number++, "6540", "3041", 500 * 100);
    return lines;
}

TEST(CorrelationPairsTest, RarePairOfEstablishedAccountsScoresBothLines) {
    const auto lines = PlantedPair();
    const auto output = Make({{"ratios", false}, {"splits", false}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    // N = 82 vouchers; 6540 is in 42, 3041 in 41; the pair in 1. E = 42·41/82 = 21; u = 21 / 1; t = 3.
    const double u = 42.0 * 41.0 / 82.0;
    const double expected = u * u / (u * u + 9.0);
    EXPECT_NEAR(output->score[162], expected, 1e-12);
    EXPECT_NEAR(output->score[163], expected, 1e-12);
    EXPECT_NEAR(output->confidence[162], 41.0 / 61.0, 1e-12);  // the rarer account's vouchers / (that + 20)
    EXPECT_EQ(output->reason[163],
              "Account pair 6540/3041 appears in 1 of 82 vouchers, though 6540 is in 42 and 3041 in 41 "
              "(about 21 expected if they were unrelated).");
    for (size_t i = 0; i < 162; ++i) EXPECT_EQ(output->score[i], 0.0) << i;
}

TEST(CorrelationPairsTest, RareAccountAloneIsNotAPairAnomaly) {
    const auto output = Make({{"ratios", false}, {"splits", false}})->Run(MakeFrame(PlantedPair()), {});
    ASSERT_TRUE(output);
    // 6540/9999: 9999 is in 1 voucher (< 20), so the pair says nothing.
    EXPECT_EQ(output->score[160], 0.0);
    EXPECT_EQ(output->score[161], 0.0);
    EXPECT_TRUE(output->reason[161].empty());
}

TEST(CorrelationPairsTest, PairsSeenOftenEnoughOrAccountsTooYoungAreLeftAlone) {
    // With min_account_vouchers 43 neither 6540 (42) nor 3041 (41) is established; "pairs": false turns it off.
    const auto output =
        Make({{"ratios", false}, {"splits", false}, {"min_account_vouchers", 43}})->Run(MakeFrame(PlantedPair()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(output->score[162], 0.0);
    const auto off = Make({{"pairs", false}, {"splits", false}})->Run(MakeFrame(PlantedPair()), {});
    ASSERT_TRUE(off);
    EXPECT_EQ(off->score[162], 0.0);
}

TEST(CorrelationPairsTest, SameSideAccountsAreNotPaired) {
    // 6540 and 3041 both debited against 2440: they share the debit side, so no debit-credit pair 6540/3041.
    std::vector<Line> lines;
    int number = 1;
    for (int i = 0; i < 40; ++i) Book(lines, number++, "1510", "3041", (100 + i) * 100);
    for (int i = 0; i < 40; ++i) Book(lines, number++, "6540", "2440", (200 + i) * 100);
    lines.push_back({"900", "6540", 100'00});
    lines.push_back({"900", "3041", 50'00});
    lines.push_back({"900", "2440", -150'00});
    const auto output = Make({{"ratios", false}, {"splits", false}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    // 3041/2440 is a real debit-credit pair in 1 voucher: n = 41 and 41 of 81 → u = 41·41/81 = 20.75.
    const double u = 41.0 * 41.0 / 81.0;
    EXPECT_NEAR(output->score[161], u * u / (u * u + 9.0), 1e-12);  // 3041
    EXPECT_NEAR(output->score[162], u * u / (u * u + 9.0), 1e-12);  // 2440
    EXPECT_EQ(output->score[160], 0.0);                             // 6540/2440 is common
}

// 40 vouchers with VAT 2641 at 25 % of cost 5410, 10 at 12 %, one with two cost accounts (another shape), and
// (last, rows 154..156) VAT at 31 %.
std::vector<Line> PlantedRatio() {
    std::vector<Line> lines;
    int number = 1;
    const auto purchase = [&](int64_t cost, int64_t vat) {
        const std::string v = std::to_string(number++);
        lines.push_back({v, "5410", cost});
        lines.push_back({v, "2641", vat});
        lines.push_back({v, "2440", -(cost + vat)});
    };
    for (int i = 0; i < 40; ++i) purchase((1000 + 100 * i) * 100, (1000 + 100 * i) * 25);
    for (int i = 0; i < 10; ++i) purchase((1000 + 10 * i) * 100, (1000 + 10 * i) * 12);
    lines.push_back({"90", "5410", 1000'00});
    lines.push_back({"90", "6110", 400'00});
    lines.push_back({"90", "2641", 350'00});
    lines.push_back({"90", "2440", -1750'00});
    purchase(1000'00, 310'00);
    return lines;
}

TEST(CorrelationRatiosTest, RatioAwayFromEveryModeScores) {
    const auto output = Make({{"pairs", false}, {"splits", false}})->Run(MakeFrame(PlantedRatio()), {});
    ASSERT_TRUE(output);
    // Shape 3, pair 5410/2641: 51 vouchers, ratios 0.25 ×40, 0.12 ×10, 0.31 ×1; 80 % of 51 = 40.8 needs both
    // modes. d = ln(0.31 / 0.25), t = ln 1.02; score = (d − t)² / ((d − t)² + t²).
    const double t = std::log(1.02);
    const double d = std::log(0.31 / 0.25);
    const double vat_score = (d - t) * (d - t) / ((d - t) * (d - t) + t * t);
    EXPECT_NEAR(output->score[154], vat_score, 1e-9);  // 5410
    EXPECT_NEAR(output->score[155], vat_score, 1e-9);  // 2641
    EXPECT_NEAR(output->confidence[155], 51.0 / 81.0, 1e-12);
    EXPECT_EQ(output->reason[155],
              "Account 2641 is 31.0% of account 5410 in this voucher; in 51 vouchers with both (and 3 accounts in "
              "all) it is 25.0% (or 12.0%).");
    // 2440 takes its strongest pair, 2641/2440: ratios 5.00 and 9.33 (shown inverted), here 1 310 / 310.
    const double d_payable = std::log(5.0 / (1310.0 / 310.0));
    EXPECT_NEAR(output->score[156], (d_payable - t) * (d_payable - t) / ((d_payable - t) * (d_payable - t) + t * t),
                1e-9);
    EXPECT_EQ(output->reason[156],
              "Account 2641 is 23.7% of account 2440 in this voucher; in 51 vouchers with both (and 3 accounts in "
              "all) it is 20.0% (or 10.7%).");
}

TEST(CorrelationRatiosTest, ModalVouchersAndOtherShapesScoreZero) {
    const auto output = Make({{"pairs", false}, {"splits", false}})->Run(MakeFrame(PlantedRatio()), {});
    ASSERT_TRUE(output);
    for (size_t i = 0; i < 154; ++i) EXPECT_EQ(output->score[i], 0.0) << i;  // incl. the 4-account voucher
}

TEST(CorrelationRatiosTest, TooFewModesCoveringTheVouchersMeansNoPattern) {
    // One mode may cover only 40 of 51 (< 80 %): the pair has no pattern, and nothing scores.
    const auto output =
        Make({{"pairs", false}, {"splits", false}, {"max_modes", 1}})->Run(MakeFrame(PlantedRatio()), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
}

TEST(CorrelationRatiosTest, RepeatedIdenticalVouchersAreOneObservation) {
    // Four monthly bills repeated 10 times each (40 vouchers, 4 distinct ratios) and one other: 5 distinct
    // observations < 30, so the pair has no pattern and the odd one out is not flagged.
    std::vector<Line> lines;
    int number = 1;
    for (int month = 0; month < 10; ++month) {
        for (int bill = 0; bill < 4; ++bill) {
            const std::string v = std::to_string(number++);
            lines.push_back({v, "5910", (1000 + 700 * bill) * 100});
            lines.push_back({v, "5460", (100 + 10 * bill) * 100});
            lines.push_back({v, "1930", -(1100 + 710 * bill) * 100});
        }
    }
    lines.push_back({"999", "5910", 5000'00});
    lines.push_back({"999", "5460", 77'00});
    lines.push_back({"999", "1930", -5077'00});
    const auto output = Make({{"pairs", false}, {"splits", false}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
}

TEST(CorrelationRatiosTest, SmallDifferencesInAmountAreIgnored) {
    // ratio_min_difference 300: 2641 is 60.00 off 25 % of 5410, 2440 60.00 off 125 % of 5410 and 240.00 off
    // 5 × 2641; every break is smaller than 300.00.
    const auto output = Make({{"pairs", false}, {"splits", false}, {"ratio_min_difference", 300.0}})
                            ->Run(MakeFrame(PlantedRatio()), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
}

std::vector<Line> SplitPayments() {
    return {
        {"1", "2440", -46'000'00, 1, "Kontorsmöbler AB"},
        {"2", "2440", -48'500'00, 3, "Kontorsmöbler AB"},
        {"3", "2440", -30'000'00, 4, "Kontorsmöbler AB"},  // not just under the limit
        {"4", "2440", -49'900'00, 5, "Kontorsmöbler AB"},
        {"5", "2440", -49'000'00, 12, "Kontorsmöbler AB"},  // 7 days after the last: outside the window
        {"6", "2440", -47'000'00, 2, "Pappersgrossisten AB"},
        {"7", "2440", -47'000'00, 3, "Pappersgrossisten AB"},  // only two
    };
}

TEST(CorrelationSplitsTest, SequenceJustUnderTheLimitScoresEveryMember) {
    const auto output = Make({{"pairs", false}, {"ratios", false}})->Run(MakeFrame(SplitPayments()), {});
    ASSERT_TRUE(output);
    const double expected = 9.0 / (9.0 + 4.0);  // n = 3, t = split_min_count − 1 = 2
    for (const size_t row : {0, 1, 3}) EXPECT_NEAR(output->score[row], expected, 1e-12) << row;
    for (const size_t row : {2, 4, 5, 6}) EXPECT_EQ(output->score[row], 0.0) << row;
    EXPECT_EQ(output->confidence[0], 1.0);
    EXPECT_EQ(output->reason[3],
              "3 payments to Kontorsmöbler AB within 5 days, each just under 50 000.00 (total 144 400.00).");
}

TEST(CorrelationSplitsTest, EveryMemberGetsTheLongestSequenceItBelongsTo) {
    // Days 1..4: the window ending on day 3 has 3 members, the one ending on day 4 has 4; all four score n = 4.
    std::vector<Line> lines;
    for (int day = 1; day <= 4; ++day) lines.push_back({std::to_string(day), "2440", -45'500'00, day, "Bygg AB"});
    const auto output = Make({{"pairs", false}, {"ratios", false}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (size_t row = 0; row < 4; ++row) EXPECT_NEAR(output->score[row], 16.0 / (16.0 + 4.0), 1e-12) << row;
    EXPECT_EQ(output->reason[0], "4 payments to Bygg AB within 4 days, each just under 50 000.00 (total 182 000.00).");
}

TEST(CorrelationSplitsTest, TextWithoutDigitsIsTheKeyWhenThereIsNoCounterparty) {
    std::vector<Line> lines;
    for (int i = 0; i < 3; ++i)
        lines.push_back({"", "2440", -48'000'00, 8, "", "Faktura " + std::to_string(1001 + i) + "  Kontorsmöbler AB "});
    const auto output = Make({{"pairs", false}, {"ratios", false}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (size_t row = 0; row < 3; ++row) EXPECT_NEAR(output->score[row], 9.0 / 13.0, 1e-12) << row;
    EXPECT_EQ(output->reason[2],
              "3 payments with text \"Faktura Kontorsmöbler AB\" on the same day, each just under 50 000.00 "
              "(total 144 000.00).");
}

TEST(CorrelationSplitsTest, LinesOfOneVoucherCountAsOnePayment) {
    // Two vouchers, each paying 49 000.00 from 1930 to 2440: four lines in the band but only two payments.
    std::vector<Line> lines;
    for (const std::string v : {"1", "2"}) {
        lines.push_back({v, "2440", 49'000'00, 2, "Bygg AB"});
        lines.push_back({v, "1930", -49'000'00, 2, "Bygg AB"});
    }
    const auto output = Make({{"pairs", false}, {"ratios", false}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(output);
    for (const double score : output->score) EXPECT_EQ(score, 0.0);
    const auto two = Make({{"pairs", false}, {"ratios", false}, {"split_min_count", 2}})->Run(MakeFrame(lines), {});
    ASSERT_TRUE(two);
    for (const double score : two->score) EXPECT_NEAR(score, 4.0 / 5.0, 1e-12);  // n = 2, t = 1
}

TEST(CorrelationTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    RunContext context;
    context.cancelled = &cancelled;
    const auto output = Make({})->Run(MakeFrame(PlantedPair()), context);
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().message, "cancelled");
}

TEST(CorrelationTest, RegisteredAsStatistical) {
    Registry registry;
    RegisterBuiltinAlgorithms(registry);
    const AlgorithmInfo* info = registry.Find("correlation");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->type, AlgorithmType::kStatistical);
    EXPECT_EQ(info->params.size(), 16u);
}

TEST(CorrelationParamsTest, RejectsEachBadFieldByPath) {
    const std::vector<std::pair<nlohmann::json, std::string>> cases = {
        {{{"pairs", false}, {"ratios", false}, {"splits", false}}, "pairs"},
        {{{"pairs", 1}}, "pairs"},
        {{{"rare_pair_count", 0}}, "rare_pair_count"},
        {{{"min_account_vouchers", 0}}, "min_account_vouchers"},
        {{{"pair_surprise", 1.0}}, "pair_surprise"},
        {{{"max_voucher_lines", 1}}, "max_voucher_lines"},
        {{{"max_voucher_lines", 1001}}, "max_voucher_lines"},
        {{{"ratios", "yes"}}, "ratios"},
        {{{"min_pair_vouchers", 1}}, "min_pair_vouchers"},
        {{{"mode_coverage", 0.0}}, "mode_coverage"},
        {{{"mode_coverage", 1.5}}, "mode_coverage"},
        {{{"max_modes", 0}}, "max_modes"},
        {{{"ratio_tolerance", 0.0}}, "ratio_tolerance"},
        {{{"ratio_tolerance", 1.0}}, "ratio_tolerance"},
        {{{"ratio_min_difference", -1.0}}, "ratio_min_difference"},
        {{{"splits", nullptr}}, "splits"},
        {{{"split_min_count", 1}}, "split_min_count"},
        {{{"split_window_days", 0}}, "split_window_days"},
        {{{"split_threshold", 0.0}}, "split_threshold"},
        {{{"split_threshold", 1e14}}, "split_threshold"},
        {{{"split_margin", 0.0}}, "split_margin"},
        {{{"split_margin", 1.0}}, "split_margin"},
        {{{"rare_pairs", 3}}, "rare_pairs"},
    };
    for (const auto& [json, field] : cases) {
        const auto params = CorrelationParams::FromJson(json, "algorithms[1].params");
        ASSERT_FALSE(params) << json.dump();
        EXPECT_EQ(params.error().column, "algorithms[1].params." + field) << json.dump();
    }
}

TEST(CorrelationParamsTest, DefaultsAreTheDocumentedOnes) {
    const auto params = CorrelationParams::FromJson(nlohmann::json::object(), "p");
    ASSERT_TRUE(params);
    EXPECT_EQ(params->rare_pair_count, 10);
    EXPECT_EQ(params->min_account_vouchers, 20);
    EXPECT_EQ(params->split_min_count, 3);
    EXPECT_EQ(params->split_window_days, 7);
    EXPECT_EQ(params->split_threshold, 50'000.0);
    EXPECT_EQ(params->split_margin, 0.1);
}

}  // namespace
}  // namespace granska::detect
