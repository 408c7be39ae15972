// Generic XML through the parser (element detection, configured paths, attributes, nested children, encodings)
// and every error the XML reading has, with its exact code and location.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "ingest/xml/detail/element_tree.h"
#include "ingest/xml/xml_test_support.h"

namespace granska::ingest {
namespace {

using testing::ParseXml;
using testing::ParseXmlText;
using testing::XmlFixture;

Date Ymd(int year, int month, int day) { return *Date::FromYmd(year, month, day); }

ParseOptions WithMapping(std::map<std::string, std::string> mapping, std::string element = {}) {
    ParseOptions options;
    options.mapping.field_to_header = std::move(mapping);
    options.xml_element = std::move(element);
    return options;
}

TEST(XmlGenericTest, DetectsTheRepeatedElementAndNamesNestedFieldsAndAttributes) {
    const auto path = XmlFixture("generic_auto_detect.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path);
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.dialect.at("mode"), "generic");
    EXPECT_EQ(parsed.report.dialect.at("element"), "Export/Rows/Row");
    EXPECT_EQ(parsed.report.headers, (std::vector<std::string>{"@id", "Datum", "Belopp", "Belopp.@currency", "Text",
                                                               "Party.Name", "Party.Org", "Konto", "Tag"}));
    EXPECT_EQ(parsed.report.mapping.at("date"), "Datum");
    EXPECT_EQ(parsed.report.mapping.at("amount"), "Belopp");
    EXPECT_EQ(parsed.report.mapping.at("account"), "Konto");
    EXPECT_EQ(parsed.report.mapping.at("id"), "@id");  // attributes map by the same names as elements
    ASSERT_EQ(parsed.rows.size(), 3u);

    EXPECT_EQ(parsed.rows[0].row_number, 1);
    EXPECT_EQ(parsed.rows[0].source_line, 6);
    EXPECT_EQ(parsed.rows[0].date, Ymd(2024, 7, 1));
    EXPECT_EQ(parsed.rows[0].amount.minor, 10050);
    EXPECT_EQ(parsed.rows[0].text, "Kaffe");
    EXPECT_EQ(parsed.rows[0].account, "");
    EXPECT_EQ(parsed.rows[0].external_id, "T1");
    EXPECT_EQ(parsed.rows[0].raw_data,
              R"({"Belopp.@currency":"SEK","Party.Name":"Café Ett","Party.Org":"556677-8899",)"
              R"("Tag":null})");

    EXPECT_EQ(parsed.rows[1].source_line, 15);
    EXPECT_EQ(parsed.rows[1].amount.minor, -250000);
    EXPECT_EQ(parsed.rows[1].account, "5010");
    EXPECT_EQ(parsed.rows[1].raw_data,
              R"({"Belopp.@currency":"SEK","Party.Name":null,"Party.Org":null,"Tag":null})");

    EXPECT_EQ(parsed.rows[2].source_line, 21);
    EXPECT_EQ(parsed.rows[2].date, Ymd(2024, 7, 2));
    EXPECT_EQ(parsed.rows[2].amount.minor, 1200);
    EXPECT_EQ(parsed.rows[2].text, "Parkering");
    // A field that repeats within a row is joined with a space.
    EXPECT_EQ(parsed.rows[2].raw_data,
              R"({"Belopp.@currency":"EUR","Party.Name":"Parkera AB","Party.Org":null,)"
              R"("Tag":"resa bil"})");

    const auto details = nlohmann::json::parse(parsed.report.details);
    EXPECT_EQ(details["mode"], "generic");
    EXPECT_EQ(details["element"], "Export/Rows/Row");
    EXPECT_EQ(details["element_count"], 3);
}

TEST(XmlGenericTest, AttributesAndNestedFieldsCanBeMappedByName) {
    const auto path = XmlFixture("generic_auto_detect.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed =
        ParseXml(*path, WithMapping({{"id", "@id"}, {"currency", "Belopp.@currency"}, {"counterparty", "Party.Name"}}));
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    ASSERT_EQ(parsed.rows.size(), 3u);
    EXPECT_EQ(parsed.rows[0].external_id, "T1");
    EXPECT_EQ(parsed.rows[0].currency, "SEK");
    EXPECT_EQ(parsed.rows[0].counterparty, "Café Ett");
    EXPECT_EQ(parsed.rows[1].counterparty, "");
    EXPECT_EQ(parsed.rows[2].external_id, "T3");
    EXPECT_EQ(parsed.rows[2].currency, "EUR");
    EXPECT_EQ(parsed.rows[2].raw_data, R"({"Party.Org":null,"Tag":"resa bil"})");
}

TEST(XmlGenericTest, ConfiguredPathPicksOneOfTwoRepeatedElements) {
    const auto path = XmlFixture("generic_invoices_and_payments.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(
        *path, WithMapping({{"date", "@date"}, {"amount", "@amount"}, {"id", "@ref"}, {"counterparty", "Payer.Name"}},
                           "Export/Payments/Payment"));
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.dialect.at("element"), "Export/Payments/Payment");
    EXPECT_EQ(parsed.report.headers, (std::vector<std::string>{"@date", "@amount", "@ref", "Payer.Name"}));
    ASSERT_EQ(parsed.rows.size(), 2u);
    EXPECT_EQ(parsed.rows[0].source_line, 23);
    EXPECT_EQ(parsed.rows[0].external_id, "P-1");
    EXPECT_EQ(parsed.rows[0].date, Ymd(2024, 8, 5));
    EXPECT_EQ(parsed.rows[0].amount.minor, 100000);
    EXPECT_EQ(parsed.rows[0].counterparty, "Kund Ett AB");
    EXPECT_EQ(parsed.rows[0].raw_data, "{}");
    EXPECT_EQ(parsed.rows[1].source_line, 28);
    EXPECT_EQ(parsed.rows[1].external_id, "P-2");
    EXPECT_EQ(parsed.rows[1].date, Ymd(2024, 8, 6));
    EXPECT_EQ(parsed.rows[1].amount.minor, 25050);
    EXPECT_EQ(parsed.rows[1].counterparty, "Kund Två AB");
}

TEST(XmlGenericTest, ConfiguredPathMayBeTheTailOfThePath) {
    const auto path = XmlFixture("generic_invoices_and_payments.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path, WithMapping({}, "Invoice"));
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.dialect.at("element"), "Export/Invoices/Invoice");
    ASSERT_EQ(parsed.rows.size(), 3u);
    EXPECT_EQ(parsed.rows[2].date, Ymd(2024, 8, 3));
    EXPECT_EQ(parsed.rows[2].amount.minor, 9990);
    EXPECT_EQ(parsed.rows[2].raw_data, R"({"No":"3"})");
}

TEST(XmlGenericTest, TwoElementsRepeatingAlikeAreAmbiguous) {
    const auto path = XmlFixture("generic_invoices_and_payments.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "ambiguous_xml_element");
    EXPECT_NE(parsed.report.error->message.find("Export/Invoices/Invoice (3 times), Export/Payments/Payment (2 times)"),
              std::string::npos)
        << parsed.report.error->message;
    EXPECT_NE(parsed.report.error->message.find("XML element option"), std::string::npos);
    EXPECT_TRUE(parsed.rows.empty());
}

TEST(XmlGenericTest, ClearlyMoreFrequentElementWinsOverARareOne) {
    const auto parsed = ParseXmlText(
        "<E><Meta><A>1</A></Meta><Meta><A>2</A></Meta>"
        "<R><date>2024-01-01</date><amount>1</amount></R><R><date>2024-01-02</date><amount>2</amount></R>"
        "<R><date>2024-01-03</date><amount>3</amount></R><R><date>2024-01-04</date><amount>4</amount></R>"
        "<R><date>2024-01-05</date><amount>5</amount></R></E>");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.dialect.at("element"), "E/R");
    EXPECT_EQ(parsed.rows.size(), 5u);
}

TEST(XmlGenericTest, ConfiguredPathThatIsNotInTheFileListsTheCandidates) {
    const auto path = XmlFixture("generic_invoices_and_payments.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path, WithMapping({}, "Export/Refunds/Refund"));
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "xml_element_not_found");
    EXPECT_NE(parsed.report.error->message.find("'Export/Refunds/Refund'"), std::string::npos);
    EXPECT_NE(parsed.report.error->message.find("Export/Invoices/Invoice (3 times)"), std::string::npos)
        << parsed.report.error->message;
}

TEST(XmlGenericTest, ConfiguredTailMatchingTwoPathsIsAmbiguous) {
    const auto parsed =
        ParseXmlText("<R><A><Row><d>1</d></Row></A><B><Row><d>2</d></Row></B></R>", WithMapping({}, "Row"));
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "ambiguous_xml_element");
    EXPECT_NE(parsed.report.error->message.find("R/A/Row (1 times), R/B/Row (1 times)"), std::string::npos)
        << parsed.report.error->message;
}

TEST(XmlGenericTest, NothingThatRepeatsIsAnError) {
    const auto parsed = ParseXmlText("<Export><Row><date>2024-01-01</date><amount>1</amount></Row></Export>");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "no_repeated_element");
    // Naming the element reads the single row.
    const auto named = ParseXmlText("<Export><Row><date>2024-01-01</date><amount>1</amount></Row></Export>",
                                    WithMapping({}, "Export/Row"));
    ASSERT_TRUE(named.report.ok()) << named.report.error->ToString();
    EXPECT_EQ(named.rows.size(), 1u);
}

TEST(XmlGenericTest, MoreRowsThanMaxRowsIsTooLargeBeforeAnyRowIsSent) {
    const auto path = XmlFixture("generic_auto_detect.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    ParseOptions options;
    options.limits.max_rows = 2;
    const auto parsed = ParseXml(*path, options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "too_many_rows");
    EXPECT_EQ(parsed.report.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(parsed.report.error->line, 6);
    EXPECT_TRUE(parsed.rows.empty());
}

TEST(XmlGenericTest, TooManyDistinctElementPathsIsAnError) {
    std::string document = "<r>";
    for (size_t i = 0; i <= detail::ElementTree::kMaxNodes; ++i) document += fmt::format("<e{}/>", i);
    document += "</r>";
    const auto parsed = ParseXmlText(document);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "too_many_element_paths");
    EXPECT_EQ(parsed.report.error->line, 1);
}

TEST(XmlGenericTest, FieldNamesBeyondTheHeaderLimitAreRefused) {
    // Ten nested 1000-byte names above 2000 leaves: every leaf's field name is about 10 kB, 20 MB together.
    std::string open;
    std::string close;
    for (int level = 0; level < 10; ++level) {
        const std::string name = fmt::format("L{}{}", level, std::string(998, 'n'));
        open += "<" + name + ">";
        close.insert(0, "</" + name + ">");
    }
    std::string leaves;
    for (int i = 0; i < 2000; ++i) leaves += fmt::format("<f{}/>", i);
    const auto parsed = ParseXmlText("<E>\n<R>" + open + leaves + close + "</R><R/></E>");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "too_many_fields");
    EXPECT_EQ(parsed.report.error->line, 2);
    EXPECT_NE(parsed.report.error->message.find("more than 16 MiB"), std::string::npos) << parsed.report.error->message;
}

TEST(XmlGenericTest, RowWithoutDateOrAmountFieldsFailsInTheRowMapper) {
    const auto parsed = ParseXmlText("<E><R><a>1</a></R><R><a>2</a></R></E>");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->line, 1);
    EXPECT_TRUE(parsed.rows.empty());
}

TEST(XmlGenericTest, Windows1252TextBecomesUtf8) {
    const auto parsed = ParseXmlText(
        "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<E><R><date>2024-01-01</date><amount>1</amount>"
        "<text>\x80 5 r\xE4ksm\xF6rg\xE5s</text></R><R><date>2024-01-02</date><amount>2</amount><text>x</text></R>"
        "</E>");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.encoding, "windows-1252");
    ASSERT_EQ(parsed.rows.size(), 2u);
    EXPECT_EQ(parsed.rows[0].text, "€ 5 räksmörgås");
}

TEST(XmlGenericTest, Utf16WithByteOrderMarkIsRead) {
    const std::string utf8 =
        "<E><R><date>2024-01-01</date><amount>1.5</amount><text>å</text></R>"
        "<R><date>2024-01-02</date><amount>2</amount><text>b</text></R></E>";
    std::string utf16 = "\xFF\xFE";
    for (size_t i = 0; i < utf8.size(); ++i) {
        if (utf8.compare(i, 2, "å") == 0) {
            utf16 += std::string("\xE5\x00", 2);
            ++i;
        } else {
            utf16 += utf8[i];
            utf16 += '\0';
        }
    }
    const auto parsed = ParseXmlText(utf16);
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.encoding, "utf-16le");
    ASSERT_EQ(parsed.rows.size(), 2u);
    EXPECT_EQ(parsed.rows[0].text, "å");
    EXPECT_EQ(parsed.rows[0].amount.minor, 150);
}

TEST(XmlGenericTest, GivenEncodingOverridesTheDeclaration) {
    ParseOptions options;
    options.dialect.encoding = "latin-1";
    const auto parsed = ParseXmlText(
        "<E><R><date>2024-01-01</date><amount>1</amount><text>g\xE5s</text></R>"
        "<R><date>2024-01-02</date><amount>2</amount><text>x</text></R></E>",
        options);
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.encoding, "latin-1");
    EXPECT_EQ(parsed.rows[0].text, "gås");
}

TEST(XmlGenericTest, RepeatedFieldJoinedBeyondMaxFieldBytesIsRefused) {
    ParseOptions options;
    options.limits.max_field_bytes = 10;
    const auto parsed = ParseXmlText(
        "<E><R><date>2024-01-01</date><amount>1</amount></R>\n"
        "<R><date>2024-01-02</date><amount>2</amount><Tag>12345</Tag><Tag>123456</Tag></R></E>",
        options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "field_too_long");
    EXPECT_EQ(parsed.report.error->line, 2);
    EXPECT_EQ(parsed.report.error->column, "Tag");
}

TEST(XmlGenericTest, ProgressReachesTheFileSizeOverBothPasses) {
    const auto path = XmlFixture("generic_auto_detect.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path);
    ASSERT_TRUE(parsed.report.ok());
    EXPECT_EQ(parsed.last_progress, std::filesystem::file_size(*path));
}

// Errors of the XML reading itself, the same in both modes.

TEST(XmlErrorTest, DoctypeIsRefused) {
    const auto parsed = ParseXmlText("<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ELEMENT r ANY>]>\n<r/>");
    ASSERT_FALSE(parsed.report.ok());
    const Error& error = *parsed.report.error;
    EXPECT_EQ(error.code, "dtd_not_allowed");
    EXPECT_EQ(error.kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(error.file, "upload.xml");
    EXPECT_EQ(error.line, 2);
    EXPECT_NE(error.message.find("DTDs are refused for safety"), std::string::npos) << error.message;
}

TEST(XmlErrorTest, EntityExpansionAttackIsRefusedBeforeAnyExpansion) {
    std::string document = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
    document += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
    for (int level = 2; level <= 9; ++level) {
        document += fmt::format("<!ENTITY lol{} \"", level);
        for (int i = 0; i < 10; ++i) document += fmt::format("&lol{};", level - 1);
        document += "\">\n";
    }
    document += "]>\n<lolz>&lol9;</lolz>\n";
    const auto parsed = ParseXmlText(document);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "dtd_not_allowed");
    EXPECT_EQ(parsed.report.error->line, 2);
}

TEST(XmlErrorTest, ExternalEntityIsRefused) {
    const auto parsed = ParseXmlText("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "dtd_not_allowed");
}

TEST(XmlErrorTest, EntityReferenceWithoutDeclarationIsRefused) {
    const auto parsed = ParseXmlText("<r>\n<a>&nbsp;</a></r>");
    ASSERT_FALSE(parsed.report.ok());
    const Error& error = *parsed.report.error;
    EXPECT_EQ(error.code, "entity_not_allowed");
    EXPECT_EQ(error.line, 2);
    EXPECT_NE(error.message.find("line 2, column 4"), std::string::npos) << error.message;
}

TEST(XmlErrorTest, NestingDeeperThanTheLimitIsRefused) {
    ParseOptions options;
    options.limits.max_depth = 3;
    const auto parsed = ParseXmlText("<a>\n<b>\n<c>\n<d/></c></b></a>", options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "too_deep");
    EXPECT_EQ(parsed.report.error->line, 4);
    EXPECT_NE(parsed.report.error->message.find("more than 3 levels"), std::string::npos);
    const auto shallow = ParseXmlText("<a><b><c/><c/></b></a>", options);  // exactly three levels
    EXPECT_TRUE(!shallow.report.error || shallow.report.error->code != "too_deep");
}

TEST(XmlErrorTest, MalformedXmlGivesExpatsMessageLineAndColumn) {
    const auto parsed = ParseXmlText("<r>\n  <a>1</b>\n</r>");
    ASSERT_FALSE(parsed.report.ok());
    const Error& error = *parsed.report.error;
    EXPECT_EQ(error.code, "malformed_xml");
    EXPECT_EQ(error.line, 2);
    EXPECT_NE(error.message.find("mismatched tag at line 2, column 9"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("Check that the file is complete"), std::string::npos);
}

TEST(XmlErrorTest, TruncatedFileIsMalformed) {
    const auto parsed = ParseXmlText("<r>\n<a>1</a>\n");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "malformed_xml");
    EXPECT_EQ(parsed.report.error->line, 3);
    EXPECT_NE(parsed.report.error->message.find("no element found"), std::string::npos) << parsed.report.error->message;
}

TEST(XmlErrorTest, TextLongerThanMaxFieldBytesIsRefused) {
    ParseOptions options;
    options.limits.max_field_bytes = 10;
    options.chunk_bytes = 4;
    const auto parsed = ParseXmlText("<r>\n<a>0123456789</a>\n<a>0123456789X</a></r>", options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "field_too_long");
    EXPECT_EQ(parsed.report.error->line, 3);
    EXPECT_NE(parsed.report.error->message.find("limit of 10 bytes"), std::string::npos);
}

TEST(XmlErrorTest, AttributeLongerThanMaxFieldBytesIsRefused) {
    ParseOptions options;
    options.limits.max_field_bytes = 10;
    const auto parsed = ParseXmlText("<r>\n<a note=\"0123456789X\"/></r>", options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "field_too_long");
    EXPECT_EQ(parsed.report.error->line, 2);
    EXPECT_EQ(parsed.report.error->column, "@note");
    EXPECT_NE(parsed.report.error->message.find("'note' of <a>"), std::string::npos);
}

TEST(XmlErrorTest, HugeMarkupTokenIsRefusedBeforeItIsBufferedWhole) {
    ParseOptions options;
    options.limits.max_field_bytes = 100;
    options.chunk_bytes = 4096;
    const std::string comment(size_t{4} << 20, 'x');
    const auto parsed = ParseXmlText("<r>\n<!--" + comment + "--></r>", options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "field_too_long");
    EXPECT_NE(parsed.report.error->message.find("tag, attribute value or comment"), std::string::npos);
}

TEST(XmlErrorTest, LongWhitespaceOutsideTheRootIsNotAToken) {
    ParseOptions options;
    options.limits.max_field_bytes = 100;
    options.chunk_bytes = 4096;
    const std::string blank(size_t{1} << 20, '\n');
    const auto parsed = ParseXmlText(
        blank +
            "<E><R><date>2024-01-01</date><amount>1</amount></R><R><date>2024-01-02</date><amount>2</amount></R></E>" +
            blank,
        options);
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.rows.size(), 2u);
}

TEST(XmlErrorTest, OverlongElementNameIsRefused) {
    const std::string name(1025, 'n');
    const auto parsed = ParseXmlText("<r>\n<" + name + "/></r>");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "name_too_long");
    EXPECT_EQ(parsed.report.error->line, 2);
}

TEST(XmlErrorTest, UnknownEncodingIsNamed) {
    const auto parsed = ParseXmlText("<?xml version=\"1.0\" encoding=\"EBCDIC-FI\"?><r/>");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "unsupported_encoding");
    EXPECT_NE(parsed.report.error->message.find("'ebcdic-fi'"), std::string::npos) << parsed.report.error->message;
}

TEST(XmlErrorTest, UnsupportedGivenEncodingIsABadOption) {
    ParseOptions options;
    options.dialect.encoding = "ebcdic";
    const auto parsed = ParseXmlText("<r/>", options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "bad_option");
    EXPECT_EQ(parsed.report.error->kind, ErrorKind::kBadRequest);
    EXPECT_NE(parsed.report.error->message.find("'ebcdic'"), std::string::npos);
}

TEST(XmlErrorTest, MissingFileIsUnreadable) {
    const auto parsed = ParseXml("/nonexistent/granska/statement.xml");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "unreadable_file");
}

TEST(XmlErrorTest, ZeroChunkSizeIsABadOption) {
    ParseOptions options;
    options.chunk_bytes = 0;
    const auto parsed = ParseXmlText("<r/>", options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "bad_option");
    EXPECT_EQ(parsed.report.error->kind, ErrorKind::kBadRequest);
}

}  // namespace
}  // namespace granska::ingest
