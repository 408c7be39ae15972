#include "transform/holidays.h"

#include <fmt/format.h>

#include <array>

namespace granska::transform {

namespace {

// The table covers these years; dates outside it are computed on the fly.
constexpr int kFirstYear = 1900;
constexpr int kLastYear = 2199;

struct NamedDay {
    Date date;
    std::string_view name;
};

Date Ymd(int year, int month, int day) { return *Date::FromYmd(year, month, day); }

// The first date on or after `from` that falls on the ISO weekday.
Date NextWeekday(Date from, int weekday) { return Date{from.days + (weekday - from.IsoWeekday() + 7) % 7}; }

std::array<NamedDay, 16> SwedishHolidays(int year) {
    const Date easter = EasterSunday(year);
    const Date midsummer_day = NextWeekday(Ymd(year, 6, 20), 6);  // the Saturday of 20-26 June
    return {{
        {Ymd(year, 1, 1), "Nyårsdagen"},
        {Ymd(year, 1, 6), "Trettondedag jul"},
        {Date{easter.days - 2}, "Långfredagen"},
        {Date{easter.days - 1}, "Påskafton"},
        {easter, "Påskdagen"},
        {Date{easter.days + 1}, "Annandag påsk"},
        {Ymd(year, 5, 1), "Första maj"},
        {Date{easter.days + 39}, "Kristi himmelsfärdsdag"},
        {Date{easter.days + 49}, "Pingstdagen"},
        {Ymd(year, 6, 6), "Sveriges nationaldag"},
        {Date{midsummer_day.days - 1}, "Midsommarafton"},
        {midsummer_day, "Midsommardagen"},
        {NextWeekday(Ymd(year, 10, 31), 6), "Alla helgons dag"},  // the Saturday of 31 Oct - 6 Nov
        {Ymd(year, 12, 24), "Julafton"},
        {Ymd(year, 12, 25), "Juldagen"},
        {Ymd(year, 12, 26), "Annandag jul"},
    }};
}

std::optional<std::string_view> SwedishName(Date date) {
    const int year = date.Year();
    for (const NamedDay& day : SwedishHolidays(year)) {
        if (day.date == date) return day.name;
    }
    if (date == Ymd(year, 12, 31)) return "Nyårsafton";
    return std::nullopt;
}

}  // namespace

Date EasterSunday(int year) {
    const int a = year % 19;
    const int b = year / 100;
    const int c = year % 100;
    const int d = b / 4;
    const int e = b % 4;
    const int f = (b + 8) / 25;
    const int g = (b - f + 1) / 3;
    const int h = (19 * a + b - d - g + 15) % 30;
    const int i = c / 4;
    const int k = c % 4;
    const int l = (32 + 2 * e + 2 * i - h - k) % 7;
    const int m = (a + 11 * h + 22 * l) / 451;
    const int month = (h + l - 7 * m + 114) / 31;
    const int day = (h + l - 7 * m + 114) % 31 + 1;
    return Ymd(year, month, day);
}

HolidayCalendar::HolidayCalendar(std::string_view country) : country_(country) {
    if (country_ != "SE") return;
    const int first = Ymd(kFirstYear, 1, 1).days;
    table_.assign(static_cast<size_t>(Ymd(kLastYear, 12, 31).days - first + 1), false);
    for (int year = kFirstYear; year <= kLastYear; ++year) {
        for (const NamedDay& day : SwedishHolidays(year)) table_[static_cast<size_t>(day.date.days - first)] = true;
        table_[static_cast<size_t>(Ymd(year, 12, 31).days - first)] = true;
    }
}

Expected<HolidayCalendar> HolidayCalendar::ForCountry(std::string_view country) {
    if (country == "SE" || country == "se") return HolidayCalendar("SE");
    if (country == "none") return HolidayCalendar("none");
    return Unexpected(
        BadRequest("unknown_country", fmt::format("No holiday calendar for '{}'; known: SE (Sweden), none.", country)));
}

bool HolidayCalendar::IsHoliday(Date date) const {
    if (country_ != "SE") return false;
    const int offset = date.days - Ymd(kFirstYear, 1, 1).days;
    if (offset >= 0 && static_cast<size_t>(offset) < table_.size()) return table_[static_cast<size_t>(offset)];
    return SwedishName(date).has_value();
}

std::optional<std::string_view> HolidayCalendar::Name(Date date) const {
    if (country_ != "SE") return std::nullopt;
    return SwedishName(date);
}

}  // namespace granska::transform
