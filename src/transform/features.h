#pragma once
// Row-level derived features, computed once per row at ingest (stored in processed_data) and again,
// by the same code, when a TransactionFrame is built.

#include <cstdint>
#include <optional>
#include <string>

#include "core/transaction.h"
#include "transform/holidays.h"

namespace granska::transform {

struct RowFeatures {
    int weekday = 0;           // ISO: 1 = Monday .. 7 = Sunday
    bool is_weekend = false;   // Saturday or Sunday
    bool is_holiday = false;   // a public holiday (or non-working eve) of the calendar's country
    int month = 0;             // 1..12
    int quarter = 0;           // 1..4
    int day_of_month = 0;      // 1..31
    std::optional<int> hour;   // 0..23, when the row has a time
    double log_amount = 0.0;   // ln(1 + |amount|) in major units: symmetric, defined at zero
    int posting_lag_days = 0;  // registration date - transaction date; 0 without a registration date
    bool has_registration_date = false;
    // Roundness: the amount is a multiple of 10^round_exponent major units (-2 = whole öre/cents only,
    // 0 = whole kronor, 3 = thousands); nullopt for a zero amount.
    std::optional<int> round_exponent;
    int first_digit = 0;       // first significant digit of |amount| (1..9); 0 for a zero amount
    int first_two_digits = 0;  // first two significant digits (10..99); 0 when |amount| has fewer than two
};

RowFeatures ComputeRowFeatures(const Transaction& transaction, const HolidayCalendar& calendar);

// {"weekday":1,"is_weekend":false,"is_holiday":true,"month":1,"quarter":1,"day_of_month":1,"log_amount":6.538,
//  "round_exponent":0,"first_digit":6,"first_two_digits":68,"posting_lag_days":0,"hour":13}; the last two only
// when the row has a registration date and a time.
std::string FeaturesToJson(const RowFeatures& features);

}  // namespace granska::transform
