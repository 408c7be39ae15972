// CSV ingest throughput: parse only, and parse + transform + bulk write into SQLite and PostgreSQL.
// Rows: GRANSKA_BENCH_ROWS (default 1 000 000). PostgreSQL: GRANSKA_BENCH_POSTGRES_URL (skipped without it).
// Each iteration checks that every row arrived before the time counts.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/ingest_upload.h"
#include "ingest/csv_reader.h"
#include "ledger_generator.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace granska::bench {
namespace {

int64_t Rows() {
    const char* rows = std::getenv("GRANSKA_BENCH_ROWS");
    return rows != nullptr ? std::stoll(rows) : 1'000'000;
}

const std::filesystem::path& LedgerFile() {
    static const std::filesystem::path path = [] {
        const auto file = std::filesystem::temp_directory_path() / fmt::format("granska-bench-ledger-{}.csv", Rows());
        if (!std::filesystem::exists(file)) WriteLedgerCsv(file, Rows());
        return file;
    }();
    return path;
}

void ReportRate(benchmark::State& state, int64_t rows) {
    state.SetItemsProcessed(state.iterations() * rows);
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::filesystem::file_size(LedgerFile())));
    state.counters["rows"] = static_cast<double>(rows);
}

void BM_ParseCsv(benchmark::State& state) {
    const auto& file = LedgerFile();
    int64_t rows = 0;
    for (auto _ : state) {
        std::ifstream in(file, std::ios::binary);
        rows = 0;
        auto summary = ingest::ReadCsv(in, {.file_name = "bench.csv"}, [&rows](std::span<Transaction> batch) {
            rows += std::ssize(batch);
            return Expected<void>{};
        });
        if (!summary || rows != Rows()) state.SkipWithError("parse failed or lost rows");
    }
    ReportRate(state, rows);
}

void IngestInto(benchmark::State& state, const std::function<std::unique_ptr<store::Store>()>& open) {
    const auto& file = LedgerFile();
    int64_t rows = 0;
    for (auto _ : state) {
        state.PauseTiming();
        auto store = open();
        store->Migrate();
        const store::Upload upload = store->CreateUpload(
            {.workspace_id = std::string(store::kDefaultWorkspaceId), .filename = "bench.csv", .file_type = "csv"});
        state.ResumeTiming();
        auto report = engine::IngestFile(*store, store::kDefaultWorkspaceId, upload.id, file,
                                         {.csv = {.file_name = "bench.csv"}});
        state.PauseTiming();
        rows = report ? report->rows : 0;
        const auto stored = store->GetUpload(store::kDefaultWorkspaceId, upload.id);
        if (!report || rows != Rows() || !stored || stored->row_count != Rows()) {
            state.SkipWithError(report ? "row count mismatch" : report.error().message.c_str());
        }
        state.ResumeTiming();
    }
    ReportRate(state, rows);
}

void BM_IngestSqlite(benchmark::State& state) {
    const auto dir = std::filesystem::temp_directory_path() / "granska-bench-sqlite";
    IngestInto(state, [&dir] {
        std::filesystem::remove_all(dir);
        return store::OpenSqliteStore((dir / "bench.db").string());
    });
    std::filesystem::remove_all(dir);
}

void BM_IngestPostgres(benchmark::State& state) {
    const char* url = std::getenv("GRANSKA_BENCH_POSTGRES_URL");
    if (url == nullptr) {
        for (auto _ : state) state.SkipWithError("set GRANSKA_BENCH_POSTGRES_URL (scripts/bench.sh does)");
        return;
    }
    IngestInto(state, [url] { return store::OpenPostgresStore(url); });
}

BENCHMARK(BM_ParseCsv)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_IngestSqlite)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_IngestPostgres)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace granska::bench

BENCHMARK_MAIN();
