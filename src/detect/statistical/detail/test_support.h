#pragma once
// Test helpers for the statistical algorithms' tests (not used by the library): small frames from hand-written
// lines, an algorithm from its params, and the check that bad params are rejected by field path.

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/date.h"
#include "detect/algorithm.h"
#include "transform/frame.h"

namespace granska::detect::testing {

struct TestLine {
    std::string account;
    double amount;  // major units
    Date date;
};

inline transform::TransactionFrame MakeFrame(const std::vector<TestLine>& lines) {
    std::vector<store::StoredTransaction> rows;
    for (size_t i = 0; i < lines.size(); ++i) {
        store::StoredTransaction row;
        row.id = "id-" + std::to_string(i);
        row.transaction.row_number = static_cast<int64_t>(i + 1);
        row.transaction.external_id = std::to_string(i + 1);
        row.transaction.date = lines[i].date;
        row.transaction.account = lines[i].account;
        row.transaction.amount = Money{std::llround(lines[i].amount * 100)};
        rows.push_back(std::move(row));
    }
    transform::FrameBuilder builder;
    builder.Append(rows);
    return std::move(builder).Finish();
}

// The algorithm A configured by Params::FromJson(params); a test failure when they are rejected.
template <class Params, class A>
std::unique_ptr<Algorithm> MakeAlgorithm(const nlohmann::json& params) {
    auto params_or = Params::FromJson(params, "algorithms[0].params");
    EXPECT_TRUE(params_or) << params_or.error().message;
    return std::make_unique<A>(params_or ? *params_or : Params{});
}

// Each params object must be rejected with error.column = the given field path (params read at path "p").
template <class Params>
void ExpectRejected(const std::vector<std::pair<nlohmann::json, std::string>>& cases) {
    for (const auto& [json, column] : cases) {
        const auto params = Params::FromJson(json, "p");
        ASSERT_FALSE(params) << json.dump();
        EXPECT_EQ(params.error().column, column) << json.dump();
    }
}

// x² / (x² + t²), written out again so that the tests do not take the formula from the code under test.
inline double Score(double z, double threshold) { return z * z / (z * z + threshold * threshold); }

}  // namespace granska::detect::testing
