#pragma once
// TransactionFrame: one upload's rows as columns, built once per analysis and shared read-only by every
// algorithm (no algorithm sees the store). Strings that repeat (accounts, users) are dictionary-encoded.

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "store/store.h"

namespace granska::transform {

// A fiscal year: first and last day, inclusive.
struct FiscalYear {
    Date start;
    Date end;
};

// The calendar a frame is built with. Fiscal years come from the file (SIE #RAR) where it declares them; dates
// outside those (and every date of other files) fall into years starting on fiscal_year_start_month/day.
struct FrameOptions {
    std::string country = "SE";  // HolidayCalendar::ForCountry; "none" = no public holidays
    int fiscal_year_start_month = 1;
    int fiscal_year_start_day = 1;
    std::vector<FiscalYear> fiscal_years;
    // Columns of the uploaded file itself (raw_data keys) to load as numbers: the features a strategy names that
    // are not derived ones. Others are not read (parsing every row's raw_data costs time).
    std::vector<std::string> raw_columns;
};

// A column of the uploaded file read as numbers (FrameOptions::raw_columns). A value is a JSON number or a string
// such as "1234.5", "-0,25" or "1 234,50"; null, "" or a row without the key is missing (NaN).
struct RawColumn {
    std::string name;
    std::vector<double> values;  // per row; NaN = missing
    size_t present = 0;          // rows with a value
    // The first value that is not a number, if any: the column cannot be used as a numeric feature.
    int64_t bad_row = 0;  // row_number; 0 = every value is a number
    std::string bad_value;
};

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

    // Calendar (FrameOptions). A period is a calendar month; it closes at its last day.
    std::vector<int32_t> registration_days;   // date_days + posting_lag_days (= date_days without a registration date)
    std::vector<int16_t> fiscal_year;         // the calendar year the row's fiscal year starts in
    std::vector<int8_t> fiscal_period;        // 1..12: month of the fiscal year (1 = its first month)
    std::vector<int16_t> days_to_period_end;  // days from the date to the last day of its month (0 on that day)
    std::vector<int16_t> days_to_year_end;    // days from the date to the last day of its fiscal year
    std::vector<FiscalYear> fiscal_years;     // the distinct fiscal years the rows fall into, in order

    // Whole-upload features, computed once the last row is in (Finish): how often each row's value occurs.
    std::vector<int32_t> account_frequency;       // rows with the row's account
    std::vector<int32_t> user_frequency;          // rows with the row's user ("" counts as a user)
    std::vector<int32_t> counterparty_frequency;  // rows with the row's counterparty
    std::vector<int32_t> voucher_size;            // rows in the row's voucher; 1 without a voucher number

    // The rows of each voucher (by voucher code), in file order: rows of code c are
    // voucher_rows[voucher_start[c] .. voucher_start[c + 1]). The "" code (no voucher number) lists its rows too.
    std::vector<int32_t> voucher_start;
    std::vector<int32_t> voucher_rows;

    // The requested columns of the file itself, in FrameOptions::raw_columns order.
    std::vector<RawColumn> raw_columns;
    const RawColumn* FindRawColumn(std::string_view name) const;

    size_t size() const { return id.size(); }
    std::span<const int32_t> VoucherRows(int32_t voucher_code) const {
        const auto c = static_cast<size_t>(voucher_code);
        return std::span<const int32_t>(voucher_rows).subspan(static_cast<size_t>(voucher_start[c]),
                                                              static_cast<size_t>(voucher_start[c + 1] - voucher_start[c]));
    }
    // True when the row has a voucher number (belongs to a real voucher).
    bool HasVoucher(size_t row) const { return !voucher.values[static_cast<size_t>(voucher.codes[row])].empty(); }
    // Numeric feature by name ("log_amount", "weekday", ...), else a loaded raw column that holds numbers only
    // (NaN where missing); empty when the name is neither.
    std::vector<double> NumericFeature(std::string_view name) const;
    static std::span<const std::string_view> NumericFeatureNames();
};

// Builds a frame from batches of stored rows, keeping the dictionaries between batches.
class FrameBuilder {
public:
    explicit FrameBuilder(FrameOptions options = {});
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

// The calendar an upload declares: its metadata's "calendar" {"country", "fiscal_year_start": "MM-DD"} (set at
// upload) and the SIE report's details.fiscal_years. Defaults where absent.
FrameOptions FrameOptionsFromMetadata(std::string_view upload_metadata);
// "MM-DD" or "--MM-DD" → {month, day}; nullopt when it is not a day of the year.
std::optional<std::pair<int, int>> ParseMonthDay(std::string_view text);

// Loads an upload's rows from the store, in file order, with the upload's calendar and the named columns of the
// file itself (RawColumn).
TransactionFrame LoadFrame(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                           std::span<const std::string> raw_columns = {});

}  // namespace granska::transform
