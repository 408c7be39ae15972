#include "ingest/row_mapper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ingest/detail/values.h"

namespace granska::ingest {
namespace {

using ::testing::HasSubstr;

// Feeds a header and rows of cells through a RowMapper and keeps what comes out.
struct Mapped {
    ParseReport report;
    std::vector<Transaction> rows;
    std::optional<Error> error;
};

using Row = std::vector<Cell>;

Cell Text(std::string_view text) { return Cell{CellType::kText, text}; }
Cell Number(std::string_view text) { return Cell{CellType::kNumber, text}; }
Cell DateCell(std::string_view text) { return Cell{CellType::kDate, text}; }
Cell Empty() { return Cell{}; }

Mapped Map(const std::vector<std::string>& headers, const std::vector<Row>& rows, ParseOptions options = {},
           bool ragged = false) {
    Mapped out;
    const BatchSink sink = [&out](std::span<Transaction> batch) -> Expected<void> {
        for (Transaction& tx : batch) out.rows.push_back(std::move(tx));
        return {};
    };
    options.file_name = "t.xlsx";
    RowMapper mapper(options, out.report, sink);
    mapper.SetCellNamer([](size_t column, int64_t line) {
        return "Blad1!" + std::string(1, static_cast<char>('A' + column)) + std::to_string(line);
    });
    auto run = [&]() -> Expected<void> {
        if (auto header = mapper.SetHeader(headers, 1); !header) return header;
        int64_t line = 1;
        for (const Row& row : rows) {
            if (auto added = mapper.AddRow(row, ++line, ragged); !added) return added;
        }
        return mapper.Finish();
    };
    if (auto result = run(); !result) out.error = std::move(result).error();
    return out;
}

TEST(RowMapperTest, DebitAndCreditColumnsBecomeOneSignedAmount) {
    const auto m = Map({"Datum", "Konto", "Debet", "Kredit"},
                       {{Text("2024-01-01"), Text("1930"), Text("100,00"), Text("")},
                        {Text("2024-01-01"), Text("3001"), Text(""), Text("80,00")},
                        {Text("2024-01-01"), Text("2611"), Empty(), Text("-20,00")}});  // already signed
    ASSERT_FALSE(m.error) << m.error->ToString();
    ASSERT_EQ(m.rows.size(), 3u);
    EXPECT_EQ(m.rows[0].amount.minor, 10000);
    EXPECT_EQ(m.rows[1].amount.minor, -8000);
    EXPECT_EQ(m.rows[2].amount.minor, -2000);
    EXPECT_EQ(m.report.mapping.at("debit"), "Debet");
    EXPECT_EQ(m.report.mapping.at("credit"), "Kredit");
    EXPECT_EQ(m.report.mapping.count("amount"), 0u);
}

TEST(RowMapperTest, RowWithNeitherDebitNorCreditIsReported) {
    const auto m = Map({"date", "debit", "credit"},
                       {{Text("2024-01-01"), Text("5"), Text("")}, {Text("2024-01-02"), Text(""), Text("")}});
    ASSERT_FALSE(m.error) << m.error->ToString();
    EXPECT_EQ(m.report.rows_rejected, 1);
    ASSERT_EQ(m.report.problems.size(), 1u);
    EXPECT_EQ(m.report.problems[0].code, "missing_value");
    EXPECT_EQ(m.report.problems[0].line, 3);
    EXPECT_THAT(m.report.problems[0].message, HasSubstr("debit and the credit are empty"));
}

TEST(RowMapperTest, NumbersAndDatesStoredAsSuchAreReadExactly) {
    const auto m = Map({"date", "amount", "account", "voucher_number"},
                       {{DateCell("2024-03-31T13:05:00"), Number("689.80999999999995"), Number("5460"), Number("17.0")},
                        {DateCell("2024-04-01"), Number("-1E3"), Number("1930"), Number("18")},
                        {DateCell("2024-04-02"), Number("0.30000000000000004"), Number("1930"), Number("19")}});
    ASSERT_FALSE(m.error) << m.error->ToString();
    ASSERT_EQ(m.rows.size(), 3u);
    EXPECT_EQ(m.rows[0].amount.minor, 68981);
    EXPECT_EQ(m.rows[0].time_seconds, 13 * 3600 + 5 * 60);
    EXPECT_EQ(m.rows[0].voucher_number, "17");
    EXPECT_EQ(m.rows[1].amount.minor, -100000);
    EXPECT_EQ(m.rows[2].amount.minor, 30);
}

TEST(RowMapperTest, SubCentNumberIsABadAmountNamedByItsCell) {
    const auto m =
        Map({"date", "amount"}, {{DateCell("2024-01-01"), Number("12.345")}, {DateCell("2024-01-02"), Number("1")}});
    ASSERT_FALSE(m.error) << m.error->ToString();
    ASSERT_EQ(m.report.problems.size(), 1u);
    EXPECT_EQ(m.report.problems[0].code, "bad_amount");
    EXPECT_EQ(m.report.problems[0].location, "Blad1!B2");
    EXPECT_EQ(m.report.problems[0].field, "amount");
}

TEST(RowMapperTest, NumberInADateColumnIsABadDateWithAHint) {
    const auto m = Map({"date", "amount"}, {{Number("45292"), Number("1")}, {DateCell("2024-01-02"), Number("1")}},
                       {.bad_rows = BadRowPolicy::kRejectFile});
    ASSERT_TRUE(m.error);
    EXPECT_EQ(m.error->code, "bad_date");
    EXPECT_EQ(m.error->line, 2);
    EXPECT_EQ(m.error->column, "date");
    EXPECT_THAT(m.error->message, HasSubstr("is a number, not a date"));
    EXPECT_THAT(m.error->message, HasSubstr("(cell Blad1!A2)"));
}

TEST(RowMapperTest, RaggedRowsFillMissingCellsAndTypedRawData) {
    const auto m =
        Map({"date", "amount", "note", "count", "paid", "extra"},
            {{Text("2024-01-01"), Number("1"), Text("x \"y\""), Number("2.5"), Cell{CellType::kBool, "true"}},
             {Text("2024-01-02"), Number("2")}},
            {}, /*ragged=*/true);
    ASSERT_FALSE(m.error) << m.error->ToString();
    ASSERT_EQ(m.rows.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(m.rows[0].raw_data),
              nlohmann::json::parse(R"({"note": "x \"y\"", "count": 2.5, "paid": true, "extra": null})"));
    EXPECT_EQ(nlohmann::json::parse(m.rows[1].raw_data),
              nlohmann::json::parse(R"({"note": null, "count": null, "paid": null, "extra": null})"));
}

TEST(RowMapperTest, AllEmptyRowsAreSkippedSilently) {
    const auto m =
        Map({"date", "amount"}, {{Text(" "), Text("")}, {Text("2024-01-01"), Text("1")}, {Empty(), Empty()}});
    ASSERT_FALSE(m.error) << m.error->ToString();
    EXPECT_EQ(m.report.rows_read, 1);
    EXPECT_EQ(m.report.rows_accepted, 1);
    EXPECT_TRUE(m.report.problems.empty());
}

TEST(RowMapperTest, MostlyBadRowsFailTheFileRatherThanLoadAFew) {
    std::vector<Row> rows;
    for (int i = 0; i < 12; ++i) rows.push_back({Text("2024-01-01"), Text("1.234.567,00 kr")});
    rows.push_back({Text("2024-01-01"), Text("5")});
    const auto m = Map({"date", "amount"}, rows);
    ASSERT_TRUE(m.error);
    EXPECT_EQ(m.error->code, "too_many_bad_rows");
    EXPECT_THAT(m.error->message, HasSubstr("12 of 13 rows could not be read"));
    EXPECT_EQ(m.error->line, 2);
}

TEST(RowMapperTest, NoReadableRowIsAnErrorNamingTheFirstProblem) {
    const auto m = Map({"date", "amount"}, {{Text("igår"), Text("1")}});
    ASSERT_TRUE(m.error);
    EXPECT_EQ(m.error->code, "no_valid_rows");
    EXPECT_THAT(m.error->message, HasSubstr("'igår' is not a date"));
}

TEST(RowMapperTest, TooManyRowsIsTooLarge) {
    ParseOptions options;
    options.limits.max_rows = 2;
    const auto m = Map(
        {"date", "amount"},
        {{Text("2024-01-01"), Text("1")}, {Text("2024-01-02"), Text("1")}, {Text("2024-01-03"), Text("1")}}, options);
    ASSERT_TRUE(m.error);
    EXPECT_EQ(m.error->code, "too_many_rows");
    EXPECT_EQ(m.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(m.error->line, 4);
}

TEST(RowMapperTest, OverlongValueFailsTheFile) {
    ParseOptions options;
    options.limits.max_field_bytes = 10;
    const std::string long_text(11, 'x');
    const auto m = Map({"date", "amount", "text"}, {{Text("2024-01-01"), Text("1"), Text(long_text)}}, options);
    ASSERT_TRUE(m.error);
    EXPECT_EQ(m.error->code, "field_too_long");
    EXPECT_EQ(m.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(m.error->column, "text");
    EXPECT_THAT(m.error->message, HasSubstr("11 bytes long; the limit is 10"));
}

TEST(RowMapperTest, SeparateTimeColumnFillsTheTimeOfDay) {
    const auto m = Map({"date", "time", "amount"}, {{Text("2024-01-01"), Text("23:59:58"), Text("1")},
                                                    {Text("2024-01-02"), Text("25:00"), Text("1")}});
    ASSERT_FALSE(m.error) << m.error->ToString();
    EXPECT_EQ(m.rows[0].time_seconds, 86398);
    ASSERT_EQ(m.report.problems.size(), 1u);
    EXPECT_EQ(m.report.problems[0].code, "bad_time");
}

TEST(RowMapperTest, GivenDialectWinsOverTheData) {
    ParseOptions options;
    options.dialect.date_format = "mdy";
    options.dialect.decimal_separator = ',';
    options.dialect.thousands_separator = '\'';
    const auto m = Map({"date", "amount"}, {{Text("02/01/2024"), Text("1'234,50")}}, options);
    ASSERT_FALSE(m.error) << m.error->ToString();
    EXPECT_EQ(m.rows[0].date.ToString(), "2024-02-01");
    EXPECT_EQ(m.rows[0].amount.minor, 123450);
    EXPECT_EQ(m.report.dialect.at("date_format"), "mdy");
    EXPECT_EQ(m.report.dialect.at("thousands_separator"), "'");
}

TEST(ValuesTest, NumberAmountsKeepCentsAndRejectRealSubCents) {
    using detail::ParseNumberAmount;
    EXPECT_EQ(ParseNumberAmount("1234567890123.45")->minor, 123456789012345);
    EXPECT_EQ(ParseNumberAmount("-0.05")->minor, -5);
    EXPECT_EQ(ParseNumberAmount("1e3")->minor, 100000);
    EXPECT_EQ(ParseNumberAmount("1.5E-1")->minor, 15);
    EXPECT_EQ(ParseNumberAmount("0.29999999999999999")->minor, 30);
    EXPECT_EQ(ParseNumberAmount("0.0100000000000001")->minor, 1);
    EXPECT_FALSE(ParseNumberAmount("12.345"));
    EXPECT_FALSE(ParseNumberAmount("12345678901234"));  // fourteen integer digits
    EXPECT_FALSE(ParseNumberAmount("1e"));
    EXPECT_FALSE(ParseNumberAmount("--1"));
}

TEST(ValuesTest, NumbersAsTextDropNoiseFreeZerosAndExponents) {
    EXPECT_EQ(detail::NumberAsText("5460.0"), "5460");
    EXPECT_EQ(detail::NumberAsText("1E3"), "1000");
    EXPECT_EQ(detail::NumberAsText("0.50"), "0.5");
    EXPECT_EQ(detail::NumberAsText("-0.0"), "0");
    EXPECT_EQ(detail::NumberAsText("A-12"), "A-12");
}

TEST(ValuesTest, DatesInEveryShape) {
    using detail::DateOrder;
    using detail::ParseDateText;
    EXPECT_EQ(ParseDateText("2024-2-9", DateOrder::kDayFirst)->date.ToString(), "2024-02-09");
    EXPECT_EQ(ParseDateText("9.2.2024", DateOrder::kDayFirst)->date.ToString(), "2024-02-09");
    EXPECT_EQ(ParseDateText("2/9/2024", DateOrder::kMonthFirst)->date.ToString(), "2024-02-09");
    EXPECT_EQ(ParseDateText("20240209T101112", DateOrder::kDayFirst), std::nullopt);  // compact date, no ':' time
    EXPECT_EQ(ParseDateText("2024-02-09 10:11:12.5 +0100", DateOrder::kDayFirst)->seconds_of_day, 36672);
    EXPECT_EQ(ParseDateText("2023-02-29", DateOrder::kDayFirst), std::nullopt);
    EXPECT_EQ(ParseDateText("31/04/2024", DateOrder::kDayFirst), std::nullopt);
    EXPECT_EQ(ParseDateText("2024-01-01x", DateOrder::kDayFirst), std::nullopt);
    EXPECT_EQ(ParseDateText("1/1/24", DateOrder::kDayFirst), std::nullopt);  // two-digit years are refused
}

}  // namespace
}  // namespace granska::ingest
