#pragma once
// Exact money: a signed count of minor units (öre, cents). Never a double on the way in or out.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace granska {

struct Money {
    // DECIMAL(15,2): thirteen integer digits and two decimals.
    static constexpr int64_t kMaxMinor = 999'999'999'999'999;

    int64_t minor = 0;

    double ToDouble() const { return static_cast<double>(minor) / 100.0; }
    // "-1234.50": dot decimal, no grouping, always two decimals.
    std::string ToString() const;
    auto operator<=>(const Money&) const = default;
};

// Parses "1234.5", "-1 234,56", "1.234,56", "+12", "(12.00)", "12.00-" with the given decimal separator
// ('.' or ','). Grouping by spaces (also no-break spaces) or by the other separator in groups of three
// is accepted. More than two decimals (unless they are zeros) or more than thirteen integer digits fail.
std::optional<Money> ParseMoney(std::string_view text, char decimal_separator);

}  // namespace granska
