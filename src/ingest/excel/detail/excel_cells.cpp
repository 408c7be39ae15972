#include "ingest/excel/detail/excel_cells.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace granska::ingest::detail {

namespace {

constexpr int kExcelDigits = 15;
// Days from 1970-01-01 to Excel's day zero: 1899-12-30 (1900 system, from serial 61 on) and 1904-01-01.
constexpr int64_t kEpoch1900 = -25569;
constexpr int64_t kEpoch1904 = -24107;
constexpr int64_t kLastDay = 2932896;  // 9999-12-31
constexpr int64_t kFirstDay = -25567;  // 1900-01-01
constexpr int64_t kLotusLeapDay = 60;  // the 1900 system's 1900-02-29

struct Ymd {
    int64_t year;
    unsigned month;
    unsigned day;
};

// Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
Ymd CivilFromDays(int64_t days) {
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned day = doy - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Significant digits of a number's mantissa ("0.00123" -> 3, "689.8099999999999" -> 16); nullopt when the text is
// not [+-]digits[.digits][(e|E)[+-]digits] with at least one mantissa digit.
std::optional<int> SignificantDigits(std::string_view text) {
    size_t i = 0;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    int significant = 0;
    int mantissa_digits = 0;
    bool seen_nonzero = false;
    bool seen_point = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (IsDigit(c)) {
            ++mantissa_digits;
            seen_nonzero = seen_nonzero || c != '0';
            if (seen_nonzero) ++significant;
        } else if (c == '.' && !seen_point) {
            seen_point = true;
        } else {
            break;
        }
    }
    if (mantissa_digits == 0) return std::nullopt;
    if (i < text.size()) {
        if (text[i] != 'e' && text[i] != 'E') return std::nullopt;
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
        if (i == text.size()) return std::nullopt;
        for (; i < text.size(); ++i) {
            if (!IsDigit(text[i])) return std::nullopt;
        }
    }
    return significant;
}

}  // namespace

SerialDate SerialToIso(double serial, bool date1904, char (&buffer)[kCellTextBufferSize]) {
    if (!std::isfinite(serial) || serial < 0 || serial > 1e7) return {};
    auto whole = static_cast<int64_t>(std::floor(serial));
    auto seconds = static_cast<int64_t>(std::llround((serial - static_cast<double>(whole)) * 86400.0));
    if (seconds == 86400) {
        ++whole;
        seconds = 0;
    }
    int64_t days = 0;
    if (date1904) {
        days = kEpoch1904 + whole;
    } else if (whole == kLotusLeapDay) {
        const auto size = std::snprintf(buffer, sizeof buffer, "1900-02-29");
        return {CellType::kText, std::string_view(buffer, static_cast<size_t>(size))};
    } else {
        days = kEpoch1900 + whole + (whole < kLotusLeapDay ? 1 : 0);
    }
    if (days < kFirstDay || days > kLastDay) return {};
    const Ymd ymd = CivilFromDays(days);
    int size = 0;
    if (seconds == 0) {
        size = std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02u", static_cast<long long>(ymd.year), ymd.month,
                             ymd.day);
    } else {
        size =
            std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                          static_cast<long long>(ymd.year), ymd.month, ymd.day, static_cast<long long>(seconds / 3600),
                          static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
    }
    return {CellType::kDate, std::string_view(buffer, static_cast<size_t>(size))};
}

std::optional<std::string_view> NormalizeNumberText(std::string_view text, char (&buffer)[kCellTextBufferSize]) {
    while (!text.empty() &&
           (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' || text.front() == '\r')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    const std::optional<int> significant = SignificantDigits(text);
    if (!significant) return std::nullopt;
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    double value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value)) return std::nullopt;
    if (*significant <= kExcelDigits) return text;
    return FormatNumber(value, buffer);
}

std::string_view FormatNumber(double value, char (&buffer)[kCellTextBufferSize]) {
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, kExcelDigits);
    return std::string_view(buffer, static_cast<size_t>(result.ptr - buffer));
}

bool IsBuiltinDateFormat(int num_fmt_id) {
    return (num_fmt_id >= 14 && num_fmt_id <= 22) || (num_fmt_id >= 45 && num_fmt_id <= 47);
}

bool IsDateFormatCode(std::string_view code) {
    for (size_t i = 0; i < code.size(); ++i) {
        const char c = code[i];
        switch (c) {
            case '"': {
                const size_t close = code.find('"', i + 1);
                if (close == std::string_view::npos) return false;
                i = close;
                break;
            }
            case '[': {
                const size_t close = code.find(']', i + 1);
                if (close == std::string_view::npos) return false;
                i = close;
                break;
            }
            case '\\':
            case '_':
            case '*':
                ++i;  // the next character is a literal, a padding width or a fill
                break;
            case 'd':
            case 'D':
            case 'm':
            case 'M':
            case 'y':
            case 'Y':
            case 'h':
            case 'H':
            case 's':
            case 'S':
                return true;
            default:
                break;
        }
    }
    return false;
}

std::optional<size_t> ParseColumn(std::string_view reference) {
    size_t column = 0;
    size_t letters = 0;
    while (letters < reference.size() && letters < 4) {
        char c = reference[letters];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c < 'A' || c > 'Z') break;
        column = column * 26 + static_cast<size_t>(c - 'A' + 1);
        ++letters;
    }
    if (letters == 0 || letters > 3 || column > kMaxExcelColumns) return std::nullopt;
    return column - 1;
}

std::string ColumnName(size_t column) {
    std::string name;
    for (size_t n = column + 1; n > 0; n = (n - 1) / 26)
        name.insert(name.begin(), static_cast<char>('A' + (n - 1) % 26));
    return name;
}

std::string CellName(std::string_view sheet, size_t column, int64_t line) {
    bool plain = !sheet.empty();
    for (const char c : sheet) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x80 && !std::isalnum(u) && c != '_') plain = false;
    }
    if (plain) return fmt::format("{}!{}{}", sheet, ColumnName(column), line);
    return fmt::format("'{}'!{}{}", sheet, ColumnName(column), line);
}

}  // namespace granska::ingest::detail
