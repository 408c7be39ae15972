// Throughput of the JSON parser, file to transactions: a synthetic ledger of GRANSKA_BENCH_PARSE_MB megabytes
// (default 100) is written once as a JSON array and once as NDJSON, then parsed; each run checks the row count and
// the sums of the amounts before MB/s and rows/s count. Rates are per CPU second: the machines it runs on are
// shared, and the parse is single-threaded.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <unistd.h>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ingest/json/json_parser.h"

namespace {

using granska::Expected;
using granska::Transaction;
using granska::ingest::MakeJsonParser;
using granska::ingest::ParseOptions;
using granska::ingest::ParseReport;

struct Account {
    std::string_view number;
    std::string_view name;
};
constexpr std::array<Account, 6> kAccounts = {{{"4010", "Inköp material"},
                                               {"5010", "Lokalhyra"},
                                               {"5460", "Förbrukningsmaterial"},
                                               {"6110", "Kontorsmateriel"},
                                               {"6540", "IT-tjänster"},
                                               {"7010", "Löner"}}};
constexpr std::array<std::string_view, 4> kCounterparties = {"Leverantör AB", "Kontorsvaror i Umeå AB",
                                                             "Fastighets AB Norr", "IT-Konsult \\\"Nord\\\" HB"};
constexpr std::array<std::string_view, 4> kUsers = {"CÖ", "AL", "MK", "KASSA"};

// splitmix64, so the same file comes out everywhere.
struct Random {
    uint64_t state;
    uint64_t Next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int64_t Below(int64_t bound) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(bound)); }
};

std::string Amount(int64_t minor) {
    const int64_t magnitude = minor < 0 ? -minor : minor;
    return fmt::format("{}{}.{:02}", minor < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

// A written ledger and the answers a parse must reproduce.
struct JsonLedger {
    std::filesystem::path path;
    int64_t rows = 0;
    int64_t total_minor = 0;     // signed sum: zero, vouchers balance
    int64_t absolute_minor = 0;  // sum of magnitudes: catches swapped or lost signs
    uint64_t bytes = 0;

    JsonLedger() = default;
    JsonLedger(const JsonLedger&) = delete;
    JsonLedger& operator=(const JsonLedger&) = delete;
    ~JsonLedger() {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
};

uint64_t TargetBytes() {
    const char* megabytes = std::getenv("GRANSKA_BENCH_PARSE_MB");
    return (megabytes != nullptr ? std::strtoull(megabytes, nullptr, 10) : 100) << 20;
}

// Balanced vouchers of two to four lines, each line an object with a nested counterparty, until target_bytes.
void WriteJsonLedger(JsonLedger& ledger, uint64_t target_bytes, bool ndjson) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(ledger.path.c_str(), "wb"), &std::fclose);
    if (!out) throw std::runtime_error("cannot write " + ledger.path.string());
    Random random{ndjson ? 11u : 7u};
    std::string text = ndjson ? "" : "[\n";
    int64_t voucher = 0;
    while (ledger.bytes + text.size() < target_bytes) {
        ++voucher;
        const int lines = 2 + static_cast<int>(random.Below(3));
        const std::string date = fmt::format("2024-{:02}-{:02}", 1 + random.Below(12), 1 + random.Below(28));
        const std::string_view user = kUsers[static_cast<size_t>(random.Below(kUsers.size()))];
        const std::string_view counterparty =
            kCounterparties[static_cast<size_t>(random.Below(kCounterparties.size()))];
        int64_t balance = 0;
        for (int line = 0; line < lines; ++line) {
            const Account& account = kAccounts[static_cast<size_t>(random.Below(kAccounts.size()))];
            const int64_t minor = line + 1 < lines ? random.Below(5'000'000) - 2'000'000 : -balance;
            balance += minor;
            ++ledger.rows;
            ledger.total_minor += minor;
            ledger.absolute_minor += minor < 0 ? -minor : minor;
            if (!ndjson && ledger.rows > 1) text += ",\n";
            fmt::format_to(
                std::back_inserter(text),
                R"({{"transaction_id":{},"voucher_series":"A","voucher_number":{},"date":"{}",)"
                R"("registration_date":"{}","account":{},"account_name":"{}","amount":{},)"
                R"("text":"Verifikation {} rad {}","user":"{}","counterparty":{{"name":"{}","country":"SE"}}}})",
                ledger.rows, voucher, date, date, account.number, account.name, Amount(minor), voucher, line + 1, user,
                counterparty);
            if (ndjson) text += '\n';
        }
        if (text.size() > (1u << 20)) {
            std::fwrite(text.data(), 1, text.size(), out.get());
            ledger.bytes += text.size();
            text.clear();
        }
    }
    if (!ndjson) text += "\n]\n";
    std::fwrite(text.data(), 1, text.size(), out.get());
    ledger.bytes += text.size();
}

std::unique_ptr<JsonLedger> MakeLedger(bool ndjson) {
    auto ledger = std::make_unique<JsonLedger>();
    ledger->path = std::filesystem::temp_directory_path() /
                   fmt::format("granska_parse_benchmark_{}.{}", ::getpid(), ndjson ? "jsonl" : "json");
    WriteJsonLedger(*ledger, TargetBytes(), ndjson);
    return ledger;
}

// Each file is written on first use and removed at exit.
const JsonLedger& Ledger(bool ndjson) {
    if (ndjson) {
        static const std::unique_ptr<JsonLedger> lines = MakeLedger(true);
        return *lines;
    }
    static const std::unique_ptr<JsonLedger> array = MakeLedger(false);
    return *array;
}

void ParseJsonLedger(benchmark::State& state, bool ndjson) {
    const JsonLedger& ledger = Ledger(ndjson);
    const auto parser = MakeJsonParser();
    const ParseOptions options;
    for (auto _ : state) {
        int64_t rows = 0;
        int64_t total = 0;
        int64_t absolute = 0;
        const ParseReport report = parser->Parse(ledger.path, options,
                                                 [&](std::span<Transaction> batch) -> Expected<void> {
                                                     for (const Transaction& tx : batch) {
                                                         ++rows;
                                                         total += tx.amount.minor;
                                                         absolute +=
                                                             tx.amount.minor < 0 ? -tx.amount.minor : tx.amount.minor;
                                                     }
                                                     return {};
                                                 },
                                                 {});
        if (!report.ok()) {
            state.SkipWithError(report.error->ToString().c_str());
            return;
        }
        if (rows != ledger.rows || total != ledger.total_minor || absolute != ledger.absolute_minor) {
            state.SkipWithError(fmt::format("parsed {} rows summing to {} ({} absolute); wrote {} rows, {} ({})", rows,
                                            total, absolute, ledger.rows, ledger.total_minor, ledger.absolute_minor)
                                    .c_str());
            return;
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(ledger.bytes));
    state.counters["rows"] = static_cast<double>(ledger.rows);
    state.counters["rows_per_second"] = benchmark::Counter(
        static_cast<double>(state.iterations()) * static_cast<double>(ledger.rows), benchmark::Counter::kIsRate);
}

void BM_ParseJsonArray(benchmark::State& state) { ParseJsonLedger(state, false); }
void BM_ParseNdjson(benchmark::State& state) { ParseJsonLedger(state, true); }

BENCHMARK(BM_ParseJsonArray)->Unit(benchmark::kMillisecond)->MinTime(3.0);
BENCHMARK(BM_ParseNdjson)->Unit(benchmark::kMillisecond)->MinTime(3.0);

}  // namespace
