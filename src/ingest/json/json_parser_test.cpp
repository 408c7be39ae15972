// The JSON parser end to end: files through MakeJsonParser and RowMapper to transactions and the report.

#include "ingest/json/json_parser.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "ingest/csv_reader.h"
#include "ingest/json/detail/json_table.h"

namespace granska::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::filesystem::path SourceDir() {
    const char* root = std::getenv("GRANSKA_SOURCE_DIR");
    return root != nullptr ? std::filesystem::path(root) : std::filesystem::path(__FILE__).parent_path() / "../../..";
}

std::filesystem::path Fixture(const std::string& name) { return SourceDir() / "tests/fixtures/json" / name; }

struct ParseOutcome {
    ParseReport report;
    std::vector<Transaction> rows;
    std::vector<size_t> batch_sizes;
    std::vector<uint64_t> progress;
};

ParseOutcome ParseJsonFile(const std::filesystem::path& path, const ParseOptions& options = {}) {
    ParseOutcome out;
    const BatchSink sink = [&out](std::span<Transaction> batch) -> Expected<void> {
        out.batch_sizes.push_back(batch.size());
        for (Transaction& tx : batch) out.rows.push_back(std::move(tx));
        return {};
    };
    out.report =
        MakeJsonParser()->Parse(path, options, sink, [&out](uint64_t bytes) { out.progress.push_back(bytes); });
    return out;
}

ParseOutcome ParseJsonText(std::string_view text, const ParseOptions& options = {}) {
    ParseOutcome out;
    const BatchSink sink = [&out](std::span<Transaction> batch) -> Expected<void> {
        for (Transaction& tx : batch) out.rows.push_back(std::move(tx));
        return {};
    };
    out.report = detail::ParseJsonBytes(text, options, sink);
    return out;
}

std::vector<int64_t> Amounts(const ParseOutcome& outcome) {
    std::vector<int64_t> amounts;
    for (const Transaction& tx : outcome.rows) amounts.push_back(tx.amount.minor);
    return amounts;
}

TEST(JsonParserTest, IsTheJsonFormat) { EXPECT_EQ(MakeJsonParser()->format(), Format::kJson); }

TEST(JsonParserTest, ArrayFileBecomesTransactions) {
    const auto r = ParseJsonFile(Fixture("array.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.format, Format::kJson);
    EXPECT_EQ(r.report.encoding, "utf-8");
    EXPECT_EQ(r.report.dialect.at("shape"), "array");
    EXPECT_EQ(r.report.dialect.count("root"), 0u);
    EXPECT_THAT(r.report.headers, ElementsAre("id", "date", "account", "amount", "text"));
    EXPECT_EQ(r.report.mapping.at("amount"), "amount");
    EXPECT_EQ(r.report.rows_read, 3);
    EXPECT_EQ(r.report.rows_accepted, 3);
    EXPECT_EQ(r.report.details, R"({"shape":"array","objects":3,"keys":5})");
    ASSERT_EQ(r.rows.size(), 3u);
    const Transaction& first = r.rows[0];
    EXPECT_EQ(first.row_number, 1);
    EXPECT_EQ(first.source_line, 2);
    EXPECT_EQ(first.external_id, "T1");
    EXPECT_EQ(first.date.ToString(), "2024-01-05");
    EXPECT_EQ(first.account, "1930");
    EXPECT_EQ(first.text, "Kundinbetalning");
    EXPECT_EQ(first.raw_data, "{}");
    EXPECT_THAT(Amounts(r), ElementsAre(125000, -8990, 1798));
    EXPECT_EQ(r.rows[2].source_line, 4);
    EXPECT_EQ(r.rows[2].row_number, 3);
}

TEST(JsonParserTest, AmountsAreExactAndSubCentAmountsAreBadRows) {
    const auto r = ParseJsonFile(Fixture("amounts.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_THAT(Amounts(r), ElementsAre(123456789012345, 30, -5, 100000, 10, 20));
    EXPECT_EQ(r.rows[4].amount.minor + r.rows[5].amount.minor, 30);  // 0.1 + 0.2 is exactly 0.30
    EXPECT_EQ(r.report.rows_read, 7);
    EXPECT_EQ(r.report.rows_rejected, 1);
    ASSERT_EQ(r.report.problems.size(), 1u);
    EXPECT_EQ(r.report.problems[0].code, "bad_amount");
    EXPECT_EQ(r.report.problems[0].line, 6);
    EXPECT_EQ(r.report.problems[0].field, "amount");
    EXPECT_THAT(r.report.problems[0].message, HasSubstr("12.345"));
}

TEST(JsonParserTest, RejectFilePolicyStopsAtTheSubCentAmount) {
    ParseOptions options;
    options.bad_rows = BadRowPolicy::kRejectFile;
    const auto r = ParseJsonFile(Fixture("amounts.json"), options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "bad_amount");
    EXPECT_EQ(r.report.error->line, 6);
    EXPECT_EQ(r.report.error->column, "amount");
}

TEST(JsonParserTest, ObjectRootIsReportedInTheDialect) {
    const auto r = ParseJsonFile(Fixture("object_transactions.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("shape"), "object");
    EXPECT_EQ(r.report.dialect.at("root"), "transactions");
    EXPECT_EQ(r.report.details, R"({"shape":"object","root":"transactions","objects":2,"keys":3})");
    EXPECT_THAT(Amounts(r), ElementsAre(10050, -10050));
    EXPECT_EQ(r.rows[1].account, "3001");
    EXPECT_EQ(r.rows[1].source_line, 6);
}

TEST(JsonParserTest, AmountsWrittenAsStringsAreReadAsText) {
    const auto r = ParseJsonFile(Fixture("object_single_member.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("root"), "lines");
    EXPECT_THAT(Amounts(r), ElementsAre(1000, 2000, 3000));
}

TEST(JsonParserTest, NdjsonFileBecomesTransactions) {
    const auto r = ParseJsonFile(Fixture("ndjson.jsonl"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("shape"), "ndjson");
    EXPECT_THAT(Amounts(r), ElementsAre(125, 250, 375));
    ASSERT_EQ(r.rows.size(), 3u);
    EXPECT_EQ(r.rows[1].source_line, 3);
    EXPECT_EQ(r.rows[2].source_line, 5);
    EXPECT_EQ(r.rows[2].account, "2640");
}

TEST(JsonParserTest, NdjsonBrokenLineFailsWithItsLineNumber) {
    ParseOptions options;
    options.file_name = "upload.jsonl";
    const auto r = ParseJsonFile(Fixture("ndjson_broken.jsonl"), options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "invalid_json");
    EXPECT_EQ(r.report.error->line, 4);
    EXPECT_EQ(r.report.error->file, "upload.jsonl");
    EXPECT_THAT(r.report.error->message, HasSubstr("line 4"));
    EXPECT_THAT(r.report.error->ToString(), HasSubstr("upload.jsonl:4:"));
}

TEST(JsonParserTest, NestedKeysCanBeMappedAndTheRestGoesToRawData) {
    ParseOptions options;
    options.mapping.field_to_header["counterparty"] = "counterparty.name";
    const auto r = ParseJsonFile(Fixture("nested.json"), options);
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].counterparty, "Leverantör AB");
    EXPECT_EQ(r.rows[0].raw_data, R"({"counterparty.address.city":"Umeå","counterparty.address.zip":"90326"})");
    EXPECT_EQ(r.rows[1].counterparty, "Kund AB");
    EXPECT_EQ(r.rows[1].raw_data, R"({"counterparty.address.city":null,"counterparty.address.zip":null})");
}

TEST(JsonParserTest, ArraysInRowsReachRawDataAsJsonText) {
    const auto r = ParseJsonFile(Fixture("arrays_in_rows.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].raw_data, R"({"tags":"[\"rent\", \"q3\"]","splits":"[{\"account\": 5010, \"amount\": 8}, )"
                                  R"({\"account\": 2640, \"amount\": 2}]","note":"a]b"})");
    EXPECT_EQ(r.rows[1].raw_data, R"({"tags":"[]","splits":null,"note":"x"})");
}

TEST(JsonParserTest, MissingKeysAreEmptyFields) {
    const auto r = ParseJsonFile(Fixture("missing_keys.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    ASSERT_EQ(r.rows.size(), 3u);
    EXPECT_EQ(r.rows[0].text, "first");
    EXPECT_EQ(r.rows[0].user, "");
    EXPECT_EQ(r.rows[1].user, "AB");
    EXPECT_EQ(r.rows[1].text, "");
    EXPECT_EQ(r.rows[2].currency, "EUR");
    EXPECT_EQ(r.rows[2].text, "");
}

TEST(JsonParserTest, EscapedStringsArriveUnescaped) {
    const auto r = ParseJsonFile(Fixture("escapes.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    ASSERT_EQ(r.rows.size(), 2u);
    EXPECT_EQ(r.rows[0].text, "Småland \xF0\x9F\x98\x80");
    EXPECT_EQ(r.rows[0].user, "tab\there \"quoted\" back\\slash");
    EXPECT_EQ(r.rows[1].text, "Bokföring\nrad 2");
    EXPECT_EQ(r.rows[1].user, "ÅÄÖ");
}

TEST(JsonParserTest, Utf16WithByteOrderMarkIsTranscoded) {
    const auto r = ParseJsonFile(Fixture("utf16be_bom.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.encoding, "utf-16be");
    EXPECT_THAT(Amounts(r), ElementsAre(9995, -9995));
    EXPECT_EQ(r.rows[0].text, "Räksmörgås");
    EXPECT_EQ(r.rows[1].source_line, 3);
}

TEST(JsonParserTest, ProgressEndsAtTheFileSize) {
    const auto r = ParseJsonFile(Fixture("utf8_bom.json"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.encoding, "utf-8-bom");
    ASSERT_FALSE(r.progress.empty());
    EXPECT_EQ(r.progress.back(), std::filesystem::file_size(Fixture("utf8_bom.json")));
}

TEST(JsonParserTest, BatchesFollowTheBatchSize) {
    ParseOptions options;
    options.batch_size = 2;
    const auto r = ParseJsonFile(Fixture("array.json"), options);
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_THAT(r.batch_sizes, ElementsAre(2, 1));
}

TEST(JsonParserTest, DuplicateKeyWarningReachesTheReport) {
    const auto r = ParseJsonText(R"([{"date": "2024-01-01", "amount": 1, "amount": 2}])");
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_THAT(Amounts(r), ElementsAre(200));
    EXPECT_EQ(r.report.warning_count, 1);
    ASSERT_EQ(r.report.problems.size(), 1u);
    EXPECT_EQ(r.report.problems[0].code, "duplicate_key");
}

TEST(JsonParserTest, LoadErrorsReachTheReport) {
    ParseOptions options;
    options.file_name = "bad.json";
    const auto r = ParseJsonText("[\n{\"date\": \"2024-01-01\", \"amount\": 1}\n{\"date\": \"2024-01-02\"}]", options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "invalid_json");
    EXPECT_EQ(r.report.error->line, 3);
    EXPECT_EQ(r.report.error->file, "bad.json");
    EXPECT_TRUE(r.rows.empty());
}

TEST(JsonParserTest, TooManyRowsIsTooLargeAndLoadsNothing) {
    ParseOptions options;
    options.limits.max_rows = 2;
    const auto r = ParseJsonFile(Fixture("array.json"), options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "too_many_rows");
    EXPECT_EQ(r.report.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(r.report.error->line, 4);
    EXPECT_TRUE(r.rows.empty());
}

TEST(JsonParserTest, ValueLongerThanTheFieldLimit) {
    ParseOptions options;
    options.limits.max_field_bytes = 12;
    const auto r = ParseJsonText(
        "[{\"date\": \"2024-01-01\", \"amount\": 1},\n"
        "{\"date\": \"2024-01-02\", \"amount\": 2, \"text\": \"thirteen byte\"}]",
        options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "field_too_long");
    EXPECT_EQ(r.report.error->line, 2);
    EXPECT_EQ(r.report.error->column, "text");
}

TEST(JsonParserTest, FileWithoutDateColumnNamesTheKeysFound) {
    const auto r = ParseJsonText(R"([{"when": "2024-01-01", "amount": 1}])");
    ASSERT_FALSE(r.report.ok());
    EXPECT_THAT(r.report.error->message, HasSubstr("when"));
    EXPECT_EQ(r.report.error->line, 1);
}

TEST(JsonParserTest, EmptyObjectsAreSkipped) {
    const auto r = ParseJsonText("[{}, {\"date\": \"2024-01-01\", \"amount\": 1}, {}]");
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.rows_read, 1);
    EXPECT_THAT(Amounts(r), ElementsAre(100));
}

TEST(JsonParserTest, UnreadableFile) {
    const auto r = ParseJsonFile(Fixture("does_not_exist.json"));
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "unreadable_file");
}

// The shared sample ledger: the JSON export must load exactly as the CSV export of the same ledger.
TEST(JsonParserTest, SampleLedgerMatchesTheCsvExport) {
    const std::filesystem::path dir = SourceDir() / "../shared/data/ledger";
    if (!std::filesystem::exists(dir / "ledger.json") || !std::filesystem::exists(dir / "ledger.csv")) {
        GTEST_SKIP() << "sample ledger not found in " << dir;
    }
    const auto describe = [](const Transaction& tx) {
        return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", tx.external_id, tx.date.ToString(),
                           tx.registration_date ? tx.registration_date->ToString() : "-", tx.account, tx.amount.minor,
                           tx.voucher_series, tx.voucher_number, tx.text);
    };
    std::vector<std::string> json_rows;
    std::map<std::string, int64_t> json_by_account;
    int64_t json_total = 0;
    const ParseReport report = MakeJsonParser()->Parse(dir / "ledger.json", ParseOptions{},
                                                       [&](std::span<Transaction> batch) -> Expected<void> {
                                                           for (const Transaction& tx : batch) {
                                                               json_rows.push_back(describe(tx));
                                                               json_by_account[tx.account] += tx.amount.minor;
                                                               json_total += tx.amount.minor;
                                                           }
                                                           return {};
                                                       },
                                                       {});
    ASSERT_TRUE(report.ok()) << report.error->ToString();
    EXPECT_EQ(report.rows_accepted, 50'080);
    EXPECT_EQ(report.rows_rejected, 0);
    EXPECT_EQ(json_rows.size(), 50'080u);

    std::vector<std::string> csv_rows;
    std::map<std::string, int64_t> csv_by_account;
    int64_t csv_total = 0;
    std::ifstream csv(dir / "ledger.csv", std::ios::binary);
    const ParseReport csv_report = ReadCsv(csv, ParseOptions{}, [&](std::span<Transaction> batch) -> Expected<void> {
        for (const Transaction& tx : batch) {
            csv_rows.push_back(describe(tx));
            csv_by_account[tx.account] += tx.amount.minor;
            csv_total += tx.amount.minor;
        }
        return {};
    });
    ASSERT_TRUE(csv_report.ok()) << csv_report.error->ToString();
    EXPECT_EQ(csv_report.rows_accepted, 50'080);
    EXPECT_EQ(json_total, csv_total);
    EXPECT_EQ(json_by_account, csv_by_account);
    EXPECT_GT(json_by_account.size(), 20u);
    EXPECT_EQ(json_rows, csv_rows);
}

}  // namespace
}  // namespace granska::ingest
