#include "transform/frame.h"

#include <gtest/gtest.h>

#include <cmath>

namespace granska::transform {
namespace {

store::StoredTransaction Stored(std::string id, int year, int month, int day, int64_t minor, std::string account,
                                std::optional<int32_t> time = std::nullopt) {
    store::StoredTransaction stored;
    stored.id = std::move(id);
    stored.transaction.date = *Date::FromYmd(year, month, day);
    stored.transaction.amount = Money{minor};
    stored.transaction.account = std::move(account);
    stored.transaction.time_seconds = time;
    return stored;
}

TEST(FrameBuilderTest, DerivedColumnsFollowEveryRow) {
    FrameBuilder builder;
    const std::vector<store::StoredTransaction> rows = {
        Stored("a", 2024, 12, 24, 5'000'000, "5010", 9 * 3600),  // Julafton, a Tuesday; 50 000.00 at 09:00
        Stored("b", 2024, 7, 13, -68'981, "1930"),               // a Saturday; -689.81
        Stored("c", 2024, 4, 2, 0, "5010")};                     // an ordinary Tuesday; zero
    builder.Append(rows);
    const TransactionFrame frame = std::move(builder).Finish();
    ASSERT_EQ(frame.size(), 3u);
    EXPECT_EQ(frame.is_holiday, (std::vector<uint8_t>{1, 0, 0}));
    EXPECT_EQ(frame.is_weekend, (std::vector<uint8_t>{0, 1, 0}));
    EXPECT_EQ(frame.quarter, (std::vector<int8_t>{4, 3, 2}));
    EXPECT_EQ(frame.hour, (std::vector<int8_t>{9, -1, -1}));
    EXPECT_EQ(frame.round_exponent, (std::vector<int8_t>{4, -2, -2}));
    EXPECT_EQ(frame.first_digit, (std::vector<int8_t>{5, 6, 0}));
    EXPECT_EQ(frame.first_two_digits, (std::vector<int8_t>{50, 68, 0}));
    EXPECT_EQ(frame.account.values[static_cast<size_t>(frame.account.codes[2])], "5010");
    EXPECT_EQ(frame.account.codes[0], frame.account.codes[2]);
}

TEST(FrameBuilderTest, FrequenciesAndVoucherSizesCountTheWholeUpload) {
    std::vector<store::StoredTransaction> rows;
    const char* accounts[] = {"1930", "3001", "2611", "1930", "5010", "1930"};
    const char* vouchers[] = {"1", "1", "1", "2", "2", ""};  // the last row has no voucher number
    for (size_t i = 0; i < 6; ++i) {
        rows.push_back(Stored(std::to_string(i), 2024, 1, 2, 100, accounts[i]));
        rows.back().transaction.voucher_series = "A";
        rows.back().transaction.voucher_number = vouchers[i];
        rows.back().transaction.user = i == 4 ? "ANNA" : "BO";
    }
    rows[2].transaction.voucher_series = "B";  // B 1 is another voucher than A 1
    FrameBuilder builder;
    builder.Append(std::span(rows).first(3));  // dictionaries carry over between batches
    builder.Append(std::span(rows).subspan(3));
    const TransactionFrame frame = std::move(builder).Finish();
    EXPECT_EQ(frame.account_frequency, (std::vector<int32_t>{3, 1, 1, 3, 1, 3}));
    EXPECT_EQ(frame.user_frequency, (std::vector<int32_t>{5, 5, 5, 5, 1, 5}));
    EXPECT_EQ(frame.counterparty_frequency, (std::vector<int32_t>{6, 6, 6, 6, 6, 6}));  // all ""
    EXPECT_EQ(frame.voucher_size, (std::vector<int32_t>{2, 2, 1, 2, 2, 1}));
    // Voucher index: A 1 = rows 0, 1; B 1 = row 2; A 2 = rows 3, 4; "" = row 5.
    const auto rows_of = [&](size_t row) {
        const auto span = frame.VoucherRows(frame.voucher.codes[row]);
        return std::vector<int32_t>(span.begin(), span.end());
    };
    EXPECT_EQ(rows_of(0), (std::vector<int32_t>{0, 1}));
    EXPECT_EQ(rows_of(2), (std::vector<int32_t>{2}));
    EXPECT_EQ(rows_of(4), (std::vector<int32_t>{3, 4}));
    EXPECT_EQ(rows_of(5), (std::vector<int32_t>{5}));
    EXPECT_TRUE(frame.HasVoucher(4));
    EXPECT_FALSE(frame.HasVoucher(5));
}

TEST(FrameBuilderTest, FiscalYearsComeFromTheFileOrTheConfiguredStart) {
    std::vector<store::StoredTransaction> rows = {Stored("a", 2024, 6, 30, 100, "1930"),
                                                  Stored("b", 2024, 7, 1, 100, "1930"),
                                                  Stored("c", 2025, 2, 10, 100, "1930")};
    rows[1].transaction.registration_date = *Date::FromYmd(2024, 8, 15);  // 45 days late
    // Configured start 1 July: a is period 12 of 2023/24, b period 1 of 2024/25, c period 8.
    FrameBuilder builder(FrameOptions{.fiscal_year_start_month = 7, .fiscal_year_start_day = 1});
    builder.Append(rows);
    const TransactionFrame frame = std::move(builder).Finish();
    EXPECT_EQ(frame.fiscal_year, (std::vector<int16_t>{2023, 2024, 2024}));
    EXPECT_EQ(frame.fiscal_period, (std::vector<int8_t>{12, 1, 8}));
    EXPECT_EQ(frame.days_to_period_end, (std::vector<int16_t>{0, 30, 18}));
    EXPECT_EQ(frame.days_to_year_end, (std::vector<int16_t>{0, 364, 140}));
    EXPECT_EQ(frame.registration_days[1] - frame.date_days[1], 45);
    EXPECT_EQ(frame.registration_days[0], frame.date_days[0]);
    ASSERT_EQ(frame.fiscal_years.size(), 2u);
    EXPECT_EQ(frame.fiscal_years[1].start, *Date::FromYmd(2024, 7, 1));
    EXPECT_EQ(frame.fiscal_years[1].end, *Date::FromYmd(2025, 6, 30));

    // A declared (SIE #RAR) year wins: a shortened first year 2024-03-01 .. 2024-12-31.
    const FrameOptions options = FrameOptionsFromMetadata(
        R"({"calendar": {"country": "none", "fiscal_year_start": "--01-01"},
            "details": {"fiscal_years": [{"year": 0, "start": "2024-03-01", "end": "2024-12-31"}]}})");
    EXPECT_EQ(options.country, "none");
    ASSERT_EQ(options.fiscal_years.size(), 1u);
    FrameBuilder declared(options);
    rows = {Stored("d", 2024, 3, 1, 100, "1930"), Stored("e", 2025, 1, 1, 100, "1930")};
    declared.Append(rows);
    const TransactionFrame short_year = std::move(declared).Finish();
    EXPECT_EQ(short_year.fiscal_period, (std::vector<int8_t>{1, 1}));
    EXPECT_EQ(short_year.days_to_year_end, (std::vector<int16_t>{305, 364}));
    EXPECT_EQ(short_year.fiscal_year, (std::vector<int16_t>{2024, 2025}));

    EXPECT_EQ(ParseMonthDay("07-01"), (std::pair{7, 1}));
    EXPECT_EQ(ParseMonthDay("02-29"), (std::pair{2, 29}));
    EXPECT_FALSE(ParseMonthDay("13-01"));
    EXPECT_FALSE(ParseMonthDay("7-1"));
}

TEST(FrameBuilderTest, RequestedColumnsOfTheFileAreReadAsNumbers) {
    std::vector<store::StoredTransaction> rows(5, Stored("r", 2024, 3, 1, 100, "5010"));
    rows[0].transaction.raw_data = R"({"x0":"1 234,50","x1":"abc","note":"x"})";
    rows[1].transaction.raw_data = R"({"x0":-0.25,"x1":"2"})";
    rows[2].transaction.raw_data = R"({"x0":"","x1":null})";
    rows[3].transaction.raw_data = "{}";
    rows[4].transaction.raw_data = "{\"x0\":\"+7e2\",\"x1\":\"3\xC2\xA0" "000\"}";  // no-break space groups digits
    for (size_t i = 0; i < rows.size(); ++i) rows[i].transaction.row_number = static_cast<int64_t>(i + 1);
    FrameBuilder builder(FrameOptions{.raw_columns = {"x0", "x1", "missing"}});
    builder.Append(rows);
    const TransactionFrame frame = std::move(builder).Finish();
    ASSERT_EQ(frame.raw_columns.size(), 3u);
    const RawColumn& x0 = *frame.FindRawColumn("x0");
    EXPECT_EQ(x0.present, 3u);
    EXPECT_EQ(x0.bad_row, 0);
    EXPECT_DOUBLE_EQ(x0.values[0], 1234.5);
    EXPECT_DOUBLE_EQ(x0.values[1], -0.25);
    EXPECT_TRUE(std::isnan(x0.values[2]));
    EXPECT_TRUE(std::isnan(x0.values[3]));
    EXPECT_DOUBLE_EQ(x0.values[4], 700.0);
    EXPECT_EQ(frame.NumericFeature("x0").size(), 5u);
    // x1 has a word in row 1: not a numeric column, and the frame says where.
    const RawColumn& x1 = *frame.FindRawColumn("x1");
    EXPECT_EQ(x1.bad_row, 1);
    EXPECT_EQ(x1.bad_value, "abc");
    EXPECT_DOUBLE_EQ(x1.values[4], 3000.0);
    EXPECT_TRUE(frame.NumericFeature("x1").empty());
    EXPECT_EQ(frame.FindRawColumn("missing")->present, 0u);
    EXPECT_EQ(frame.FindRawColumn("note"), nullptr);  // not asked for
}

TEST(FrameBuilderTest, EveryNumericFeatureNameGivesOneValuePerRow) {
    FrameBuilder builder;
    const std::vector<store::StoredTransaction> rows = {Stored("a", 2024, 1, 1, 100, "1930"),
                                                        Stored("b", 2024, 1, 2, 250, "1930")};
    builder.Append(rows);
    const TransactionFrame frame = std::move(builder).Finish();
    for (const std::string_view name : TransactionFrame::NumericFeatureNames()) {
        EXPECT_EQ(frame.NumericFeature(name).size(), 2u) << name;
    }
    EXPECT_EQ(frame.NumericFeature("amount"), (std::vector<double>{1.0, 2.5}));
    EXPECT_EQ(frame.NumericFeature("is_holiday"), (std::vector<double>{1.0, 0.0}));  // Nyårsdagen
    EXPECT_TRUE(frame.NumericFeature("no_such_feature").empty());
}

}  // namespace
}  // namespace granska::transform
