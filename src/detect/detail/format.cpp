#include "detect/detail/format.h"

#include <cmath>

#include <fmt/format.h>

namespace granska::detect {

namespace {

std::string GroupThousands(std::string digits) {
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), " ");
    return digits;
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
