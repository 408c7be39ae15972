// Time of every built-in algorithm on a generated ledger (bench/ledger_generator.h) of GRANSKA_BENCH_ROWS lines
// (default 1 000 000), and on its first 1/8, 1/4 and 1/2, so that Google Benchmark fits each algorithm's
// complexity in rows (the "_BigO" lines): none may be quadratic. The frame is built once per size, outside the
// timing; each run checks that every row got a score in [0, 1] before its time counts.
//
//   build/release/bench/granska_algorithms_benchmark [--benchmark_filter=benford]

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "detect/registry.h"
#include "ingest/csv_reader.h"
#include "ledger_generator.h"
#include "transform/frame.h"

namespace granska::bench {
namespace {

int64_t Rows() {
    const char* rows = std::getenv("GRANSKA_BENCH_ROWS");
    return rows != nullptr ? std::stoll(rows) : 1'000'000;
}

// Parameters for algorithms whose defaults do nothing on a generic ledger.
const std::map<std::string, std::string, std::less<>> kBenchParams = {
    {"account_rules",
     R"({"rules": {"5*": {"max_amount": 20000, "allowed_weekdays": [1, 2, 3, 4, 5]},
                   "1930": {"allowed_users": ["AA", "BB"]}}})"},
    {"clustering", R"({"method": "gmm", "components": 8, "covariance": "diagonal"})"},
};

const std::vector<store::StoredTransaction>& LedgerRows() {
    static const std::vector<store::StoredTransaction> rows = [] {
        const auto file = std::filesystem::temp_directory_path() / fmt::format("granska-bench-ledger-{}.csv", Rows());
        if (!std::filesystem::exists(file)) WriteLedgerCsv(file, Rows());
        std::vector<store::StoredTransaction> out;
        out.reserve(static_cast<size_t>(Rows()));
        std::ifstream in(file, std::ios::binary);
        const ingest::ParseReport report =
            ingest::ReadCsv(in, {.file_name = file.filename().string()}, [&](std::span<Transaction> batch) {
                for (Transaction& t : batch) {
                    out.push_back({.id = std::to_string(out.size() + 1), .transaction = std::move(t)});
                }
                return Expected<void>{};
            });
        if (!report.ok() || std::ssize(out) != Rows()) throw std::runtime_error("the generated ledger did not parse");
        return out;
    }();
    return rows;
}

const transform::TransactionFrame& Frame(int64_t rows) {
    static std::map<int64_t, transform::TransactionFrame> frames;
    auto it = frames.find(rows);
    if (it == frames.end()) {
        transform::FrameBuilder builder;
        builder.Append(std::span(LedgerRows()).first(static_cast<size_t>(rows)));
        it = frames.emplace(rows, std::move(builder).Finish()).first;
    }
    return it->second;
}

void RunAlgorithm(benchmark::State& state, const detect::Registry& registry, const std::string& name) {
    const auto params_it = kBenchParams.find(name);
    const nlohmann::json params = nlohmann::json::parse(params_it == kBenchParams.end() ? "{}" : params_it->second);
    auto algorithm = registry.Create(name, params, "params");
    if (!algorithm) return state.SkipWithError(algorithm.error().message.c_str());
    const int64_t rows = state.range(0);
    const transform::TransactionFrame& frame = Frame(rows);
    for (auto _ : state) {
        auto output = (*algorithm)->Run(frame, {});
        state.PauseTiming();
        if (!output) return state.SkipWithError(output.error().message.c_str());
        if (std::ssize(output->score) != rows) return state.SkipWithError("wrong number of scores");
        for (const double s : output->score) {
            if (!(s >= 0.0 && s <= 1.0)) return state.SkipWithError("a score outside [0, 1]");
        }
        state.counters["flags"] = static_cast<double>(output->flags.size());
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * rows);
    state.SetComplexityN(rows);
}

}  // namespace
}  // namespace granska::bench

int main(int argc, char** argv) {
    using namespace granska;
    static detect::Registry registry;
    detect::RegisterBuiltinAlgorithms(registry);
    const int64_t rows = bench::Rows();
    for (const detect::AlgorithmInfo* info : registry.List()) {
        benchmark::RegisterBenchmark(info->name.c_str(), bench::RunAlgorithm, std::cref(registry), info->name)
            ->Arg(rows / 8)
            ->Arg(rows / 4)
            ->Arg(rows / 2)
            ->Arg(rows)
            ->Unit(benchmark::kMillisecond)
            ->Complexity();
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
