#include "detect/statistical/zscore.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace granska::detect {
namespace {

struct Line {
    std::string account;
    int64_t minor;
};

transform::TransactionFrame MakeFrame(const std::vector<Line>& lines) {
    std::vector<store::StoredTransaction> rows;
    for (size_t i = 0; i < lines.size(); ++i) {
        store::StoredTransaction row;
        row.id = "id-" + std::to_string(i);
        row.transaction.row_number = static_cast<int64_t>(i + 1);
        row.transaction.external_id = std::to_string(i + 1);
        row.transaction.date = *Date::FromYmd(2024, 1, 1);
        row.transaction.account = lines[i].account;
        row.transaction.amount = Money{lines[i].minor};
        rows.push_back(std::move(row));
    }
    transform::FrameBuilder builder;
    builder.Append(rows);
    return std::move(builder).Finish();
}

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    auto params_or = ZscoreParams::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(params_or) << params_or.error().message;
    return std::make_unique<Zscore>(*params_or);
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
