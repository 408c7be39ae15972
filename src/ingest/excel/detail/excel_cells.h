#pragma once
// Cell values as Excel stores them, turned into the text RowMapper reads: serial dates to ISO dates (1900 and 1904
// systems), numbers to decimal text with Excel's 15 significant digits, number formats recognised as dates, and
// A1-style cell references.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/row_mapper.h"

namespace granska::ingest::detail {

// Room for any text the functions below write.
inline constexpr size_t kCellTextBufferSize = 40;

// Excel's last column (XFD) and row.
inline constexpr size_t kMaxExcelColumns = 16384;
inline constexpr int64_t kMaxExcelRows = 1'048'576;

// Writes the serial date `serial` as ISO text into buffer: "2024-03-31", or "2024-03-31T13:05:00" when it has a
// time of day (rounded to the second). Returns kDate and the text; kText and "1900-02-29" for the 1900 system's
// serial 60, a day that never was (Lotus 1-2-3 counted 1900 as a leap year); kEmpty when the serial is not a date
// between 1900 (1904) and 9999.
struct SerialDate {
    CellType type = CellType::kEmpty;
    std::string_view text;
};
SerialDate SerialToIso(double serial, bool date1904, char (&buffer)[kCellTextBufferSize]);

// The decimal text of a number cell as stored in the XML ("689.81", "-1E-3"), trimmed. Text with more than 15
// significant digits is rounded to 15, as Excel shows it: writers store 689.81 as "689.8099999999999".
// nullopt when the text is not a finite number.
std::optional<std::string_view> NormalizeNumberText(std::string_view text, char (&buffer)[kCellTextBufferSize]);

// The decimal text of a number read as a double, with at most 15 significant digits ("689.81", "0.3", "1e+20").
std::string_view FormatNumber(double value, char (&buffer)[kCellTextBufferSize]);

// True for the built-in date and time formats (ids 14-22 and 45-47).
bool IsBuiltinDateFormat(int num_fmt_id);
// True when a format code shows a date or time: d, m, y, h or s outside quotes, brackets and escapes
// ("yyyy-mm-dd", "d mmm yyyy", "[$-41D]hh:mm"), false for "0.00", "#,##0 \"kr\"" or "[Red]0.00".
bool IsDateFormatCode(std::string_view code);

// The 0-based column of a cell reference ("C7" -> 2, "AA1" -> 26), nullopt when it does not start with 1 to 3
// letters naming a column up to XFD.
std::optional<size_t> ParseColumn(std::string_view reference);
// "A", "Z", "AA", ... for a 0-based column.
std::string ColumnName(size_t column);
// "Huvudbok!C7"; a name with spaces or punctuation is quoted as Excel writes it: "'Två ord'!C7".
std::string CellName(std::string_view sheet, size_t column, int64_t line);

}  // namespace granska::ingest::detail
