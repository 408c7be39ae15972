// The sample ledger (../shared/data/ledger/) in all five formats must read to the same transactions: the same
// 50 080 lines in the same order with the same dates, accounts, amounts and vouchers, so the same total and the
// same per-account sums. Skipped, saying so, where the shared data is absent (a user's clone).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ingest/parser.h"

namespace granska::ingest {
namespace {

std::filesystem::path LedgerDir() {
    const char* source = std::getenv("GRANSKA_SOURCE_DIR");
    return std::filesystem::path(source != nullptr ? source : ".") / ".." / "shared" / "data" / "ledger";
}

struct Read {
    ParseReport report;
    std::vector<std::string> lines;  // "date|account|amount|series|number" per transaction, in file order
    std::map<std::string, int64_t> per_account;
    int64_t total = 0;
};

Read ReadLedger(const std::string& name) {
    ParserRegistry registry;
    RegisterBuiltinParsers(registry);
    Read out;
    out.report = ParseFile(registry, LedgerDir() / name, {.file_name = name}, [&out](std::span<Transaction> batch) {
        for (const Transaction& tx : batch) {
            out.lines.push_back(tx.date.ToString() + "|" + tx.account + "|" + tx.amount.ToString() + "|" +
                                tx.voucher_series + "|" + tx.voucher_number);
            out.per_account[tx.account] += tx.amount.minor;
            out.total += tx.amount.minor;
        }
        return Expected<void>{};
    });
    return out;
}

TEST(LedgerFormatsTest, EveryFormatReadsToTheSameTransactions) {
    if (!std::filesystem::exists(LedgerDir() / "ledger.csv")) {
        GTEST_SKIP() << "the shared sample ledger is not at " << LedgerDir() << " (a clone without ../shared)";
    }
    const Read reference = ReadLedger("ledger.csv");
    ASSERT_TRUE(reference.report.ok()) << reference.report.error->ToString();
    ASSERT_EQ(reference.lines.size(), 50'080u);  // manifest.json: rows
    EXPECT_EQ(reference.total, 0);               // every voucher balances
    EXPECT_EQ(reference.report.rows_rejected, 0);

    const std::pair<const char*, Format> others[] = {{"ledger_semicolon.csv", Format::kCsv},
                                                     {"ledger.json", Format::kJson},
                                                     {"ledger.xlsx", Format::kXlsx},
                                                     {"ledger.se", Format::kSie}};
    for (const auto& [name, format] : others) {
        SCOPED_TRACE(name);
        const Read read = ReadLedger(name);
        ASSERT_TRUE(read.report.ok()) << read.report.error->ToString();
        EXPECT_EQ(read.report.format, format);
        EXPECT_EQ(read.report.rows_rejected, 0);
        ASSERT_EQ(read.lines.size(), reference.lines.size());
        EXPECT_EQ(read.total, reference.total);
        EXPECT_EQ(read.per_account, reference.per_account);
        size_t differing = 0;
        for (size_t i = 0; i < read.lines.size(); ++i) {
            if (read.lines[i] != reference.lines[i] && differing++ < 3) {
                ADD_FAILURE() << "line " << i + 1 << ": " << read.lines[i] << " vs " << reference.lines[i];
            }
        }
        EXPECT_EQ(differing, 0u);
    }
}

}  // namespace
}  // namespace granska::ingest
