#pragma once
// Calendar dates as days since 1970-01-01 and times of day as seconds since midnight (local to the file).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace granska {

struct Date {
    int32_t days = 0;  // since 1970-01-01

    static std::optional<Date> FromYmd(int year, int month, int day);
    int Year() const;
    int Month() const;             // 1..12
    int DayOfMonth() const;        // 1..31
    int IsoWeekday() const;        // 1 = Monday .. 7 = Sunday
    std::string ToString() const;  // "2024-03-31"
    auto operator<=>(const Date&) const = default;
};

struct DateTime {
    Date date;
    std::optional<int32_t> seconds_of_day;
};

// "2024-03-31", optionally followed by 'T' or ' ' and "HH:MM[:SS[.fraction]]" and a zone ("Z", "+01:00"),
// which is ignored: ledgers record local booking time.
std::optional<DateTime> ParseIsoDateTime(std::string_view text);

std::string FormatTimeOfDay(int32_t seconds_of_day);  // "13:05:00"

}  // namespace granska
