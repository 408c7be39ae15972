// The byte level of SIE: record splitting, amounts, quantities, dates, the #KSUMMA CRC and CP437 decoding.

#include "ingest/sie/detail/sie_lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace granska::ingest::detail {
namespace {

std::vector<std::string> Raw(const SieRecord& record) {
    std::vector<std::string> out;
    for (const SieField& field : record.fields) out.emplace_back(field.raw);
    return out;
}

TEST(SieLexerTest, SplitsQuotedPlainAndListFieldsOnSpacesAndTabs) {
    SieRecord record;
    SplitSieRecord("#TRANS\t3010  {1 \"100\"\t6 \"P 1\"}\t-99.50 20240201 \"S\u00e5lt idag\" 2 \"\"", record);
    EXPECT_EQ(record.label, "#TRANS");
    EXPECT_EQ(Raw(record), (std::vector<std::string>{"3010", "1 \"100\"\t6 \"P 1\"", "-99.50", "20240201",
                                                     "S\u00e5lt idag", "2", ""}));
    EXPECT_EQ(record.fields[0].kind, SieFieldKind::kPlain);
    EXPECT_EQ(record.fields[1].kind, SieFieldKind::kList);
    EXPECT_EQ(record.fields[4].kind, SieFieldKind::kQuoted);
    EXPECT_EQ(record.fields[6].kind, SieFieldKind::kQuoted);
    EXPECT_FALSE(record.unterminated_quote);
    EXPECT_FALSE(record.unterminated_list);
}

TEST(SieLexerTest, KeepsEscapedQuotesInsideAFieldAndUnescapesThemOnRequest) {
    SieRecord record;
    SplitSieRecord(R"(#KONTO 1915 "Kassa \"special\"" tail)", record);
    ASSERT_EQ(record.fields.size(), 3u);
    EXPECT_EQ(record.fields[1].raw, R"(Kassa \"special\")");
    EXPECT_TRUE(record.fields[1].escaped);
    std::string text;
    AppendUnescaped(text, record.fields[1]);
    EXPECT_EQ(text, "Kassa \"special\"");
    EXPECT_EQ(record.fields[2].raw, "tail");
}

TEST(SieLexerTest, AClosingBraceInsideAQuotedObjectDoesNotEndTheList) {
    SieRecord record;
    SplitSieRecord(R"(#TRANS 1910 {7 "a}b"} 5)", record);
    ASSERT_EQ(record.fields.size(), 3u);
    EXPECT_EQ(record.fields[1].raw, R"(7 "a}b")");
    SieFields tokens;
    SplitSieList(record.fields[1].raw, tokens);
    ASSERT_EQ(tokens.size(), 2u);
    EXPECT_EQ(tokens[0].raw, "7");
    EXPECT_EQ(tokens[1].raw, "a}b");
}

TEST(SieLexerTest, FlagsAnUnterminatedQuoteAndList) {
    SieRecord record;
    SplitSieRecord(R"(#TRANS 1910 {} 1.00 20240101 "no end)", record);
    EXPECT_TRUE(record.unterminated_quote);
    EXPECT_EQ(record.fields[record.fields.size() - 1].raw, "no end");
    SplitSieRecord(R"(#TRANS 1910 {1 "2" 3.00)", record);
    EXPECT_TRUE(record.unterminated_list);
    EXPECT_FALSE(record.unterminated_quote);
    EXPECT_EQ(record.fields.size(), 2u);
}

TEST(SieLexerTest, ParsesSieAmountsExactly) {
    EXPECT_EQ(ParseSieAmount("-1234.50")->minor, -123450);
    EXPECT_EQ(ParseSieAmount("17240")->minor, 1724000);
    EXPECT_EQ(ParseSieAmount("0.5")->minor, 50);
    EXPECT_EQ(ParseSieAmount(".05")->minor, 5);
    EXPECT_EQ(ParseSieAmount("+7")->minor, 700);
    EXPECT_EQ(ParseSieAmount("12.500")->minor, 1250);
    EXPECT_EQ(ParseSieAmount("9999999999999.99")->minor, Money::kMaxMinor);
    EXPECT_EQ(ParseSieAmount("-0009999999999999")->minor, -999999999999900);
}

TEST(SieLexerTest, RejectsAmountsSieDoesNotAllow) {
    for (const char* bad : {"", "-", ".", "12,50", "1 000", "12.505", "1e3", "(12)", "12-", "10000000000000", "0x10"}) {
        EXPECT_FALSE(ParseSieAmount(bad).has_value()) << bad;
    }
}

TEST(SieLexerTest, NormalizesQuantitiesToJsonNumbers) {
    EXPECT_EQ(NormalizeSieQuantity("3.5"), "3.5");
    EXPECT_EQ(NormalizeSieQuantity("-007"), "-7");
    EXPECT_EQ(NormalizeSieQuantity(".25"), "0.25");
    EXPECT_EQ(NormalizeSieQuantity("+2."), "2");
    EXPECT_EQ(NormalizeSieQuantity("0.125"), "0.125");
    EXPECT_FALSE(NormalizeSieQuantity("3,5").has_value());
    EXPECT_FALSE(NormalizeSieQuantity("st").has_value());
}

TEST(SieLexerTest, ParsesYyyymmddDatesOnly) {
    EXPECT_EQ(ParseSieDate("20240229")->ToString(), "2024-02-29");
    EXPECT_FALSE(ParseSieDate("20230229").has_value());
    EXPECT_FALSE(ParseSieDate("2024-01-05").has_value());
    EXPECT_FALSE(ParseSieDate("20241345").has_value());
    EXPECT_FALSE(ParseSieDate("18991231").has_value());
    EXPECT_FALSE(ParseSieDate("2024010").has_value());
}

TEST(SieLexerTest, CrcIsTheStandardCrc32) {
    SieCrc32 crc;
    crc.Add("1234");
    crc.Add("56789");
    EXPECT_EQ(crc.Value(), 3421780262u);  // the CRC-32 check value of "123456789"
}

TEST(SieLexerTest, CrcCoversLabelAndFieldContentsOnly) {
    // The specification's example: only `#KONTO1915Kassa "special"` is summed.
    SieRecord record;
    SplitSieRecord(R"(#KONTO   1915	"Kassa \"special\"")", record);
    SieCrc32 crc;
    crc.AddRecord(record);
    EXPECT_EQ(crc.Value(), 1921122205u);

    // Object lists contribute their contents without braces, quotes or blanks.
    SplitSieRecord("#TRANS 3010 { 1\t\"0123\" } -99.50", record);
    SieCrc32 list_crc;
    list_crc.AddRecord(record);
    EXPECT_EQ(list_crc.Value(), 3325833904u);  // CRC-32 of "#TRANS301010123-99.50"
}

TEST(SieLexerTest, DecodesCp437SwedishLettersToUtf8) {
    auto decoder = Cp437Decoder::Make();
    ASSERT_TRUE(decoder.has_value()) << decoder.error().message;
    std::string out;
    decoder->Append(out, "\x86\x84\x94 \x8F\x8E\x99 \x82 ok");
    EXPECT_EQ(out, "\u00e5\u00e4\u00f6 \u00c5\u00c4\u00d6 \u00e9 ok");
    out.clear();
    decoder->Append(out, "\xB3\xC4\xE1");  // box drawing and sharp s
    EXPECT_EQ(out, "\u2502\u2500\u00df");
}

}  // namespace
}  // namespace granska::ingest::detail
