// The JSON table reader on its own: shapes, header, cells and every error it raises, without RowMapper.

#include "ingest/json/detail/json_table.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace granska::ingest::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::filesystem::path FixtureDir() {
    const char* root = std::getenv("GRANSKA_SOURCE_DIR");
    const std::filesystem::path source =
        root != nullptr ? std::filesystem::path(root) : std::filesystem::path(__FILE__).parent_path() / "../../..";
    return source / "tests/fixtures/json";
}

std::string ReadFixture(const std::string& name) {
    std::ifstream in(FixtureDir() / name, std::ios::binary);
    EXPECT_TRUE(in) << "missing fixture " << name;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string CellText(const Cell& cell) {
    switch (cell.type) {
        case CellType::kEmpty:
            return "-";
        case CellType::kText:
            return fmt::format("s:{}", cell.text);
        case CellType::kNumber:
            return fmt::format("n:{}", cell.text);
        case CellType::kDate:
            return fmt::format("d:{}", cell.text);
        case CellType::kBool:
            return fmt::format("b:{}", cell.text);
    }
    return "?";
}

struct TableOutcome {
    std::optional<JsonTable> table;
    std::optional<Error> error;     // from loading or from reading rows
    std::vector<std::string> rows;  // "line| key=cell ..." for the cells that are not empty
    std::vector<size_t> widths;
    ParseReport report;
};

TableOutcome ReadTable(std::string_view bytes, const ParseOptions& options = {}) {
    TableOutcome out;
    JsonTableReader reader(options);
    Expected<JsonTable> table = reader.LoadBytes(bytes);
    if (!table) {
        out.error = std::move(table).error();
        return out;
    }
    out.table = *table;
    const auto row = [&out](std::span<const Cell> cells, int64_t line) -> Expected<void> {
        std::string text = fmt::format("{}|", line);
        for (size_t i = 0; i < cells.size(); ++i) {
            if (cells[i].type != CellType::kEmpty)
                text += fmt::format(" {}={}", out.table->headers[i], CellText(cells[i]));
        }
        out.rows.push_back(std::move(text));
        out.widths.push_back(cells.size());
        return {};
    };
    if (auto read = reader.ReadRows(row, out.report); !read) out.error = std::move(read).error();
    return out;
}

TableOutcome ReadFixtureTable(const std::string& name, const ParseOptions& options = {}) {
    return ReadTable(ReadFixture(name), options);
}

// ---------------------------------------------------------------------------------------------------------------
// Shapes

TEST(JsonTableTest, ReadsTopLevelArrayInFileOrder) {
    const auto r = ReadFixtureTable("array.json");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.table->shape, "array");
    EXPECT_EQ(r.table->encoding, "utf-8");
    EXPECT_EQ(r.table->rows, 3);
    EXPECT_EQ(r.table->first_line, 2);
    EXPECT_THAT(r.table->headers, ElementsAre("id", "date", "account", "amount", "text"));
    EXPECT_THAT(r.rows,
                ElementsAre("2| id=s:T1 date=s:2024-01-05 account=n:1930 amount=n:1250.00 text=s:Kundinbetalning",
                            "3| id=s:T2 date=s:2024-01-06 account=n:5460 amount=n:-89.90 text=s:Kontorsmaterial",
                            "4| id=s:T3 date=s:2024-01-07 account=n:2640 amount=n:17.98 text=s:Ingående moms"));
}

TEST(JsonTableTest, ObjectRootUsesTheTransactionsMember) {
    const auto r = ReadFixtureTable("object_transactions.json");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.table->shape, "object");
    EXPECT_EQ(r.table->root, "transactions");
    EXPECT_THAT(r.table->headers, ElementsAre("date", "amount", "account"));
    EXPECT_THAT(r.rows, ElementsAre("5| date=s:2024-02-01 amount=n:100.50 account=n:1930",
                                    "6| date=s:2024-02-02 amount=n:-100.50 account=n:3001"));
}

TEST(JsonTableTest, ObjectRootAcceptsAnyOneArrayOfObjects) {
    const auto r = ReadFixtureTable("object_single_member.json");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.table->root, "lines");
    EXPECT_THAT(r.rows, ElementsAre("2| date=s:2024-04-01 amount=s:10.00", "3| date=s:2024-04-02 amount=s:20.00",
                                    "4| date=s:2024-04-03 amount=s:30.00"));
}

TEST(JsonTableTest, ObjectRootPrefersNamedMembersInOrder) {
    const auto records = ReadTable(R"({"accounts": [{"n": 1}], "records": [{"date": "2024-01-01"}]})");
    ASSERT_FALSE(records.error) << records.error->ToString();
    EXPECT_EQ(records.table->root, "records");
    EXPECT_THAT(records.table->headers, ElementsAre("date"));

    const auto transactions = ReadTable(R"({"rows": [{"a": 1}], "transactions": [{"b": 2}]})");
    ASSERT_FALSE(transactions.error) << transactions.error->ToString();
    EXPECT_EQ(transactions.table->root, "transactions");
    EXPECT_THAT(transactions.rows, ElementsAre("1| b=n:2"));
}

TEST(JsonTableTest, ObjectRootFindsMemberWithEscapedKey) {
    const auto r = ReadTable("{\"meta\": 1, \"tr\\u0061nsactions\": [{\"a\": 1}, {\"a\": 2}], \"tail\": [3]}");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.table->root, "transactions");
    EXPECT_THAT(r.rows, ElementsAre("1| a=n:1", "1| a=n:2"));
}

TEST(JsonTableTest, NdjsonSkipsBlankLinesAndKeepsLineNumbers) {
    const auto r = ReadFixtureTable("ndjson.jsonl");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.table->shape, "ndjson");
    EXPECT_EQ(r.table->rows, 3);
    EXPECT_THAT(r.rows, ElementsAre("1| date=s:2024-05-01 amount=n:1.25 account=s:1930",
                                    "3| date=s:2024-05-02 amount=n:2.50 account=s:1930",
                                    "5| date=s:2024-05-03 amount=n:3.75 account=s:2640"));
}

TEST(JsonTableTest, NdjsonWithCrlfLineEnds) {
    const auto r = ReadFixtureTable("ndjson_crlf.jsonl");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.table->shape, "ndjson");
    EXPECT_THAT(r.rows, ElementsAre("1| date=s:2024-05-04 amount=n:4.00", "3| date=s:2024-05-05 amount=n:5.00"));
}

TEST(JsonTableTest, OneLineObjectIsTheObjectShapeNotNdjson) {
    const auto r = ReadTable("{\"transactions\": [{\"a\": 1}, {\"a\": 2}]}\n\n");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.table->shape, "object");
    EXPECT_EQ(r.table->rows, 2);
}

TEST(JsonTableTest, FirstLineThatIsNotACompleteObjectMeansOneDocument) {
    // The first line ends with '}' but the object goes on: one pretty-printed document, not NDJSON.
    const auto r = ReadTable("{\"transactions\": [{\"a\": {}\n}, {\"a\": 2}]}\n");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.table->shape, "object");
    EXPECT_THAT(r.rows, ElementsAre("1|", "2| a=n:2"));
}

// ---------------------------------------------------------------------------------------------------------------
// Header and cells

TEST(JsonTableTest, HeaderIsTheUnionOfKeysInFirstSeenOrder) {
    const auto r = ReadFixtureTable("missing_keys.json");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.table->headers, ElementsAre("date", "amount", "text", "user", "currency"));
    EXPECT_THAT(r.rows, ElementsAre("2| date=s:2024-08-01 amount=n:1.00 text=s:first",
                                    "3| date=s:2024-08-02 amount=n:2.00 user=s:AB",
                                    "4| date=s:2024-08-03 amount=n:3.00 currency=s:EUR"));
    EXPECT_THAT(r.widths, ElementsAre(5, 5, 5));
}

TEST(JsonTableTest, FlattensNestedObjectsWithDottedKeys) {
    const auto r = ReadFixtureTable("nested.json");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.table->headers, ElementsAre("date", "amount", "counterparty.name", "counterparty.address.city",
                                              "counterparty.address.zip"));
    EXPECT_THAT(r.rows, ElementsAre("2| date=s:2024-06-01 amount=n:500 counterparty.name=s:Leverantör AB "
                                    "counterparty.address.city=s:Umeå counterparty.address.zip=s:90326",
                                    "3| date=s:2024-06-02 amount=n:-500 counterparty.name=s:Kund AB"));
}

TEST(JsonTableTest, KeepsArraysInRowsAsTheirJsonText) {
    const auto r = ReadFixtureTable("arrays_in_rows.json");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.table->headers, ElementsAre("date", "amount", "tags", "splits", "note"));
    EXPECT_THAT(r.rows, ElementsAre("2| date=s:2024-07-01 amount=n:10 tags=s:[\"rent\", \"q3\"] "
                                    "splits=s:[{\"account\": 5010, \"amount\": 8}, {\"account\": 2640, \"amount\": 2}] "
                                    "note=s:a]b",
                                    "3| date=s:2024-07-02 amount=n:20 tags=s:[] note=s:x"));
}

TEST(JsonTableTest, ArrayAtTheEndOfAnNdjsonLine) {
    const auto r = ReadTable("{\"a\": 1, \"b\": [1, 2]  }\n{\"b\":[]}\n");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.rows, ElementsAre("1| a=n:1 b=s:[1, 2]", "2| b=s:[]"));
}

TEST(JsonTableTest, NumbersKeepTheirExactSourceText) {
    const auto r = ReadFixtureTable("amounts.json");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.rows, ElementsAre("2| date=s:2024-09-01 amount=n:1234567890123.45",
                                    "3| date=s:2024-09-02 amount=n:0.30", "4| date=s:2024-09-03 amount=n:-0.05",
                                    "5| date=s:2024-09-04 amount=n:1e3", "6| date=s:2024-09-05 amount=n:12.345",
                                    "7| date=s:2024-09-06 amount=n:0.1", "8| date=s:2024-09-07 amount=n:0.2"));
}

TEST(JsonTableTest, UnescapesStringsIncludingSurrogatePairs) {
    const auto r = ReadFixtureTable("escapes.json");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.rows, ElementsAre("2| date=s:2024-10-01 amount=n:1 text=s:Småland \xF0\x9F\x98\x80 "
                                    "user=s:tab\there \"quoted\" back\\slash",
                                    "3| date=s:2024-10-02 amount=n:2 text=s:Bokföring\nrad 2 user=s:ÅÄÖ"));
}

TEST(JsonTableTest, BooleansAndNulls) {
    const auto r = ReadTable(R"([{"a": true, "b": false, "c": null, "d": "x"}])");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.rows, ElementsAre("1| a=b:true b=b:false d=s:x"));
}

TEST(JsonTableTest, EscapedKeysMatchTheirPlainSpelling) {
    const auto r = ReadTable("[{\"amount\": 1}, {\"\\u0061mount\": 2}]");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.table->headers, ElementsAre("amount"));
    EXPECT_THAT(r.rows, ElementsAre("1| amount=n:1", "1| amount=n:2"));
}

TEST(JsonTableTest, DuplicateKeyWarnsAndTheLastValueWins) {
    const auto r = ReadTable("[\n{\"date\": \"2024-01-01\", \"amount\": 1, \"amount\": 2}\n]");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.rows, ElementsAre("2| date=s:2024-01-01 amount=n:2"));
    ASSERT_EQ(r.report.problems.size(), 1u);
    EXPECT_EQ(r.report.problems[0].code, "duplicate_key");
    EXPECT_EQ(r.report.problems[0].severity, Severity::kWarning);
    EXPECT_EQ(r.report.problems[0].line, 2);
    EXPECT_EQ(r.report.problems[0].field, "amount");
}

TEST(JsonTableTest, RowsWithDifferentKeyOrdersLandInTheRightColumns) {
    const auto r = ReadTable(R"([{"a": 1, "b": 2}, {"b": 3, "a": 4}, {"c": 5, "a": 6}])");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.rows, ElementsAre("1| a=n:1 b=n:2", "1| a=n:4 b=n:3", "1| a=n:6 c=n:5"));
}

TEST(JsonTableTest, KeysThatChangeBetweenObjectsAndValues) {
    const auto r = ReadTable(R"([{"a": {"b": 1}}, {"a": 2}, {"a": {"b": 3, "c": 4}}, {"b": 5, "a": {"b": 6}}])");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.table->headers, ElementsAre("a.b", "a", "a.c", "b"));
    EXPECT_THAT(r.rows, ElementsAre("1| a.b=n:1", "1| a=n:2", "1| a.b=n:3 a.c=n:4", "1| a.b=n:6 b=n:5"));
}

TEST(JsonTableTest, KeysWithQuotesAndEscapes) {
    // A key that unescapes to text with a quote must not be taken for the shorter key its raw bytes start with.
    const auto r = ReadTable(R"([{"ab\":\"x": 1}, {"ab":"x"}, {"ab\":\"x": 2, "t\\u00e5": 3}, {"tå": 4}])");
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_THAT(r.table->headers, ElementsAre("ab\":\"x", "ab", "t\\u00e5", "tå"));
    EXPECT_THAT(r.rows, ElementsAre("1| ab\":\"x=n:1", "1| ab=s:x", "1| ab\":\"x=n:2 t\\u00e5=n:3", "1| tå=n:4"));
}

TEST(JsonTableTest, Encodings) {
    const std::vector<std::string> expected = {"2| date=s:2024-12-01 amount=n:99.95 text=s:Räksmörgås",
                                               "3| date=s:2024-12-02 amount=n:-99.95 text=s:Återbetalning 😀"};
    for (const auto& [file, encoding] : std::vector<std::pair<std::string, std::string>>{
             {"utf8_bom.json", "utf-8-bom"}, {"utf16le_bom.json", "utf-16le"}, {"utf16be_bom.json", "utf-16be"}}) {
        const auto r = ReadFixtureTable(file);
        ASSERT_FALSE(r.error) << file << ": " << r.error->ToString();
        EXPECT_EQ(r.table->encoding, encoding) << file;
        EXPECT_EQ(r.rows, expected) << file;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

void ExpectError(const TableOutcome& r, std::string_view code, std::optional<int64_t> line,
                 std::string_view message_part, std::string_view column = {}) {
    ASSERT_TRUE(r.error) << "expected " << code;
    EXPECT_EQ(r.error->code, code) << r.error->ToString();
    EXPECT_EQ(r.error->line, line) << r.error->ToString();
    EXPECT_THAT(r.error->message, HasSubstr(std::string(message_part)));
    EXPECT_EQ(r.error->column, column) << r.error->ToString();
}

TEST(JsonTableErrorTest, NdjsonBrokenLineNamesItsLine) {
    const auto r = ReadFixtureTable("ndjson_broken.jsonl");
    ExpectError(r, "invalid_json", 4, "line 4");
    EXPECT_EQ(r.error->kind, ErrorKind::kInvalidInput);
}

TEST(JsonTableErrorTest, MissingCommaNamesTheLine) {
    ExpectError(ReadTable("[\n{\"a\": 1}\n{\"a\": 2}\n]"), "invalid_json", 3, "improper structure");
}

TEST(JsonTableErrorTest, MissingColonNamesTheLineAndKey) {
    ExpectError(ReadTable("[\n{\"a\": 1},\n{\"a\": 1, \"b\" 2}\n]"), "invalid_json", 3, "line 3");
}

TEST(JsonTableErrorTest, BadNumberNamesTheKey) {
    const auto r = ReadTable("[\n{\"date\": \"2024-01-01\", \"amount\": 1.2.3}\n]");
    ExpectError(r, "invalid_json", 2, "'1.2.3'", "amount");
    ExpectError(ReadTable("[{\"amount\": +1}]"), "invalid_json", 1, "not valid JSON on line 1", "amount");
    ExpectError(ReadTable("[{\"amount\": 01}]"), "invalid_json", 1, "'01'", "amount");
}

TEST(JsonTableErrorTest, BadLiteral) {
    ExpectError(ReadTable("[{\"ok\": tru}]"), "invalid_json", 1, "'tru'", "ok");
    ExpectError(ReadTable("[{\"ok\": nul}]"), "invalid_json", 1, "'nul'", "ok");
}

TEST(JsonTableErrorTest, BadEscapeInString) {
    ExpectError(ReadTable("[\n{\"text\": \"a\\qb\"}]"), "invalid_json", 2, "string", "text");
    ExpectError(ReadTable("[{\"text\": \"\\ud800\"}]"), "invalid_json", 1, "string", "text");
}

TEST(JsonTableErrorTest, BadValueInsideAnArrayInARow) {
    ExpectError(ReadTable("[{\"tags\": [1, tru]}]"), "invalid_json", 1, "'tru'", "tags");
}

TEST(JsonTableErrorTest, UnclosedStringNamesWhereItStarts) {
    ExpectError(ReadTable("[\n{\"a\": 1},\n{\"a\": \"open}\n]\n"), "invalid_json", 3, "never closed");
}

TEST(JsonTableErrorTest, RawControlCharacterInString) {
    ExpectError(ReadTable("[\n{\"a\": \"tab\there\"}]"), "invalid_json", 2, "control character");
}

TEST(JsonTableErrorTest, UnclosedArray) {
    ExpectError(ReadTable("[\n{\"a\": 1},\n{\"a\": 2}\n"), "invalid_json", 4, "not closed");
}

TEST(JsonTableErrorTest, ContentAfterTheTopLevelValue) {
    ExpectError(ReadTable("[{\"a\": 1}]\n[{\"a\": 2}]"), "invalid_json", 2,
                "more after the end of the top-level array");
    ExpectError(ReadTable("{\"rows\": [{\"a\": 1}]\n}\n{\"b\": 1}"), "invalid_json", 3,
                "more after the end of the top-level object");
}

TEST(JsonTableErrorTest, NdjsonLineWithTwoObjects) {
    ExpectError(ReadTable("{\"a\": 1}\n{\"a\": 2} {\"a\": 3}\n"), "invalid_json", 2, "exactly one object per line");
}

TEST(JsonTableErrorTest, InvalidUtf8NamesTheLine) {
    ExpectError(ReadTable("[\n{\"a\": \"x\"},\n{\"a\": \"\xC3\x28\"}\n]"), "bad_encoding", 3,
                "Line 3 is not valid UTF-8");
    ExpectError(ReadTable("{\"a\": 1}\n{\"a\": 2}\n{\"a\": \"\xFF\"}\n"), "bad_encoding", 3, "Line 3");
}

TEST(JsonTableErrorTest, Utf16WithoutByteOrderMark) {
    const std::string text("[\0{\0}\0]\0", 8);
    ExpectError(ReadTable(text), "bad_encoding", 1, "UTF-16 without a byte-order mark");
}

TEST(JsonTableErrorTest, BrokenUtf16) {
    ExpectError(ReadTable(std::string("\xFF\xFE[\0]", 5)), "bad_encoding", std::nullopt, "odd number of bytes");
    // "[\n" then a lone high surrogate on line 2.
    ExpectError(ReadTable(std::string("\xFF\xFE[\0\n\0\x00\xD8]\0", 10)), "bad_encoding", 2, "lone surrogate");
}

TEST(JsonTableErrorTest, EmptyFile) {
    ExpectError(ReadTable(""), "empty_file", std::nullopt, "no JSON");
    ExpectError(ReadTable(" \n\t\r\n"), "empty_file", std::nullopt, "no JSON");
    ExpectError(ReadTable("\xEF\xBB\xBF\n"), "empty_file", std::nullopt, "no JSON");
}

TEST(JsonTableErrorTest, RootThatIsNotAShapeSaysWhatItIs) {
    ExpectError(ReadTable("\n  42"), "bad_json_root", 2, "holds a number");
    ExpectError(ReadTable("\"text\""), "bad_json_root", 1, "holds a string");
    ExpectError(ReadTable("date,amount\n2024-01-01,1\n"), "bad_json_root", 1, "not JSON ('date,amount");
}

TEST(JsonTableErrorTest, ObjectRootWithoutArrayOfObjectsListsItsMembers) {
    const auto r = ReadTable(R"({"date": "2024-01-01", "amount": 5, "tags": ["a"]})");
    ExpectError(r, "bad_json_root", 1,
                "no member that is an array of objects (members: \"date\" (a string), \"amount\" (a number), "
                "\"tags\" (an array of strings))");
    ExpectError(ReadTable("{}"), "bad_json_root", 1, "it is empty");
}

TEST(JsonTableErrorTest, ObjectRootWithSeveralUnnamedArraysOfObjects) {
    ExpectError(ReadTable(R"({"a": [{"x": 1}], "b": [{"y": 1}]})"), "bad_json_root", 1,
                "several arrays of objects (\"a\", \"b\")");
}

TEST(JsonTableErrorTest, RowThatIsNotAnObject) {
    ExpectError(ReadTable("[\n{\"a\": 1},\n[1, 2]\n]"), "row_not_object", 3, "line 3 is an array");
    ExpectError(ReadTable("{\"a\": 1}\n\n42\n"), "row_not_object", 3, "Line 3 holds a number");
    ExpectError(ReadTable("[\"a\", \"b\"]"), "row_not_object", 1, "is a string");
}

TEST(JsonTableErrorTest, DepthLimit) {
    ParseOptions options;
    options.limits.max_depth = 3;
    // Array (1), row (2), "a" (3) is fine; "a.b" would be 4.
    ASSERT_FALSE(ReadTable(R"([{"a": {"x": 1}}])", options).error);
    ExpectError(ReadTable("[\n{\"a\": {\"b\": {\"c\": 1}}}]", options), "too_deep", 2, "deeper than 3 levels", "a.b");
    ExpectError(ReadTable(R"([{"list": [[1]]}])", options), "too_deep", 1, "deeper than 3 levels", "list");
    options.limits.max_depth = 1;
    ExpectError(ReadTable(R"([{"a": 1}])", options), "too_deep", 1, "deeper than 1 levels");
    ASSERT_FALSE(ReadTable("{\"a\": 1}\n{\"a\": 2}\n", options).error);  // NDJSON rows are the top level
    ExpectError(ReadTable("{\"a\": 1}\n{\"a\": {\"b\": 2}}\n", options), "too_deep", 2, "deeper than 1 levels", "a");
    options.limits.max_depth = 0;
    ExpectError(ReadTable("{\"a\": 1}\n{\"a\": 2}\n", options), "too_deep", 1, "deeper than 0 levels");
}

TEST(JsonTableErrorTest, DeepNestingStopsAtTheDefaultLimitWithoutRecursingFurther) {
    const std::string deep_object = "[{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}]";
    ExpectError(ReadTable(deep_object), "too_deep", 1, "deeper than 256 levels", "a");
    std::string nested = "[{";
    for (int i = 0; i < 100000; ++i) nested += "\"k\":{";
    nested += "\"v\":1" + std::string(100000, '}') + "}]";
    const auto r = ReadTable(nested);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->code, "too_deep");
}

TEST(JsonTableErrorTest, KeyLongerThanTheFieldLimit) {
    ParseOptions options;
    options.limits.max_field_bytes = 8;
    const auto r = ReadTable("[{\"amount\": 1},\n{\"a_very_long_key\": 2}]", options);
    ExpectError(r, "field_too_long", 2, "15 bytes long", "a_very_long_key");
    EXPECT_EQ(r.error->kind, ErrorKind::kInvalidInput);
}

TEST(JsonTableErrorTest, TooManyRowsStopsBeforeAnyRowIsHandedOver) {
    ParseOptions options;
    options.limits.max_rows = 2;
    const auto r = ReadTable("[\n{\"a\": 1},\n{\"a\": 2},\n{\"a\": 3}\n]", options);
    ExpectError(r, "too_many_rows", 4, "more than 2 rows");
    EXPECT_EQ(r.error->kind, ErrorKind::kTooLarge);
    EXPECT_TRUE(r.rows.empty());
}

TEST(JsonTableErrorTest, TooManyDistinctKeys) {
    std::string text = "[";
    for (size_t i = 0; i <= JsonTableReader::kMaxColumns; ++i)
        text += fmt::format("{}\n{{\"k{}\": 1}}", i == 0 ? "" : ",", i);
    text += "]";
    const auto r = ReadTable(text);
    ExpectError(r, "too_many_columns", static_cast<int64_t>(JsonTableReader::kMaxColumns) + 2, "more than 4096");
    EXPECT_EQ(r.error->kind, ErrorKind::kTooLarge);
}

TEST(JsonTableErrorTest, NoRows) {
    ExpectError(ReadTable("[]"), "no_data_rows", std::nullopt, "top-level array has no rows");
    ExpectError(ReadTable(R"({"transactions": []})"), "no_data_rows", std::nullopt,
                "array \"transactions\" has no rows");
}

TEST(JsonTableErrorTest, OtherMembersOfAnObjectRootMustBeValidToo) {
    ExpectError(ReadTable("{\"meta\": {\"ok\": tru},\n\"transactions\": [{\"a\": 1}]}"), "invalid_json", 1, "'tru'",
                "meta");
    ExpectError(ReadTable("{\"transactions\": [{\"a\": 1}],\n\"tail\": [\"\\q\"]}"), "invalid_json", 2, "string",
                "tail");
}

TEST(JsonTableErrorTest, EmptyRowsMemberAfterOtherMembers) {
    ExpectError(ReadTable(R"({"meta": {"n": 1}, "transactions": []})"), "no_data_rows", std::nullopt,
                "array \"transactions\" has no rows");
}

TEST(JsonTableErrorTest, UnreadableFile) {
    const ParseOptions options;
    JsonTableReader reader(options);
    const auto table = reader.Load(FixtureDir() / "does_not_exist.json");
    ASSERT_FALSE(table);
    EXPECT_EQ(table.error().code, "unreadable_file");
}

}  // namespace
}  // namespace granska::ingest::detail
