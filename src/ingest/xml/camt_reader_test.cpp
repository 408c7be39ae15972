// camt.053 and camt.054 through the XML parser: every value of the fixtures, balances, references, statuses and
// the bad-entry policy.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "ingest/xml/xml_test_support.h"

namespace granska::ingest {
namespace {

using testing::ParseXml;
using testing::ParseXmlText;
using testing::XmlFixture;

Date Ymd(int year, int month, int day) { return *Date::FromYmd(year, month, day); }

// A camt.053.001.02 document with one statement (opening balance 100.00 CRDT) and the given entries.
std::string OneStatement(std::string_view entries, std::string_view closing = "100.00") {
    return fmt::format(
        R"(<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>SE1</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="SEK">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="SEK">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>
{}
</Stmt></BkToCstmrStmt></Document>
)",
        closing, entries);
}

// One entry on a line of its own.
std::string Entry(std::string_view amount, std::string_view credit_debit, std::string_view more = {}) {
    return fmt::format(R"(<Ntry><Amt Ccy="SEK">{}</Amt><CdtDbtInd>{}</CdtDbtInd>{}</Ntry>)", amount, credit_debit,
                       more);
}

TEST(XmlCamtTest, Camt053TwoStatementsGiveEveryEntryWithAllItsValues) {
    const auto path = XmlFixture("camt053_two_statements.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path);
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    ASSERT_EQ(parsed.rows.size(), 5u);
    EXPECT_EQ(parsed.report.dialect.at("mode"), "camt.053");
    EXPECT_EQ(parsed.report.dialect.at("version"), "camt.053.001.02");
    EXPECT_EQ(parsed.report.encoding, "utf-8");
    EXPECT_EQ(parsed.report.rows_read, 5);
    EXPECT_EQ(parsed.report.rows_accepted, 5);
    EXPECT_EQ(parsed.report.rows_rejected, 0);

    const Transaction& credit = parsed.rows[0];
    EXPECT_EQ(credit.row_number, 1);
    EXPECT_EQ(credit.source_line, 70);
    EXPECT_EQ(credit.external_id, "SEB-20240402-0001");
    EXPECT_EQ(credit.date, Ymd(2024, 4, 2));
    EXPECT_FALSE(credit.time_seconds.has_value());
    EXPECT_EQ(credit.account, "SE4550000000058398257466");
    EXPECT_EQ(credit.amount.minor, 150000);
    EXPECT_EQ(credit.currency, "SEK");
    EXPECT_EQ(credit.text, "Faktura 1001 april");
    EXPECT_EQ(credit.counterparty, "Acme Industri AB");
    EXPECT_EQ(credit.raw_data, R"({"statement_id":"STMT-2024-04-02-SEK","status":"BOOK","value_date":"2024-04-02",)"
                               R"("account_servicer_reference":"SEB-20240402-0001","entry_reference":"1",)"
                               R"("bank_transaction_code":"PMNT/RCDT/ESCT","end_to_end_id":"INV-1001",)"
                               R"("counterparty_account":"SE7280000810340009783242"})");

    const Transaction& debit = parsed.rows[1];  // NtryRef only, booking time, structured reference only
    EXPECT_EQ(debit.row_number, 2);
    EXPECT_EQ(debit.source_line, 116);
    EXPECT_EQ(debit.external_id, "2");
    EXPECT_EQ(debit.date, Ymd(2024, 4, 2));
    EXPECT_EQ(debit.time_seconds, 14 * 3600 + 35 * 60 + 10);
    EXPECT_EQ(debit.account, "SE4550000000058398257466");
    EXPECT_EQ(debit.amount.minor, -24950);
    EXPECT_EQ(debit.currency, "SEK");
    EXPECT_EQ(debit.text, "RF18539007547034");
    EXPECT_EQ(debit.counterparty, "Kontorsmaterial i Norden AB");
    EXPECT_EQ(debit.raw_data,
              R"({"statement_id":"STMT-2024-04-02-SEK","status":"BOOK","value_date":"2024-04-02",)"
              R"("entry_reference":"2","bank_transaction_code":"PMNT/ICDT/DMCT","proprietary_code":"BGINB",)"
              R"("structured_reference":"RF18539007547034","counterparty_account":"5050-1055"})");

    const Transaction& fee = parsed.rows[2];  // no details: the text is AddtlNtryInf
    EXPECT_EQ(fee.source_line, 171);
    EXPECT_EQ(fee.external_id, "SEB-20240402-0003");
    EXPECT_EQ(fee.amount.minor, -120000);
    EXPECT_EQ(fee.text, "Bankavgift april");
    EXPECT_EQ(fee.counterparty, "");
    EXPECT_EQ(fee.raw_data,
              R"({"statement_id":"STMT-2024-04-02-SEK","status":"BOOK","value_date":"2024-04-02",)"
              R"("account_servicer_reference":"SEB-20240402-0003","bank_transaction_code":"ACMT/MDOP/CHRG"})");

    const Transaction& euro = parsed.rows[3];  // second statement: Othr/Id account, escaped text, UTF-8 name
    EXPECT_EQ(euro.row_number, 4);
    EXPECT_EQ(euro.source_line, 229);
    EXPECT_EQ(euro.external_id, "SEB-20240403-0001");
    EXPECT_EQ(euro.date, Ymd(2024, 4, 3));
    EXPECT_EQ(euro.account, "5402-1234567");
    EXPECT_EQ(euro.amount.minor, 35025);
    EXPECT_EQ(euro.currency, "EUR");
    EXPECT_EQ(euro.text, "Rechnung 77 & Co");
    EXPECT_EQ(euro.counterparty, "Müller GmbH");
    EXPECT_EQ(euro.raw_data, R"({"statement_id":"STMT-2024-04-03-EUR","status":"BOOK","value_date":"2024-04-03",)"
                             R"("account_servicer_reference":"SEB-20240403-0001","entry_reference":"1",)"
                             R"("counterparty_account":"DE89370400440532013000"})");

    const Transaction& pending = parsed.rows[4];
    EXPECT_EQ(pending.source_line, 259);
    EXPECT_EQ(pending.external_id, "SEB-20240403-0002");
    EXPECT_EQ(pending.amount.minor, -5000);
    EXPECT_EQ(pending.text, "Flight change fee");
    EXPECT_EQ(pending.counterparty, "Lufthansa");
    EXPECT_EQ(pending.raw_data, R"({"statement_id":"STMT-2024-04-03-EUR","status":"PDNG",)"
                                R"("account_servicer_reference":"SEB-20240403-0002","entry_reference":"2"})");
}

TEST(XmlCamtTest, EntryThatIsNotBookedIsLoadedAndReportedAsInfo) {
    const auto path = XmlFixture("camt053_two_statements.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path);
    ASSERT_TRUE(parsed.report.ok());
    EXPECT_EQ(parsed.report.info_count, 1);
    EXPECT_EQ(parsed.report.warning_count, 0);
    EXPECT_EQ(parsed.report.error_count, 0);
    ASSERT_EQ(parsed.report.problems.size(), 1u);
    const Problem& problem = parsed.report.problems[0];
    EXPECT_EQ(problem.severity, Severity::kInfo);
    EXPECT_EQ(problem.code, "entry_not_booked");
    EXPECT_EQ(problem.line, 259);
    EXPECT_EQ(problem.location, "Stmt 2 / Ntry 2");
    EXPECT_NE(problem.message.find("PDNG"), std::string::npos) << problem.message;
}

TEST(XmlCamtTest, BalancesGoToDetailsAndOpeningPlusBookedEntriesGivesClosing) {
    const auto path = XmlFixture("camt053_two_statements.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path);
    ASSERT_TRUE(parsed.report.ok());
    const auto details = nlohmann::json::parse(parsed.report.details);
    EXPECT_EQ(details["mode"], "camt.053");
    EXPECT_EQ(details["message_id"], "STMT-20240403-0001");
    EXPECT_EQ(details["statement_count"], 2);
    ASSERT_EQ(details["statements"].size(), 2u);
    const auto& first = details["statements"][0];
    EXPECT_EQ(first["id"], "STMT-2024-04-02-SEK");
    EXPECT_EQ(first["account"], "SE4550000000058398257466");
    EXPECT_EQ(first["currency"], "SEK");
    EXPECT_EQ(first["entries"], 3);
    EXPECT_EQ(first["booked_sum"], "50.50");  // 1500.00 - 249.50 - 1200.00
    EXPECT_EQ(first["balance_check"], "ok");  // 10000.00 + 50.50 = 10050.50
    ASSERT_EQ(first["balances"].size(), 2u);
    EXPECT_EQ(first["balances"][0]["type"], "OPBD");
    EXPECT_EQ(first["balances"][0]["amount"], "10000.00");
    EXPECT_EQ(first["balances"][0]["currency"], "SEK");
    EXPECT_EQ(first["balances"][0]["date"], "2024-04-02");
    EXPECT_EQ(first["balances"][1]["type"], "CLBD");
    EXPECT_EQ(first["balances"][1]["amount"], "10050.50");
    const auto& second = details["statements"][1];
    EXPECT_EQ(second["account"], "5402-1234567");
    EXPECT_EQ(second["entries"], 2);
    EXPECT_EQ(second["booked_sum"], "350.25");              // the pending -50.00 is not booked
    EXPECT_EQ(second["balances"][0]["amount"], "-200.00");  // OPBD 200.00 DBIT
    EXPECT_EQ(second["balances"][1]["amount"], "150.25");   // -200.00 + 350.25
    EXPECT_EQ(second["balance_check"], "ok");
}

TEST(XmlCamtTest, Camt054NotificationUsesStructuredReferenceAndValueDate) {
    const auto path = XmlFixture("camt054_notification.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path);
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.dialect.at("mode"), "camt.054");
    EXPECT_EQ(parsed.report.dialect.at("version"), "camt.054.001.02");
    ASSERT_EQ(parsed.rows.size(), 2u);

    const Transaction& credit = parsed.rows[0];
    EXPECT_EQ(credit.source_line, 19);
    EXPECT_EQ(credit.external_id, "N1");
    EXPECT_EQ(credit.date, Ymd(2024, 5, 6));
    EXPECT_EQ(credit.account, "SE3550000000054910000003");
    EXPECT_EQ(credit.amount.minor, 12500);
    EXPECT_EQ(credit.currency, "SEK");
    EXPECT_EQ(credit.text, "7350001234");
    EXPECT_EQ(credit.counterparty, "Kund AB");
    EXPECT_EQ(credit.raw_data,
              R"({"statement_id":"NTF-17-1","status":"BOOK","value_date":"2024-05-06","entry_reference":"N1",)"
              R"("bank_transaction_code":"PMNT/RCDT/DMCT","structured_reference":"7350001234"})");

    const Transaction& debit = parsed.rows[1];
    EXPECT_EQ(debit.source_line, 56);
    EXPECT_EQ(debit.external_id, "X-2");
    EXPECT_EQ(debit.date, Ymd(2024, 5, 7));  // no BookgDt: the value date
    EXPECT_EQ(debit.amount.minor, -8000);
    EXPECT_EQ(debit.text, "Order 55");
    EXPECT_EQ(debit.counterparty, "Leverantör AB");
    EXPECT_EQ(debit.raw_data, R"({"statement_id":"NTF-17-1","status":"BOOK","value_date":"2024-05-07",)"
                              R"("account_servicer_reference":"X-2"})");

    ASSERT_EQ(parsed.report.problems.size(), 1u);
    EXPECT_EQ(parsed.report.problems[0].code, "value_date_used");
    EXPECT_EQ(parsed.report.problems[0].severity, Severity::kInfo);
    EXPECT_EQ(parsed.report.problems[0].location, "Ntfctn 1 / Ntry 2");
    const auto details = nlohmann::json::parse(parsed.report.details);
    EXPECT_EQ(details["mode"], "camt.054");
    EXPECT_EQ(details["statements"][0]["balance_check"], "not_checked");  // notifications carry no balances
}

TEST(XmlCamtTest, Version08ReadsStatusCodeAndPartyWrapper) {
    const auto path = XmlFixture("camt053_v08_party_wrapper.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    const auto parsed = ParseXml(*path);
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.dialect.at("version"), "camt.053.001.08");
    ASSERT_EQ(parsed.rows.size(), 2u);
    EXPECT_EQ(parsed.rows[0].counterparty, "Alfa AB");
    EXPECT_EQ(parsed.rows[0].amount.minor, 30000);
    EXPECT_EQ(parsed.rows[0].external_id, "V08-A");
    EXPECT_EQ(parsed.rows[0].text, "Betalning maj");
    EXPECT_EQ(parsed.rows[0].account, "SE0250000000054400047881");
    EXPECT_EQ(parsed.rows[0].raw_data,
              R"({"statement_id":"V08-STMT-1","status":"BOOK","account_servicer_reference":"V08-A",)"
              R"("counterparty_account":"1234-5678"})");
    EXPECT_EQ(parsed.rows[1].counterparty, "Beta AB");
    EXPECT_EQ(parsed.rows[1].amount.minor, -20000);
    EXPECT_EQ(parsed.rows[1].text, "Hyra juni");
    EXPECT_EQ(parsed.rows[1].date, Ymd(2024, 5, 31));
    EXPECT_EQ(parsed.report.info_count, 0);  // Sts/Cd BOOK is booked
    const auto details = nlohmann::json::parse(parsed.report.details);
    EXPECT_EQ(details["statements"][0]["balance_check"], "ok");  // PRCD 0.00 + 300.00 - 200.00 = CLBD 100.00
}

TEST(XmlCamtTest, RootDocumentWithoutNamespaceIsCamtByItsFirstChild) {
    const auto parsed = ParseXmlText("<Document><BkToCstmrStmt><Stmt><Acct><Id><IBAN>SE9</IBAN></Id></Acct>\n" +
                                     Entry("5.00", "DBIT", "<BookgDt><Dt>2024-01-31</Dt></BookgDt>") +
                                     "</Stmt></BkToCstmrStmt></Document>");
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    EXPECT_EQ(parsed.report.dialect.at("mode"), "camt.053");
    EXPECT_EQ(parsed.report.dialect.count("version"), 0u);
    ASSERT_EQ(parsed.rows.size(), 1u);
    EXPECT_EQ(parsed.rows[0].amount.minor, -500);
    EXPECT_EQ(parsed.rows[0].account, "SE9");
    EXPECT_EQ(parsed.rows[0].source_line, 2);
}

TEST(XmlCamtTest, RepeatedReferenceLeavesTheLaterIdEmptyWithAWarning) {
    const std::string booked = "<BookgDt><Dt>2024-02-01</Dt></BookgDt><AcctSvcrRef>R-1</AcctSvcrRef>";
    const auto parsed =
        ParseXmlText(OneStatement(Entry("1.00", "CRDT", booked) + "\n" + Entry("2.00", "CRDT", booked), "103.00"));
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    ASSERT_EQ(parsed.rows.size(), 2u);
    EXPECT_EQ(parsed.rows[0].external_id, "R-1");
    EXPECT_EQ(parsed.rows[1].external_id, "");
    EXPECT_EQ(parsed.report.warning_count, 1);
    ASSERT_EQ(parsed.report.problems.size(), 1u);
    const Problem& problem = parsed.report.problems[0];
    EXPECT_EQ(problem.code, "duplicate_external_id");
    EXPECT_EQ(problem.line, 7);
    EXPECT_EQ(problem.field, "AcctSvcrRef");
    EXPECT_NE(problem.message.find("'R-1'"), std::string::npos) << problem.message;
    EXPECT_NE(problem.message.find("line 6"), std::string::npos) << problem.message;
}

TEST(XmlCamtTest, BalanceThatDoesNotAddUpIsAWarning) {
    const std::string date = "<BookgDt><Dt>2024-02-01</Dt></BookgDt>";
    // 100.00 + 10.00 - 2.50 = 107.50, not 110.00
    const auto parsed =
        ParseXmlText(OneStatement(Entry("10.00", "CRDT", date) + Entry("2.50", "DBIT", date), "110.00"));
    ASSERT_TRUE(parsed.report.ok());
    ASSERT_EQ(parsed.report.problems.size(), 1u);
    const Problem& problem = parsed.report.problems[0];
    EXPECT_EQ(problem.severity, Severity::kWarning);
    EXPECT_EQ(problem.code, "balance_mismatch");
    EXPECT_EQ(problem.location, "Stmt 1");
    EXPECT_EQ(problem.line, 3);
    EXPECT_NE(problem.message.find("100.00 plus the booked entries 7.50 is 107.50, but the closing balance is 110.00"),
              std::string::npos)
        << problem.message;
    EXPECT_EQ(nlohmann::json::parse(parsed.report.details)["statements"][0]["balance_check"], "mismatch");
}

TEST(XmlCamtTest, UnreadableBalanceIsAWarningAndNotChecked) {
    const std::string document = OneStatement(Entry("1.00", "CRDT", "<BookgDt><Dt>2024-02-01</Dt></BookgDt>"), "1,01");
    const auto parsed = ParseXmlText(document);
    ASSERT_TRUE(parsed.report.ok());
    ASSERT_EQ(parsed.report.problems.size(), 1u);
    EXPECT_EQ(parsed.report.problems[0].code, "bad_balance");
    EXPECT_EQ(parsed.report.problems[0].severity, Severity::kWarning);
    EXPECT_NE(parsed.report.problems[0].message.find("'1,01'"), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(parsed.report.details)["statements"][0]["balance_check"], "not_checked");
}

TEST(XmlCamtTest, BadAmountRejectsTheFileByDefault) {
    const auto parsed = ParseXmlText(OneStatement(Entry("12.345", "CRDT", "<BookgDt><Dt>2024-02-01</Dt></BookgDt>")));
    ASSERT_FALSE(parsed.report.ok());
    const Error& error = *parsed.report.error;
    EXPECT_EQ(error.code, "bad_amount");
    EXPECT_EQ(error.kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(error.file, "upload.xml");
    EXPECT_EQ(error.line, 6);
    EXPECT_EQ(error.column, "Amt");
    EXPECT_NE(error.message.find("'12.345'"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("Entry 1 of Stmt 1"), std::string::npos) << error.message;
}

TEST(XmlCamtTest, SignedAmountIsRefusedSinceTheSignIsCreditDebit) {
    const auto parsed = ParseXmlText(OneStatement(Entry("-5.00", "DBIT", "<BookgDt><Dt>2024-02-01</Dt></BookgDt>")));
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "bad_amount");
}

TEST(XmlCamtTest, BadEntrySkippedWhenThePolicySaysSo) {
    const std::string date = "<BookgDt><Dt>2024-02-01</Dt></BookgDt>";
    ParseOptions options;
    options.bad_rows = BadRowPolicy::kSkipRow;
    const auto parsed =
        ParseXmlText(OneStatement(Entry("abc", "CRDT", date) + "\n" + Entry("4.00", "CRDT", date)), options);
    ASSERT_TRUE(parsed.report.ok()) << parsed.report.error->ToString();
    ASSERT_EQ(parsed.rows.size(), 1u);
    EXPECT_EQ(parsed.rows[0].amount.minor, 400);
    EXPECT_EQ(parsed.rows[0].row_number, 1);
    EXPECT_EQ(parsed.rows[0].source_line, 7);
    EXPECT_EQ(parsed.report.rows_read, 2);
    EXPECT_EQ(parsed.report.rows_accepted, 1);
    EXPECT_EQ(parsed.report.rows_rejected, 1);
    ASSERT_GE(parsed.report.problems.size(), 1u);
    EXPECT_EQ(parsed.report.problems[0].code, "bad_amount");
    EXPECT_EQ(parsed.report.problems[0].line, 6);
    EXPECT_EQ(parsed.report.problems[0].location, "Stmt 1 / Ntry 1");
}

TEST(XmlCamtTest, CreditDebitIndicatorMustBeCrdtOrDbit) {
    const auto parsed = ParseXmlText(OneStatement(Entry("1.00", "CREDIT", "<BookgDt><Dt>2024-02-01</Dt></BookgDt>")));
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "bad_credit_debit");
    EXPECT_EQ(parsed.report.error->column, "CdtDbtInd");
    EXPECT_EQ(parsed.report.error->line, 6);
    EXPECT_NE(parsed.report.error->message.find("'CREDIT'"), std::string::npos);
}

TEST(XmlCamtTest, EntryWithoutAnyDateIsRejected) {
    const auto parsed = ParseXmlText(OneStatement(Entry("1.00", "CRDT")));
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "bad_date");
    EXPECT_EQ(parsed.report.error->column, "BookgDt");
    EXPECT_NE(parsed.report.error->message.find("no booking date (BookgDt) and no value date"), std::string::npos);
}

TEST(XmlCamtTest, EntryWithAnUnreadableDateIsRejected) {
    const auto parsed = ParseXmlText(OneStatement(Entry("1.00", "CRDT", "<BookgDt><Dt>02/01/2024</Dt></BookgDt>")));
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "bad_date");
    EXPECT_NE(parsed.report.error->message.find("'02/01/2024'"), std::string::npos);
}

TEST(XmlCamtTest, StatementWithoutEntriesIsAnError) {
    const auto parsed = ParseXmlText(OneStatement(""));
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "no_entries");
    EXPECT_NE(parsed.report.error->message.find("camt.053"), std::string::npos);
}

TEST(XmlCamtTest, EmptyStatementElementHasNoEntries) {
    const auto parsed = ParseXmlText(
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\"><BkToCstmrDbtCdtNtfctn><Ntfctn></Ntfctn>"
        "<Ntfctn/></BkToCstmrDbtCdtNtfctn></Document>");
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "no_entries");
    EXPECT_NE(parsed.report.error->message.find("no entries (Ntry) in 2 BkToCstmrDbtCdtNtfctn/Ntfctn"),
              std::string::npos)
        << parsed.report.error->message;
}

TEST(XmlCamtTest, MoreEntriesThanMaxRowsIsTooLarge) {
    const auto path = XmlFixture("camt053_two_statements.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    ParseOptions options;
    options.limits.max_rows = 2;
    const auto parsed = ParseXml(*path, options);
    ASSERT_FALSE(parsed.report.ok());
    EXPECT_EQ(parsed.report.error->code, "too_many_rows");
    EXPECT_EQ(parsed.report.error->kind, ErrorKind::kTooLarge);
    EXPECT_EQ(parsed.report.error->line, 171);
}

TEST(XmlCamtTest, RowsArriveInBatchesOfTheBatchSize) {
    const auto path = XmlFixture("camt053_two_statements.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    ParseOptions options;
    options.batch_size = 2;
    const auto parsed = ParseXml(*path, options);
    ASSERT_TRUE(parsed.report.ok());
    EXPECT_EQ(parsed.batch_sizes, (std::vector<size_t>{2, 2, 1}));
    EXPECT_EQ(parsed.last_progress, std::filesystem::file_size(*path));
}

TEST(XmlCamtTest, TinyChunksGiveTheSameRows) {
    const auto path = XmlFixture("camt053_two_statements.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    ParseOptions options;
    options.chunk_bytes = 7;
    const auto chunked = ParseXml(*path, options);
    const auto whole = ParseXml(*path);
    ASSERT_TRUE(chunked.report.ok());
    ASSERT_EQ(chunked.rows.size(), whole.rows.size());
    for (size_t i = 0; i < whole.rows.size(); ++i) {
        EXPECT_EQ(chunked.rows[i].source_line, whole.rows[i].source_line);
        EXPECT_EQ(chunked.rows[i].text, whole.rows[i].text);
        EXPECT_EQ(chunked.rows[i].raw_data, whole.rows[i].raw_data);
        EXPECT_EQ(chunked.rows[i].amount, whole.rows[i].amount);
    }
}

TEST(XmlCamtTest, SinkErrorStopsTheParse) {
    const auto path = XmlFixture("camt053_two_statements.xml");
    if (!path) GTEST_SKIP() << "GRANSKA_SOURCE_DIR is not set";
    ParseOptions options;
    options.batch_size = 1;
    int batches = 0;
    const ParseReport report = MakeXmlParser()->Parse(*path, options,
                                                      [&batches](std::span<Transaction>) -> Expected<void> {
                                                          if (++batches == 2)
                                                              return Unexpected(Conflict("store_full", "no room"));
                                                          return {};
                                                      },
                                                      {});
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error->code, "store_full");
    EXPECT_EQ(batches, 2);
}

}  // namespace
}  // namespace granska::ingest
