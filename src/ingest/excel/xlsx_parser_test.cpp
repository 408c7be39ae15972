#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ingest/csv_reader.h"
#include "ingest/excel/detail/xlsx_reader.h"
#include "ingest/excel/excel_parsers.h"
#include "ingest/excel/excel_test_util.h"

namespace granska::ingest {
namespace {

namespace fs = std::filesystem;
using testing::Describe;
using testing::DescribeAll;
using ::testing::ElementsAre;
using testing::ExcelFixture;
using ::testing::HasSubstr;
using testing::ParseOutcome;

constexpr std::string_view kWorkbookXml =
    R"(<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" )"
    R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">)"
    R"(<sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>)";
constexpr std::string_view kWorkbookRels =
    R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" )"
    R"(Target="worksheets/sheet1.xml"/></Relationships>)";
constexpr std::string_view kSheetPart = "xl/worksheets/sheet1.xml";

using Entries = std::vector<std::pair<std::string, std::string>>;

// A sheet of inline strings and numbers: a "date,amount" header and `rows` rows of ISO text dates and amounts.
std::string SheetXml(int rows) {
    std::string xml = R"(<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>date</t></is></c>)"
                      R"(<c r="B1" t="inlineStr"><is><t>amount</t></is></c></row>)";
    for (int r = 2; r <= rows + 1; ++r) {
        xml += fmt::format(R"(<row r="{0}"><c r="A{0}" t="inlineStr"><is><t>2024-01-{1:02}</t></is></c>)"
                           R"(<c r="B{0}"><v>{0}.5</v></c></row>)",
                           r, 1 + r % 28);
    }
    return xml + "</sheetData></worksheet>";
}

Entries MinimalXlsx(std::string sheet_xml) {
    return {{"xl/workbook.xml", std::string(kWorkbookXml)},
            {"xl/_rels/workbook.xml.rels", std::string(kWorkbookRels)},
            {std::string(kSheetPart), std::move(sheet_xml)}};
}

class XlsxParserTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / fmt::format("granska_xlsx_{}_{}",
                                                       ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                                                       getpid());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    // Writes the entries, deflated, into a zip with libzip; `encrypt` names an entry to encrypt with AES.
    fs::path WriteZip(const Entries& entries, const std::string& encrypt = {}) {
        fs::path path = dir_ / "book.xlsx";
        int error = 0;
        zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
        EXPECT_NE(archive, nullptr);
        for (const auto& [name, content] : entries) {
            zip_source_t* source = zip_source_buffer(archive, content.data(), content.size(), 0);
            const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE);
            EXPECT_GE(index, 0);
            EXPECT_EQ(zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 9), 0);
            if (name == encrypt) {
                encryption_supported_ =
                    zip_file_set_encryption(archive, static_cast<zip_uint64_t>(index), ZIP_EM_AES_256, "secret") == 0;
            }
        }
        EXPECT_EQ(zip_close(archive), 0);
        return path;
    }

    fs::path WriteBytes(std::string_view bytes) {
        fs::path path = dir_ / "book.xlsx";
        std::ofstream(path, std::ios::binary) << bytes;
        return path;
    }

    ParseOutcome Parse(const fs::path& path, ParseOptions options = {}) {
        return testing::ParseWith(*parser_, path, std::move(options));
    }

    // The code of the error the file is rejected with, after checking it names the file.
    std::string ErrorCode(const ParseOutcome& outcome) {
        if (!outcome.report.error) return "<accepted>";
        EXPECT_EQ(outcome.report.error->file, "book.xlsx");
        EXPECT_FALSE(outcome.report.error->message.empty());
        return outcome.report.error->code;
    }

    fs::path dir_;
    bool encryption_supported_ = false;
    std::unique_ptr<Parser> parser_ = MakeXlsxParser();
};

// ---------------------------------------------------------------------------------------------------------------
// Files written by real writers (tests/fixtures/excel/make_fixtures.py)

TEST_F(XlsxParserTest, ReadsInlineStringsNumbersBooleansAndDates) {
    const ParseOutcome r = Parse(ExcelFixture("basic_inline.xlsx"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.format, Format::kXlsx);
    EXPECT_EQ(r.report.encoding, "utf-8");
    EXPECT_EQ(r.report.dialect.at("sheet"), "Huvudbok");
    EXPECT_EQ(r.report.dialect.at("header_row"), "1");
    EXPECT_EQ(r.report.dialect.at("date_system"), "1900");
    EXPECT_EQ(r.report.details, R"({"sheets":["Huvudbok"]})");
    EXPECT_THAT(r.report.headers, ElementsAre("id", "date", "account", "amount", "text", "approved"));
    EXPECT_EQ(r.report.rows_accepted, 3);
    // 689.81 is stored as 689.8099999999999; the date-time 2024-04-02 13:05 as the serial 45384.54513888889.
    EXPECT_THAT(DescribeAll(r.rows),
                ElementsAre("1|T1|2024-03-31|-|-1|1930|689.81|Hyra mars||||{\"approved\":true}",
                            "2|T2|2024-04-02|-|47100|2640|-172.45|Ingående moms||||{\"approved\":false}",
                            "3|T3|2024-02-29|-|-1||1000.00|Kortköp||||{\"approved\":true}"));
    EXPECT_EQ(r.rows[2].source_line, 4);
    ASSERT_FALSE(r.progress.empty());
    EXPECT_LE(r.progress.back(), fs::file_size(ExcelFixture("basic_inline.xlsx")));
}

TEST_F(XlsxParserTest, ReadsSharedStringsAndBuiltinAndCustomDateFormats) {
    const ParseOutcome r = Parse(ExcelFixture("shared_strings.xlsx"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("sheet"), "Verifikationer");
    EXPECT_THAT(r.report.headers, ElementsAre("Datum", "Konto", "Belopp", "Text"));
    // Row 2: built-in format 14; row 3: "d mmm yyyy", and the amount is the text "250.00".
    EXPECT_THAT(DescribeAll(r.rows), ElementsAre("1||2024-01-15|-|-1|3010|-12500.50|Försäljning||||{}",
                                                 "2||2024-12-31|-|-1|1510|250.00|Försäljning||||{}"));
}

TEST_F(XlsxParserTest, Reads1904DateSystem) {
    const ParseOutcome r = Parse(ExcelFixture("date1904.xlsx"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("date_system"), "1904");
    // Serial 43920 is 2024-03-31 counted from 1904-01-01; 1.25 is 1904-01-02 06:00.
    EXPECT_THAT(DescribeAll(r.rows),
                ElementsAre("1||2024-03-31|-|-1||10.50|||||{}", "2||1904-01-02|-|21600||2.00|||||{}"));
}

TEST_F(XlsxParserTest, FindsHeaderBelowTitleAndBlankRow) {
    const ParseOutcome r = Parse(ExcelFixture("title_header.xlsx"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("header_row"), "3");
    EXPECT_THAT(r.report.headers, ElementsAre("Datum", "Belopp", "Kommentar"));
    EXPECT_THAT(DescribeAll(r.rows), ElementsAre("1||2024-05-01|-|-1||99.90|||||{\"Kommentar\":\"Första\"}",
                                                 "2||2024-05-02|-|-1||-0.10|||||{\"Kommentar\":\"Andra\"}"));
    EXPECT_EQ(r.rows[0].source_line, 4);
    EXPECT_EQ(r.rows[1].source_line, 5);
}

TEST_F(XlsxParserTest, NamesBadDateCellsAndReadsTextAmounts) {
    const ParseOutcome r = Parse(ExcelFixture("bad_cells.xlsx"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.rows_read, 6);
    EXPECT_EQ(r.report.rows_accepted, 4);
    EXPECT_EQ(r.report.rows_rejected, 2);
    // C3 holds the text "250.00"; B7 is serial 61, 1900-03-01.
    EXPECT_THAT(DescribeAll(r.rows),
                ElementsAre("1|R2|2024-01-10|-|-1||100.00|||||{}", "2|R3|2024-01-11|-|-1||250.00|||||{}",
                            "3|R4|2024-01-12|-|-1||1.25|||||{}", "4|R7|1900-03-01|-|-1||9.00|||||{}"));
    ASSERT_EQ(r.report.problems.size(), 2u);
    EXPECT_EQ(r.report.problems[0].code, "bad_date");
    EXPECT_EQ(r.report.problems[0].location, "Data!B5");
    EXPECT_EQ(r.report.problems[0].line, 5);
    EXPECT_THAT(r.report.problems[0].message, HasSubstr("'yesterday'"));
    // Serial 60 is Lotus 1-2-3's 1900-02-29, a day that never was.
    EXPECT_EQ(r.report.problems[1].code, "bad_date");
    EXPECT_EQ(r.report.problems[1].location, "Data!B6");
    EXPECT_THAT(r.report.problems[1].message, HasSubstr("'1900-02-29'"));
}

TEST_F(XlsxParserTest, TakesFirstNonEmptySheet) {
    const ParseOutcome r = Parse(ExcelFixture("two_sheets.xlsx"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("sheet"), "Bokföring");
    EXPECT_EQ(r.report.details, R"({"sheets":["Tom","Bokföring","Budget"]})");
    EXPECT_THAT(DescribeAll(r.rows), ElementsAre("1||2024-06-01|-|-1||1.00|bok||||{}"));
}

TEST_F(XlsxParserTest, ReadsSheetChosenByName) {
    for (const std::string name : {"Budget", "budget"}) {
        const ParseOutcome r = Parse(ExcelFixture("two_sheets.xlsx"), {.sheet = name});
        ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
        EXPECT_EQ(r.report.dialect.at("sheet"), "Budget");
        EXPECT_THAT(DescribeAll(r.rows),
                    ElementsAre("1||2024-07-01|-|-1||2.00|budget a||||{}", "2||2024-07-02|-|-1||3.00|budget b||||{}"));
    }
}

TEST_F(XlsxParserTest, UnknownSheetListsTheSheets) {
    const ParseOutcome r = Parse(ExcelFixture("two_sheets.xlsx"), {.sheet = "Resultat"});
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "unknown_sheet");
    EXPECT_EQ(r.report.error->kind, ErrorKind::kInvalidInput);
    EXPECT_THAT(r.report.error->message, HasSubstr("no sheet named \"Resultat\""));
    EXPECT_THAT(r.report.error->message, HasSubstr("\"Tom\", \"Bokföring\", \"Budget\""));
    EXPECT_TRUE(r.rows.empty());
}

TEST_F(XlsxParserTest, ChosenEmptySheetIsAnError) {
    const ParseOutcome r = Parse(ExcelFixture("two_sheets.xlsx"), {.sheet = "Tom"});
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "empty_sheet");
    EXPECT_THAT(r.report.error->message, HasSubstr("\"Tom\" is empty"));
}

TEST_F(XlsxParserTest, SameRowsWhateverTheChunkSize) {
    const ParseOutcome whole = Parse(ExcelFixture("shared_strings.xlsx"));
    const ParseOutcome chunked = Parse(ExcelFixture("shared_strings.xlsx"), {.chunk_bytes = 7});
    ASSERT_TRUE(chunked.report.ok()) << chunked.report.error->ToString();
    std::vector<std::string> a;
    std::vector<std::string> b;
    for (const Transaction& tx : whole.rows) a.push_back(Describe(tx));
    for (const Transaction& tx : chunked.rows) b.push_back(Describe(tx));
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.size(), 2u);
}

// ---------------------------------------------------------------------------------------------------------------
// The sample ledger: the same 50,080 lines as ledger.csv

TEST_F(XlsxParserTest, SampleLedgerMatchesTheCsv) {
    const char* source_dir = std::getenv("GRANSKA_SOURCE_DIR");
    if (source_dir == nullptr) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const fs::path data = fs::path(source_dir) / ".." / "shared" / "data" / "ledger";
    if (!fs::exists(data / "ledger.xlsx") || !fs::exists(data / "ledger.csv")) {
        GTEST_SKIP() << "sample ledger not found under ${GRANSKA_SOURCE_DIR}/../shared/data/ledger";
    }
    const ParseOutcome xlsx = Parse(data / "ledger.xlsx");
    ASSERT_TRUE(xlsx.report.ok()) << xlsx.report.error->ToString();
    EXPECT_EQ(xlsx.report.dialect.at("sheet"), "Huvudbok");
    EXPECT_EQ(xlsx.report.rows_rejected, 0);

    const ParseOutcome csv_read = testing::ParseWith(*MakeCsvParser(), data / "ledger.csv");
    ASSERT_TRUE(csv_read.report.ok()) << csv_read.report.error->ToString();
    const std::vector<Transaction>& csv = csv_read.rows;

    ASSERT_EQ(xlsx.rows.size(), 50'080u);
    ASSERT_EQ(csv.size(), 50'080u);
    int64_t xlsx_total = 0;
    int64_t csv_total = 0;
    std::map<std::string, int64_t> xlsx_accounts;
    std::map<std::string, int64_t> csv_accounts;
    for (const Transaction& tx : xlsx.rows) {
        xlsx_total += tx.amount.minor;
        xlsx_accounts[tx.account] += tx.amount.minor;
    }
    for (const Transaction& tx : csv) {
        csv_total += tx.amount.minor;
        csv_accounts[tx.account] += tx.amount.minor;
    }
    EXPECT_EQ(xlsx_total, csv_total);
    EXPECT_EQ(xlsx_accounts, csv_accounts);
    EXPECT_EQ(xlsx_accounts.size(), 41u);  // distinct accounts in ledger.csv's sixth column
    // Row by row: ids, dates, accounts, amounts and texts agree too.
    for (size_t i = 0; i < csv.size(); ++i) {
        ASSERT_EQ(xlsx.rows[i].external_id, csv[i].external_id) << i;
        ASSERT_EQ(xlsx.rows[i].date, csv[i].date) << i;
        ASSERT_EQ(xlsx.rows[i].registration_date, csv[i].registration_date) << i;
        ASSERT_EQ(xlsx.rows[i].amount, csv[i].amount) << i;
        ASSERT_EQ(xlsx.rows[i].text, csv[i].text) << i;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile and broken files, built here with libzip

TEST_F(XlsxParserTest, ReadsMinimalHandBuiltWorkbook) {
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx(SheetXml(3))));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("sheet"), "Blad1");
    EXPECT_THAT(DescribeAll(r.rows), ElementsAre("1||2024-01-03|-|-1||2.50|||||{}", "2||2024-01-04|-|-1||3.50|||||{}",
                                                 "3||2024-01-05|-|-1||4.50|||||{}"));
}

TEST_F(XlsxParserTest, RefusesZipBomb) {
    Entries entries = MinimalXlsx("<worksheet><sheetData>" + std::string(8 << 20, ' ') + "</sheetData></worksheet>");
    const ParseOutcome r = Parse(WriteZip(entries));
    EXPECT_EQ(ErrorCode(r), "zip_bomb");
    EXPECT_EQ(r.report.error->kind, ErrorKind::kTooLarge);
    EXPECT_THAT(r.report.error->message, HasSubstr("xl/worksheets/sheet1.xml"));
}

TEST_F(XlsxParserTest, RefusesPartsBeyondTheUncompressedLimit) {
    ParseOptions options;
    options.limits.max_uncompressed_bytes = 1000;
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx(SheetXml(20))), options);
    EXPECT_EQ(ErrorCode(r), "uncompressed_too_large");
    EXPECT_EQ(r.report.error->kind, ErrorKind::kTooLarge);
}

// Sets the uncompressed size an entry declares, in its local header and in the central directory.
void ForgeDeclaredSize(const fs::path& path, std::string_view name, uint32_t size) {
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto u16 = [&bytes](size_t at) {
        return static_cast<size_t>(static_cast<unsigned char>(bytes[at])) |
               static_cast<size_t>(static_cast<unsigned char>(bytes[at + 1])) << 8;
    };
    auto put32 = [&bytes](size_t at, uint32_t value) {
        for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(value >> (8 * i));
    };
    int patched = 0;
    for (size_t at = 0; at + 46 < bytes.size(); ++at) {
        if (bytes.compare(at, 4, "PK\x03\x04") == 0 && bytes.compare(at + 30, name.size(), name) == 0 &&
            u16(at + 26) == name.size()) {
            put32(at + 22, size);
            ++patched;
        } else if (bytes.compare(at, 4, "PK\x01\x02") == 0 && bytes.compare(at + 46, name.size(), name) == 0 &&
                   u16(at + 28) == name.size()) {
            put32(at + 24, size);
            ++patched;
        }
    }
    ASSERT_EQ(patched, 2);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST_F(XlsxParserTest, RefusesPartLargerThanItsHeaderDeclares) {
    const std::string sheet = SheetXml(3000);
    const fs::path path = WriteZip(MinimalXlsx(sheet));
    ForgeDeclaredSize(path, kSheetPart, 1000);
    const ParseOutcome r = Parse(path, {.chunk_bytes = 4096});
    EXPECT_EQ(ErrorCode(r), "zip_size_mismatch");
    EXPECT_THAT(r.report.error->message, HasSubstr("1000 bytes"));
}

TEST_F(XlsxParserTest, RefusesZipWithoutWorkbook) {
    const ParseOutcome r = Parse(WriteZip({{"word/document.xml", "<document/>"}}));
    EXPECT_EQ(ErrorCode(r), "not_xlsx");
    EXPECT_THAT(r.report.error->message, HasSubstr("save it again as .xlsx"));
}

TEST_F(XlsxParserTest, RefusesMissingSheetPart) {
    Entries entries = MinimalXlsx("");
    entries.pop_back();
    const ParseOutcome r = Parse(WriteZip(entries));
    EXPECT_EQ(ErrorCode(r), "missing_part");
    EXPECT_THAT(r.report.error->message, HasSubstr("xl/worksheets/sheet1.xml"));
}

TEST_F(XlsxParserTest, RefusesDtdInSheet) {
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx(
        R"(<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>)"
        R"(<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData>)"
        R"(</worksheet>)")));
    EXPECT_EQ(ErrorCode(r), "xml_dtd");
    EXPECT_THAT(r.report.error->message, HasSubstr("DTD"));
}

TEST_F(XlsxParserTest, RefusesNotAZipWithZipMagic) {
    const ParseOutcome r = Parse(WriteBytes(std::string("PK\x03\x04") + " this is not a zip archive at all"));
    EXPECT_EQ(ErrorCode(r), "bad_zip");
    EXPECT_THAT(r.report.error->message, HasSubstr("save it again as .xlsx"));
}

TEST_F(XlsxParserTest, RefusesEncryptedPart) {
    const fs::path path = WriteZip(MinimalXlsx(SheetXml(2)), std::string(kSheetPart));
    if (!encryption_supported_) GTEST_SKIP() << "this libzip cannot write encrypted entries";
    const ParseOutcome r = Parse(path);
    EXPECT_EQ(ErrorCode(r), "encrypted_file");
    EXPECT_THAT(r.report.error->message, HasSubstr("password"));
}

TEST_F(XlsxParserTest, RefusesMalformedXml) {
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx("<worksheet><sheetData><row r=\"1\"></sheetData></worksheet>")));
    EXPECT_EQ(ErrorCode(r), "bad_xml");
    EXPECT_THAT(r.report.error->message, HasSubstr("line 1"));
}

TEST_F(XlsxParserTest, RefusesXmlNestedBeyondTheDepthLimit) {
    std::string sheet = "<worksheet>";
    for (int i = 0; i < 20; ++i) sheet += "<x>";
    for (int i = 0; i < 20; ++i) sheet += "</x>";
    sheet += "</worksheet>";
    ParseOptions options;
    options.limits.max_depth = 10;
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx(sheet)), options);
    EXPECT_EQ(ErrorCode(r), "xml_too_deep");
    EXPECT_THAT(r.report.error->message, HasSubstr("10 levels"));
}

TEST_F(XlsxParserTest, RefusesBadCellReference) {
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx(
        R"(<worksheet><sheetData><row r="1"><c r="1A" t="inlineStr"><is><t>x</t></is></c></row></sheetData>)"
        R"(</worksheet>)")));
    EXPECT_EQ(ErrorCode(r), "bad_cell_reference");
    EXPECT_THAT(r.report.error->message, HasSubstr("\"1A\""));
    EXPECT_EQ(r.report.error->line, 1);
}

TEST_F(XlsxParserTest, RefusesRowNumberOutsideExcelsRange) {
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx(
        R"(<worksheet><sheetData><row r="99999999999999999999"><c><v>1</v></c></row></sheetData></worksheet>)")));
    EXPECT_EQ(ErrorCode(r), "bad_cell_reference");
}

TEST_F(XlsxParserTest, RefusesSharedStringIndexOutOfRange) {
    const ParseOutcome r =
        Parse(WriteZip(MinimalXlsx(R"(<worksheet><sheetData><row r="4"><c r="C4" t="s"><v>99</v></c></row>)"
                                   R"(</sheetData></worksheet>)")));
    EXPECT_EQ(ErrorCode(r), "bad_shared_string");
    EXPECT_EQ(r.report.error->column, "Blad1!C4");
    EXPECT_EQ(r.report.error->line, 4);
}

TEST_F(XlsxParserTest, RefusesCellBeyondTheFieldLimit) {
    ParseOptions options;
    options.limits.max_field_bytes = 8;  // the headers fit; D2's stored "689.8099999999999" does not
    const ParseOutcome r = Parse(ExcelFixture("basic_inline.xlsx"), options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "field_too_long");
    EXPECT_EQ(r.report.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(r.report.error->column, "Huvudbok!D2");
    EXPECT_EQ(r.report.error->line, 2);
}

TEST_F(XlsxParserTest, RefusesRowBeyondTheRecordLimit) {
    const ParseOutcome r = Parse(ExcelFixture("basic_inline.xlsx"), {.max_record_bytes = 12});
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "row_too_large");  // "id" + "date" + "account" is 13 bytes
    EXPECT_EQ(r.report.error->line, 1);
}

TEST_F(XlsxParserTest, RefusesMoreRowsThanTheLimit) {
    ParseOptions options;
    options.limits.max_rows = 2;
    const ParseOutcome r = Parse(ExcelFixture("basic_inline.xlsx"), options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "too_many_rows");
    EXPECT_EQ(r.report.error->kind, ErrorKind::kTooLarge);
}

TEST_F(XlsxParserTest, RefusesSharedStringsBeyondTheirCap) {
    const ParseOptions options{.file_name = "shared_strings.xlsx"};
    auto opened = detail::XlsxWorkbook::Open(ExcelFixture("shared_strings.xlsx"), options, 20);
    ASSERT_FALSE(opened);  // "Datum", "Konto", "Belopp", "Text" and "Försäljning" are 31 bytes
    EXPECT_EQ(opened.error().code, "shared_strings_too_large");
    EXPECT_EQ(opened.error().kind, ErrorKind::kTooLarge);
}

TEST_F(XlsxParserTest, NoHeaderInTheFirstFiftyRows) {
    std::string sheet = "<worksheet><sheetData>";
    for (int r = 1; r <= 60; ++r) {
        sheet += fmt::format(R"(<row r="{0}"><c r="A{0}" t="inlineStr"><is><t>note</t></is></c>)"
                             R"(<c r="B{0}" t="inlineStr"><is><t>more</t></is></c></row>)",
                             r);
    }
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx(sheet + "</sheetData></worksheet>")));
    EXPECT_EQ(ErrorCode(r), "missing_column");
    EXPECT_THAT(r.report.error->message, HasSubstr("no header row among its first 50 rows"));
    EXPECT_EQ(r.report.error->line, 1);
}

TEST_F(XlsxParserTest, WorkbookWithOnlyEmptySheetsIsAnError) {
    const ParseOutcome r = Parse(WriteZip(MinimalXlsx("<worksheet><sheetData/></worksheet>")));
    EXPECT_EQ(ErrorCode(r), "empty_workbook");
    EXPECT_THAT(r.report.error->message, HasSubstr("\"Blad1\""));
}

}  // namespace
}  // namespace granska::ingest
