#pragma once
// Row-level derived features, computed once per row at ingest (stored in processed_data) and again,
// by the same code, when a TransactionFrame is built.

#include <cstdint>
#include <string>

#include "core/transaction.h"

namespace granska::transform {

struct RowFeatures {
    int weekday = 0;           // ISO: 1 = Monday .. 7 = Sunday
    bool is_weekend = false;   // Saturday or Sunday
    int month = 0;             // 1..12
    int day_of_month = 0;      // 1..31
    double log_amount = 0.0;   // ln(1 + |amount|) in major units: symmetric, defined at zero
    int posting_lag_days = 0;  // registration date - transaction date; 0 without a registration date
    bool has_registration_date = false;
};

RowFeatures ComputeRowFeatures(const Transaction& transaction);

// {"weekday":1,"is_weekend":false,"month":1,"day_of_month":1,"log_amount":6.538,"posting_lag_days":0}
std::string FeaturesToJson(const RowFeatures& features);

}  // namespace granska::transform
