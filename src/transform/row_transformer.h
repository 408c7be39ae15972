#pragma once
// Per-upload transform of ingested rows, batch by batch: stable external ids and processed_data.
//
// External ids (DESIGN.md): the file's own id when it has one (which must be unique); otherwise
// "<series>-<number>-<line>" when the file has voucher numbers (line = 1-based position within the voucher,
// as for SIE4), otherwise the 1-based data row number. The same file always gets the same ids.

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/expected.h"
#include "core/transaction.h"
#include "transform/holidays.h"

namespace granska::transform {

class RowTransformer {
public:
    // calendar: the holidays processed_data marks (Sweden unless given).
    explicit RowTransformer(std::string file_name, HolidayCalendar calendar = *HolidayCalendar::ForCountry("SE"))
        : file_name_(std::move(file_name)), calendar_(std::move(calendar)) {}

    // Fills external_id and processed_data. Fails (InvalidInput "duplicate_id") when the file's own id
    // column repeats a value.
    Expected<void> Apply(std::span<Transaction> rows);

private:
    std::string file_name_;
    HolidayCalendar calendar_;
    // 64-bit hashes of the file's ids: 8 bytes a row instead of the strings.
    std::unordered_map<uint64_t, int64_t> id_hash_to_row_;
    std::unordered_map<std::string, int64_t> lines_per_voucher_;
};

}  // namespace granska::transform
