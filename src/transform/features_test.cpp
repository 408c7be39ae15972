#include "transform/features.h"

#include <gtest/gtest.h>

#include <cmath>

namespace granska::transform {
namespace {

Transaction MakeTransaction(int year, int month, int day, int64_t minor) {
    Transaction t;
    t.date = *Date::FromYmd(year, month, day);
    t.amount = Money{minor};
    return t;
}

TEST(RowFeaturesTest, SaturdayIsWeekend) {
    const RowFeatures features = ComputeRowFeatures(MakeTransaction(2024, 3, 30, 100));  // a Saturday
    EXPECT_EQ(features.weekday, 6);
    EXPECT_TRUE(features.is_weekend);
    EXPECT_EQ(features.month, 3);
    EXPECT_EQ(features.day_of_month, 30);
}

TEST(RowFeaturesTest, FridayIsNotWeekend) {
    const RowFeatures features = ComputeRowFeatures(MakeTransaction(2024, 3, 29, 100));
    EXPECT_EQ(features.weekday, 5);
    EXPECT_FALSE(features.is_weekend);
}

TEST(RowFeaturesTest, LogAmountIsSymmetricAndZeroAtZero) {
    EXPECT_DOUBLE_EQ(ComputeRowFeatures(MakeTransaction(2024, 1, 1, 0)).log_amount, 0.0);
    const double positive = ComputeRowFeatures(MakeTransaction(2024, 1, 1, 99900)).log_amount;
    EXPECT_DOUBLE_EQ(positive, std::log(1000.0));
    EXPECT_DOUBLE_EQ(ComputeRowFeatures(MakeTransaction(2024, 1, 1, -99900)).log_amount, positive);
}

TEST(RowFeaturesTest, PostingLagCountsDaysFromTransactionToRegistration) {
    Transaction t = MakeTransaction(2024, 1, 30, 100);
    t.registration_date = *Date::FromYmd(2024, 3, 1);
    const RowFeatures features = ComputeRowFeatures(t);
    EXPECT_TRUE(features.has_registration_date);
    EXPECT_EQ(features.posting_lag_days, 31);  // 2024 is a leap year: Jan 30 → Mar 1
}

TEST(RowFeaturesTest, JsonHoldsEveryFeature) {
    Transaction t = MakeTransaction(2024, 1, 1, 100);
    t.registration_date = *Date::FromYmd(2024, 1, 3);
    EXPECT_EQ(
        FeaturesToJson(ComputeRowFeatures(t)),
        R"({"weekday":1,"is_weekend":false,"month":1,"day_of_month":1,"log_amount":0.693147,"posting_lag_days":2})");
}

}  // namespace
}  // namespace granska::transform
