#include "core/date.h"

#include <gtest/gtest.h>

#include <optional>

namespace granska {
namespace {

Date Ymd(int year, int month, int day) { return Date::FromYmd(year, month, day).value(); }

TEST(DateTest, EpochIsDayZero) { EXPECT_EQ(Ymd(1970, 1, 1).days, 0); }

TEST(DateTest, DayBeforeEpochIsNegative) { EXPECT_EQ(Ymd(1969, 12, 31).days, -1); }

TEST(DateTest, ReturnsItsYearMonthAndDay) {
    const Date date = Ymd(2024, 3, 31);
    EXPECT_EQ(date.Year(), 2024);
    EXPECT_EQ(date.Month(), 3);
    EXPECT_EQ(date.DayOfMonth(), 31);
}

TEST(DateTest, WritesIsoFormat) { EXPECT_EQ(Ymd(2024, 3, 5).ToString(), "2024-03-05"); }

TEST(DateTest, IsoWeekdayOfKnownDates) {
    EXPECT_EQ(Ymd(2024, 1, 1).IsoWeekday(), 1);    // Monday
    EXPECT_EQ(Ymd(1970, 1, 1).IsoWeekday(), 4);    // Thursday
    EXPECT_EQ(Ymd(2024, 2, 29).IsoWeekday(), 4);   // Thursday
    EXPECT_EQ(Ymd(2024, 3, 30).IsoWeekday(), 6);   // Saturday
    EXPECT_EQ(Ymd(2024, 3, 31).IsoWeekday(), 7);   // Sunday
    EXPECT_EQ(Ymd(1969, 12, 28).IsoWeekday(), 7);  // Sunday, before the epoch
}

TEST(DateTest, FromYmdRejectsImpossibleDates) {
    EXPECT_EQ(Date::FromYmd(2024, 2, 30), std::nullopt);
    EXPECT_EQ(Date::FromYmd(2023, 2, 29), std::nullopt);
    EXPECT_EQ(Date::FromYmd(2024, 13, 1), std::nullopt);
    EXPECT_EQ(Date::FromYmd(2024, 0, 1), std::nullopt);
    EXPECT_EQ(Date::FromYmd(2024, 1, 0), std::nullopt);
}

// std::chrono::day and month keep one byte: 257 must not wrap around to 1.
TEST(DateTest, FromYmdRejectsOutOfRangeComponentsInsteadOfWrapping) {
    EXPECT_EQ(Date::FromYmd(2024, 1, 257), std::nullopt);
    EXPECT_EQ(Date::FromYmd(2024, 257, 1), std::nullopt);
    EXPECT_EQ(Date::FromYmd(2024, -1, 1), std::nullopt);
    EXPECT_EQ(Date::FromYmd(2024, 1, -255), std::nullopt);
    EXPECT_EQ(Date::FromYmd(40000, 1, 1), std::nullopt);
}

TEST(ParseIsoDateTimeTest, ReadsDateOnlyWithoutTime) {
    const auto parsed = ParseIsoDateTime("2024-03-31");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->date, Ymd(2024, 3, 31));
    EXPECT_EQ(parsed->seconds_of_day, std::nullopt);
}

TEST(ParseIsoDateTimeTest, AcceptsLeapDay) { EXPECT_TRUE(ParseIsoDateTime("2024-02-29")); }

TEST(ParseIsoDateTimeTest, RejectsLeapDayInCommonYear) { EXPECT_FALSE(ParseIsoDateTime("2023-02-29")); }

TEST(ParseIsoDateTimeTest, RejectsFebruaryThirtieth) { EXPECT_FALSE(ParseIsoDateTime("2024-02-30")); }

TEST(ParseIsoDateTimeTest, RejectsBadMonthsAndDays) {
    EXPECT_FALSE(ParseIsoDateTime("2024-13-01"));
    EXPECT_FALSE(ParseIsoDateTime("2024-00-10"));
    EXPECT_FALSE(ParseIsoDateTime("2024-04-31"));
    EXPECT_FALSE(ParseIsoDateTime("2024-01-00"));
}

TEST(ParseIsoDateTimeTest, RejectsOtherDateFormats) {
    EXPECT_FALSE(ParseIsoDateTime("2024-1-01"));
    EXPECT_FALSE(ParseIsoDateTime("24-01-01"));
    EXPECT_FALSE(ParseIsoDateTime("2024/01/01"));
    EXPECT_FALSE(ParseIsoDateTime("01.02.2024"));
    EXPECT_FALSE(ParseIsoDateTime("20240101"));
    EXPECT_FALSE(ParseIsoDateTime(""));
    EXPECT_FALSE(ParseIsoDateTime("abc"));
}

TEST(ParseIsoDateTimeTest, RejectsYearsBefore1900) { EXPECT_FALSE(ParseIsoDateTime("1899-12-31")); }

TEST(ParseIsoDateTimeTest, IgnoresSurroundingSpaces) { EXPECT_TRUE(ParseIsoDateTime("  2024-03-31 ")); }

TEST(ParseIsoDateTimeTest, ReadsTimeAfterT) {
    const auto parsed = ParseIsoDateTime("2024-03-31T13:05");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->seconds_of_day, 13 * 3600 + 5 * 60);
}

TEST(ParseIsoDateTimeTest, ReadsTimeAfterSpaceWithSeconds) {
    const auto parsed = ParseIsoDateTime("2024-03-31 23:59:58");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->date, Ymd(2024, 3, 31));
    EXPECT_EQ(parsed->seconds_of_day, 23 * 3600 + 59 * 60 + 58);
}

TEST(ParseIsoDateTimeTest, DropsFractionalSeconds) {
    EXPECT_EQ(ParseIsoDateTime("2024-03-31T00:00:01.999")->seconds_of_day, 1);
    EXPECT_EQ(ParseIsoDateTime("2024-03-31T00:00:01,5")->seconds_of_day, 1);
}

TEST(ParseIsoDateTimeTest, ClampsLeapSecond) {
    EXPECT_EQ(ParseIsoDateTime("2016-12-31T23:59:60")->seconds_of_day, 86399);
}

TEST(ParseIsoDateTimeTest, IgnoresZones) {
    for (const char* text :
         {"2024-03-31T13:05:00Z", "2024-03-31T13:05:00+01:00", "2024-03-31T13:05-0530", "2024-03-31T13:05:00+02"}) {
        const auto parsed = ParseIsoDateTime(text);
        ASSERT_TRUE(parsed) << text;
        EXPECT_EQ(parsed->seconds_of_day, 13 * 3600 + 5 * 60) << text;
    }
}

TEST(ParseIsoDateTimeTest, RejectsBadZones) {
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T13:05+1"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T13:05+01:0"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T13:05 CET"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T13:05+25:00"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T13:05+01:60"));
}

TEST(ParseIsoDateTimeTest, RejectsBadTimes) {
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T24:00"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T12:60"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T12:00:61"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T13"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T1:05"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31X13:05"));
    EXPECT_FALSE(ParseIsoDateTime("2024-03-31T13:05:"));
}

TEST(FormatTimeOfDayTest, WritesHoursMinutesSeconds) {
    EXPECT_EQ(FormatTimeOfDay(13 * 3600 + 5 * 60), "13:05:00");
    EXPECT_EQ(FormatTimeOfDay(0), "00:00:00");
    EXPECT_EQ(FormatTimeOfDay(86399), "23:59:59");
}

}  // namespace
}  // namespace granska
