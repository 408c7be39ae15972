#include "transform/features.h"

#include <fmt/format.h>

#include <cmath>

namespace granska::transform {

RowFeatures ComputeRowFeatures(const Transaction& transaction) {
    RowFeatures features;
    features.weekday = transaction.date.IsoWeekday();
    features.is_weekend = features.weekday >= 6;
    features.month = transaction.date.Month();
    features.day_of_month = transaction.date.DayOfMonth();
    features.log_amount = std::log1p(std::abs(transaction.amount.ToDouble()));
    if (transaction.registration_date) {
        features.has_registration_date = true;
        features.posting_lag_days = transaction.registration_date->days - transaction.date.days;
    }
    return features;
}

std::string FeaturesToJson(const RowFeatures& features) {
    std::string json =
        fmt::format(R"({{"weekday":{},"is_weekend":{},"month":{},"day_of_month":{},"log_amount":{:.6f})",
                    features.weekday, features.is_weekend, features.month, features.day_of_month, features.log_amount);
    if (features.has_registration_date) json += fmt::format(R"(,"posting_lag_days":{})", features.posting_lag_days);
    json += '}';
    return json;
}

}  // namespace granska::transform
