// The SIE parser on real exports from eight accounting programs (shared/data/sie, counts from its SOURCES.md) and
// on the sample ledger (shared/data/ledger/ledger.se), cross-checked row by row against ledger.csv.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ingest/csv_reader.h"
#include "ingest/sie/sie_parser.h"

namespace granska::ingest {
namespace {

namespace fs = std::filesystem;

struct Parsed {
    ParseReport report;
    std::vector<Transaction> rows;
    nlohmann::json details;
};

fs::path SharedData() {
    const char* source_dir = std::getenv("GRANSKA_SOURCE_DIR");
    if (source_dir == nullptr) return {};
    const fs::path data = fs::path(source_dir) / ".." / "shared" / "data";
    return fs::is_directory(data / "sie") ? data : fs::path();
}

Parsed ParsePath(const fs::path& path, bool lenient) {
    ParseOptions options;
    options.lenient = lenient;
    options.file_name = path.filename().string();
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

std::string AccountName(const Parsed& parsed, const std::string& account) {
    for (const Transaction& tx : parsed.rows) {
        if (tx.account == account) return nlohmann::json::parse(tx.raw_data).value("account_name", "");
    }
    return "";
}

int64_t CountCode(const ParseReport& report, const std::string& code) {
    return std::count_if(report.problems.begin(), report.problems.end(),
                         [&code](const Problem& problem) { return problem.code == code; });
}

class SieSamplesTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (SharedData().empty()) GTEST_SKIP() << "sample files not found under ${GRANSKA_SOURCE_DIR}/../shared/data";
    }
    static Parsed Sample(const std::string& name, bool lenient = false) {
        return ParsePath(SharedData() / "sie" / name, lenient);
    }
};

struct Expectation {
    const char* file;
    int64_t vouchers;
    int64_t trans;  // #TRANS records, which equals the rows loaded (each #RTRANS replaces its twin)
    int64_t rtrans;
    int64_t btrans;
    const char* program;
};

TEST_F(SieSamplesTest, EveryExportLoadsOneTransactionPerTransRecord) {
    const Expectation expectations[] = {
        {"bladmin2011_BL0001_typ4.SE", 84, 405, 6, 3, "BL Administration"},
        {"norstedts_bokslut_SIE4E.se", 177, 678, 0, 0, "Norstedts Bokslut"},
        {"fortnox_Sie4.si", 165, 869, 0, 0, "Fortnox Bokf\u00f6ring"},
        {"mamut_SIE4_EXPORT.SE", 168, 458, 0, 0, "Mamut Enterprise"},
        {"softone_xe_SIE_4.SE", 65, 248, 0, 0, "SoftOne XE"},
        {"briljant_Test4.SE", 167, 1464, 0, 0, "BRILJANT EKONOMISYSTEM"},
        {"visma_admin2000_SIE4_Exempelfil.SE", 295, 1330, 0, 0, "Visma Administration 2000 med Visma Integration"},
        {"bladmin2018_BLBLOV_SIE4_UTF_8_1.SE", 20, 74, 0, 0, "BL Administration"},
    };
    for (const Expectation& expected : expectations) {
        SCOPED_TRACE(expected.file);
        // SoftOne's export has one unbalanced voucher, so only lenient reading accepts it.
        const bool lenient = std::string(expected.file).starts_with("softone");
        const Parsed parsed = Sample(expected.file, lenient);
        ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
        EXPECT_EQ(static_cast<int64_t>(parsed.rows.size()), expected.trans);
        EXPECT_EQ(parsed.report.rows_accepted, expected.trans);
        EXPECT_EQ(parsed.report.rows_read, expected.trans + expected.rtrans + expected.btrans);
        EXPECT_EQ(parsed.report.rows_accepted + parsed.report.rows_rejected, parsed.report.rows_read);
        EXPECT_EQ(parsed.details["counts"]["vouchers"], expected.vouchers);
        EXPECT_EQ(parsed.details["counts"]["trans"], expected.trans);
        EXPECT_EQ(parsed.details["counts"]["rtrans"], expected.rtrans);
        EXPECT_EQ(parsed.details["counts"]["btrans"], expected.btrans);
        EXPECT_EQ(parsed.details["program"]["name"], expected.program);
        EXPECT_EQ(parsed.report.error_count, lenient ? 1 : 0);

        // Balanced vouchers make every file sum to zero, except SoftOne's +2.00 voucher.
        int64_t total = 0;
        for (const Transaction& tx : parsed.rows) total += tx.amount.minor;
        EXPECT_EQ(total, lenient ? 200 : 0);
        for (size_t i = 0; i < parsed.rows.size(); ++i) ASSERT_EQ(parsed.rows[i].row_number, int64_t(i) + 1);
    }
}

TEST_F(SieSamplesTest, SoftOneHasExactlyOneUnbalancedVoucher) {
    const Parsed strict = Sample("softone_xe_SIE_4.SE");
    ASSERT_FALSE(strict.report.ok());
    EXPECT_EQ(strict.report.error->code, "unbalanced_voucher");
    EXPECT_EQ(strict.report.error->line, 1356);
    EXPECT_EQ(strict.report.error_count, 1);
    ASSERT_EQ(strict.report.problems.size(), 1u);
    EXPECT_EQ(strict.report.problems[0].location, "voucher 1 1");
    EXPECT_NE(strict.report.problems[0].message.find("add up to 2.00"), std::string::npos);

    const Parsed lenient = Sample("softone_xe_SIE_4.SE", true);
    ASSERT_TRUE(lenient.report.ok());
    EXPECT_EQ(CountCode(lenient.report, "unbalanced_voucher"), 1);
    ASSERT_GE(lenient.rows.size(), 2u);
    EXPECT_EQ(lenient.rows[0].external_id, "1-1-1");
    EXPECT_EQ(lenient.rows[0].amount.minor, 1200);
    EXPECT_EQ(lenient.rows[1].amount.minor, -1000);
    // "{" followed by a tab, and #PSALDO with object lists, need no diagnostics.
    EXPECT_EQ(lenient.report.warning_count + lenient.report.info_count, 0);
    EXPECT_EQ(lenient.details["balances"]["psaldo"], 2);
}

TEST_F(SieSamplesTest, NorstedtsKsummaVerifiesAndAnyChangedByteBreaksIt) {
    const Parsed parsed = Sample("norstedts_bokslut_SIE4E.se");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.details["ksumma"], "verified");
    EXPECT_TRUE(parsed.report.problems.empty());

    // One letter of an account name changed in a copy: only the checksum can tell.
    std::ifstream in(SharedData() / "sie" / "norstedts_bokslut_SIE4E.se", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = bytes.find("#KONTO");
    ASSERT_NE(at, std::string::npos);
    const size_t name = bytes.find('"', at) + 1;
    bytes[name] = bytes[name] == 'X' ? 'Y' : 'X';
    const fs::path copy = fs::temp_directory_path() / "granska_sie_ksumma_changed.se";
    std::ofstream(copy, std::ios::binary) << bytes;
    const Parsed changed = ParsePath(copy, false);
    fs::remove(copy);
    ASSERT_FALSE(changed.report.ok());
    EXPECT_EQ(changed.report.error->code, "bad_checksum");
    EXPECT_EQ(changed.report.error->column, "#KSUMMA");
    EXPECT_EQ(changed.report.error->line, std::count(bytes.begin(), bytes.end(), '\n'));  // the last line
    EXPECT_NE(changed.report.error->message.find("854227682"), std::string::npos);
    EXPECT_EQ(changed.report.error_count, 1);
    EXPECT_EQ(changed.details["ksumma"], "mismatch");

    const Parsed lenient = ParsePath(SharedData() / "sie" / "norstedts_bokslut_SIE4E.se", true);
    EXPECT_EQ(lenient.rows.size(), 678u);
}

TEST_F(SieSamplesTest, SwedishLettersComeOutAsUtf8) {
    const Parsed bl2011 = Sample("bladmin2011_BL0001_typ4.SE");
    EXPECT_EQ(AccountName(bl2011, "1229"), "Inventarier, v\u00e4rdeminskn");
    EXPECT_EQ(bl2011.rows[0].text, "1820\\A012 Cykel");  // a literal backslash stays
    EXPECT_EQ(nlohmann::json::parse(bl2011.rows[0].raw_data)["voucher_text"], "Avskrivning anl\u00e4ggningsregister");
    EXPECT_EQ(bl2011.details["company"], "SEEE Speak Easy Executive English AB");

    const Parsed briljant = Sample("briljant_Test4.SE");
    EXPECT_EQ(AccountName(briljant, "1930"), "Checkr\u00e4kningskonto");
    EXPECT_EQ(briljant.rows[1].text, "Rolf Petterssons R\u00f6r AB");
    EXPECT_EQ(briljant.rows[0].external_id, "11-80001-1");
    EXPECT_EQ(briljant.details["company"], "Exempelf\u00f6retag 44");

    const Parsed visma = Sample("visma_admin2000_SIE4_Exempelfil.SE");
    EXPECT_EQ(visma.details["company"], "\u00d6vningsbolaget AB");
    EXPECT_EQ(visma.report.dialect.at("line_ending"), "crlf");
    EXPECT_EQ(visma.rows[0].text, "Kaffebr\u00f6d");  // an unquoted voucher text
    EXPECT_EQ(AccountName(visma, "7690"), "\u00d6vr personalkostnader");

    const Parsed mamut = Sample("mamut_SIE4_EXPORT.SE");
    EXPECT_EQ(mamut.rows[0].text, "30083 Svenska M\u00e4ssan i G\u00f6teborg, 12");
    EXPECT_EQ(nlohmann::json::parse(mamut.rows[2].raw_data)["objects"],
              nlohmann::json::parse(R"([{"dimension":"8","dimension_name":"Customer","object":"30083"},
                                        {"dimension":"1","dimension_name":"Department","object":"2"},
                                        {"dimension":"10","dimension_name":"Invoice","object":"12"}])"));

    const Parsed fortnox = Sample("fortnox_Sie4.si");
    EXPECT_EQ(fortnox.rows[0].text, "Reseutl\u00e4gg");
    EXPECT_EQ(fortnox.details["company"], "Testf\u00f6retaget AB");

    const Parsed norstedts = Sample("norstedts_bokslut_SIE4E.se");
    EXPECT_EQ(norstedts.rows[0].text, "\u00c5terf\u00f6ring");

    const Parsed bl2018 = Sample("bladmin2018_BLBLOV_SIE4_UTF_8_1.SE");
    EXPECT_EQ(bl2018.report.encoding, "utf-8");
    ASSERT_EQ(bl2018.report.problems.size(), 1u);
    EXPECT_EQ(bl2018.report.problems[0].code, "encoding_mismatch");
    EXPECT_EQ(bl2018.report.problems[0].line, 3);
    EXPECT_EQ(bl2018.details["company"], "\u00d6vningsf\u00f6retaget AB");
    EXPECT_EQ(AccountName(bl2018, "1930"), "Checkr\u00e4kningskonto");
    EXPECT_EQ(bl2018.rows[0].text, "Representation m\u00e5ltid utan alkohol");
}

TEST_F(SieSamplesTest, Bl2011AddedAndRemovedRows) {
    const Parsed parsed = Sample("bladmin2011_BL0001_typ4.SE");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.rows_rejected, 9);  // six twins and three removed rows

    std::vector<const Transaction*> added;
    for (const Transaction& tx : parsed.rows) {
        if (nlohmann::json::parse(tx.raw_data).contains("added_later")) added.push_back(&tx);
    }
    ASSERT_EQ(added.size(), 6u);
    // Voucher A 8 (lines 612-621): its two #RTRANS rows carry the #RTRANS date, not the twin's.
    EXPECT_EQ(added[0]->external_id, "A-8-1");
    EXPECT_EQ(added[0]->source_line, 615);
    EXPECT_EQ(added[0]->account, "1930");
    EXPECT_EQ(added[0]->amount.minor, 0);
    EXPECT_EQ(added[0]->date.ToString(), "2010-10-07");
    EXPECT_EQ(added[0]->user, "2 Christer Bengtsson");
    // The #RTRANS with object list { "1" "1"} on line 727.
    const Transaction* with_object = added[3];
    EXPECT_EQ(with_object->source_line, 727);
    EXPECT_EQ(with_object->amount.minor, -50000);
    EXPECT_EQ(nlohmann::json::parse(with_object->raw_data)["objects"],
              nlohmann::json::parse(R"([{"dimension":"1","dimension_name":"Kostnadsst\u00e4lle","object":"1"}])"));
    EXPECT_EQ(nlohmann::json::parse(with_object->raw_data)["added_later"],
              nlohmann::json({{"sign", "2 Christer Bengtsson"}, {"date", "2010-03-26"}}));

    const nlohmann::json removed = parsed.details["removed_rows"];
    ASSERT_EQ(removed.size(), 3u);
    EXPECT_EQ(removed[0], nlohmann::json::parse(R"({"voucher":"A 8","line":614,"account":"1930","amount":"-1000.00",
                                                   "date":"2010-10-07","sign":"2 Christer Bengtsson"})"));
    EXPECT_EQ(removed[1]["amount"], "200.00");
    EXPECT_EQ(removed[2]["account"], "4010");
    EXPECT_EQ(removed[2]["amount"], "800.00");

    // Series "#" repeats number 1; each repeat gets its own ids.
    EXPECT_EQ(parsed.rows[0].external_id, "#-1-1");
    EXPECT_EQ(parsed.rows[2].external_id, "#-1(2)-1");
    EXPECT_EQ(CountCode(parsed.report, "duplicate_voucher"), 11);
    EXPECT_EQ(parsed.report.warning_count, 11);
}

TEST_F(SieSamplesTest, LedgerMatchesItsCsvTwinRowByRow) {
    const fs::path ledger = SharedData() / "ledger";
    const Parsed sie = ParsePath(ledger / "ledger.se", false);
    ASSERT_TRUE(sie.report.ok()) << sie.report.error->ToString();
    ASSERT_EQ(sie.rows.size(), 50'080u);
    EXPECT_EQ(sie.details["counts"]["vouchers"], 18'131);

    std::vector<Transaction> csv;
    std::ifstream in(ledger / "ledger.csv", std::ios::binary);
    ParseOptions csv_options;
    csv_options.file_name = "ledger.csv";
    const ParseReport csv_report = ReadCsv(in, csv_options, [&csv](std::span<Transaction> batch) -> Expected<void> {
        for (Transaction& tx : batch) csv.push_back(std::move(tx));
        return {};
    });
    ASSERT_TRUE(csv_report.ok()) << csv_report.error->ToString();
    ASSERT_EQ(csv_report.problems.size(), 0u);
    ASSERT_EQ(csv.size(), sie.rows.size());

    int64_t total = 0;
    std::map<std::string, int64_t> sie_sums;
    std::map<std::string, int64_t> csv_sums;
    for (size_t i = 0; i < csv.size(); ++i) {
        const Transaction& a = sie.rows[i];
        const Transaction& b = csv[i];
        ASSERT_EQ(a.voucher_series, b.voucher_series) << "row " << i + 1;
        ASSERT_EQ(a.voucher_number, b.voucher_number) << "row " << i + 1;
        ASSERT_EQ(a.account, b.account) << "row " << i + 1;
        ASSERT_EQ(a.amount, b.amount) << "row " << i + 1;
        ASSERT_EQ(a.date, b.date) << "row " << i + 1;
        ASSERT_EQ(a.registration_date, b.registration_date) << "row " << i + 1;
        ASSERT_EQ(a.text, b.text) << "row " << i + 1;
        ASSERT_EQ(a.user, b.user) << "row " << i + 1;
        ASSERT_EQ(nlohmann::json::parse(a.raw_data)["account_name"], nlohmann::json::parse(b.raw_data)["account_name"])
            << "row " << i + 1;
        total += a.amount.minor;
        sie_sums[a.account] += a.amount.minor;
        csv_sums[b.account] += b.amount.minor;
    }
    EXPECT_EQ(total, 0);
    EXPECT_EQ(sie_sums, csv_sums);
    EXPECT_EQ(sie_sums.size(), 41u);
    EXPECT_EQ(sie_sums["1930"], -235'560'986);
    EXPECT_EQ(sie_sums["3001"], -5'347'356'310);
    EXPECT_EQ(sie_sums["7010"], 853'544'494);
    EXPECT_EQ(sie_sums["2640"], 0);
    EXPECT_EQ(sie.rows[0].external_id, "E-1-1");
    EXPECT_EQ(sie.rows[0].user, "C\u00d6");
    EXPECT_EQ(sie.details["counts"]["vouchers_out_of_order"], 713);
}

}  // namespace
}  // namespace granska::ingest
