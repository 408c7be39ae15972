#pragma once
// One transaction line as ingest produces it and the store keeps it.

#include <cstdint>
#include <optional>
#include <string>

#include "core/date.h"
#include "core/money.h"

namespace granska {

struct Transaction {
    int64_t row_number = 0;   // 1-based position among the file's data rows: the file order
    int64_t source_line = 0;  // 1-based physical line (or record) of the file where the row starts; 0 if unknown
    std::string external_id;  // the file's own id, or a stable generated one (DESIGN.md)
    Date date;
    std::optional<Date> registration_date;
    std::optional<int32_t> time_seconds;  // time of day when the file has one
    std::string account;
    Money amount;
    std::string currency;
    std::string text;
    std::string user;
    std::string counterparty;
    std::string voucher_series;
    std::string voucher_number;
    std::string raw_data;        // JSON object: every column of the file that is not mapped to a field above
    std::string processed_data;  // JSON object: derived features (transform)
};

}  // namespace granska
