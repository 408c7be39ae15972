#pragma once
// TransactionFrame: one upload's rows as columns, built once per analysis and shared read-only by every
// algorithm (no algorithm sees the store). Strings that repeat (accounts, users) are dictionary-encoded.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace granska::transform {

// A dictionary-encoded string column: codes index into values; "" is a value like any other.
struct CategoryColumn {
    std::vector<int32_t> codes;
    std::vector<std::string> values;
};

struct TransactionFrame {
    // Identity, in file order.
    std::vector<std::string> id;  // store UUID
    std::vector<std::string> external_id;
    std::vector<int64_t> row_number;

    // Fields.
    std::vector<int32_t> date_days;
    std::vector<int64_t> amount_minor;
    CategoryColumn account;
    CategoryColumn user;
    CategoryColumn counterparty;
    CategoryColumn voucher;  // "<series> <number>"; "" for a row without a voucher number
    std::vector<std::string> text;

    // Derived features (features.h).
    std::vector<int8_t> weekday;
    std::vector<uint8_t> is_weekend;
    std::vector<uint8_t> is_holiday;
    std::vector<int8_t> month;
    std::vector<int8_t> quarter;
    std::vector<int8_t> day_of_month;
    std::vector<int8_t> hour;  // -1 when the row has no time
    std::vector<double> log_amount;
    std::vector<int32_t> posting_lag_days;
    std::vector<int8_t> round_exponent;  // -2 for a zero amount: no roundness to speak of
    std::vector<int8_t> first_digit;
    std::vector<int8_t> first_two_digits;

    // Whole-upload features, computed once the last row is in (Finish): how often each row's value occurs.
    std::vector<int32_t> account_frequency;       // rows with the row's account
    std::vector<int32_t> user_frequency;          // rows with the row's user ("" counts as a user)
    std::vector<int32_t> counterparty_frequency;  // rows with the row's counterparty
    std::vector<int32_t> voucher_size;            // rows in the row's voucher; 1 without a voucher number

    size_t size() const { return id.size(); }
    // Numeric feature by name ("log_amount", "weekday", ...); empty when the name is not a numeric feature.
    std::vector<double> NumericFeature(std::string_view name) const;
    static std::span<const std::string_view> NumericFeatureNames();
};

// Builds a frame from batches of stored rows, keeping the dictionaries between batches.
class FrameBuilder {
public:
    FrameBuilder();
    ~FrameBuilder();
    FrameBuilder(const FrameBuilder&) = delete;
    FrameBuilder& operator=(const FrameBuilder&) = delete;

    void Append(std::span<const store::StoredTransaction> rows);
    TransactionFrame Finish() &&;

private:
    struct Dictionaries;
    TransactionFrame frame_;
    std::unique_ptr<Dictionaries> dictionaries_;
};

// Loads an upload's rows from the store, in file order.
TransactionFrame LoadFrame(store::Store& store, std::string_view workspace_id, std::string_view upload_id);

}  // namespace granska::transform
