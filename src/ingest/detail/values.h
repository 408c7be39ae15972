#pragma once
// Reading dates, times and amounts the way ledgers write them, for RowMapper: the date shapes it decides between,
// and exact amounts from numbers that spreadsheets and JSON store as numbers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/date.h"
#include "core/money.h"

namespace granska::ingest::detail {

// Which of two numbers before the year comes first in "A/B/YYYY"-shaped dates.
enum class DateOrder { kDayFirst, kMonthFirst, kYearFirst };

// The shape of a date text, to decide the order from the data.
struct DateShape {
    enum Kind { kUnknown, kYearFirst, kCompact, kDayMonthYear } kind = kUnknown;
    int first = 0;   // kDayMonthYear: the number before the first separator
    int second = 0;  // and the one after it
    char separator = '-';
    std::string Describe() const;  // "YYYY-MM-DD", "YYYYMMDD", "NN/NN/YYYY" with the file's separator
};
DateShape ClassifyDate(std::string_view text);

// A date as ledgers write it: YYYY-MM-DD (also '/' or '.'), YYYYMMDD, or A/B/YYYY with '/', '.' or '-' read in
// `order`, each optionally followed by 'T' or ' ' and HH:MM[:SS[.fraction]] and a zone (Z, +01:00), which is
// ignored (ledgers record local time).
std::optional<DateTime> ParseDateText(std::string_view text, DateOrder order);

// "13:05", "13:05:59", "13:05:59.123" -> seconds since midnight.
std::optional<int32_t> ParseTimeOfDay(std::string_view text);

// What an amount text says about the decimal separator: "1234.56" -> point, "1 234,5" -> comma; with grouping
// by the other one ("1,234.56", "1,234,567") -> point and grouped; "1234" or "1,234" -> nothing.
enum class DecimalVote { kNone, kPoint, kComma, kPointGrouped, kCommaGrouped };
DecimalVote VoteDecimal(std::string_view text);

// An amount from a number stored as a number: decimal text with '.', optional sign and exponent ("689.81",
// "-1E3", "1.5e-1"). Binary floating-point noise beyond the cents ("689.80999999999995") is rounded away;
// real sub-cent precision ("12.345") and more than thirteen integer digits fail.
std::optional<Money> ParseNumberAmount(std::string_view text);

// A number stored as a number, written as text for a text field: "5460.0" -> "5460", "1E3" -> "1000"; anything
// else unchanged.
std::string NumberAsText(std::string_view text);

// The text as a JSON number when it is one (JSON grammar), else as a JSON string.
std::string JsonNumber(std::string_view text);

}  // namespace granska::ingest::detail
