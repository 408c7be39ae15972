// Pipeline throughput on SQLite and PostgreSQL: parse + transform + bulk write (ingest); and a
// whole analysis of the ingested upload with the default strategy (load frame, zscore, combine, write results).
// Rows: GRANSKA_BENCH_ROWS (default 1 000 000). PostgreSQL: GRANSKA_BENCH_POSTGRES_URL (skipped without it).
// Each iteration checks that every row arrived before the time counts.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "ingest/csv_reader.h"
#include "ledger_generator.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "strategy/strategy.h"

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
        const engine::IngestReport report = engine::IngestFile(*store, store::kDefaultWorkspaceId, upload.id, file,
                                                               {.parse = {.file_name = "bench.csv"}});
        state.PauseTiming();
        rows = report.rows;
        const auto stored = store->GetUpload(store::kDefaultWorkspaceId, upload.id);
        if (!report.ok() || rows != Rows() || !stored || stored->row_count != Rows()) {
            state.SkipWithError(report.ok() ? "row count mismatch" : report.parse.error->message.c_str());
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

// Ingests once (untimed), then times RunAnalysis; checks that every row got a result and 1 % is flagged.
void AnalyzeIn(benchmark::State& state, store::Store& store) {
    store.Migrate();
    const store::Upload upload = store.CreateUpload(
        {.workspace_id = std::string(store::kDefaultWorkspaceId), .filename = "bench.csv", .file_type = "csv"});
    const engine::IngestReport ingested = engine::IngestFile(store, store::kDefaultWorkspaceId, upload.id, LedgerFile(),
                                                             {.parse = {.file_name = "bench.csv"}});
    if (!ingested.ok()) {
        for (auto _ : state) state.SkipWithError(ingested.parse.error->message.c_str());
        return;
    }
    detect::Registry registry;
    detect::RegisterBuiltinAlgorithms(registry);
    const std::string configuration(strategy::FindPreset(strategy::kDefaultPreset)->json);
    for (auto _ : state) {
        state.PauseTiming();
        const store::Run run = store.CreateRun({.workspace_id = std::string(store::kDefaultWorkspaceId),
                                                .upload_id = upload.id,
                                                .strategy_name = "bench",
                                                .configuration = configuration});
        state.ResumeTiming();
        auto outcome = engine::RunAnalysis(store, registry, store::kDefaultWorkspaceId, run.id, {});
        state.PauseTiming();
        const int64_t expected_flagged = (Rows() + 99) / 100;
        if (!outcome || std::ssize(outcome->score) != Rows() || outcome->flagged_count != expected_flagged ||
            store.ListResults(store::kDefaultWorkspaceId, run.id, {.limit = 1}).total != Rows()) {
            state.SkipWithError("analysis failed or lost rows");
        }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * Rows());
}

void BM_AnalyzeSqlite(benchmark::State& state) {
    const auto dir = std::filesystem::temp_directory_path() / "granska-bench-analyze-sqlite";
    std::filesystem::remove_all(dir);
    {
        auto store = store::OpenSqliteStore((dir / "bench.db").string());
        AnalyzeIn(state, *store);
    }
    std::filesystem::remove_all(dir);
}

void BM_AnalyzePostgres(benchmark::State& state) {
    const char* url = std::getenv("GRANSKA_BENCH_POSTGRES_URL");
    if (url == nullptr) {
        for (auto _ : state) state.SkipWithError("set GRANSKA_BENCH_POSTGRES_URL (scripts/bench.sh does)");
        return;
    }
    auto store = store::OpenPostgresStore(url);
    AnalyzeIn(state, *store);
}

BENCHMARK(BM_IngestSqlite)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_IngestPostgres)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_AnalyzeSqlite)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();
BENCHMARK(BM_AnalyzePostgres)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

}  // namespace
}  // namespace granska::bench

BENCHMARK_MAIN();
