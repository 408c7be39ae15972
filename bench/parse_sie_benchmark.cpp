// SIE4 parse throughput: writes a synthetic SIE 4 export of GRANSKA_BENCH_PARSE_MB megabytes (default 100) once -
// CP437, CRLF, balanced vouchers of two to four rows with Swedish texts, transaction dates, signs and, on some
// rows, object lists - then parses it with the SIE parser. Each iteration checks the row count and that the
// balanced vouchers sum to zero. MB/s and rows/s are per CPU second (reading from the page cache included), which
// stays meaningful on a shared machine.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ingest/sie/sie_parser.h"

namespace granska::bench {
namespace {

namespace fs = std::filesystem;

struct SieFile {
    fs::path path;
    int64_t rows = 0;
    uint64_t bytes = 0;
};

int64_t Megabytes() {
    const char* mb = std::getenv("GRANSKA_BENCH_PARSE_MB");
    return mb != nullptr ? std::stoll(mb) : 100;
}

// splitmix64: a fixed seed gives the same file every time.
class Random {
public:
    explicit Random(uint64_t seed) : state_(seed) {}
    uint64_t Next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }

private:
    uint64_t state_;
};

std::string Amount(int64_t minor) {
    const int64_t magnitude = minor < 0 ? -minor : minor;
    return fmt::format("{}{}.{:02}", minor < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

SieFile WriteSieFile(const fs::path& path, uint64_t target_bytes) {
    // CP437: \x84 = ä, \x94 = ö, \x86 = å, \x8E = Ä, \x99 = Ö, \x8F = Å.
    struct Account {
        const char* number;
        const char* name;
    };
    static constexpr std::array kCosts = {Account{"4010", "Ink\x94p material och varor"},
                                          Account{"5010", "Lokalhyra"},
                                          Account{"5460", "F\x94rbrukningsmaterial"},
                                          Account{"5611", "Drivmedel f\x94r personbilar"},
                                          Account{"6110", "Kontorsmateriel"},
                                          Account{"6212", "Mobiltelefon"},
                                          Account{"6570", "Bankkostnader"},
                                          Account{"7010", "L\x94ner till kollektivanst\x84llda"}};
    static constexpr std::array kTexts = {"Kortk\x94p F\x94rbrukningsmaterial Norden AB",
                                          "Hyra lokal \x8Fkersberga",
                                          "Leverant\x94rsfaktura 10234",
                                          "Bensin Circle K \x99rebro",
                                          "Kontorsmaterial Staples",
                                          "L\x94n januari",
                                          "Bankavgift",
                                          "Telefoni \x8Frsavgift"};
    static constexpr std::array kSigns = {"C\x99", "KASSA", "SYS", "\x8Esa", "LH"};

    std::ofstream out(path, std::ios::binary);
    std::string text;
    text += "#FLAGGA 0\r\n#PROGRAM \"Granska bench\" 1.0\r\n#FORMAT PC8\r\n#GEN 20250101 \"bench\"\r\n#SIETYP 4\r\n";
    text += "#FNAMN \"Kvarnens Handel & Service AB\"\r\n#ORGNR 556789-1234\r\n#RAR 0 20240101 20241231\r\n";
    text +=
        "#DIM 1 \"Kostnadsst\x84lle\"\r\n#KONTO 1930 \"F\x94retagskonto\"\r\n#KONTO 2640 \"Ing\x86\x65nde moms\"\r\n";
    for (const Account& account : kCosts) text += fmt::format("#KONTO {} \"{}\"\r\n", account.number, account.name);

    Random random(42);
    SieFile file{.path = path};
    std::array<int64_t, 3> costs{};
    for (int64_t voucher = 1; file.bytes + text.size() < target_bytes; ++voucher) {
        const int day = 1 + static_cast<int>(random.Below(28));
        const int month = 1 + static_cast<int>(random.Below(12));
        const char* voucher_text = kTexts[static_cast<size_t>(random.Below(kTexts.size()))];
        text += fmt::format("#VER A {} 2024{:02}{:02} \"{}\" 2024{:02}{:02} \"{}\"\r\n{{\r\n", voucher, month, day,
                            voucher_text, month, day, kSigns[static_cast<size_t>(random.Below(kSigns.size()))]);
        // One to three cost rows, their VAT, and the bank row that balances them.
        const size_t cost_rows = 1 + static_cast<size_t>(random.Below(2));
        int64_t total = 0;
        for (size_t i = 0; i < cost_rows; ++i) {
            costs[i] = 100 + random.Below(5'000'000);
            total += costs[i];
            const Account& account = kCosts[static_cast<size_t>(random.Below(kCosts.size()))];
            const bool objects = random.Below(3) == 0;
            text += fmt::format("   #TRANS {} {} {} 2024{:02}{:02} \"{}\"\r\n", account.number,
                                objects ? fmt::format("{{1 \"{}\"}}", 100 + random.Below(20)) : "{}", Amount(costs[i]),
                                month, day, voucher_text);
        }
        const int64_t vat = total / 4;
        text += fmt::format("   #TRANS 2640 {{}} {} 2024{:02}{:02} \"{}\"\r\n", Amount(vat), month, day, voucher_text);
        text += fmt::format("   #TRANS 1930 {{}} {} 2024{:02}{:02} \"{}\"\r\n}}\r\n", Amount(-(total + vat)), month,
                            day, voucher_text);
        file.rows += static_cast<int64_t>(cost_rows) + 2;
        if (text.size() > (size_t{1} << 20)) {
            out << text;
            file.bytes += text.size();
            text.clear();
        }
    }
    out << text;
    file.bytes += text.size();
    return file;
}

const SieFile& BenchFile() {
    static const SieFile file = [] {
        const uint64_t target = static_cast<uint64_t>(Megabytes()) * 1'000'000;
        return WriteSieFile(fs::temp_directory_path() / fmt::format("granska-bench-sie-v1-{}mb.se", Megabytes()),
                            target);
    }();
    return file;
}

void BM_ParseSie(benchmark::State& state) {
    const SieFile& file = BenchFile();
    const auto parser = ingest::MakeSieParser();
    ingest::ParseOptions options;
    options.file_name = "bench.se";
    for (auto _ : state) {
        int64_t rows = 0;
        int64_t total = 0;
        const ingest::ParseReport report = parser->Parse(file.path, options,
                                                         [&rows, &total](std::span<Transaction> batch) {
                                                             rows += std::ssize(batch);
                                                             for (const Transaction& tx : batch)
                                                                 total += tx.amount.minor;
                                                             return Expected<void>{};
                                                         },
                                                         {});
        if (!report.ok()) {
            state.SkipWithError(report.error->ToString().c_str());
            break;
        }
        if (rows != file.rows || report.rows_accepted != file.rows || total != 0) {
            state.SkipWithError(
                fmt::format("expected {} rows summing to 0, got {} summing to {}", file.rows, rows, total).c_str());
            break;
        }
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(file.bytes));
    state.SetItemsProcessed(state.iterations() * file.rows);
    state.counters["rows"] = static_cast<double>(file.rows);
    state.counters["MB"] = static_cast<double>(file.bytes) / 1e6;
}
BENCHMARK(BM_ParseSie)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace granska::bench
