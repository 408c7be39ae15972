#include "ingest/detail/values.h"

#include <algorithm>

namespace granska::ingest::detail {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads 1..max_digits digits at pos; nullopt when there are none.
std::optional<int> ReadNumber(std::string_view s, size_t& pos, size_t min_digits, size_t max_digits) {
    int value = 0;
    size_t digits = 0;
    while (pos < s.size() && IsDigit(s[pos]) && digits < max_digits) {
        value = value * 10 + (s[pos] - '0');
        ++pos;
        ++digits;
    }
    if (digits < min_digits) return std::nullopt;
    return value;
}

// Parses "HH:MM[:SS[.fraction]]" from pos; on success pos is after it.
std::optional<int32_t> ReadTime(std::string_view s, size_t& pos) {
    const std::optional<int> hours = ReadNumber(s, pos, 1, 2);
    if (!hours || *hours > 23 || pos >= s.size() || s[pos] != ':') return std::nullopt;
    ++pos;
    const std::optional<int> minutes = ReadNumber(s, pos, 2, 2);
    if (!minutes || *minutes > 59) return std::nullopt;
    int seconds = 0;
    if (pos < s.size() && s[pos] == ':') {
        ++pos;
        const std::optional<int> read = ReadNumber(s, pos, 2, 2);
        if (!read || *read > 59) return std::nullopt;
        seconds = *read;
        if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
            ++pos;
            const size_t start = pos;
            while (pos < s.size() && IsDigit(s[pos])) ++pos;
            if (pos == start) return std::nullopt;
        }
    }
    return *hours * 3600 + *minutes * 60 + seconds;
}

// A zone after a time: "Z", "+01:00", "+0100", "+01", optionally after one space. True when the rest is a zone
// or empty (trailing spaces allowed).
bool RestIsZone(std::string_view s, size_t pos) {
    if (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        ++pos;
        if (!ReadNumber(s, pos, 2, 2)) return false;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (pos < s.size() && IsDigit(s[pos]) && !ReadNumber(s, pos, 2, 2)) return false;
    }
    while (pos < s.size() && s[pos] == ' ') ++pos;
    return pos == s.size();
}

// The digits of a decimal number and the power of ten of its last digit: 12.5e1 -> digits "125", exponent 0.
struct Decimal {
    bool negative = false;
    std::string digits;  // without leading zeros; may be empty for zero
    int exponent = 0;
};

std::optional<Decimal> ReadDecimal(std::string_view s) {
    Decimal d;
    size_t pos = 0;
    if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) d.negative = s[pos++] == '-';
    size_t mantissa_digits = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
        if (!(d.digits.empty() && s[pos] == '0')) d.digits.push_back(s[pos]);
        ++pos;
        ++mantissa_digits;
    }
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        while (pos < s.size() && IsDigit(s[pos])) {
            if (!(d.digits.empty() && s[pos] == '0')) d.digits.push_back(s[pos]);
            --d.exponent;
            ++pos;
            ++mantissa_digits;
        }
    }
    if (mantissa_digits == 0 || mantissa_digits > 400) return std::nullopt;
    if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
        ++pos;
        bool negative_exponent = false;
        if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) negative_exponent = s[pos++] == '-';
        const std::optional<int> exponent = ReadNumber(s, pos, 1, 4);
        if (!exponent) return std::nullopt;
        d.exponent += negative_exponent ? -*exponent : *exponent;
    }
    if (pos != s.size()) return std::nullopt;
    return d;
}

}  // namespace

std::string DateShape::Describe() const {
    switch (kind) {
        case kYearFirst:
            return std::string("YYYY") + separator + "MM" + separator + "DD";
        case kCompact:
            return "YYYYMMDD";
        case kDayMonthYear:
            return std::string("NN") + separator + "NN" + separator + "YYYY";
        case kUnknown:
            break;
    }
    return "";
}

DateShape ClassifyDate(std::string_view s) {
    DateShape shape;
    if (s.size() >= 8 && IsDigit(s[0]) && IsDigit(s[1]) && IsDigit(s[2]) && IsDigit(s[3])) {
        if (s[4] == '-' || s[4] == '/' || s[4] == '.') {
            shape.kind = DateShape::kYearFirst;
            shape.separator = s[4];
            return shape;
        }
        if (std::all_of(s.begin(), s.begin() + 8, IsDigit) && (s.size() == 8 || s[8] == 'T' || s[8] == ' ')) {
            shape.kind = DateShape::kCompact;
            return shape;
        }
    }
    size_t pos = 0;
    const std::optional<int> first = ReadNumber(s, pos, 1, 2);
    if (!first || pos >= s.size() || (s[pos] != '/' && s[pos] != '.' && s[pos] != '-')) return shape;
    const char separator = s[pos++];
    const std::optional<int> second = ReadNumber(s, pos, 1, 2);
    if (!second || pos >= s.size() || s[pos] != separator) return shape;
    ++pos;
    if (!ReadNumber(s, pos, 4, 4)) return shape;
    shape.kind = DateShape::kDayMonthYear;
    shape.first = *first;
    shape.second = *second;
    shape.separator = separator;
    return shape;
}

std::optional<DateTime> ParseDateText(std::string_view s, DateOrder order) {
    // The common case first: exactly "YYYY-MM-DD".
    if (s.size() == 10 && s[4] == '-' && s[7] == '-') {
        const auto digit = [&](size_t i) { return s[i] - '0'; };
        bool digits = true;
        for (const size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) digits = digits && IsDigit(s[i]);
        if (digits) {
            const std::optional<Date> date = Date::FromYmd(digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3),
                                                           digit(5) * 10 + digit(6), digit(8) * 10 + digit(9));
            if (!date) return std::nullopt;
            return DateTime{.date = *date, .seconds_of_day = std::nullopt};
        }
    }
    const DateShape shape = ClassifyDate(s);
    size_t pos = 0;
    int year = 0;
    int month = 0;
    int day = 0;
    switch (shape.kind) {
        case DateShape::kUnknown:
            return std::nullopt;
        case DateShape::kYearFirst: {
            year = *ReadNumber(s, pos, 4, 4);
            ++pos;
            const std::optional<int> m = ReadNumber(s, pos, 1, 2);
            if (!m || pos >= s.size() || s[pos] != shape.separator) return std::nullopt;
            ++pos;
            const std::optional<int> d = ReadNumber(s, pos, 1, 2);
            if (!d) return std::nullopt;
            month = *m;
            day = *d;
            break;
        }
        case DateShape::kCompact:
            year = *ReadNumber(s, pos, 4, 4);
            month = *ReadNumber(s, pos, 2, 2);
            day = *ReadNumber(s, pos, 2, 2);
            break;
        case DateShape::kDayMonthYear:
            pos = 0;
            ReadNumber(s, pos, 1, 2);
            ++pos;
            ReadNumber(s, pos, 1, 2);
            ++pos;
            year = *ReadNumber(s, pos, 4, 4);
            if (order == DateOrder::kMonthFirst) {
                month = shape.first;
                day = shape.second;
            } else {
                day = shape.first;
                month = shape.second;
            }
            break;
    }
    const std::optional<Date> date = Date::FromYmd(year, month, day);
    if (!date) return std::nullopt;
    DateTime result{.date = *date, .seconds_of_day = std::nullopt};
    if (pos == s.size()) return result;
    if (s[pos] != 'T' && s[pos] != ' ') return std::nullopt;
    ++pos;
    while (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos == s.size()) return result;
    const std::optional<int32_t> time = ReadTime(s, pos);
    if (!time || !RestIsZone(s, pos)) return std::nullopt;
    result.seconds_of_day = time;
    return result;
}

std::optional<int32_t> ParseTimeOfDay(std::string_view s) {
    size_t pos = 0;
    const std::optional<int32_t> time = ReadTime(s, pos);
    if (!time || pos != s.size()) return std::nullopt;
    return time;
}

DecimalVote VoteDecimal(std::string_view s) {
    const size_t last_point = s.rfind('.');
    const size_t last_comma = s.rfind(',');
    if (last_point != std::string_view::npos && last_comma != std::string_view::npos) {
        return last_point > last_comma ? DecimalVote::kPointGrouped : DecimalVote::kCommaGrouped;
    }
    const size_t last = last_point != std::string_view::npos ? last_point : last_comma;
    if (last == std::string_view::npos) return DecimalVote::kNone;
    const char separator = s[last];
    if (std::count(s.begin(), s.end(), separator) > 1) {
        return separator == '.' ? DecimalVote::kCommaGrouped : DecimalVote::kPointGrouped;
    }
    size_t digits = 0;
    for (size_t i = last + 1; i < s.size() && IsDigit(s[i]); ++i) ++digits;
    if (digits == 1 || digits == 2) return separator == '.' ? DecimalVote::kPoint : DecimalVote::kComma;
    return DecimalVote::kNone;
}

std::optional<Money> ParseNumberAmount(std::string_view text) {
    const std::optional<Decimal> d = ReadDecimal(text);
    if (!d) return std::nullopt;
    const int shift = d->exponent + 2;  // power of ten of the last digit, in cents
    std::string whole = d->digits;
    bool round_up = false;
    if (shift >= 0) {
        if (whole.empty()) return Money{0};
        if (whole.size() + static_cast<size_t>(shift) > 15) return std::nullopt;
        whole.append(static_cast<size_t>(shift), '0');
    } else {
        const size_t cut = static_cast<size_t>(-shift);
        std::string rest;
        if (cut >= whole.size()) {
            rest = std::string(cut - whole.size(), '0') + whole;
            whole.clear();
        } else {
            rest = whole.substr(whole.size() - cut);
            whole.resize(whole.size() - cut);
        }
        while (!rest.empty() && rest.back() == '0') rest.pop_back();
        if (!rest.empty()) {
            // Only binary floating-point noise is rounded: six or more 0s or 9s right after the cents.
            if (rest.size() >= 6 && rest.starts_with("000000")) {
                round_up = false;
            } else if (rest.size() >= 6 && rest.starts_with("999999")) {
                round_up = true;
            } else {
                return std::nullopt;
            }
        }
        if (whole.size() > 15) return std::nullopt;
    }
    int64_t minor = 0;
    for (const char c : whole) minor = minor * 10 + (c - '0');
    if (round_up) ++minor;
    if (minor > Money::kMaxMinor) return std::nullopt;
    return Money{d->negative ? -minor : minor};
}

std::string NumberAsText(std::string_view text) {
    const std::optional<Decimal> d = ReadDecimal(text);
    if (!d || d->exponent > 30 || d->exponent < -30) return std::string(text);
    std::string digits = d->digits.empty() ? "0" : d->digits;
    std::string out;
    if (d->exponent >= 0) {
        out = digits + std::string(static_cast<size_t>(d->exponent), '0');
    } else {
        const size_t fraction = static_cast<size_t>(-d->exponent);
        if (digits.size() <= fraction) digits.insert(0, fraction - digits.size() + 1, '0');
        std::string integer = digits.substr(0, digits.size() - fraction);
        std::string decimals = digits.substr(digits.size() - fraction);
        while (!decimals.empty() && decimals.back() == '0') decimals.pop_back();
        out = decimals.empty() ? integer : integer + "." + decimals;
    }
    if (d->negative && out != "0") out.insert(0, 1, '-');
    return out;
}

std::string JsonNumber(std::string_view s) {
    size_t pos = 0;
    auto digits = [&] {
        const size_t start = pos;
        while (pos < s.size() && IsDigit(s[pos])) ++pos;
        return pos - start;
    };
    bool valid = true;
    if (pos < s.size() && s[pos] == '-') ++pos;
    if (pos < s.size() && s[pos] == '0') {
        ++pos;
    } else {
        valid = digits() > 0;
    }
    if (valid && pos < s.size() && s[pos] == '.') {
        ++pos;
        valid = digits() > 0;
    }
    if (valid && pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
        ++pos;
        if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) ++pos;
        valid = digits() > 0;
    }
    if (valid && pos == s.size() && !s.empty()) return std::string(s);
    std::string quoted;
    quoted.push_back('"');
    for (const char c : s) {
        if (c == '"' || c == '\\') quoted.push_back('\\');
        if (static_cast<unsigned char>(c) >= 0x20) quoted.push_back(c);
    }
    quoted.push_back('"');
    return quoted;
}

}  // namespace granska::ingest::detail
