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

RowFeatures Features(const Transaction& t) {
    static const HolidayCalendar sweden = *HolidayCalendar::ForCountry("SE");
    return ComputeRowFeatures(t, sweden);
}

TEST(RowFeaturesTest, SaturdayIsWeekend) {
    const RowFeatures features = Features(MakeTransaction(2024, 3, 30, 100));  // a Saturday
    EXPECT_EQ(features.weekday, 6);
    EXPECT_TRUE(features.is_weekend);
    EXPECT_EQ(features.month, 3);
    EXPECT_EQ(features.quarter, 1);
    EXPECT_EQ(features.day_of_month, 30);
}

TEST(RowFeaturesTest, FridayIsNotWeekend) {
    const RowFeatures features = Features(MakeTransaction(2024, 3, 28, 100));
    EXPECT_EQ(features.weekday, 4);
    EXPECT_FALSE(features.is_weekend);
    EXPECT_FALSE(features.is_holiday);
}

TEST(RowFeaturesTest, GoodFridayIsAHolidayButNotAWeekend) {
    const RowFeatures features = Features(MakeTransaction(2024, 3, 29, 100));  // Långfredagen 2024
    EXPECT_FALSE(features.is_weekend);
    EXPECT_TRUE(features.is_holiday);
    const HolidayCalendar none = *HolidayCalendar::ForCountry("none");
    EXPECT_FALSE(ComputeRowFeatures(MakeTransaction(2024, 3, 29, 100), none).is_holiday);
}

TEST(RowFeaturesTest, QuarterFollowsTheMonth) {
    EXPECT_EQ(Features(MakeTransaction(2024, 4, 1, 1)).quarter, 2);
    EXPECT_EQ(Features(MakeTransaction(2024, 9, 30, 1)).quarter, 3);
    EXPECT_EQ(Features(MakeTransaction(2024, 12, 31, 1)).quarter, 4);
}

TEST(RowFeaturesTest, HourOnlyWithATime) {
    Transaction t = MakeTransaction(2024, 1, 2, 100);
    EXPECT_EQ(Features(t).hour, std::nullopt);
    t.time_seconds = 23 * 3600 + 59 * 60;
    EXPECT_EQ(Features(t).hour, 23);
}

TEST(RowFeaturesTest, RoundnessIsTheLargestPowerOfTenDividingTheAmount) {
    EXPECT_EQ(Features(MakeTransaction(2024, 1, 2, 5'000'000)).round_exponent, 4);  // 50 000.00
    EXPECT_EQ(Features(MakeTransaction(2024, 1, 2, -120'000)).round_exponent, 2);   // -1 200.00: hundreds
    EXPECT_EQ(Features(MakeTransaction(2024, 1, 2, 12'340)).round_exponent, -1);    // 123.40
    EXPECT_EQ(Features(MakeTransaction(2024, 1, 2, 68'981)).round_exponent, -2);    // 689.81
    EXPECT_EQ(Features(MakeTransaction(2024, 1, 2, 0)).round_exponent, std::nullopt);
}

TEST(RowFeaturesTest, LeadingDigitsAreTheAmountsSignificantDigits) {
    const RowFeatures large = Features(MakeTransaction(2024, 1, 2, -68'981));  // -689.81
    EXPECT_EQ(large.first_digit, 6);
    EXPECT_EQ(large.first_two_digits, 68);
    const RowFeatures small = Features(MakeTransaction(2024, 1, 2, 7));  // 0.07
    EXPECT_EQ(small.first_digit, 7);
    EXPECT_EQ(small.first_two_digits, 0);
    const RowFeatures whole = Features(MakeTransaction(2024, 1, 2, 500));  // 5.00
    EXPECT_EQ(whole.first_digit, 5);
    EXPECT_EQ(whole.first_two_digits, 50);
    EXPECT_EQ(Features(MakeTransaction(2024, 1, 2, 0)).first_digit, 0);
}

TEST(RowFeaturesTest, LogAmountIsSymmetricAndZeroAtZero) {
    EXPECT_DOUBLE_EQ(Features(MakeTransaction(2024, 1, 1, 0)).log_amount, 0.0);
    const double positive = Features(MakeTransaction(2024, 1, 1, 99900)).log_amount;
    EXPECT_DOUBLE_EQ(positive, std::log(1000.0));
    EXPECT_DOUBLE_EQ(Features(MakeTransaction(2024, 1, 1, -99900)).log_amount, positive);
}

TEST(RowFeaturesTest, PostingLagCountsDaysFromTransactionToRegistration) {
    Transaction t = MakeTransaction(2024, 1, 30, 100);
    t.registration_date = *Date::FromYmd(2024, 3, 1);
    const RowFeatures features = Features(t);
    EXPECT_TRUE(features.has_registration_date);
    EXPECT_EQ(features.posting_lag_days, 31);  // 2024 is a leap year: Jan 30 → Mar 1
}

TEST(RowFeaturesTest, JsonHoldsEveryFeature) {
    Transaction t = MakeTransaction(2024, 1, 1, 100);  // Nyårsdagen, 1.00
    t.registration_date = *Date::FromYmd(2024, 1, 3);
    t.time_seconds = 13 * 3600 + 5 * 60;
    EXPECT_EQ(FeaturesToJson(Features(t)),
              R"({"weekday":1,"is_weekend":false,"is_holiday":true,"month":1,"quarter":1,"day_of_month":1,)"
              R"("log_amount":0.693147,"round_exponent":0,"first_digit":1,"first_two_digits":10,)"
              R"("posting_lag_days":2,"hour":13})");
}

}  // namespace
}  // namespace granska::transform
