#include <gtest/gtest.h>

#include <cmath>

#include "engine/analysis.h"

namespace granska::engine {
namespace {

class CombineTest : public ::testing::Test {
protected:
    CombineTest() { detect::RegisterBuiltinAlgorithms(registry_); }

    strategy::Strategy Parse(std::string_view json) {
        auto parsed = strategy::ParseStrategy(json, registry_);
        EXPECT_TRUE(parsed) << parsed.error().message;
        return std::move(*parsed);
    }

    static detect::AlgorithmOutput Output(std::vector<double> scores, std::vector<std::string> reasons = {}) {
        detect::AlgorithmOutput output(scores.size());
        output.score = std::move(scores);
        if (!reasons.empty()) output.reason = std::move(reasons);
        return output;
    }

    detect::Registry registry_;
};

TEST_F(CombineTest, WeightedMeanUsesTheWeights) {
    const auto strategy = Parse(R"({"name": "s", "algorithms": [{"name": "zscore", "weight": 1},
                                                                 {"name": "zscore", "label": "z2", "weight": 3}]})");
    const std::vector<detect::AlgorithmOutput> outputs = {Output({0.8, 0.0}), Output({0.4, 1.0})};
    const std::vector<int64_t> rows = {1, 2};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_DOUBLE_EQ(combined.score[0], (0.8 + 3 * 0.4) / 4);
    EXPECT_DOUBLE_EQ(combined.score[1], 0.75);
    EXPECT_EQ(combined.rank[1], 1);
    EXPECT_EQ(combined.rank[0], 2);
}

TEST_F(CombineTest, MaxTakesTheHighestScore) {
    const auto strategy = Parse(R"({"name": "s", "combine": {"method": "max"},
        "algorithms": [{"name": "zscore", "weight": 1}, {"name": "zscore", "label": "z2", "weight": 3}]})");
    const std::vector<detect::AlgorithmOutput> outputs = {Output({0.8, 0.1}), Output({0.4, 0.2})};
    const std::vector<int64_t> rows = {1, 2};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_DOUBLE_EQ(combined.score[0], 0.8);
    EXPECT_DOUBLE_EQ(combined.score[1], 0.2);
}

TEST_F(CombineTest, NoisyOrLetsOneStrongFindingRankAndWeakOnesAddUp) {
    const auto strategy = Parse(R"({"name": "s", "combine": {"method": "noisy_or"},
        "algorithms": [{"name": "zscore", "weight": 1}, {"name": "zscore", "label": "z2", "weight": 0.5}]})");
    const std::vector<detect::AlgorithmOutput> outputs = {Output({0.9, 0.0, 0.5, 1.0}), Output({0.0, 0.9, 0.5, 0.0})};
    const std::vector<int64_t> rows = {1, 2, 3, 4};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_NEAR(combined.score[0], 0.9, 1e-12);                      // 1 − 0.1
    EXPECT_NEAR(combined.score[1], 1 - std::sqrt(0.1), 1e-12);       // half the evidence: 1 − 0.1^0.5 = 0.684
    EXPECT_NEAR(combined.score[2], 1 - 0.5 * std::sqrt(0.5), 1e-12);  // 1 − 0.5 · 0.5^0.5 = 0.646
    EXPECT_NEAR(combined.score[3], 1.0, 1e-11);
    EXPECT_EQ(combined.rank, (std::vector<int64_t>{2, 3, 4, 1}));
}

TEST_F(CombineTest, TopPercentRoundsUpAndSkipsZeroScores) {
    const auto strategy = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"}],
                                    "threshold": {"type": "top_percent", "value": 15}})");
    // 10 rows at 15 % → ceil(1.5) = 2 flagged.
    std::vector<double> scores = {0.1, 0.9, 0.2, 0.3, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0};
    const std::vector<int64_t> rows = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const std::vector<detect::AlgorithmOutput> outputs = {Output(scores)};
    Combined combined = Combine(strategy, outputs, rows);
    EXPECT_EQ(combined.flagged_count, 2);
    EXPECT_EQ(combined.flagged, (std::vector<uint8_t>{0, 1, 0, 0, 1, 0, 0, 0, 0, 0}));

    // With only one non-zero score, only that one is flagged.
    const std::vector<detect::AlgorithmOutput> sparse = {Output({0, 0, 0, 0.4, 0, 0, 0, 0, 0, 0})};
    combined = Combine(strategy, sparse, rows);
    EXPECT_EQ(combined.flagged_count, 1);
    EXPECT_EQ(combined.flagged[3], 1);
}

TEST_F(CombineTest, ScoreThresholdFlagsEveryRowAtOrAboveIt) {
    const auto strategy = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"}],
                                    "threshold": {"type": "score", "value": 0.5}})");
    const std::vector<detect::AlgorithmOutput> outputs = {Output({0.5, 0.49, 0.7, 0.2})};
    const std::vector<int64_t> rows = {1, 2, 3, 4};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_EQ(combined.flagged, (std::vector<uint8_t>{1, 0, 1, 0}));
}

TEST_F(CombineTest, TopKFlagsExactlyK) {
    const auto strategy = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"}],
                                    "threshold": {"type": "top_k", "value": 3}})");
    const std::vector<detect::AlgorithmOutput> outputs = {Output({0.1, 0.2, 0.3, 0.4, 0.5})};
    const std::vector<int64_t> rows = {1, 2, 3, 4, 5};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_EQ(combined.flagged, (std::vector<uint8_t>{0, 0, 1, 1, 1}));
}

TEST_F(CombineTest, TiesRankInFileOrder) {
    const auto strategy = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"}]})");
    const std::vector<detect::AlgorithmOutput> outputs = {Output({0.5, 0.5, 0.9})};
    const std::vector<int64_t> rows = {1, 2, 3};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_EQ(combined.rank, (std::vector<int64_t>{2, 3, 1}));
}

TEST_F(CombineTest, ReasonsComeStrongestContributionFirst) {
    const auto strategy = Parse(R"({"name": "s", "algorithms": [{"name": "zscore", "weight": 1},
                                                                 {"name": "zscore", "label": "z2", "weight": 2}]})");
    const std::vector<detect::AlgorithmOutput> outputs = {Output({0.9, 0.0}, {"first says", ""}),
                                                          Output({0.6, 0.0}, {"second says", ""})};
    const std::vector<int64_t> rows = {1, 2};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_EQ(combined.reasons[0], (std::vector<std::string>{"second says", "first says"}));  // 1.2 > 0.9
    EXPECT_TRUE(combined.reasons[1].empty());

    // After the first, a faint finding (score below 0.25) is left out.
    const std::vector<detect::AlgorithmOutput> faint = {Output({0.9, 0.2}, {"strong", "faint only"}),
                                                        Output({0.2, 0.0}, {"faint", ""})};
    const Combined filtered = Combine(strategy, faint, rows);
    EXPECT_EQ(filtered.reasons[0], (std::vector<std::string>{"strong"}));
    EXPECT_EQ(filtered.reasons[1], (std::vector<std::string>{"faint only"}));  // the only one is kept
}

TEST_F(CombineTest, PerVoucherLinesTakeTheirVouchersHighestScoreAndSayWhy) {
    const auto strategy = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"}],
                                    "combine": {"method": "weighted_mean", "per_voucher": true},
                                    "threshold": {"type": "top_k", "value": 3}})");
    // Rows 1-3 are voucher A 1, row 4 is A 2, row 5 has no voucher.
    const transform::CategoryColumn vouchers{.codes = {0, 0, 0, 1, 2}, .values = {"A 1", "A 2", ""}};
    const std::vector<detect::AlgorithmOutput> outputs = {
        Output({0.1, 0.8, 0.3, 0.5, 0.05}, {"", "big amount", "", "odd", ""})};
    const std::vector<int64_t> rows = {1, 2, 3, 4, 5};
    const Combined combined = Combine(strategy, outputs, rows, &vouchers);
    EXPECT_EQ(combined.score, (std::vector<double>{0.8, 0.8, 0.8, 0.5, 0.05}));
    EXPECT_EQ(combined.flagged, (std::vector<uint8_t>{1, 1, 1, 0, 0}));  // the whole voucher A 1
    EXPECT_EQ(combined.rank, (std::vector<int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(combined.reasons[0], (std::vector<std::string>{"Voucher A 1, row 2: big amount"}));
    EXPECT_EQ(combined.reasons[1], (std::vector<std::string>{"big amount"}));
    EXPECT_TRUE(combined.reasons[4].empty());

    // Without the column (or with per_voucher off) every line keeps its own score.
    const Combined plain = Combine(strategy, outputs, rows);
    EXPECT_DOUBLE_EQ(plain.score[0], 0.1);
    EXPECT_FALSE(strategy::ParseStrategy(R"({"name": "s", "algorithms": [{"name": "zscore"}],
                                   "combine": {"method": "max", "per_voucher": 1}})",
                               registry_));
}

TEST_F(CombineTest, AverageOfMaximumTakesEachGroupsHighestThenTheirWeightedMean) {
    // Groups: "ml" = {a (w 1), b (w 3)} weighing 2, "rules" = {c (w 1)} weighing 1.
    const auto strategy = Parse(R"({"name": "s", "combine": {"method": "average_of_maximum"}, "algorithms": [
        {"name": "zscore", "label": "a", "group": "ml", "weight": 1},
        {"name": "zscore", "label": "b", "group": "ml", "weight": 3},
        {"name": "benford", "label": "c", "group": "rules", "weight": 1}]})");
    const std::vector<detect::AlgorithmOutput> outputs = {Output({0.9, 0.1}), Output({0.3, 0.2}), Output({0.0, 0.6})};
    const std::vector<int64_t> rows = {1, 2};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_DOUBLE_EQ(combined.score[0], (2 * 0.9 + 1 * 0.0) / 3);
    EXPECT_DOUBLE_EQ(combined.score[1], (2 * 0.2 + 1 * 0.6) / 3);
}

TEST_F(CombineTest, ContaminationFlagsThatShareOfTheRows) {
    const auto strategy = Parse(R"({"name": "s", "algorithms": [{"name": "zscore"}],
                                    "threshold": {"type": "contamination", "value": 0.25}})");
    // 10 rows, 25 %: ceil(2.5) = 3 flagged, the highest three.
    const std::vector<detect::AlgorithmOutput> outputs = {
        Output({0.1, 0.9, 0.2, 0.8, 0.3, 0.05, 0.7, 0.0, 0.4, 0.01})};
    const std::vector<int64_t> rows = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const Combined combined = Combine(strategy, outputs, rows);
    EXPECT_EQ(combined.flagged_count, 3);
    EXPECT_EQ(combined.flagged, (std::vector<uint8_t>{0, 1, 0, 1, 0, 0, 1, 0, 0, 0}));
}

}  // namespace
}  // namespace granska::engine
