#pragma once
// Helpers shared by the rule algorithms weekend_threshold, periodization, account_rules, time_of_day and
// round_amount: size scoring, day names, amounts in major units.

#include <cstdint>
#include <string>
#include <string_view>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <utility>

#include "detect/detail/algorithm_support.h"
#include "detect/registry.h"

namespace granska::detect::rules1 {


// Score of an amount that is ratio × its reference (threshold, typical size): ExcessScore(log10(ratio) + 0.5, 0.75).
// 0.31 at ratio 1, 0.80 at 10, 0.92 at 100; 0 at ratio ≤ 10^-0.5.
double SizeScore(double ratio);

// "Monday" .. "Sunday" for ISO weekday 1..7.
std::string_view WeekdayName(int iso_weekday);

// "2024-02-24".
std::string DateText(int32_t days);

inline double AmountMajor(const transform::TransactionFrame& frame, size_t row) {
    return static_cast<double>(frame.amount_minor[row]) / 100.0;
}


// The last day of the row's period (month).
inline int32_t PeriodEndDay(const transform::TransactionFrame& frame, size_t row) {
    return frame.date_days[row] + frame.days_to_period_end[row];
}

}  // namespace granska::detect::rules1
