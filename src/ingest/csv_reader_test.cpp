#include "ingest/csv_reader.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace granska::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The options these tests vary, on the strict policy: the first bad row fails the file (the default policy, skip
// and report, has its own tests below).
struct TestOptions {
    std::optional<char> delimiter;
    std::optional<char> decimal_separator;
    ColumnMapping mapping;
    size_t batch_size = 8192;
    std::string file_name;
    size_t chunk_bytes = size_t{1} << 20;
    size_t max_record_bytes = size_t{16} << 20;
    BadRowPolicy bad_rows = BadRowPolicy::kRejectFile;
    std::optional<std::string> encoding;

    ParseOptions Build() const {
        ParseOptions options;
        options.dialect.encoding = encoding;
        options.dialect.delimiter = delimiter;
        options.dialect.decimal_separator = decimal_separator;
        options.mapping = mapping;
        options.batch_size = batch_size;
        options.file_name = file_name;
        options.chunk_bytes = chunk_bytes;
        options.max_record_bytes = max_record_bytes;
        options.bad_rows = bad_rows;
        return options;
    }
};

char DelimiterOf(const ParseReport& report) {
    const std::string& value = report.dialect.at("delimiter");
    return value == "tab" ? '\t' : value[0];
}
char DecimalOf(const ParseReport& report) { return report.dialect.at("decimal_separator")[0]; }

struct ReadOutcome {
    std::optional<ParseReport> summary;
    std::optional<Error> error;
    std::vector<Transaction> rows;
    std::vector<size_t> batch_sizes;
    std::vector<uint64_t> progress;
};

// Reads text with a sink that moves every row out, as a store would.
ReadOutcome Read(std::string_view text, const TestOptions& options = {}) {
    std::istringstream in{std::string(text)};
    ReadOutcome out;
    const BatchSink sink = [&out](std::span<Transaction> batch) -> Expected<void> {
        out.batch_sizes.push_back(batch.size());
        for (Transaction& tx : batch) out.rows.push_back(std::move(tx));
        return {};
    };
    ParseReport result = ReadCsv(in, options.Build(), sink, [&out](uint64_t bytes) { out.progress.push_back(bytes); });
    if (result.ok()) {
        out.summary = std::move(result);
    } else {
        out.error = std::move(result.error);
    }
    return out;
}

// Everything a row carries, for comparing two reads.
std::string Describe(const Transaction& tx) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", tx.row_number, tx.source_line, tx.external_id,
                       tx.date.ToString(), tx.registration_date ? tx.registration_date->ToString() : "-",
                       tx.time_seconds.value_or(-1), tx.account, tx.amount.ToString(), tx.currency, tx.text, tx.user,
                       tx.counterparty, tx.voucher_series, tx.voucher_number, tx.raw_data);
}

std::vector<std::string> DescribeAll(const ReadOutcome& outcome) {
    std::vector<std::string> out;
    for (const Transaction& tx : outcome.rows) out.push_back(Describe(tx));
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Fields and mapping

TEST(CsvReaderTest, MapsEnglishHeadersToFields) {
    const auto r = Read(
        "id,date,registration_date,account,amount,text,user,counterparty,currency,voucher_series,voucher_number\n"
        "T1,2024-03-31,2024-04-02,1930,-1234.50,Hyra mars,AB,Fastighets AB,SEK,A,17\n");
    ASSERT_FALSE(r.error) << r.error->ToString();
    ASSERT_EQ(r.rows.size(), 1u);
    const Transaction& tx = r.rows[0];
    EXPECT_EQ(tx.external_id, "T1");
    EXPECT_EQ(tx.date.ToString(), "2024-03-31");
    ASSERT_TRUE(tx.registration_date);
    EXPECT_EQ(tx.registration_date->ToString(), "2024-04-02");
    EXPECT_EQ(tx.account, "1930");
    EXPECT_EQ(tx.amount.minor, -123450);
    EXPECT_EQ(tx.text, "Hyra mars");
    EXPECT_EQ(tx.user, "AB");
    EXPECT_EQ(tx.counterparty, "Fastighets AB");
    EXPECT_EQ(tx.currency, "SEK");
    EXPECT_EQ(tx.voucher_series, "A");
    EXPECT_EQ(tx.voucher_number, "17");
    EXPECT_EQ(tx.raw_data, "{}");
}

TEST(CsvReaderTest, ReportsSummary) {
    const auto ok = Read("date,amount\n2024-01-01,1\n2024-01-02,2\n");
    ASSERT_TRUE(ok.summary);
    EXPECT_EQ(ok.summary->rows_accepted, 2);
    EXPECT_EQ(DelimiterOf(*ok.summary), ',');
    EXPECT_EQ(DecimalOf(*ok.summary), '.');
    EXPECT_THAT(ok.summary->headers, ElementsAre("date", "amount"));
    EXPECT_EQ(ok.summary->mapping.at("amount"), "amount");
}

TEST(CsvReaderTest, RowNumbersAreOneBasedDataRowIndex) {
    const auto r = Read("date,amount\n\n2024-01-01,1\n\n\n2024-01-02,2\n2024-01-03,3\n");
    ASSERT_EQ(r.rows.size(), 3u);
    EXPECT_EQ(r.rows[0].row_number, 1);
    EXPECT_EQ(r.rows[1].row_number, 2);
    EXPECT_EQ(r.rows[2].row_number, 3);
}

TEST(CsvReaderTest, SourceLineIsThePhysicalLineWhereTheRecordStarts) {
    const auto r = Read("date,amount\n\n2024-01-01,1\n\n\n2024-01-02,2\n");
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].source_line, 3);
    EXPECT_EQ(r.rows[1].source_line, 6);
}

TEST(CsvReaderTest, ExternalIdIsEmptyWithoutIdColumn) {
    const auto r = Read("date,amount\n2024-01-01,1\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].external_id, "");
}

TEST(CsvReaderTest, TrimsStringFields) {
    const auto r = Read("date,amount,account,text,id\n 2024-01-01 , 5 , 1930 ,\t Hyra \t, 7 \n");
    ASSERT_EQ(r.rows.size(), 1u) << r.error->ToString();
    EXPECT_EQ(r.rows[0].account, "1930");
    EXPECT_EQ(r.rows[0].text, "Hyra");
    EXPECT_EQ(r.rows[0].external_id, "7");
    EXPECT_EQ(r.rows[0].amount.minor, 500);
}

TEST(CsvReaderTest, KeepsTimeOfDayFromDateColumn) {
    const auto r = Read("date,amount\n2024-01-01 13:05,1\n2024-01-02T08:00:30Z,1\n2024-01-03,1\n");
    ASSERT_EQ(r.rows.size(), 3u);
    EXPECT_EQ(r.rows[0].time_seconds, 13 * 3600 + 5 * 60);
    EXPECT_EQ(r.rows[1].time_seconds, 8 * 3600 + 30);
    EXPECT_EQ(r.rows[2].time_seconds, std::nullopt);
}

TEST(CsvReaderTest, EmptyRegistrationDateIsNullopt) {
    const auto r = Read("date,registration_date,amount\n2024-01-01,,1\n2024-01-01, ,1\n");
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].registration_date, std::nullopt);
    EXPECT_EQ(r.rows[1].registration_date, std::nullopt);
}

// Rows are reused between batches; a field left over from an earlier row must not leak into a later one.
TEST(CsvReaderTest, ReusedRowsDoNotKeepEarlierValues) {
    std::istringstream in("date,registration_date,amount,text\n2024-01-01 10:00,2024-01-05,1,first\n2024-01-02,,2,\n");
    std::vector<Transaction> copies;
    const auto result =
        ReadCsv(in, TestOptions{.batch_size = 1}.Build(), [&](std::span<Transaction> batch) -> Expected<void> {
            copies.insert(copies.end(), batch.begin(), batch.end());
            return {};
        });
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(copies.size(), 2u);
    EXPECT_EQ(copies[1].registration_date, std::nullopt);
    EXPECT_EQ(copies[1].time_seconds, std::nullopt);
    EXPECT_EQ(copies[1].text, "");
    EXPECT_EQ(copies[1].row_number, 2);
}

TEST(CsvReaderTest, RawDataHoldsUnmappedColumnsInHeaderOrder) {
    const auto r = Read("project,date,kontonamn,amount,note\nP1,2024-01-01,Kassa,1,x\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].raw_data, R"({"project":"P1","kontonamn":"Kassa","note":"x"})");
}

TEST(CsvReaderTest, RawDataKeepsValuesAsStrings) {
    const auto r = Read("date,amount,cost_center\n2024-01-01,1,0042\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].raw_data, R"({"cost_center":"0042"})");
}

TEST(CsvReaderTest, RawDataIsValidJsonWithEscapesAndUtf8PassedThrough) {
    const auto r = Read(
        "date,amount,kontonamn,note\n"
        "2024-01-01,1,Förbrukningsmaterial \xE2\x82\xAC,\"say \"\"hi\"\"\\\tnow\nnext line\"\n");
    ASSERT_EQ(r.rows.size(), 1u) << r.error->ToString();
    const std::string& raw = r.rows[0].raw_data;
    EXPECT_THAT(raw, HasSubstr("Förbrukningsmaterial \xE2\x82\xAC"));  // not \u-escaped
    const auto json = nlohmann::json::parse(raw, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << raw;
    EXPECT_EQ(json["kontonamn"], "Förbrukningsmaterial \xE2\x82\xAC");
    EXPECT_EQ(json["note"], "say \"hi\"\\\tnow\nnext line");
}

TEST(CsvReaderTest, RawDataMakesDuplicateAndEmptyHeaderNamesUnique) {
    const auto r = Read("date,amount,note,note,\n2024-01-01,1,a,b,c\n");
    ASSERT_EQ(r.rows.size(), 1u) << r.error->ToString();
    EXPECT_EQ(r.rows[0].raw_data, R"({"note":"a","note_2":"b","column_5":"c"})");
}

TEST(CsvReaderTest, ExplicitMappingOverridesSynonyms) {
    TestOptions options;
    options.mapping.field_to_header = {{"amount", "Belopp SEK"}, {"date", "Bokf.datum"}};
    const auto r = Read("date,Bokf.datum,amount,Belopp SEK\n2024-01-01,2024-02-02,1.00,2.00\n", options);
    ASSERT_EQ(r.rows.size(), 1u) << r.error->ToString();
    EXPECT_EQ(r.rows[0].date.ToString(), "2024-02-02");
    EXPECT_EQ(r.rows[0].amount.minor, 200);
    // The synonym columns that lost are ordinary unmapped columns now.
    EXPECT_EQ(r.rows[0].raw_data, R"({"date":"2024-01-01","amount":"1.00"})");
}

// ---------------------------------------------------------------------------------------------------------------
// RFC 4180

TEST(CsvReaderTest, QuotedFieldKeepsDelimiter) {
    const auto r = Read("date,amount,text\n2024-01-01,1,\"Hyra, mars\"\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].text, "Hyra, mars");
}

TEST(CsvReaderTest, DoubledQuoteInQuotedFieldIsOneQuote) {
    const auto r = Read("date,amount,text\n2024-01-01,1,\"Skärm 24\"\" \"\"bra\"\"\"\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].text, "Skärm 24\" \"bra\"");
}

TEST(CsvReaderTest, EmptyQuotedFieldIsEmpty) {
    const auto r = Read("date,amount,text\n2024-01-01,1,\"\"\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].text, "");
}

TEST(CsvReaderTest, QuotedAmountAndDateAreRead) {
    const auto r = Read("date,amount\n\"2024-01-01\",\"1,234.50\"\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].amount.minor, 123450);
}

TEST(CsvReaderTest, EmbeddedNewlineInQuotedFieldIsKept) {
    const auto r = Read("date,amount,text\n2024-01-01,1,\"rad ett\nrad två\"\n2024-01-02,2,x\n");
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].text, "rad ett\nrad två");
    EXPECT_EQ(r.rows[0].source_line, 2);
    EXPECT_EQ(r.rows[1].source_line, 4);
}

TEST(CsvReaderTest, EmbeddedCrlfInQuotedFieldIsKeptAndCountsAsOneLine) {
    const auto r = Read("date,amount,text\r\n2024-01-01,1,\"a\r\nb\r\nc\"\r\n2024-01-02,2,x\r\n");
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].text, "a\r\nb\r\nc");
    EXPECT_EQ(r.rows[1].source_line, 5);
}

TEST(CsvReaderTest, StripsUtf8Bom) {
    const auto r = Read(
        "\xEF\xBB\xBF"
        "date,amount\n2024-01-01,1\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(r.summary->headers[0], "date");
    EXPECT_EQ(r.rows.size(), 1u);
}

TEST(CsvReaderTest, ReadsCrlfLineEndings) {
    const auto r = Read("date,amount,text\r\n2024-01-01,1,a\r\n\r\n2024-01-02,2,b\r\n");
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].text, "a");  // no stray CR
    EXPECT_EQ(r.rows[1].text, "b");
    EXPECT_EQ(r.rows[0].source_line, 2);
    EXPECT_EQ(r.rows[1].source_line, 4);
}

TEST(CsvReaderTest, ReadsLoneCrLineEndings) {
    const auto r = Read("date,amount,text\r2024-01-01,1,a\r2024-01-02,2,b\r");
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[1].text, "b");
    EXPECT_EQ(r.rows[1].source_line, 3);
}

TEST(CsvReaderTest, ReadsFinalRecordWithoutNewline) {
    const auto r = Read("date,amount,text\n2024-01-01,1,a\n2024-01-02,2,last");
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[1].text, "last");
}

TEST(CsvReaderTest, ReadsFinalQuotedRecordWithoutNewline) {
    const auto r = Read("date,amount,text\n2024-01-01,1,\"last\"");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].text, "last");
}

TEST(CsvReaderTest, ReadsEmptyLastFieldWithoutNewline) {
    const auto r = Read("date,amount,text\n2024-01-01,1,");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].text, "");
}

TEST(CsvReaderTest, SkipsBlankLines) {
    const auto r = Read("\n\ndate,amount\n\n2024-01-01,1\n\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(r.summary->rows_accepted, 1);
    EXPECT_EQ(r.rows[0].source_line, 5);
}

TEST(CsvReaderTest, SkipsRowsOfEmptyFields) {
    const auto r = Read("datum;belopp;text\n2024-01-01;1;a\n;;\n ; ;\n2024-01-02;2;b\n");
    ASSERT_EQ(r.rows.size(), 2u) << r.error->ToString();
    EXPECT_EQ(r.rows[1].row_number, 2);
}

// Lenient where RFC 4180 is silent: stray quotes are kept as text.
TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsLiteral) {
    const auto r = Read("date,amount,text\n2024-01-01,1,Skärm 24\" bred\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].text, "Skärm 24\" bred");
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsKept) {
    const auto r = Read("date,amount,text\n2024-01-01,1,\"abc\"def\n");
    ASSERT_EQ(r.rows.size(), 1u);
    EXPECT_EQ(r.rows[0].text, "abcdef");
}

// Chunk boundaries can fall anywhere: inside a quote pair, between CR and LF, inside a UTF-8 character.
TEST(CsvReaderTest, ChunkBoundariesDoNotChangeTheResult) {
    std::string text =
        "\xEF\xBB\xBF"
        "id;datum;belopp;text;kontonamn\r\n";
    for (int i = 0; i < 400; ++i) {  // beyond the read-ahead used for sniffing
        text += fmt::format("{};2024-01-{:02};{},{:02};\"rad \"\"{}\"\"\r\nfortsätter; här\";Kassa €\r\n", i,
                            i % 28 + 1, i * 7, i % 100, i);
        if (i % 50 == 0) text += "\r\n";
    }
    text += "last;2024-12-31;-1,50;\"slut\";\"\"";
    const auto whole = Read(text);
    ASSERT_TRUE(whole.summary) << whole.error->ToString();
    ASSERT_EQ(whole.rows.size(), 401u);
    EXPECT_EQ(whole.rows[1].text, "rad \"1\"\r\nfortsätter; här");
    for (const size_t chunk : {1, 2, 3, 5, 7, 64, 4099}) {
        const auto chunked = Read(text, {.chunk_bytes = chunk});
        ASSERT_TRUE(chunked.summary) << "chunk " << chunk << ": " << chunked.error->ToString();
        EXPECT_EQ(DescribeAll(chunked), DescribeAll(whole)) << "chunk " << chunk;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Dialects

TEST(CsvReaderTest, SwedishDialectGivesExactMinorUnits) {
    const auto r = Read(
        "Verifikationsserie;Vernr;Bokföringsdatum;Konto;Belopp;Text;Användare\n"
        "A;1;2024-01-31;1930;-1 234,56;Hyra;AB\n"
        "A;1;2024-01-31;5010;1.234,56;Hyra;AB\n"
        "A;2;2024-02-01;3001;\"0,1\";Försäljning, kontant;CÖ\n"
        "A;2;2024-02-01;1910;-0,10;Försäljning;CÖ\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DelimiterOf(*r.summary), ';');
    EXPECT_EQ(DecimalOf(*r.summary), ',');
    ASSERT_EQ(r.rows.size(), 4u);
    EXPECT_EQ(r.rows[0].amount.minor, -123456);
    EXPECT_EQ(r.rows[1].amount.minor, 123456);
    EXPECT_EQ(r.rows[2].amount.minor, 10);
    EXPECT_EQ(r.rows[3].amount.minor, -10);
    EXPECT_EQ(r.rows[2].text, "Försäljning, kontant");
    EXPECT_EQ(r.rows[2].user, "CÖ");
    EXPECT_EQ(r.rows[0].voucher_series, "A");
    EXPECT_EQ(r.rows[0].voucher_number, "1");
    EXPECT_EQ(r.rows[0].account, "1930");
}

TEST(CsvReaderTest, ReadsSwedishExcelExportFixture) {
    const char* source_dir = std::getenv("GRANSKA_SOURCE_DIR");
    if (source_dir == nullptr) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    std::ifstream in(std::filesystem::path(source_dir) / "tests/fixtures/csv/swedish_excel_export.csv",
                     std::ios::binary);
    ASSERT_TRUE(in) << "fixture missing";
    std::vector<Transaction> rows;
    const auto result = ReadCsv(in, TestOptions{.file_name = "swedish_excel_export.csv"}.Build(),
                                [&](std::span<Transaction> batch) -> Expected<void> {
                                    rows.insert(rows.end(), batch.begin(), batch.end());
                                    return {};
                                });
    ASSERT_TRUE(result.ok()) << result.error->ToString();
    EXPECT_EQ(DelimiterOf(result), ';');
    ASSERT_EQ(rows.size(), 4u);
    int64_t total = 0;
    for (const Transaction& tx : rows) total += tx.amount.minor;
    EXPECT_EQ(total, 0);
    EXPECT_EQ(rows[0].amount.minor, 1250000);
    EXPECT_EQ(rows[0].counterparty, "Fastighets AB Gärdet");
    EXPECT_EQ(rows[2].text, "Lön \"mars\"\r\nenligt lönelista");
    EXPECT_EQ(rows[3].source_line, 6);
    EXPECT_EQ(rows[3].raw_data, R"({"Kontonamn":"Personalkostnader"})");
}

TEST(CsvReaderTest, SniffsSemicolon) {
    const auto r = Read("date;amount;text\n2024-01-01;1;a, b\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DelimiterOf(*r.summary), ';');
    EXPECT_EQ(r.rows[0].text, "a, b");
}

TEST(CsvReaderTest, SniffsTab) {
    const auto r = Read("date\tamount\ttext\n2024-01-01\t1.50\ta;b,c\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DelimiterOf(*r.summary), '\t');
    EXPECT_EQ(DecimalOf(*r.summary), '.');
    EXPECT_EQ(r.rows[0].amount.minor, 150);
    EXPECT_EQ(r.rows[0].text, "a;b,c");
}

TEST(CsvReaderTest, SniffIgnoresDelimitersInsideQuotes) {
    const auto r = Read("\"a;b;c;d\",date,amount\nx,2024-01-01,1\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DelimiterOf(*r.summary), ',');
}

TEST(CsvReaderTest, SniffPrefersCommaOnTie) {
    const auto r = Read("date,amount,x;y;z\n2024-01-01,1,a;b;c\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DelimiterOf(*r.summary), ',');
}

TEST(CsvReaderTest, SingleColumnHeaderSniffsComma) {
    const auto r = Read("date\n2024-01-01\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "missing_column");
}

TEST(CsvReaderTest, GivenDelimiterWinsOverSniffing) {
    const auto r = Read("date|amount|a,b,c\n2024-01-01|1|x,y,z\n", {.delimiter = '|'});
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DelimiterOf(*r.summary), '|');
    EXPECT_EQ(r.rows[0].raw_data, R"({"a,b,c":"x,y,z"})");
}

TEST(CsvReaderTest, GivenDecimalSeparatorWinsOverDelimiterDefault) {
    const auto r = Read("date;amount\n2024-01-01;1,234.50\n", {.decimal_separator = '.'});
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DecimalOf(*r.summary), '.');
    EXPECT_EQ(r.rows[0].amount.minor, 123450);
}

TEST(CsvReaderTest, CommaDelimitedFileCanUseQuotedDecimalCommas) {
    const auto r = Read("date,amount\n2024-01-01,\"1 234,50\"\n", {.decimal_separator = ','});
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(r.rows[0].amount.minor, 123450);
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

TEST(CsvReaderErrorTest, EmptyStreamIsEmptyFile) {
    const auto r = Read("", {.file_name = "upload.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(r.error->code, "empty_file");
    EXPECT_EQ(r.error->file, "upload.csv");
    EXPECT_THAT(r.error->message, HasSubstr("empty"));
}

TEST(CsvReaderErrorTest, BomAndBlankLinesOnlyIsEmptyFile) {
    for (const char* text : {"\xEF\xBB\xBF", "\n\r\n\n", "\xEF\xBB\xBF\r\n\r\n"}) {
        const auto r = Read(text);
        ASSERT_TRUE(r.error) << text;
        EXPECT_EQ(r.error->code, "empty_file");
    }
}

TEST(CsvReaderErrorTest, HeaderOnlyIsNoDataRows) {
    const auto r = Read("\ndate,amount\n\n", {.file_name = "f.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "no_data_rows");
    EXPECT_EQ(r.error->line, 2);
    EXPECT_THAT(r.error->message, HasSubstr("no data rows"));
    EXPECT_TRUE(r.batch_sizes.empty());
}

TEST(CsvReaderErrorTest, HeaderAndEmptyRowsIsNoDataRows) {
    const auto r = Read("date;amount\n;\n;\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "no_data_rows");
}

TEST(CsvReaderErrorTest, WrongColumnCountNamesBothCountsAndLine) {
    const auto r = Read("date,amount\n2024-01-01,1\n2024-01-02,2,extra\n", {.file_name = "f.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(r.error->code, "wrong_column_count");
    EXPECT_EQ(r.error->file, "f.csv");
    EXPECT_EQ(r.error->line, 3);
    EXPECT_EQ(r.error->column, "");
    EXPECT_THAT(r.error->message, HasSubstr("3 fields"));
    EXPECT_THAT(r.error->message, HasSubstr("header has 2"));
    EXPECT_THAT(r.error->message, HasSubstr("',' (comma)"));
}

TEST(CsvReaderErrorTest, TooFewFieldsIsWrongColumnCount) {
    const auto r = Read("date,amount,text\n2024-01-01,1\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "wrong_column_count");
    EXPECT_EQ(r.error->line, 2);
}

TEST(CsvReaderErrorTest, BadAmountShowsValueAndExpectedSeparator) {
    const auto r = Read("date,amount,text\n2024-01-01,1,\"a\nb\"\n2024-01-02,12 kr,x\n", {.file_name = "f.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_amount");
    EXPECT_EQ(r.error->line, 4);
    EXPECT_EQ(r.error->column, "amount");
    EXPECT_THAT(r.error->message, HasSubstr("'12 kr'"));
    EXPECT_THAT(r.error->message, HasSubstr("'.' (decimal point)"));
}

TEST(CsvReaderDialectTest, DotDecimalsInSemicolonFileAreReadFromTheData) {
    const auto r = Read("datum;belopp\n2024-01-01;1234.50\n2024-01-02;-7.5\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DecimalOf(*r.summary), '.');
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].amount.minor, 123450);
    EXPECT_EQ(r.rows[1].amount.minor, -750);
}

TEST(CsvReaderDialectTest, SemicolonFileWithoutDecimalsInTheDataAssumesDecimalComma) {
    const auto r = Read("datum;belopp\n2024-01-01;1234\n2024-01-02;1 234,5\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(DecimalOf(*r.summary), ',');
    EXPECT_EQ(r.rows[1].amount.minor, 123450);
}

TEST(CsvReaderErrorTest, DecimalsAgainstTheDetectedSeparatorSuggestSettingIt) {
    // Two decimal commas outvote one decimal point; the odd row is the bad one.
    const auto r = Read("datum;belopp\n2024-01-01;1,50\n2024-01-02;2,25\n2024-01-03;1234.50\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_amount");
    EXPECT_EQ(r.error->line, 4);
    EXPECT_EQ(r.error->column, "belopp");
    EXPECT_THAT(r.error->message, HasSubstr("',' (decimal comma)"));
    EXPECT_THAT(r.error->message, HasSubstr("set the decimal separator to '.'"));
}

TEST(CsvReaderErrorTest, AmountWithSubCentPrecisionIsBadAmount) {
    const auto r = Read("date,amount\n2024-01-01,0.001\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_amount");
}

TEST(CsvReaderErrorTest, BadDateShowsValueAndExpectedFormat) {
    const auto r = Read("Datum,Belopp\n2024-01-01,1\n2024-02-30,1\n", {.file_name = "f.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_date");
    EXPECT_EQ(r.error->line, 3);
    EXPECT_EQ(r.error->column, "Datum");
    EXPECT_THAT(r.error->message, HasSubstr("'2024-02-30'"));
    EXPECT_THAT(r.error->message, HasSubstr("YYYY-MM-DD"));
}

TEST(CsvReaderDialectTest, DayFirstDatesAreDecidedFromTheData) {
    const auto r = Read("date,amount\n01/02/2024,1\n31/01/2024,1\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(r.summary->dialect.at("date_format"), "dmy (NN/NN/YYYY)");
    EXPECT_EQ(r.rows[0].date.ToString(), "2024-02-01");
    EXPECT_EQ(r.rows[1].date.ToString(), "2024-01-31");
}

TEST(CsvReaderDialectTest, MonthFirstDatesAreDecidedFromTheData) {
    const auto r = Read("date,amount\n01/02/2024 13:05,1\n12/31/2024,1\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(r.summary->dialect.at("date_format"), "mdy (NN/NN/YYYY)");
    EXPECT_EQ(r.rows[0].date.ToString(), "2024-01-02");
    EXPECT_EQ(r.rows[0].time_seconds, 13 * 3600 + 5 * 60);
    EXPECT_EQ(r.rows[1].date.ToString(), "2024-12-31");
}

TEST(CsvReaderDialectTest, AmbiguousDatesAssumeDayFirstWithAWarning) {
    const auto r = Read("date,amount\n01.02.2024,1\n03.04.2024,1\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(r.rows[0].date.ToString(), "2024-02-01");
    ASSERT_EQ(r.summary->problems.size(), 1u);
    EXPECT_EQ(r.summary->problems[0].code, "ambiguous_date_order");
    EXPECT_EQ(r.summary->problems[0].severity, Severity::kWarning);
    EXPECT_EQ(r.summary->warning_count, 1);
}

TEST(CsvReaderDialectTest, CompactAndSlashedIsoDatesAndZonesAreRead) {
    const auto r = Read("date,amount\n20240131,1\n2024/02/29,1\n2024-03-01T23:59:59+01:00,1\n2024-03-02 08:00Z,1\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    ASSERT_EQ(r.rows.size(), 4u);
    EXPECT_EQ(r.rows[0].date.ToString(), "2024-01-31");
    EXPECT_EQ(r.rows[1].date.ToString(), "2024-02-29");
    EXPECT_EQ(r.rows[2].time_seconds, 86399);  // local time as written; the zone is not applied
    EXPECT_EQ(r.rows[3].time_seconds, 8 * 3600);
}

TEST(CsvReaderErrorTest, DateAgainstTheDetectedOrderIsBadDate) {
    const auto r = Read("date,amount\n31/01/2024,1\n01/31/2024,1\n25/12/2024,1\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_date");
    EXPECT_EQ(r.error->line, 3);
    EXPECT_THAT(r.error->message, HasSubstr("DD/MM/YYYY"));
}

TEST(CsvReaderErrorTest, BadRegistrationDateNamesItsColumn) {
    const auto r = Read("date,regdatum,amount\n2024-01-01,igår,1\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_date");
    EXPECT_EQ(r.error->column, "regdatum");
    EXPECT_THAT(r.error->message, HasSubstr("'igår'"));
}

TEST(CsvReaderErrorTest, LongBadValueIsShortenedInMessage) {
    const auto r = Read("date,amount\n2024-01-01," + std::string(500, 'x') + "\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_amount");
    EXPECT_LT(r.error->message.size(), 400u);
}

TEST(CsvReaderErrorTest, EmptyDateIsMissingValue) {
    const auto r = Read("date,amount\n2024-01-01,1\n  ,1\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "missing_value");
    EXPECT_EQ(r.error->line, 3);
    EXPECT_EQ(r.error->column, "date");
    EXPECT_THAT(r.error->message, HasSubstr("date is empty"));
}

TEST(CsvReaderErrorTest, EmptyAmountIsMissingValue) {
    const auto r = Read("date,amount,text\n2024-01-01,,x\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "missing_value");
    EXPECT_EQ(r.error->line, 2);
    EXPECT_EQ(r.error->column, "amount");
}

TEST(CsvReaderErrorTest, UnterminatedQuoteReportsLineWhereItOpened) {
    const auto r = Read("date,amount,text\n2024-01-01,1,ok\n2024-01-02,2,\"never closed\n2024-01-03,3,c\n",
                        {.file_name = "f.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(r.error->code, "unterminated_quote");
    EXPECT_EQ(r.error->file, "f.csv");
    EXPECT_EQ(r.error->line, 3);
    EXPECT_EQ(r.error->column, "text");
    EXPECT_THAT(r.error->message, HasSubstr("line 3"));
}

TEST(CsvReaderErrorTest, UnterminatedQuoteInHeaderHasNoColumn) {
    const auto r = Read("date,\"amount\n");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "unterminated_quote");
    EXPECT_EQ(r.error->line, 1);
    EXPECT_EQ(r.error->column, "");
}

TEST(CsvReaderErrorTest, OverlongQuotedFieldIsUnterminatedQuote) {
    std::string text = "date,amount,text\n2024-01-01,1,\"open\n";
    for (int i = 0; i < 100; ++i) text += "2024-01-02,2,more text\n";
    const auto r = Read(text, {.max_record_bytes = 256});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "unterminated_quote");
    EXPECT_EQ(r.error->line, 2);
    EXPECT_EQ(r.error->column, "text");
}

TEST(CsvReaderErrorTest, OverlongRecordIsRecordTooLarge) {
    const auto r = Read("date,amount,text\n2024-01-01,1," + std::string(1000, 'x') + "\n", {.max_record_bytes = 256});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "record_too_large");
    EXPECT_EQ(r.error->line, 2);
}

TEST(CsvReaderErrorTest, NulByteIsBinaryData) {
    const auto r = Read(std::string("date,amount\n2024-01-01,1\n\0\0\0", 28), {.file_name = "f.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "binary_data");
    EXPECT_EQ(r.error->file, "f.csv");
    EXPECT_EQ(r.error->line, 3);
    EXPECT_THAT(r.error->message, HasSubstr("does not look like text/CSV"));
}

TEST(CsvReaderErrorTest, ZipSignatureIsBinaryData) {
    const auto r = Read(std::string("PK\x03\x04\x14\x00\x06\x00", 8));
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "binary_data");
    EXPECT_EQ(r.error->line, 1);
}

TEST(CsvReaderEncodingTest, BytesThatAreNotUtf8AreReadAsWindows1252) {
    const auto r = Read("date,amount,text\n2024-01-01,1,ok\n2024-01-02,2,caf\xE9 \x80\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(r.summary->encoding, "windows-1252");
    EXPECT_EQ(r.rows[1].text, "caf\xC3\xA9 \xE2\x82\xAC");  // "café €"
}

TEST(CsvReaderErrorTest, InvalidUtf8ValueIsBadEncodingWhenUtf8IsChosen) {
    const auto r =
        Read("date,amount,text\n2024-01-01,1,ok\n2024-01-02,2,caf\xE9\n", {.file_name = "f.csv", .encoding = "utf-8"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_encoding");
    EXPECT_EQ(r.error->line, 3);
    EXPECT_EQ(r.error->column, "text");
    EXPECT_THAT(r.error->message, HasSubstr("Set the encoding (e.g. windows-1252)"));
}

// The record as a whole is valid UTF-8 here; the fields are not.
TEST(CsvReaderErrorTest, CharacterSplitByDelimiterIsBadEncoding) {
    const auto r = Read("date,amount,a,b\n2024-01-01,1,x\xC3,\xA5y\n", {.encoding = "utf-8"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_encoding");
    EXPECT_EQ(r.error->line, 2);
    EXPECT_EQ(r.error->column, "a");
}

TEST(CsvReaderErrorTest, OverlongEncodingIsBadEncoding) {
    const auto r = Read("date,amount,text\n2024-01-01,1,\xC0\xAF\n", {.encoding = "utf-8"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_encoding");
    EXPECT_EQ(r.error->column, "text");
}

TEST(CsvReaderTest, AcceptsFourByteUtf8) {
    const auto r = Read("date,amount,text\n2024-01-01,1,kaffe \xE2\x98\x95 \xF0\x9F\x98\x80\n");
    ASSERT_EQ(r.rows.size(), 1u) << r.error->ToString();
    EXPECT_EQ(r.rows[0].text, "kaffe \xE2\x98\x95 \xF0\x9F\x98\x80");
}

TEST(CsvReaderEncodingTest, Latin1HeaderIsDecodedAndMapped) {
    const auto r = Read("datum;belopp;anv\xE4ndare\n2024-01-01;1;\xC5SA\n");
    ASSERT_TRUE(r.summary) << r.error->ToString();
    EXPECT_EQ(r.summary->encoding, "windows-1252");
    EXPECT_EQ(r.summary->mapping.at("user"), "anv\xC3\xA4ndare");
    EXPECT_EQ(r.rows[0].user, "\xC3\x85SA");  // "ÅSA"
}

// "datum;belopp;text\r\n2024-01-01;-1,5;å € 😀\r\n" in UTF-16, with the byte-order mark.
std::string Utf16Ledger(bool little_endian) {
    const std::u16string text = u"datum;belopp;text\r\n2024-01-01;-1,5;\u00E5 \u20AC \U0001F600\r\n";
    std::string bytes = little_endian ? "\xFF\xFE" : "\xFE\xFF";
    for (const char16_t unit : text) {
        const auto low = static_cast<char>(unit & 0xFF);
        const auto high = static_cast<char>(unit >> 8);
        bytes.push_back(little_endian ? low : high);
        bytes.push_back(little_endian ? high : low);
    }
    return bytes;
}

TEST(CsvReaderEncodingTest, Utf16WithByteOrderMarkIsDecodedInAnyChunking) {
    for (const bool little : {true, false}) {
        for (const size_t chunk : {size_t{1} << 20, size_t{3}, size_t{5}}) {
            const auto r = Read(Utf16Ledger(little), {.chunk_bytes = chunk});
            ASSERT_TRUE(r.summary) << r.error->ToString();
            EXPECT_EQ(r.summary->encoding, little ? "utf-16le" : "utf-16be");
            ASSERT_EQ(r.rows.size(), 1u);
            EXPECT_EQ(r.rows[0].amount.minor, -150);
            EXPECT_EQ(r.rows[0].text, "\xC3\xA5 \xE2\x82\xAC \xF0\x9F\x98\x80") << little << " " << chunk;
        }
    }
}

TEST(CsvReaderEncodingTest, TruncatedUtf16IsReplacedAndReported) {
    std::string bytes = Utf16Ledger(true);
    bytes.pop_back();  // half a code unit at the end
    const auto r = Read(bytes, {.bad_rows = BadRowPolicy::kSkipRow});
    ASSERT_TRUE(r.summary) << r.error->ToString();
    ASSERT_FALSE(r.summary->problems.empty());
    EXPECT_EQ(r.summary->problems.back().code, "invalid_utf16");
}

TEST(CsvReaderErrorTest, MissingAmountColumnIsMissingColumn) {
    const auto r = Read("date,kr\n2024-01-01,1\n", {.file_name = "f.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "missing_column");
    EXPECT_EQ(r.error->file, "f.csv");
    EXPECT_EQ(r.error->line, 1);
    EXPECT_EQ(r.error->column, "amount");
    EXPECT_THAT(r.error->message, HasSubstr(R"(mapping={"amount": "<header>"})"));
}

TEST(CsvReaderErrorTest, MappedHeaderNotInFileIsUnknownHeader) {
    TestOptions options{.file_name = "f.csv"};
    options.mapping.field_to_header = {{"amount", "Summa SEK"}};
    const auto r = Read("date,amount\n2024-01-01,1\n", options);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "unknown_header");
    EXPECT_EQ(r.error->file, "f.csv");
    EXPECT_EQ(r.error->line, 1);
    EXPECT_EQ(r.error->column, "Summa SEK");
}

TEST(CsvReaderErrorTest, RejectsBadOptions) {
    EXPECT_EQ(Read("date,amount\n2024-01-01,1\n", {.batch_size = 0}).error->code, "bad_option");
    EXPECT_EQ(Read("date,amount\n2024-01-01,1\n", {.decimal_separator = 'x'}).error->code, "bad_option");
    EXPECT_EQ(Read("date,amount\n2024-01-01,1\n", {.delimiter = '"'}).error->code, "bad_option");
    EXPECT_EQ(Read("date,amount\n2024-01-01,1\n", {.delimiter = '\n'}).error->kind, ErrorKind::kBadRequest);
}

TEST(CsvReaderErrorTest, ErrorToStringNamesFileLineAndColumn) {
    const auto r = Read("date,amount\n2024-01-01,x\n", {.file_name = "f.csv"});
    ASSERT_TRUE(r.error);
    EXPECT_THAT(r.error->ToString(), HasSubstr("f.csv:2: column 'amount': "));
}

// ---------------------------------------------------------------------------------------------------------------
// Batching

std::string Rows(int count) {
    std::string text = "date,amount\n";
    for (int i = 1; i <= count; ++i) text += fmt::format("2024-01-{:02},{}\n", i, i);
    return text;
}

TEST(CsvReaderBatchTest, DeliversFullBatchesAndTheRemainder) {
    const auto r = Read(Rows(10), {.batch_size = 3});
    ASSERT_TRUE(r.summary);
    EXPECT_THAT(r.batch_sizes, ElementsAre(3, 3, 3, 1));
    ASSERT_EQ(r.rows.size(), 10u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(r.rows[static_cast<size_t>(i)].amount.minor, (i + 1) * 100);
}

TEST(CsvReaderBatchTest, SendsNoEmptyBatchWhenRowsFillTheLastOne) {
    const auto r = Read(Rows(9), {.batch_size = 3});
    EXPECT_THAT(r.batch_sizes, ElementsAre(3, 3, 3));
}

TEST(CsvReaderBatchTest, SendsOneBatchWhenRowsFit) {
    const auto r = Read(Rows(10));
    EXPECT_THAT(r.batch_sizes, ElementsAre(10));
}

TEST(CsvReaderBatchTest, ReportsProgressAfterEachBatch) {
    const std::string text = Rows(10);
    const auto r = Read(text, {.batch_size = 3});
    ASSERT_EQ(r.progress.size(), 4u);
    EXPECT_TRUE(std::is_sorted(r.progress.begin(), r.progress.end()));
    EXPECT_GT(r.progress[0], 0u);
    EXPECT_EQ(r.progress.back(), text.size());
}

TEST(CsvReaderBatchTest, SinkErrorStopsTheReadAndIsReturned) {
    std::istringstream in(Rows(10));
    int calls = 0;
    const auto result =
        ReadCsv(in, TestOptions{.batch_size = 3}.Build(), [&calls](std::span<Transaction>) -> Expected<void> {
            if (++calls == 2) return Unexpected(Internal("disk full"));
            return {};
        });
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error->code, "internal");
    EXPECT_EQ(result.error->message, "disk full");
    EXPECT_EQ(calls, 2);
}

TEST(CsvReaderBatchTest, BadRowAfterSomeBatchesStopsTheRead) {
    std::string text = Rows(7) + "2024-02-01,oops\n" + "2024-02-02,1\n";
    const auto r = Read(text, {.batch_size = 3});
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "bad_amount");
    EXPECT_EQ(r.error->line, 9);
    EXPECT_THAT(r.batch_sizes, ElementsAre(3, 3));  // the caller discards what it got
}

// ---------------------------------------------------------------------------------------------------------------
// The sample ledger (tests/../shared/data): the same 50,080 lines in two dialects.

std::optional<std::filesystem::path> LedgerFile(const char* name) {
    const char* source_dir = std::getenv("GRANSKA_SOURCE_DIR");
    if (source_dir == nullptr) return std::nullopt;
    std::filesystem::path path = std::filesystem::path(source_dir) / ".." / "shared" / "data" / "ledger" / name;
    if (!std::filesystem::exists(path)) return std::nullopt;
    return path;
}

struct LedgerRead {
    int64_t rows = 0;
    int64_t sum = 0;
    int64_t sum_of_magnitudes = 0;
    std::vector<std::string> rows_described;  // fields both files share
    double seconds = 0;
};

LedgerRead ReadLedger(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    LedgerRead out;
    const auto start = std::chrono::steady_clock::now();
    const auto result =
        ReadCsv(in, TestOptions{.file_name = path.filename().string()}.Build(),
                [&out](std::span<Transaction> batch) -> Expected<void> {
                    for (const Transaction& tx : batch) {
                        out.sum += tx.amount.minor;
                        out.sum_of_magnitudes += tx.amount.minor < 0 ? -tx.amount.minor : tx.amount.minor;
                        out.rows_described.push_back(
                            fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}", tx.row_number, tx.date.ToString(),
                                        tx.registration_date ? tx.registration_date->ToString() : "-", tx.account,
                                        tx.amount.minor, tx.text, tx.user, tx.voucher_series, tx.voucher_number));
                    }
                    return {};
                });
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(result.ok()) << result.error->ToString();
    if (result.ok()) out.rows = result.rows_accepted;
    return out;
}

TEST(CsvReaderLedgerTest, BothDialectsReadToTheSameLedger) {
    const auto comma = LedgerFile("ledger.csv");
    const auto semicolon = LedgerFile("ledger_semicolon.csv");
    if (!comma || !semicolon)
        GTEST_SKIP() << "sample ledger not found under ${GRANSKA_SOURCE_DIR}/../shared/data/ledger";

    const LedgerRead a = ReadLedger(*comma);
    const LedgerRead b = ReadLedger(*semicolon);
    EXPECT_EQ(a.rows, 50'080);
    EXPECT_EQ(b.rows, 50'080);
    EXPECT_EQ(a.sum, b.sum);
    EXPECT_EQ(a.sum, 0);  // every voucher balances
    EXPECT_EQ(a.sum_of_magnitudes, b.sum_of_magnitudes);
    EXPECT_EQ(a.sum_of_magnitudes, 64'776'422'138);  // 647,764,221.38 (independently summed)
    EXPECT_EQ(a.rows_described, b.rows_described);

    const double megabytes = static_cast<double>(std::filesystem::file_size(*comma)) / 1e6;
    std::printf("ledger.csv: %.1f MB in %.3f s = %.0f MB/s\n", megabytes, a.seconds, megabytes / a.seconds);
}

}  // namespace
}  // namespace granska::ingest
