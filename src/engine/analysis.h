#pragma once
// Runs a strategy over an upload: loads the rows once into a TransactionFrame, runs the strategy's
// algorithms in parallel on it, combines their scores, applies the threshold, ranks, collects reasons,
// and writes anomaly_scores, analysis_results and the rule-based algorithms' rule_flags ("<label>.<rule>") in one
// transaction (Store::BeginRunResults).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/expected.h"
#include "detect/registry.h"
#include "store/store.h"
#include "strategy/strategy.h"
#include "transform/frame.h"

namespace granska::engine {

// stage: "loading" | "<algorithm label>" | "combining" | "writing" | "done"; fraction of the whole run, 0..1. Called
// from the algorithm threads too, one call at a time.
using ProgressFn = std::function<void(std::string_view stage, double fraction)>;

struct AnalysisOptions {
    size_t max_threads = 0;  // algorithms run at once; 0 = hardware concurrency
    ProgressFn progress;
    // The run's stored progress (Run::progress, stage, progress_detail) is written on every change of stage or
    // algorithm state and otherwise at most once per interval.
    std::chrono::milliseconds progress_interval{250};
    // Saved models by algorithm label (docs/models.md), scored with instead of fitting: the CLI's --models. They take
    // precedence over a strategy's model_run.
    std::map<std::string, std::string, std::less<>> models;
    // Set by another thread to stop the run: it ends within a second with RunCancelled(), writing nothing and leaving
    // the run's status to the caller.
    const std::atomic<bool>* cancelled = nullptr;
    // A job runs the analysis: an exception leaves the run's status alone (the job retries it or fails it).
    bool retried_by_caller = false;
};

// The error of a run stopped through AnalysisOptions::cancelled (code "cancelled").
Error RunCancelled();

struct AnalysisOutcome {
    transform::TransactionFrame frame;
    std::vector<std::string> algorithm_names;           // strategy order
    std::vector<std::vector<double>> algorithm_scores;  // [algorithm][row]
    std::vector<double> score;                          // combined, per row in file order
    std::vector<uint8_t> flagged;
    std::vector<int64_t> rank;                      // 1 = most anomalous
    std::vector<std::vector<std::string>> reasons;  // most important first, at most three
    int64_t flagged_count = 0;
    std::string metadata;  // what the run recorded (JSON)
    // The models this run fitted, by algorithm label (also saved in the store with the run).
    std::vector<std::pair<std::string, std::string>> models;
};

// Combines per-algorithm outputs into the strategy's verdicts; pure, used by RunAnalysis.
struct Combined {
    std::vector<double> score;
    std::vector<uint8_t> flagged;
    std::vector<int64_t> rank;
    std::vector<std::vector<std::string>> reasons;
    int64_t flagged_count = 0;
};
// vouchers (the frame's voucher column) is needed for a strategy that combines per voucher.
Combined Combine(const strategy::Strategy& strategy, std::span<const detect::AlgorithmOutput> outputs,
                 std::span<const int64_t> row_number, const transform::CategoryColumn* vouchers = nullptr);

// Runs the stored run (Store::CreateRun), keeping its stored progress and per-algorithm state (Run::progress_detail,
// docs/progress.md) up to date. On an invalid strategy or a failing algorithm the run is marked failed and the error
// returned ("Algorithm '<label>' failed: …"; the other algorithms are cancelled, nothing is written); store failures
// throw after marking the run failed (unless retried_by_caller). A cancelled run returns RunCancelled() and is not
// marked at all.
Expected<AnalysisOutcome> RunAnalysis(store::Store& store, const detect::Registry& registry,
                                      std::string_view workspace_id, std::string_view run_id,
                                      const AnalysisOptions& options);

}  // namespace granska::engine
