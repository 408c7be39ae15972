#include "ingest/excel/detail/excel_cells.h"

#include <gtest/gtest.h>

#include <string>

namespace granska::ingest::detail {
namespace {

std::string Serial(double serial, bool date1904 = false, CellType expected = CellType::kDate) {
    char buffer[kCellTextBufferSize];
    const SerialDate date = SerialToIso(serial, date1904, buffer);
    EXPECT_EQ(date.type, expected) << serial;
    return std::string(date.text);
}

std::string Number(std::string_view text) {
    char buffer[kCellTextBufferSize];
    const std::optional<std::string_view> number = NormalizeNumberText(text, buffer);
    return number ? std::string(*number) : "<not a number>";
}

TEST(ExcelSerialDateTest, Converts1900SystemAroundLotusLeapDay) {
    EXPECT_EQ(Serial(1), "1900-01-01");
    EXPECT_EQ(Serial(59), "1900-02-28");
    EXPECT_EQ(Serial(60, false, CellType::kText), "1900-02-29");  // never was; RowMapper rejects it
    EXPECT_EQ(Serial(61), "1900-03-01");
    EXPECT_EQ(Serial(45382), "2024-03-31");
    EXPECT_EQ(Serial(45351), "2024-02-29");
    EXPECT_EQ(Serial(2958465), "9999-12-31");
}

TEST(ExcelSerialDateTest, Converts1904System) {
    EXPECT_EQ(Serial(0, true), "1904-01-01");
    EXPECT_EQ(Serial(43920, true), "2024-03-31");  // 1462 days less than in the 1900 system
    EXPECT_EQ(Serial(1.25, true), "1904-01-02T06:00:00");
}

TEST(ExcelSerialDateTest, WritesTimeOfDayRoundedToTheSecond) {
    EXPECT_EQ(Serial(45384.54513888889), "2024-04-02T13:05:00");
    EXPECT_EQ(Serial(45382.999999999), "2024-04-01");  // 23:59:59.9999 rounds to the next midnight
    EXPECT_EQ(Serial(45382.5 + 1.0 / 86400), "2024-03-31T12:00:01");
}

TEST(ExcelSerialDateTest, RefusesSerialsOutsideExcelsCalendar) {
    EXPECT_EQ(Serial(0, false, CellType::kEmpty), "");
    EXPECT_EQ(Serial(-1, false, CellType::kEmpty), "");
    EXPECT_EQ(Serial(2958466, false, CellType::kEmpty), "");  // 10000-01-01
    EXPECT_EQ(Serial(-0.5, true, CellType::kEmpty), "");
    EXPECT_EQ(Serial(1e300, false, CellType::kEmpty), "");
}

TEST(ExcelNumberTest, KeepsStoredTextUpToFifteenDigits) {
    EXPECT_EQ(Number("689.81"), "689.81");
    EXPECT_EQ(Number(" -1E-3 "), "-1E-3");
    EXPECT_EQ(Number("123456789012345"), "123456789012345");
    EXPECT_EQ(Number("0.000123"), "0.000123");
}

TEST(ExcelNumberTest, RoundsFloatingPointNoiseToFifteenDigits) {
    EXPECT_EQ(Number("689.8099999999999"), "689.81");
    EXPECT_EQ(Number("0.30000000000000004"), "0.3");
    EXPECT_EQ(Number("-172.45000000000002"), "-172.45");
}

TEST(ExcelNumberTest, RejectsTextThatIsNoNumber) {
    EXPECT_EQ(Number(""), "<not a number>");
    EXPECT_EQ(Number("12a"), "<not a number>");
    EXPECT_EQ(Number("1e"), "<not a number>");
    EXPECT_EQ(Number("."), "<not a number>");
    EXPECT_EQ(Number("inf"), "<not a number>");
    EXPECT_EQ(Number("1e999"), "<not a number>");
}

TEST(ExcelNumberTest, FormatsDoublesWithExcelsPrecision) {
    char buffer[kCellTextBufferSize];
    EXPECT_EQ(FormatNumber(0.1 + 0.2, buffer), "0.3");
    EXPECT_EQ(FormatNumber(-172.45, buffer), "-172.45");
    EXPECT_EQ(FormatNumber(1930, buffer), "1930");
    EXPECT_EQ(FormatNumber(1e20, buffer), "1e+20");
}

TEST(ExcelFormatTest, RecognisesBuiltinDateFormats) {
    for (const int id : {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47}) EXPECT_TRUE(IsBuiltinDateFormat(id)) << id;
    for (const int id : {0, 1, 2, 4, 10, 13, 23, 44, 48, 49, 164}) EXPECT_FALSE(IsBuiltinDateFormat(id)) << id;
}

TEST(ExcelFormatTest, RecognisesDateCodesOutsideQuotesAndBrackets) {
    EXPECT_TRUE(IsDateFormatCode("yyyy-mm-dd"));
    EXPECT_TRUE(IsDateFormatCode("YYYY-MM-DD HH:MM:SS"));
    EXPECT_TRUE(IsDateFormatCode("d mmm yyyy"));
    EXPECT_TRUE(IsDateFormatCode("[$-41D]hh:mm"));
    EXPECT_FALSE(IsDateFormatCode("0.00"));
    EXPECT_FALSE(IsDateFormatCode("#,##0 \"kr/dag\""));
    EXPECT_FALSE(IsDateFormatCode("[Red]0.00;[Blue]-0.00"));
    EXPECT_FALSE(IsDateFormatCode("0\\d"));  // an escaped literal d
    EXPECT_FALSE(IsDateFormatCode("0_s"));   // padding the width of an s
    EXPECT_FALSE(IsDateFormatCode("General"));
    EXPECT_FALSE(IsDateFormatCode("\"unclosed"));
}

TEST(ExcelCellReferenceTest, ParsesColumnsUpToXfd) {
    EXPECT_EQ(ParseColumn("A1"), 0u);
    EXPECT_EQ(ParseColumn("C7"), 2u);
    EXPECT_EQ(ParseColumn("Z9"), 25u);
    EXPECT_EQ(ParseColumn("AA1"), 26u);
    EXPECT_EQ(ParseColumn("xfd1048576"), 16383u);
    EXPECT_EQ(ParseColumn("XFE1"), std::nullopt);
    EXPECT_EQ(ParseColumn("ABCD1"), std::nullopt);
    EXPECT_EQ(ParseColumn("7"), std::nullopt);
    EXPECT_EQ(ParseColumn(""), std::nullopt);
}

TEST(ExcelCellReferenceTest, NamesCellsAsExcelDoes) {
    EXPECT_EQ(ColumnName(0), "A");
    EXPECT_EQ(ColumnName(25), "Z");
    EXPECT_EQ(ColumnName(26), "AA");
    EXPECT_EQ(ColumnName(16383), "XFD");
    EXPECT_EQ(CellName("Huvudbok", 2, 7), "Huvudbok!C7");
    EXPECT_EQ(CellName("Bokföring", 1, 5), "Bokföring!B5");
    EXPECT_EQ(CellName("Två ord", 0, 1), "'Två ord'!A1");
}

}  // namespace
}  // namespace granska::ingest::detail
