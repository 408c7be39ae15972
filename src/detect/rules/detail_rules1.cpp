#include "detect/rules/detail_rules1.h"

#include <array>
#include <cmath>

#include "core/date.h"
#include "detect/detail/stats.h"

namespace granska::detect::rules1 {

double SizeScore(double ratio) {
    if (!(ratio > 0)) return 0.0;
    return ExcessScore(std::log10(ratio) + 0.5, 0.75);
}

std::string_view WeekdayName(int iso_weekday) {
    static constexpr std::array<std::string_view, 7> kNames = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                               "Friday", "Saturday", "Sunday"};
    if (iso_weekday < 1 || iso_weekday > 7) return "?";
    return kNames[static_cast<size_t>(iso_weekday - 1)];
}

std::string DateText(int32_t days) { return Date{days}.ToString(); }

}  // namespace granska::detect::rules1
