// CSV parse throughput, as an upload parses: ParseFile on a path (whole-file UTF-8 check, tokenizer, RowMapper),
// in the plain dialect (comma, decimal point) and the Swedish one (semicolon, decimal comma, Windows-1252 text).
// The file has GRANSKA_BENCH_PARSE_MB megabytes (default 100); every iteration checks the row count.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ingest/parser.h"
#include "ledger_generator.h"

namespace granska::bench {
namespace {

constexpr int64_t kBytesPerRow = 96;  // about what WriteLedgerCsv writes per line

int64_t TargetMegabytes() {
    const char* mb = std::getenv("GRANSKA_BENCH_PARSE_MB");
    return mb != nullptr ? std::stoll(mb) : 100;
}

int64_t TargetRows() { return TargetMegabytes() * 1'000'000 / kBytesPerRow + 1; }

const std::filesystem::path& CommaFile() {
    static const std::filesystem::path path = [] {
        const auto file =
            std::filesystem::temp_directory_path() / fmt::format("granska-bench-parse-{}mb.csv", TargetMegabytes());
        if (!std::filesystem::exists(file)) WriteLedgerCsv(file, TargetRows());
        return file;
    }();
    return path;
}

// The same ledger as ';'-separated text with decimal commas, in Windows-1252 (what older Swedish tools export).
const std::filesystem::path& SwedishFile() {
    static const std::filesystem::path path = [] {
        const auto file =
            std::filesystem::temp_directory_path() / fmt::format("granska-bench-parse-{}mb-sv.csv", TargetMegabytes());
        if (std::filesystem::exists(file)) return file;
        std::ifstream in(CommaFile(), std::ios::binary);
        std::ofstream out(file, std::ios::binary);
        std::string line;
        bool header = true;
        while (std::getline(in, line)) {
            std::string converted;
            bool quoted = false;
            for (size_t i = 0; i < line.size(); ++i) {
                const char c = line[i];
                if (c == '"') quoted = !quoted;
                if (!quoted && c == ',') {
                    converted.push_back(';');
                } else if (!header && !quoted && c == '.' && i > 0 &&
                           std::isdigit(static_cast<unsigned char>(line[i - 1]))) {
                    converted.push_back(',');
                } else if (static_cast<unsigned char>(c) == 0xC3 && i + 1 < line.size()) {
                    converted.push_back(static_cast<char>(static_cast<unsigned char>(line[++i]) + 0x40));  // Latin-1
                } else {
                    converted.push_back(c);
                }
            }
            out << converted << '\n';
            header = false;
        }
        return file;
    }();
    return path;
}

void Parse(benchmark::State& state, const std::filesystem::path& file) {
    ingest::ParserRegistry registry;
    ingest::RegisterBuiltinParsers(registry);
    int64_t rows = 0;
    for (auto _ : state) {
        rows = 0;
        const ingest::ParseReport report =
            ingest::ParseFile(registry, file, {.file_name = "bench.csv"}, [&rows](std::span<Transaction> batch) {
                rows += std::ssize(batch);
                return Expected<void>{};
            });
        if (!report.ok() || report.rows_rejected != 0 || rows != TargetRows()) {
            state.SkipWithError(report.ok() ? "rows lost or rejected" : report.error->message.c_str());
        }
    }
    state.SetItemsProcessed(state.iterations() * rows);
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::filesystem::file_size(file)));
    state.counters["rows"] = static_cast<double>(rows);
    state.counters["MB"] = static_cast<double>(std::filesystem::file_size(file)) / 1e6;
}

void BM_ParseCsvComma(benchmark::State& state) { Parse(state, CommaFile()); }
void BM_ParseCsvSwedishWindows1252(benchmark::State& state) { Parse(state, SwedishFile()); }

BENCHMARK(BM_ParseCsvComma)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_ParseCsvSwedishWindows1252)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace granska::bench
