#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ingest/excel/excel_parsers.h"
#include "ingest/excel/excel_test_util.h"

namespace granska::ingest {
namespace {

namespace fs = std::filesystem;
using testing::DescribeAll;
using ::testing::ElementsAre;
using testing::ExcelFixture;
using ::testing::HasSubstr;
using testing::ParseOutcome;

class XlsParserTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ =
            fs::temp_directory_path() /
            fmt::format("granska_xls_{}_{}", ::testing::UnitTest::GetInstance()->current_test_info()->name(), getpid());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path WriteBytes(std::string_view bytes) {
        fs::path path = dir_ / "book.xls";
        std::ofstream(path, std::ios::binary) << bytes;
        return path;
    }

    ParseOutcome Parse(const fs::path& path, ParseOptions options = {}) {
        return testing::ParseWith(*parser_, path, std::move(options));
    }

    fs::path dir_;
    std::unique_ptr<Parser> parser_ = MakeXlsParser();
};

TEST_F(XlsParserTest, ReadsStringsNumbersAndDatesBelowATitle) {
    const ParseOutcome r = Parse(ExcelFixture("basic.xls"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.format, Format::kXls);
    EXPECT_EQ(r.report.encoding, "utf-16le");
    EXPECT_EQ(r.report.dialect.at("sheet"), "Huvudbok");
    EXPECT_EQ(r.report.dialect.at("header_row"), "2");
    EXPECT_EQ(r.report.dialect.at("date_system"), "1900");
    EXPECT_EQ(r.report.details, R"({"sheets":["Huvudbok"]})");
    EXPECT_THAT(r.report.headers, ElementsAre("id", "date", "account", "amount", "text", "approved"));
    // The amount of T3 is the double 0.1 + 0.2 = 0.30000000000000004, read with Excel's 15 digits.
    EXPECT_THAT(DescribeAll(r.rows),
                ElementsAre("1|T1|2024-03-31|-|-1|1930|689.81|Hyra mars||||{\"approved\":1}",
                            "2|T2|2024-04-02|-|47100|2640|-172.45|Ingående moms||||{\"approved\":0}",
                            "3|T3|2024-02-29|-|-1||0.30|Kortköp||||{\"approved\":1}"));
    EXPECT_EQ(r.rows[0].source_line, 3);
    ASSERT_FALSE(r.progress.empty());
    EXPECT_EQ(r.progress.back(), fs::file_size(ExcelFixture("basic.xls")));
}

TEST_F(XlsParserTest, SkipsEmptyFirstSheetAndNamesBadDateCell) {
    const ParseOutcome r = Parse(ExcelFixture("two_sheets_1904.xls"));
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("sheet"), "Data");
    EXPECT_EQ(r.report.dialect.at("date_system"), "1904");
    EXPECT_EQ(r.report.details, R"({"sheets":["Tom","Data","Annat"]})");
    // A4's amount is the text "7.50".
    EXPECT_THAT(DescribeAll(r.rows), ElementsAre("1||2024-08-01|-|-1||5.00|||||{}", "2||2024-08-03|-|-1||7.50|||||{}"));
    ASSERT_EQ(r.report.problems.size(), 1u);
    EXPECT_EQ(r.report.problems[0].code, "bad_date");
    EXPECT_EQ(r.report.problems[0].location, "Data!A3");
    EXPECT_EQ(r.report.problems[0].line, 3);
    EXPECT_THAT(r.report.problems[0].message, HasSubstr("'not a date'"));
}

TEST_F(XlsParserTest, ReadsSheetChosenByName) {
    const ParseOutcome r = Parse(ExcelFixture("two_sheets_1904.xls"), {.sheet = "Annat"});
    ASSERT_TRUE(r.report.ok()) << r.report.error->ToString();
    EXPECT_EQ(r.report.dialect.at("sheet"), "Annat");
    EXPECT_THAT(DescribeAll(r.rows), ElementsAre("1||2023-01-01|-|-1||1.00|||||{}"));
}

TEST_F(XlsParserTest, UnknownSheetListsTheSheets) {
    const ParseOutcome r = Parse(ExcelFixture("two_sheets_1904.xls"), {.sheet = "Resultat"});
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "unknown_sheet");
    EXPECT_THAT(r.report.error->message, HasSubstr("\"Tom\", \"Data\", \"Annat\""));
}

TEST_F(XlsParserTest, ChosenEmptySheetIsAnError) {
    const ParseOutcome r = Parse(ExcelFixture("two_sheets_1904.xls"), {.sheet = "Tom"});
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "empty_sheet");
}

TEST_F(XlsParserTest, RefusesCellBeyondTheFieldLimit) {
    ParseOptions options;
    options.limits.max_field_bytes = 10;  // "Export från bokföringen" in A1 is longer
    const ParseOutcome r = Parse(ExcelFixture("basic.xls"), options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "field_too_long");
    EXPECT_EQ(r.report.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(r.report.error->column, "Huvudbok!A1");
    EXPECT_EQ(r.report.error->line, 1);
}

TEST_F(XlsParserTest, RefusesMoreRowsThanTheLimit) {
    ParseOptions options;
    options.limits.max_rows = 2;
    const ParseOutcome r = Parse(ExcelFixture("basic.xls"), options);
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "too_many_rows");
    EXPECT_EQ(r.report.error->kind, ErrorKind::kTooLarge);
}

TEST_F(XlsParserTest, RefusesBytesThatAreNoWorkbook) {
    const ParseOutcome r = Parse(WriteBytes(std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") + std::string(600, 'x')));
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "bad_xls");
    EXPECT_EQ(r.report.error->file, "book.xls");
    EXPECT_THAT(r.report.error->message, HasSubstr("save it again as .xlsx"));
}

TEST_F(XlsParserTest, SurvivesFileThatBreaksFreexl) {
    // Found by fuzzing: freexl_open overruns a stack buffer in iconv on it (under ASan the reader process dies;
    // without, freexl reports an invalid character). Either way this process goes on and the file is refused.
    const ParseOutcome r = Parse(ExcelFixture("freexl_crash.xls"));
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "bad_xls");
    EXPECT_THAT(r.report.error->message, HasSubstr("save it again as .xlsx"));
    EXPECT_TRUE(r.rows.empty());
}

TEST_F(XlsParserTest, RecognisesPasswordProtectedOfficeFile) {
    // An encrypted xlsx is a compound file with an "EncryptedPackage" stream, which freexl cannot open.
    std::string bytes = std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") + std::string(1000, '\0');
    bytes += std::string("E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0", 32);
    const ParseOutcome r = Parse(WriteBytes(bytes));
    ASSERT_FALSE(r.report.ok());
    EXPECT_EQ(r.report.error->code, "encrypted_file");
    EXPECT_THAT(r.report.error->message, HasSubstr("password"));
}

}  // namespace
}  // namespace granska::ingest
