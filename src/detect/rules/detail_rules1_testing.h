#pragma once
// Test support for the rule algorithms of detail_rules1: hand-built frames from short row descriptions.

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/date.h"
#include "transform/frame.h"

namespace granska::detect::rules1 {

struct TestRow {
    std::string date = "2024-01-10";  // a Wednesday
    int64_t minor = 100;
    std::string account = "1930";
    std::string voucher;  // "<series> <number>", "" = none
    std::string user;
    std::string registration;  // "" = none
    int hour = -1;             // -1 = no time
};

// Algorithm A configured from params by P::FromJson; a test failure when they are rejected.
template <class A, class P>
A MakeAlgorithm(const nlohmann::json& params) {
    auto parsed = P::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(parsed) << parsed.error().message;
    return A(*parsed);
}

inline transform::TransactionFrame MakeFrame(const std::vector<TestRow>& lines) {
    std::vector<store::StoredTransaction> rows;
    for (size_t i = 0; i < lines.size(); ++i) {
        const TestRow& line = lines[i];
        store::StoredTransaction row;
        row.id = "id-" + std::to_string(i);
        row.transaction.row_number = static_cast<int64_t>(i + 1);
        row.transaction.external_id = std::to_string(i + 1);
        row.transaction.date = ParseIsoDateTime(line.date)->date;
        if (!line.registration.empty()) row.transaction.registration_date = ParseIsoDateTime(line.registration)->date;
        if (line.hour >= 0) row.transaction.time_seconds = line.hour * 3600 + 15 * 60;
        row.transaction.account = line.account;
        row.transaction.amount = Money{line.minor};
        row.transaction.user = line.user;
        if (const auto space = line.voucher.find(' '); space != std::string::npos) {
            row.transaction.voucher_series = line.voucher.substr(0, space);
            row.transaction.voucher_number = line.voucher.substr(space + 1);
        }
        rows.push_back(std::move(row));
    }
    transform::FrameBuilder builder;
    builder.Append(rows);
    return std::move(builder).Finish();
}

}  // namespace granska::detect::rules1
