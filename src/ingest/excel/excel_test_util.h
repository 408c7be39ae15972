#pragma once
// Test helpers shared by the xlsx and xls parser tests: fixture paths and a parse that keeps every row.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/transaction.h"
#include "ingest/parser.h"

namespace granska::ingest::testing {

// tests/fixtures/excel/<name>; GRANSKA_SOURCE_DIR is set by ctest.
inline std::filesystem::path ExcelFixture(const std::string& name) {
    const char* source_dir = std::getenv("GRANSKA_SOURCE_DIR");
    EXPECT_NE(source_dir, nullptr) << "run through ctest, or set GRANSKA_SOURCE_DIR to the repository root";
    return std::filesystem::path(source_dir == nullptr ? "." : source_dir) / "tests" / "fixtures" / "excel" / name;
}

struct ParseOutcome {
    ParseReport report;
    std::vector<Transaction> rows;
    std::vector<uint64_t> progress;
};

inline ParseOutcome ParseWith(const Parser& parser, const std::filesystem::path& path, ParseOptions options = {}) {
    ParseOutcome out;
    if (options.file_name.empty()) options.file_name = path.filename().string();
    out.report = parser.Parse(
        path, options,
        [&out](std::span<Transaction> batch) -> Expected<void> {
            for (Transaction& tx : batch) out.rows.push_back(std::move(tx));
            return {};
        },
        [&out](uint64_t bytes) { out.progress.push_back(bytes); });
    return out;
}

// The fields a row carries, for comparing rows read two ways.
inline std::string Describe(const Transaction& tx) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", tx.row_number, tx.external_id, tx.date.ToString(),
                       tx.registration_date ? tx.registration_date->ToString() : "-", tx.time_seconds.value_or(-1),
                       tx.account, tx.amount.ToString(), tx.text, tx.user, tx.voucher_series, tx.voucher_number,
                       tx.raw_data);
}

inline std::vector<std::string> DescribeAll(const std::vector<Transaction>& rows) {
    std::vector<std::string> out;
    out.reserve(rows.size());
    for (const Transaction& tx : rows) out.push_back(Describe(tx));
    return out;
}

}  // namespace granska::ingest::testing
