#include "detect/detail/format.h"

#include <fmt/format.h>

#include <cmath>

namespace granska::detect {

namespace {

// Builds a new string rather than inserting in place: GCC 12 warns falsely (-Wrestrict) on insert at -O2.
std::string GroupThousands(std::string_view digits) {
    std::string out;
    out.reserve(digits.size() + digits.size() / 3);
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ' ';
        out += digits[i];
    }
    return out;
}

}  // namespace

std::string FormatAmount(double major_units) {
    const double rounded = std::round(std::abs(major_units) * 100.0);
    const auto cents = static_cast<int64_t>(rounded);
    const bool negative = major_units < 0 && cents != 0;
    return fmt::format("{}{}.{:02}", negative ? "-" : "", GroupThousands(fmt::format("{}", cents / 100)), cents % 100);
}

std::string FormatCount(int64_t count) {
    return (count < 0 ? "-" : "") + GroupThousands(fmt::format("{}", count < 0 ? -count : count));
}

}  // namespace granska::detect
