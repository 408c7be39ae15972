#include "transform/features.h"

#include <fmt/format.h>

#include <cmath>

namespace granska::transform {

RowFeatures ComputeRowFeatures(const Transaction& transaction, const HolidayCalendar& calendar) {
    RowFeatures features;
    features.weekday = transaction.date.IsoWeekday();
    features.is_weekend = features.weekday >= 6;
    features.is_holiday = calendar.IsHoliday(transaction.date);
    features.month = transaction.date.Month();
    features.quarter = (features.month - 1) / 3 + 1;
    features.day_of_month = transaction.date.DayOfMonth();
    if (transaction.time_seconds) features.hour = *transaction.time_seconds / 3600;
    features.log_amount = std::log1p(std::abs(transaction.amount.ToDouble()));
    if (transaction.registration_date) {
        features.has_registration_date = true;
        features.posting_lag_days = transaction.registration_date->days - transaction.date.days;
    }
    const int64_t magnitude = transaction.amount.minor < 0 ? -transaction.amount.minor : transaction.amount.minor;
    if (magnitude != 0) {
        int exponent = -2;
        for (int64_t rest = magnitude; rest % 10 == 0; rest /= 10) ++exponent;
        features.round_exponent = exponent;
        // The leading digits of the minor units are those of the amount (the decimal point does not move them).
        int64_t leading = magnitude;
        while (leading >= 100) leading /= 10;
        features.first_digit = static_cast<int>(leading >= 10 ? leading / 10 : leading);
        features.first_two_digits = leading >= 10 ? static_cast<int>(leading) : 0;
    }
    return features;
}

std::string FeaturesToJson(const RowFeatures& features) {
    std::string json = fmt::format(
        R"({{"weekday":{},"is_weekend":{},"is_holiday":{},"month":{},"quarter":{},"day_of_month":{},"log_amount":{:.6f})",
        features.weekday, features.is_weekend, features.is_holiday, features.month, features.quarter,
        features.day_of_month, features.log_amount);
    if (features.round_exponent) json += fmt::format(R"(,"round_exponent":{})", *features.round_exponent);
    json += fmt::format(R"(,"first_digit":{},"first_two_digits":{})", features.first_digit, features.first_two_digits);
    if (features.has_registration_date) json += fmt::format(R"(,"posting_lag_days":{})", features.posting_lag_days);
    if (features.hour) json += fmt::format(R"(,"hour":{})", *features.hour);
    json += '}';
    return json;
}

}  // namespace granska::transform
