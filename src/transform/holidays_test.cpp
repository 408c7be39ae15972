#include "transform/holidays.h"

#include <gtest/gtest.h>

namespace granska::transform {
namespace {

Date Ymd(int year, int month, int day) { return *Date::FromYmd(year, month, day); }

TEST(EasterSundayTest, MatchesPublishedDates) {
    // Easter Sunday as church calendars list it, including the earliest (22 March) and latest (25 April) cases.
    EXPECT_EQ(EasterSunday(2024), Ymd(2024, 3, 31));
    EXPECT_EQ(EasterSunday(2025), Ymd(2025, 4, 20));
    EXPECT_EQ(EasterSunday(2026), Ymd(2026, 4, 5));
    EXPECT_EQ(EasterSunday(2019), Ymd(2019, 4, 21));
    EXPECT_EQ(EasterSunday(1818), Ymd(1818, 3, 22));
    EXPECT_EQ(EasterSunday(1943), Ymd(1943, 4, 25));
    EXPECT_EQ(EasterSunday(2038), Ymd(2038, 4, 25));
}

TEST(HolidayCalendarTest, SwedishHolidaysOf2024) {
    const auto calendar = HolidayCalendar::ForCountry("SE");
    ASSERT_TRUE(calendar);
    // Every public holiday and non-working eve of 2024, worked out by hand (Easter 31 March).
    const std::pair<Date, std::string_view> expected[] = {
        {Ymd(2024, 1, 1), "Nyårsdagen"},        {Ymd(2024, 1, 6), "Trettondedag jul"},
        {Ymd(2024, 3, 29), "Långfredagen"},     {Ymd(2024, 3, 30), "Påskafton"},
        {Ymd(2024, 3, 31), "Påskdagen"},        {Ymd(2024, 4, 1), "Annandag påsk"},
        {Ymd(2024, 5, 1), "Första maj"},        {Ymd(2024, 5, 9), "Kristi himmelsfärdsdag"},
        {Ymd(2024, 5, 19), "Pingstdagen"},      {Ymd(2024, 6, 6), "Sveriges nationaldag"},
        {Ymd(2024, 6, 21), "Midsommarafton"},   {Ymd(2024, 6, 22), "Midsommardagen"},
        {Ymd(2024, 11, 2), "Alla helgons dag"}, {Ymd(2024, 12, 24), "Julafton"},
        {Ymd(2024, 12, 25), "Juldagen"},        {Ymd(2024, 12, 26), "Annandag jul"},
        {Ymd(2024, 12, 31), "Nyårsafton"}};
    int holidays = 0;
    for (Date day = Ymd(2024, 1, 1); day <= Ymd(2024, 12, 31); day.days++) holidays += calendar->IsHoliday(day);
    EXPECT_EQ(holidays, 17);
    for (const auto& [date, name] : expected) {
        EXPECT_TRUE(calendar->IsHoliday(date)) << date.ToString();
        EXPECT_EQ(calendar->Name(date), name) << date.ToString();
    }
    EXPECT_FALSE(calendar->IsHoliday(Ymd(2024, 6, 20)));
    EXPECT_EQ(calendar->Name(Ymd(2024, 6, 20)), std::nullopt);
}

TEST(HolidayCalendarTest, MovableDaysFollowTheirRules) {
    const auto calendar = *HolidayCalendar::ForCountry("SE");
    // Midsummer Day is the Saturday of 20-26 June; All Saints' Day the Saturday of 31 October - 6 November.
    EXPECT_EQ(calendar.Name(Ymd(2026, 6, 20)), "Midsommardagen");
    EXPECT_EQ(calendar.Name(Ymd(2026, 6, 19)), "Midsommarafton");
    EXPECT_EQ(calendar.Name(Ymd(2025, 11, 1)), "Alla helgons dag");
    EXPECT_EQ(calendar.Name(Ymd(2026, 10, 31)), "Alla helgons dag");
    // Outside the precomputed years the same rules apply.
    EXPECT_TRUE(calendar.IsHoliday(Ymd(2300, 12, 25)));
    EXPECT_TRUE(calendar.IsHoliday(Date{EasterSunday(2300).days - 2}));
    EXPECT_FALSE(calendar.IsHoliday(Ymd(2300, 12, 27)));
}

TEST(HolidayCalendarTest, NoneHasNoHolidaysAndUnknownCountriesAreErrors) {
    const auto none = HolidayCalendar::ForCountry("none");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->IsHoliday(Ymd(2024, 12, 25)));
    const auto unknown = HolidayCalendar::ForCountry("XX");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, "unknown_country");
    EXPECT_EQ(unknown.error().kind, ErrorKind::kBadRequest);
}

}  // namespace
}  // namespace granska::transform
