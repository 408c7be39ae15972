// The SIE parser on small files written for one case each (tests/fixtures/sie/): row semantics, layout
// variations and every error path with its code, line, field and voucher.

#include "ingest/sie/sie_parser.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace granska::ingest {
namespace {

struct Parsed {
    ParseReport report;
    std::vector<Transaction> rows;
    nlohmann::json details;
};

std::filesystem::path FixtureDir() {
    const char* source_dir = std::getenv("GRANSKA_SOURCE_DIR");
    return source_dir == nullptr ? std::filesystem::path() : std::filesystem::path(source_dir) / "tests/fixtures/sie";
}

Parsed ParsePath(const std::filesystem::path& path, const ParseOptions& options) {
    Parsed parsed;
    parsed.report = MakeSieParser()->Parse(path, options,
                                           [&parsed](std::span<Transaction> batch) -> Expected<void> {
                                               for (Transaction& tx : batch) parsed.rows.push_back(std::move(tx));
                                               return {};
                                           },
                                           {});
    parsed.details = nlohmann::json::parse(parsed.report.details);
    return parsed;
}

ParseOptions Strict() {
    ParseOptions options;
    options.file_name = "test.se";
    return options;
}

ParseOptions Lenient() {
    ParseOptions options = Strict();
    options.lenient = true;
    return options;
}

class SieParserTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (FixtureDir().empty()) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    }
    static Parsed Parse(const std::string& fixture, const ParseOptions& options = Strict()) {
        return ParsePath(FixtureDir() / fixture, options);
    }
};

// code, line (0 = none), field, location of each problem, in file order.
std::vector<std::string> Problems(const ParseReport& report) {
    std::vector<std::string> out;
    for (const Problem& problem : report.problems) {
        out.push_back(std::string(SeverityName(problem.severity)) + " " + problem.code + " " +
                      std::to_string(problem.line.value_or(0)) + " " + problem.field + " " + problem.location);
    }
    return out;
}

void ExpectAccounting(const ParseReport& report) {
    EXPECT_EQ(report.rows_accepted + report.rows_rejected, report.rows_read);
}

TEST_F(SieParserTest, LoadsRtransRowsAndSkipsTheirTwinsAndRemovedRows) {
    const Parsed parsed = Parse("rtrans_btrans.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_TRUE(parsed.report.problems.empty()) << Problems(parsed.report).front();
    EXPECT_EQ(parsed.report.rows_read, 8);  // 5 #TRANS (2 of them twins), 2 #RTRANS, 1 #BTRANS
    EXPECT_EQ(parsed.report.rows_accepted, 5);
    EXPECT_EQ(parsed.report.rows_rejected, 3);  // two twins and one #BTRANS
    ASSERT_EQ(parsed.rows.size(), 5u);

    std::vector<std::string> ids;
    for (const Transaction& tx : parsed.rows) ids.push_back(tx.external_id);
    EXPECT_EQ(ids, (std::vector<std::string>{"A-1-1", "A-1-2", "A-1-3", "A-2-1", "A-2-2"}));

    const Transaction& added = parsed.rows[2];  // the #RTRANS on line 17
    EXPECT_EQ(added.source_line, 17);
    EXPECT_EQ(added.account, "6250");
    EXPECT_EQ(added.amount.minor, 80000);
    EXPECT_EQ(added.date.ToString(), "2024-01-15");
    EXPECT_EQ(added.user, "CD");
    EXPECT_EQ(added.text, "Porto");
    ASSERT_TRUE(added.registration_date.has_value());
    EXPECT_EQ(added.registration_date->ToString(), "2024-01-11");
    const auto raw = nlohmann::json::parse(added.raw_data);
    EXPECT_EQ(raw["account_name"], "Porto");
    EXPECT_EQ(raw["added_later"], nlohmann::json({{"sign", "CD"}, {"date", "2024-01-15"}}));

    const Transaction& second = parsed.rows[4];  // #RTRANS with text, quantity and sign, line 23
    EXPECT_EQ(second.source_line, 23);
    EXPECT_EQ(second.text, "Tillagd");
    EXPECT_EQ(second.user, "EF");
    EXPECT_EQ(nlohmann::json::parse(second.raw_data)["quantity"], 2);
    EXPECT_EQ(parsed.rows[3].user, "");  // neither the row nor the voucher has a sign

    EXPECT_EQ(parsed.details["counts"]["trans"], 5);
    EXPECT_EQ(parsed.details["counts"]["rtrans"], 2);
    EXPECT_EQ(parsed.details["counts"]["btrans"], 1);
    EXPECT_EQ(parsed.details["counts"]["vouchers"], 2);
    EXPECT_EQ(parsed.details["removed_rows"],
              nlohmann::json::parse(R"([{"voucher":"A 1","line":16,"account":"6110","amount":"800.00",
                                         "date":"2024-01-15","sign":"CD"}])"));
    ExpectAccounting(parsed.report);
}

TEST_F(SieParserTest, ReadsTabsCrlfQuotesObjectListsAndCp437) {
    const Parsed parsed = Parse("layout_crlf_tabs.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_TRUE(parsed.report.problems.empty()) << Problems(parsed.report).front();
    EXPECT_EQ(parsed.report.encoding, "cp437");
    EXPECT_EQ(parsed.report.dialect.at("line_ending"), "crlf");
    ASSERT_EQ(parsed.rows.size(), 3u);

    const Transaction& first = parsed.rows[0];
    EXPECT_EQ(first.external_id, "B-7-1");
    EXPECT_EQ(first.voucher_series, "B");
    EXPECT_EQ(first.voucher_number, "7");
    EXPECT_EQ(first.date.ToString(), "2024-03-05");  // no transdat: the voucher date
    EXPECT_EQ(first.registration_date->ToString(), "2024-03-06");
    EXPECT_EQ(first.amount.minor, 125000);
    EXPECT_EQ(first.currency, "EUR");
    EXPECT_EQ(first.text, "Faktura \"\u00d6lbryggarna\"");  // the voucher text
    EXPECT_EQ(first.user, "\u00c5\u00c4");                  // the voucher sign
    EXPECT_EQ(nlohmann::json::parse(first.raw_data),
              nlohmann::json::parse(R"({"account_name":"F\u00f6retagskonto","account_type":"T",
                                        "voucher_text":"Faktura \"\u00d6lbryggarna\""})"));

    const Transaction& second = parsed.rows[1];  // empty quoted transdat, text and sign
    EXPECT_EQ(second.date.ToString(), "2024-03-05");
    EXPECT_EQ(second.amount.minor, -100000);
    EXPECT_EQ(second.text, "Faktura \"\u00d6lbryggarna\"");
    EXPECT_EQ(second.user, "\u00c5\u00c4");
    const auto raw = nlohmann::json::parse(second.raw_data);
    EXPECT_EQ(raw["objects"], nlohmann::json::parse(R"([
        {"dimension":"1","dimension_name":"Kostnadsst\u00e4lle","object":"100"},
        {"dimension":"6","dimension_name":"Projekt","object":"P-1"}])"));
    EXPECT_EQ(raw["quantity"], 3.5);

    const Transaction& third = parsed.rows[2];  // "{\t" and " }" around the list, unquoted text
    EXPECT_EQ(third.date.ToString(), "2024-03-07");
    EXPECT_EQ(third.text, "Moms");
    EXPECT_EQ(third.source_line, 21);
    EXPECT_EQ(nlohmann::json::parse(third.raw_data)["account_name"], "Utg\u00e5ende_moms");
    EXPECT_EQ(nlohmann::json::parse(third.raw_data)["objects"][0]["object"], "100");

    EXPECT_EQ(parsed.details["company"], "\u00c5keri \"Norr\" AB");
    EXPECT_EQ(parsed.details["orgnr"], "556000-1234");
    EXPECT_EQ(parsed.details["currency"], "EUR");
    EXPECT_EQ(parsed.details["program"], nlohmann::json({{"name", "Layout test"}, {"version", "2.1"}}));
    EXPECT_EQ(parsed.details["format"], "PC8");
    EXPECT_EQ(parsed.details["fiscal_years"], nlohmann::json::parse(R"([
        {"year":0,"start":"2024-01-01","end":"2024-12-31"},{"year":-1,"start":"2023-01-01","end":"2023-12-31"}])"));
    EXPECT_EQ(parsed.details["ksumma"], "absent");
}

TEST_F(SieParserTest, ChunkBoundariesDoNotChangeTheResult) {
    for (const char* fixture : {"layout_crlf_tabs.se", "rtrans_btrans.se", "many_errors.se", "long_line.se"}) {
        ParseOptions whole = Lenient();
        whole.limits.max_field_bytes = 100;
        ParseOptions tiny = whole;
        tiny.chunk_bytes = 1;
        tiny.batch_size = 1;
        const Parsed a = Parse(fixture, whole);
        const Parsed b = Parse(fixture, tiny);
        EXPECT_EQ(Problems(a.report), Problems(b.report)) << fixture;
        ASSERT_EQ(a.rows.size(), b.rows.size()) << fixture;
        for (size_t i = 0; i < a.rows.size(); ++i) {
            EXPECT_EQ(a.rows[i].external_id, b.rows[i].external_id);
            EXPECT_EQ(a.rows[i].raw_data, b.rows[i].raw_data);
            EXPECT_EQ(a.rows[i].row_number, static_cast<int64_t>(i) + 1);
            EXPECT_EQ(b.rows[i].row_number, static_cast<int64_t>(i) + 1);
        }
        EXPECT_EQ(a.report.details, b.report.details) << fixture;
    }
}

TEST_F(SieParserTest, VerifiesKsumma) {
    const Parsed parsed = Parse("ksumma_verified.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.details["ksumma"], "verified");
    EXPECT_EQ(parsed.details["company"], "Br\u00f6derna \"Kassa\" HB");
    ASSERT_EQ(parsed.rows.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(parsed.rows[0].raw_data)["account_name"], "Kassa \"special\"");
    EXPECT_EQ(parsed.rows[1].text, "S\u00e5lt");
}

TEST_F(SieParserTest, MissingClosingKsummaRejectsEvenLeniently) {
    for (const ParseOptions& options : {Strict(), Lenient()}) {
        const Parsed parsed = Parse("ksumma_missing_end.se", options);
        ASSERT_FALSE(parsed.report.ok());
        EXPECT_EQ(parsed.report.error->code, "ksumma_missing_end");
        EXPECT_EQ(parsed.report.error->line, 2);
        EXPECT_EQ(parsed.report.error->column, "#KSUMMA");
        EXPECT_EQ(parsed.report.error->file, "test.se");
        EXPECT_EQ(parsed.report.error->message.find("leniently"), std::string::npos);
        EXPECT_EQ(Problems(parsed.report), (std::vector<std::string>{"error ksumma_missing_end 2 #KSUMMA "}));
        EXPECT_EQ(parsed.details["ksumma"], "incomplete");
    }
}

TEST_F(SieParserTest, UnbalancedVoucherFailsStrictAndPassesLenient) {
    const Parsed strict = Parse("unbalanced.se");
    ASSERT_FALSE(strict.report.ok());
    EXPECT_EQ(strict.report.error->code, "unbalanced_voucher");
    EXPECT_EQ(strict.report.error->line, 8);
    EXPECT_EQ(strict.report.error->column, "#VER");
    EXPECT_NE(strict.report.error->message.find("add up to 10.00"), std::string::npos);
    EXPECT_NE(strict.report.error->message.find("read it leniently"), std::string::npos);
    EXPECT_EQ(Problems(strict.report), (std::vector<std::string>{"error unbalanced_voucher 8 #VER voucher A 1"}));
    EXPECT_EQ(strict.report.rows_accepted, 0);
    ExpectAccounting(strict.report);

    const Parsed lenient = Parse("unbalanced.se", Lenient());
    ASSERT_TRUE(lenient.report.ok());
    EXPECT_EQ(lenient.rows.size(), 4u);
    EXPECT_EQ(Problems(lenient.report), Problems(strict.report));
}

TEST_F(SieParserTest, BadAmountFollowsTheBadRowPolicy) {
    const Parsed strict = Parse("bad_amount.se");
    ASSERT_FALSE(strict.report.ok());
    EXPECT_EQ(strict.report.error->code, "bad_amount");
    EXPECT_EQ(strict.report.error->line, 10);
    EXPECT_EQ(strict.report.error->column, "#TRANS");
    EXPECT_NE(strict.report.error->message.find("'12,50'"), std::string::npos);
    EXPECT_NE(strict.report.error->message.find("skip bad rows"), std::string::npos);
    EXPECT_EQ(Problems(strict.report), (std::vector<std::string>{"error bad_amount 10 #TRANS voucher A 1"}));

    // Lenient skips the row; the voucher it leaves unbalanced is not reported again.
    const Parsed lenient = Parse("bad_amount.se", Lenient());
    ASSERT_TRUE(lenient.report.ok());
    EXPECT_EQ(Problems(lenient.report), Problems(strict.report));
    EXPECT_EQ(lenient.report.rows_read, 4);
    EXPECT_EQ(lenient.report.rows_rejected, 1);
    ASSERT_EQ(lenient.rows.size(), 3u);
    EXPECT_EQ(lenient.rows[0].external_id, "A-1-1");
    EXPECT_EQ(lenient.rows[0].source_line, 11);

    ParseOptions skip = Strict();
    skip.bad_rows = BadRowPolicy::kSkipRow;
    const Parsed skipped = Parse("bad_amount.se", skip);
    ASSERT_TRUE(skipped.report.ok());
    EXPECT_EQ(skipped.rows.size(), 3u);

    ParseOptions reject = Lenient();
    reject.bad_rows = BadRowPolicy::kRejectFile;
    const Parsed rejected = Parse("bad_amount.se", reject);
    ASSERT_FALSE(rejected.report.ok());
    EXPECT_EQ(rejected.report.error->code, "bad_amount");
}

TEST_F(SieParserTest, BadVoucherDateDropsItsRowsAndBadTransdatDropsTheRow) {
    const Parsed strict = Parse("bad_dates.se");
    ASSERT_FALSE(strict.report.ok());
    EXPECT_EQ(strict.report.error->code, "bad_date");
    EXPECT_EQ(strict.report.error->line, 8);
    EXPECT_EQ(strict.report.error->column, "#VER");
    EXPECT_EQ(Problems(strict.report), (std::vector<std::string>{"error bad_date 8 #VER voucher A 1",
                                                                 "warning bad_registration_date 13 #VER voucher A 2",
                                                                 "error bad_date 15 #TRANS voucher A 2"}));
    EXPECT_NE(strict.report.error->message.find("(1 more error in the file.)"), std::string::npos);

    const Parsed lenient = Parse("bad_dates.se", Lenient());
    ASSERT_TRUE(lenient.report.ok());
    ASSERT_EQ(lenient.rows.size(), 3u);
    EXPECT_EQ(lenient.rows[0].external_id, "A-2-1");
    EXPECT_EQ(lenient.rows[0].source_line, 16);
    EXPECT_FALSE(lenient.rows[0].registration_date.has_value());
    EXPECT_EQ(lenient.report.rows_rejected, 3);
}

TEST_F(SieParserTest, StrictListsEveryProblemAndLenientLoadsTheReadableRows) {
    const std::vector<std::string> expected = {"error row_outside_voucher 8 #TRANS ",
                                               "error not_a_record 9  ",
                                               "error unexpected_brace 10 } ",
                                               "error missing_account 13 #TRANS voucher A 1",
                                               "error missing_amount 14 #TRANS voucher A 1",
                                               "error bad_object_list 15 #TRANS voucher A 1",
                                               "error missing_voucher_block 18 #VER voucher A 2",
                                               "error unexpected_brace 25 { voucher A 3",
                                               "error unterminated_voucher 21 #VER voucher A 3"};
    const Parsed strict = Parse("many_errors.se");
    ASSERT_FALSE(strict.report.ok());
    EXPECT_EQ(strict.report.error->code, "row_outside_voucher");
    EXPECT_EQ(strict.report.error->line, 8);
    EXPECT_EQ(Problems(strict.report), expected);
    EXPECT_EQ(strict.report.error_count, 9);
    EXPECT_EQ(strict.report.rows_read, 9);
    ExpectAccounting(strict.report);

    const Parsed lenient = Parse("many_errors.se", Lenient());
    ASSERT_TRUE(lenient.report.ok());
    EXPECT_EQ(Problems(lenient.report), expected);
    std::vector<std::string> ids;
    for (const Transaction& tx : lenient.rows) ids.push_back(tx.external_id + "@" + std::to_string(tx.source_line));
    EXPECT_EQ(ids, (std::vector<std::string>{"A-1-1@16", "A-2-1@19", "A-2-2@20", "A-3-1@23", "A-3-2@24"}));
    EXPECT_EQ(lenient.report.rows_rejected, 4);
}

TEST_F(SieParserTest, UnterminatedVouchersAreErrorsButACutOffOneIsNotCalledUnbalanced) {
    const Parsed parsed = Parse("unterminated_voucher.se");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(Problems(parsed.report), (std::vector<std::string>{"error unterminated_voucher 8 #VER voucher A 1",
                                                                 "error unterminated_voucher 12 #VER voucher A 2"}));
    EXPECT_NE(parsed.report.problems[1].message.find("cut off"), std::string::npos);
}

TEST_F(SieParserTest, UnknownLabelsAreInfoAndLowerCaseLabelsAWarning) {
    const Parsed parsed = Parse("unknown_and_lowercase.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(Problems(parsed.report),
              (std::vector<std::string>{"info unknown_label 8 #FOO ", "warning label_case 9 #KONTO "}));
    EXPECT_EQ(parsed.details["unknown_labels"], nlohmann::json({{"#FOO", 2}}));
    ASSERT_EQ(parsed.rows.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(parsed.rows[0].raw_data)["account_name"], "Kassa");
    EXPECT_EQ(parsed.rows[1].amount.minor, -100);
}

TEST_F(SieParserTest, Pc8DeclaredButUtf8IsReadAsUtf8WithAWarning) {
    const Parsed parsed = Parse("utf8_declared_pc8.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.encoding, "utf-8");
    EXPECT_EQ(Problems(parsed.report), (std::vector<std::string>{"warning encoding_mismatch 3 #FORMAT "}));
    ASSERT_EQ(parsed.rows.size(), 2u);
    EXPECT_EQ(parsed.rows[0].text, "Skatte\u00e5terb\u00e4ring");
    EXPECT_EQ(parsed.rows[0].user, "\u00c5sa \u00d6berg");
    EXPECT_EQ(nlohmann::json::parse(parsed.rows[0].raw_data)["account_name"],
              "Avr\u00e4kning f\u00f6r skatter och avgifter");
}

TEST_F(SieParserTest, AFileWithoutVouchersIsRejectedEvenLeniently) {
    const Parsed parsed = Parse("balances_only.se", Lenient());
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "no_transactions");
    EXPECT_EQ(Problems(parsed.report),
              (std::vector<std::string>{"warning not_sie_type_4 3 #SIETYP ", "error no_transactions 0  "}));
    EXPECT_EQ(parsed.details["balances"]["ib"], 2);
    EXPECT_EQ(parsed.details["balances"]["ub"], 2);
    EXPECT_EQ(parsed.details["balances"]["res"], 1);
    EXPECT_EQ(parsed.details["counts"]["accounts"], 2);
}

TEST_F(SieParserTest, RtransTwinThatDiffersOrIsMissingIsAWarning) {
    const Parsed parsed = Parse("twins.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(Problems(parsed.report),
              (std::vector<std::string>{"warning rtrans_twin_mismatch 12 #TRANS voucher A 1",
                                        "warning missing_rtrans_twin 17 #RTRANS voucher A 2"}));
    EXPECT_EQ(parsed.rows.size(), 4u);
    EXPECT_EQ(parsed.rows[1].account, "3010");  // the #RTRANS, not its differing twin
    EXPECT_EQ(parsed.report.rows_rejected, 1);
}

TEST_F(SieParserTest, RepeatedVoucherNumbersGetDistinctIds) {
    const Parsed parsed = Parse("duplicate_voucher.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    std::vector<std::string> ids;
    for (const Transaction& tx : parsed.rows) ids.push_back(tx.external_id);
    EXPECT_EQ(ids, (std::vector<std::string>{"A-1-1", "A-1-2", "A-2-1", "A-2-2", "A-1(2)-1", "A-1(2)-2"}));
    EXPECT_EQ(Problems(parsed.report), (std::vector<std::string>{"warning voucher_order 18 #VER voucher A 1",
                                                                 "warning duplicate_voucher 18 #VER voucher A 1"}));
    EXPECT_EQ(parsed.rows[4].voucher_number, "1");
    EXPECT_EQ(parsed.details["counts"]["vouchers_out_of_order"], 1);
}

TEST_F(SieParserTest, UnterminatedQuoteIsReadToTheEndOfTheLine) {
    const Parsed parsed = Parse("unterminated_quote.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(Problems(parsed.report), (std::vector<std::string>{"warning unterminated_quote 10 #TRANS voucher A 1"}));
    EXPECT_EQ(parsed.rows[0].text, "Ingen slutcitattecken");
}

TEST_F(SieParserTest, HeaderAndRowDeviationsAreGradedAndLocated) {
    const std::vector<std::string> expected = {"warning bad_currency 3 #VALUTA ",
                                               "warning bad_fiscal_year 4 #RAR ",
                                               "warning missing_field 5 #KONTO ",
                                               "warning bad_account 6 #KONTO ",
                                               "warning missing_field 7 #DIM ",
                                               "warning bad_quantity 11 #TRANS voucher #1",
                                               "info unnumbered_voucher 9 #VER voucher #1",
                                               "warning missing_object_list 12 #TRANS voucher #1",
                                               "warning label_inside_voucher 13 #KONTO voucher #1",
                                               "error missing_date 15 #VER voucher A 5",
                                               "warning late_currency 19 #VALUTA ",
                                               "warning incomplete_object_list 22 #TRANS voucher A 6",
                                               "warning missing_format 0 #FORMAT "};
    const Parsed strict = Parse("warnings.se");
    ASSERT_FALSE(strict.report.ok());
    EXPECT_EQ(strict.report.error->code, "missing_date");
    EXPECT_EQ(strict.report.error->line, 15);
    EXPECT_EQ(strict.report.error->column, "#VER");
    EXPECT_NE(strict.report.error->message.find("has no date"), std::string::npos);
    EXPECT_EQ(Problems(strict.report), expected);

    const Parsed lenient = Parse("warnings.se", Lenient());
    ASSERT_TRUE(lenient.report.ok());
    EXPECT_EQ(Problems(lenient.report), expected);
    std::vector<std::string> ids;
    for (const Transaction& tx : lenient.rows) ids.push_back(tx.external_id + " " + tx.currency);
    EXPECT_EQ(ids, (std::vector<std::string>{"-#1-1 SEK", "-#1-2 SEK", "A-6-1 EUR", "A-6-2 EUR"}));
    EXPECT_EQ(lenient.report.rows_rejected, 1);  // the row of the undated voucher
    EXPECT_EQ(lenient.rows[1].amount.minor, -1000);
    // 3010 is declared after its row: the row has no name. A lone dimension makes no object.
    EXPECT_EQ(nlohmann::json::parse(lenient.rows[1].raw_data), nlohmann::json({{"voucher_text", "Import"}}));
    EXPECT_FALSE(nlohmann::json::parse(lenient.rows[2].raw_data).contains("objects"));
    EXPECT_EQ(lenient.details["fiscal_years"], nlohmann::json::array());
}

TEST_F(SieParserTest, KsummaThatCannotBeCheckedIsReported) {
    const Parsed strict = Parse("ksumma_odd.se");
    ASSERT_FALSE(strict.report.ok());
    EXPECT_EQ(strict.report.error->code, "bad_ksumma");
    EXPECT_EQ(strict.report.error->line, 10);
    EXPECT_NE(strict.report.error->message.find("'abc'"), std::string::npos);
    EXPECT_EQ(Problems(strict.report),
              (std::vector<std::string>{"warning unexpected_ksumma 2 #KSUMMA ", "warning unknown_format 4 #FORMAT ",
                                        "error bad_ksumma 10 #KSUMMA ", "warning records_after_ksumma 11 #PROSA "}));
    EXPECT_EQ(strict.details["ksumma"], "mismatch");
    EXPECT_EQ(strict.details["format"], "UTF8");

    const Parsed lenient = Parse("ksumma_odd.se", Lenient());
    ASSERT_TRUE(lenient.report.ok());
    EXPECT_EQ(lenient.rows.size(), 2u);
}

TEST_F(SieParserTest, LineLongerThanTheFieldLimitIsAnError) {
    for (const size_t chunk : {size_t{1} << 20, size_t{16}}) {
        ParseOptions options = Strict();
        options.limits.max_field_bytes = 100;
        options.chunk_bytes = chunk;
        const Parsed strict = Parse("long_line.se", options);
        ASSERT_FALSE(strict.report.ok());
        EXPECT_EQ(strict.report.error->code, "line_too_long");
        EXPECT_EQ(strict.report.error->line, 10);
        EXPECT_EQ(strict.report.error->column, "#TRANS");
        EXPECT_EQ(Problems(strict.report), (std::vector<std::string>{"error line_too_long 10 #TRANS voucher A 1"}));

        options.lenient = true;
        const Parsed lenient = Parse("long_line.se", options);
        ASSERT_TRUE(lenient.report.ok());
        EXPECT_EQ(lenient.rows.size(), 3u);
        EXPECT_EQ(lenient.report.rows_read, 4);
        EXPECT_EQ(lenient.report.rows_rejected, 1);
    }
}

TEST_F(SieParserTest, TooManyRowsStopsWithTooLarge) {
    ParseOptions options = Lenient();
    options.limits.max_rows = 4;
    const Parsed parsed = Parse("rtrans_btrans.se", options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "too_many_rows");
    EXPECT_EQ(parsed.report.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(parsed.report.error->line, 23);  // the fifth row to load
    EXPECT_EQ(parsed.report.error->column, "#RTRANS");
    ExpectAccounting(parsed.report);
}

TEST_F(SieParserTest, SinkFailureStopsTheParseWithTheSinksError) {
    ParseOptions options = Strict();
    options.batch_size = 2;
    int calls = 0;
    const ParseReport report = MakeSieParser()->Parse(FixtureDir() / "rtrans_btrans.se", options,
                                                      [&calls](std::span<Transaction>) -> Expected<void> {
                                                          ++calls;
                                                          return Unexpected(Internal("disk full"));
                                                      },
                                                      {});
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error->message, "disk full");
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(report.rows_accepted, 0);
    ExpectAccounting(report);
}

TEST_F(SieParserTest, ReportsProgressAndTheFileCannotBeOpened) {
    std::vector<uint64_t> progress;
    ParseOptions options = Strict();
    options.chunk_bytes = 100;
    MakeSieParser()->Parse(
        FixtureDir() / "rtrans_btrans.se", options, [](std::span<Transaction>) -> Expected<void> { return {}; },
        [&progress](uint64_t bytes) { progress.push_back(bytes); });
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), std::filesystem::file_size(FixtureDir() / "rtrans_btrans.se"));
    EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));

    const Parsed missing = ParsePath(FixtureDir() / "no_such_file.se", Strict());
    ASSERT_FALSE(missing.report.ok());
    EXPECT_EQ(missing.report.error->code, "unreadable_file");
}

TEST(SieStreamTest, VoucherWithMoreThanAMillionRowsIsTooLarge) {
    std::string text = "#FORMAT PC8\n#VER A 1 20240101\n{\n";
    text.reserve(text.size() + size_t{1'000'001} * 18);
    for (int i = 0; i <= 1'000'000; ++i) text += "#TRANS 1910 {} 0\n";
    text += "}\n";
    std::istringstream in(text);
    ParseOptions options;
    options.batch_size = 1 << 16;
    int64_t delivered = 0;
    const ParseReport report = ReadSie(in, options, [&delivered](std::span<Transaction> batch) -> Expected<void> {
        delivered += static_cast<int64_t>(batch.size());
        return {};
    });
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error->code, "voucher_too_large");
    EXPECT_EQ(report.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(report.error->line, 1'000'004);
    EXPECT_EQ(report.rows_accepted, delivered);
    EXPECT_EQ(report.rows_read, 1'000'001);
    EXPECT_EQ(report.rows_accepted + report.rows_rejected, report.rows_read);
}

TEST(SieStreamTest, EmptyInputHasNoTransactions) {
    std::istringstream in("");
    const ParseReport report = ReadSie(in, ParseOptions{}, [](std::span<Transaction>) -> Expected<void> { return {}; });
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error->code, "no_transactions");
}

}  // namespace
}  // namespace granska::ingest
