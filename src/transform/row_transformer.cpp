#include "transform/row_transformer.h"

#include <fmt/format.h>

#include "transform/features.h"

namespace granska::transform {

namespace {

// FNV-1a: stable across runs and platforms, unlike std::hash.
uint64_t HashId(std::string_view id) {
    uint64_t hash = 14695981039346656037ull;
    for (const char c : id) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
    }
    return hash;
}

}  // namespace

Expected<void> RowTransformer::Apply(std::span<Transaction> rows) {
    for (Transaction& row : rows) {
        if (!row.external_id.empty()) {
            const auto [it, inserted] = id_hash_to_row_.emplace(HashId(row.external_id), row.row_number);
            if (!inserted) {
                Error error = InvalidInput(
                    "duplicate_id",
                    fmt::format("The id '{}' appears again (first in data row {}); ids must be unique. Map a unique "
                                "column as id, or map none and Granska generates stable ids.",
                                row.external_id, it->second));
                error.file = file_name_;
                error.column = "id";
                if (row.source_line > 0) error.line = row.source_line;
                return Unexpected(std::move(error));
            }
        } else if (!row.voucher_number.empty()) {
            const std::string voucher = fmt::format("{}-{}", row.voucher_series, row.voucher_number);
            const int64_t line = ++lines_per_voucher_[voucher];
            row.external_id = fmt::format("{}-{}", voucher, line);
        } else {
            row.external_id = fmt::format("{}", row.row_number);
        }
        row.processed_data = FeaturesToJson(ComputeRowFeatures(row, calendar_));
    }
    return {};
}

}  // namespace granska::transform
