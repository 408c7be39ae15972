#include "core/money.h"

#include <fmt/format.h>

namespace granska {

std::string Money::ToString() const {
    // Negate in unsigned arithmetic: -INT64_MIN overflows int64_t.
    const uint64_t magnitude = minor < 0 ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
    return fmt::format("{}{}.{:02}", minor < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of a space-like grouping character at the start of s: ' ', U+00A0 or U+202F in UTF-8.
size_t GroupSpaceLength(std::string_view s) {
    if (s.starts_with(' ')) return 1;
    if (s.starts_with("\xC2\xA0")) return 2;
    if (s.starts_with("\xE2\x80\xAF")) return 3;
    return 0;
}

}  // namespace

std::optional<Money> ParseMoney(std::string_view text, char decimal_separator) {
    std::string_view s = Trim(text);
    if (s.empty()) return std::nullopt;
    const char group_separator = decimal_separator == ',' ? '.' : ',';

    bool negative = false;
    if (s.front() == '(' && s.back() == ')') {
        negative = true;
        s = Trim(s.substr(1, s.size() - 2));
    } else if (s.back() == '-') {
        negative = true;
        s = Trim(s.substr(0, s.size() - 1));
    }
    if (!s.empty() && (s.front() == '-' || s.front() == '+' || s.front() == '\xE2')) {
        if (s.front() == '\xE2') {  // U+2212 MINUS SIGN
            if (!s.starts_with("\xE2\x88\x92")) return std::nullopt;
            if (negative) return std::nullopt;
            negative = true;
            s.remove_prefix(3);
        } else {
            if (negative && s.front() == '-') return std::nullopt;
            negative = negative || s.front() == '-';
            s.remove_prefix(1);
        }
    }
    if (s.empty()) return std::nullopt;

    int64_t integer = 0;
    int integer_digits = 0;
    int digits_since_group = -1;  // -1 while no grouping character has been seen
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (IsDigit(c)) {
            if (integer_digits >= 13) return std::nullopt;
            if (integer_digits > 0 || c != '0') ++integer_digits;
            integer = integer * 10 + (c - '0');
            if (digits_since_group >= 0) ++digits_since_group;
            ++i;
            continue;
        }
        const size_t space = GroupSpaceLength(s.substr(i));
        const bool is_group = space > 0 || c == group_separator;
        if (!is_group) break;
        // A grouping character must follow a digit and be followed by exactly three digits.
        if (i == 0 || !IsDigit(s[i - 1]) || (digits_since_group > 0 && digits_since_group != 3)) return std::nullopt;
        digits_since_group = 0;
        i += space > 0 ? space : 1;
    }
    if (digits_since_group >= 0 && digits_since_group != 3) return std::nullopt;
    if (i == 0 && (i >= s.size() || s[i] != decimal_separator)) return std::nullopt;

    int64_t fraction = 0;
    if (i < s.size()) {
        if (s[i] != decimal_separator) return std::nullopt;
        ++i;
        int fraction_digits = 0;
        bool any_digit = false;
        for (; i < s.size(); ++i) {
            if (!IsDigit(s[i])) return std::nullopt;
            any_digit = true;
            if (fraction_digits < 2) {
                fraction = fraction * 10 + (s[i] - '0');
                ++fraction_digits;
            } else if (s[i] != '0') {
                return std::nullopt;  // sub-cent precision would be lost
            }
        }
        if (!any_digit && integer_digits == 0 && i == 1) return std::nullopt;  // a lone separator
        if (fraction_digits == 1) fraction *= 10;
    }
    const int64_t minor = integer * 100 + fraction;
    if (minor > Money::kMaxMinor) return std::nullopt;
    return Money{.minor = negative ? -minor : minor};
}

}  // namespace granska
