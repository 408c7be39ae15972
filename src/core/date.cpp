#include "core/date.h"

#include <fmt/format.h>

#include <chrono>

namespace granska {

namespace {

std::chrono::year_month_day ToYmd(Date date) {
    return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{date.days}}};
}

bool ReadDigits(std::string_view s, size_t pos, size_t count, int& out) {
    if (pos + count > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + count; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<Date> Date::FromYmd(int year, int month, int day) {
    // chrono's year, month and day truncate out-of-range values (day 257 becomes 1), so check first.
    if (year < -32767 || year > 32767 || month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                          std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return std::nullopt;
    return Date{.days = static_cast<int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count())};
}

int Date::Year() const { return static_cast<int>(ToYmd(*this).year()); }
int Date::Month() const { return static_cast<int>(static_cast<unsigned>(ToYmd(*this).month())); }
int Date::DayOfMonth() const { return static_cast<int>(static_cast<unsigned>(ToYmd(*this).day())); }

int Date::IsoWeekday() const {
    return static_cast<int>(std::chrono::weekday{std::chrono::sys_days{std::chrono::days{days}}}.iso_encoding());
}

std::string Date::ToString() const { return fmt::format("{:04}-{:02}-{:02}", Year(), Month(), DayOfMonth()); }

std::optional<DateTime> ParseIsoDateTime(std::string_view s) {
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    int year = 0, month = 0, day = 0;
    if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !ReadDigits(s, 0, 4, year) || !ReadDigits(s, 5, 2, month) ||
        !ReadDigits(s, 8, 2, day)) {
        return std::nullopt;
    }
    const auto date = Date::FromYmd(year, month, day);
    if (!date || year < 1900) return std::nullopt;
    DateTime out{.date = *date};
    if (s.size() == 10) return out;

    if (s[10] != 'T' && s[10] != ' ') return std::nullopt;
    int hour = 0, minute = 0, second = 0;
    if (!ReadDigits(s, 11, 2, hour) || s.size() < 16 || s[13] != ':' || !ReadDigits(s, 14, 2, minute)) {
        return std::nullopt;
    }
    size_t pos = 16;
    if (pos < s.size() && s[pos] == ':') {
        if (!ReadDigits(s, pos + 1, 2, second)) return std::nullopt;
        pos += 3;
        if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
            ++pos;
            while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    const std::string_view zone = s.substr(pos);
    int zone_hour = 0, zone_minute = 0;
    const bool zone_ok =
        zone.empty() || zone == "Z" ||
        ((zone[0] == '+' || zone[0] == '-') && ReadDigits(zone, 1, 2, zone_hour) &&
         (zone.size() == 3 || (zone.size() == 6 && zone[3] == ':' && ReadDigits(zone, 4, 2, zone_minute)) ||
          (zone.size() == 5 && ReadDigits(zone, 3, 2, zone_minute))));
    if (!zone_ok || zone_hour > 23 || zone_minute > 59) return std::nullopt;
    out.seconds_of_day = hour * 3600 + minute * 60 + std::min(second, 59);
    return out;
}

std::string FormatTimeOfDay(int32_t seconds_of_day) {
    return fmt::format("{:02}:{:02}:{:02}", seconds_of_day / 3600, seconds_of_day / 60 % 60, seconds_of_day % 60);
}

}  // namespace granska
