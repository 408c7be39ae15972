#include "transform/frame.h"

#include <gtest/gtest.h>

namespace granska::transform {
namespace {

store::StoredTransaction Stored(std::string id, int year, int month, int day, int64_t minor, std::string account,
                                std::optional<int32_t> time = std::nullopt) {
    store::StoredTransaction stored;
    stored.id = std::move(id);
    stored.transaction.date = *Date::FromYmd(year, month, day);
    stored.transaction.amount = Money{minor};
    stored.transaction.account = std::move(account);
    stored.transaction.time_seconds = time;
    return stored;
}

TEST(FrameBuilderTest, DerivedColumnsFollowEveryRow) {
    FrameBuilder builder;
    const std::vector<store::StoredTransaction> rows = {
        Stored("a", 2024, 12, 24, 5'000'000, "5010", 9 * 3600),  // Julafton, a Tuesday; 50 000.00 at 09:00
        Stored("b", 2024, 7, 13, -68'981, "1930"),               // a Saturday; -689.81
        Stored("c", 2024, 4, 2, 0, "5010")};                     // an ordinary Tuesday; zero
    builder.Append(rows);
    const TransactionFrame frame = std::move(builder).Finish();
    ASSERT_EQ(frame.size(), 3u);
    EXPECT_EQ(frame.is_holiday, (std::vector<uint8_t>{1, 0, 0}));
    EXPECT_EQ(frame.is_weekend, (std::vector<uint8_t>{0, 1, 0}));
    EXPECT_EQ(frame.quarter, (std::vector<int8_t>{4, 3, 2}));
    EXPECT_EQ(frame.hour, (std::vector<int8_t>{9, -1, -1}));
    EXPECT_EQ(frame.round_exponent, (std::vector<int8_t>{4, -2, -2}));
    EXPECT_EQ(frame.first_digit, (std::vector<int8_t>{5, 6, 0}));
    EXPECT_EQ(frame.first_two_digits, (std::vector<int8_t>{50, 68, 0}));
    EXPECT_EQ(frame.account.values[static_cast<size_t>(frame.account.codes[2])], "5010");
    EXPECT_EQ(frame.account.codes[0], frame.account.codes[2]);
}

TEST(FrameBuilderTest, EveryNumericFeatureNameGivesOneValuePerRow) {
    FrameBuilder builder;
    const std::vector<store::StoredTransaction> rows = {Stored("a", 2024, 1, 1, 100, "1930"),
                                                        Stored("b", 2024, 1, 2, 250, "1930")};
    builder.Append(rows);
    const TransactionFrame frame = std::move(builder).Finish();
    for (const std::string_view name : TransactionFrame::NumericFeatureNames()) {
        EXPECT_EQ(frame.NumericFeature(name).size(), 2u) << name;
    }
    EXPECT_EQ(frame.NumericFeature("amount"), (std::vector<double>{1.0, 2.5}));
    EXPECT_EQ(frame.NumericFeature("is_holiday"), (std::vector<double>{1.0, 0.0}));  // Nyårsdagen
    EXPECT_TRUE(frame.NumericFeature("no_such_feature").empty());
}

}  // namespace
}  // namespace granska::transform
