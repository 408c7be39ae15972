#pragma once
// A strategy's preview: what a run would find, from a deterministic sample of the upload, without writing anything.
// It lives in the engine rather than in strategy/ (where DESIGN.md places it) because it runs the algorithms and
// Combine exactly as RunAnalysis does.
//
// Sample (docs/progress.md): every row when the upload has at most max_rows; otherwise whole vouchers, chosen by a
// seeded hash of the voucher key ("<series> <number>"), so voucher-level rules see complete entries — a row without
// a voucher number is a unit of its own, keyed by its external id. Units are taken in hash order while the sample
// stays within max_rows (bottom-k sampling): the same upload and seed give the same rows, whatever the file order.
// The whole upload is read once to choose (the cost of a full scan); only the sampled rows are built into the frame.
// Whole-upload features (account_frequency, …) are those of the sample.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/expected.h"
#include "engine/analysis.h"
#include "store/store.h"
#include "strategy/strategy.h"

namespace granska::engine {

inline constexpr size_t kPreviewRows = 10'000;
inline constexpr uint64_t kPreviewSeed = 0x6772616e736b61;  // "granska"

struct PreviewOptions {
    size_t max_rows = kPreviewRows;
    uint64_t seed = kPreviewSeed;
    size_t max_threads = 0;  // algorithms run at once; 0 = hardware concurrency
};

// The sampling unit of a stored row: its voucher key, or its external id when it has no voucher number.
std::string SampleKey(const Transaction& row);
// The unit's place in the sample order: a seeded 64-bit hash of its key (FNV-1a, then splitmix64's finalizer).
uint64_t SampleHash(std::string_view key, uint64_t seed);

// The sampled rows of an upload in file order, at most max_rows (see above).
std::vector<store::StoredTransaction> SampleUpload(store::Store& store, std::string_view workspace_id,
                                                   std::string_view upload_id, const PreviewOptions& options);

struct PreviewAlgorithm {
    std::string label;
    std::string name;
    double weight = 1.0;
    // Of the flagged rows' combined evidence, Σ weight·score summed over the flagged rows, the share this algorithm
    // gives (exact for weighted_mean; for the other combine methods the same weighted-score split, approximately).
    double score_share = 0.0;
    int64_t top_reason_count = 0;  // flagged rows whose first reason is this algorithm's
    double p50 = 0.0;              // its own (calibrated) scores over the sample, nearest rank
    double p90 = 0.0;
    double p99 = 0.0;
    double sample_ms = 0.0;
    double estimated_ms = 0.0;  // on the whole upload
};

struct PreviewExample {
    int64_t row_number = 0;
    std::string external_id;
    std::string date;     // "2024-03-09"
    std::string account;
    std::string amount;   // exact decimal text, "-862.26"
    double score = 0.0;
    std::vector<std::string> reasons;
    std::vector<std::pair<std::string, double>> algorithm_scores;  // by label, strategy order
};

// The full run's time, from the sample's: each algorithm's time scaled by n·log n (n = rows), the load by the
// measured scan of the whole upload plus the frame's per-row build time, the write by a per-row constant of the
// backend (scores, results and flags rows).
struct PreviewEstimate {
    double load_ms = 0.0;
    double algorithms_ms = 0.0;  // in parallel: max(the slowest algorithm, Σ ms / min(threads, algorithms))
    double combine_ms = 0.0;
    double write_ms = 0.0;
    double total_ms = 0.0;
};

struct PreviewReport {
    int64_t upload_rows = 0;
    int64_t sample_rows = 0;
    int64_t flagged_in_sample = 0;
    double flagged_share = 0.0;   // flagged_in_sample / sample_rows
    int64_t expected_flagged = 0; // on the whole upload, by the strategy's threshold
    std::array<int64_t, 20> histogram{};  // combined scores, bin b = [b/20, (b+1)/20), the last includes 1
    std::vector<PreviewAlgorithm> algorithms;
    std::vector<PreviewExample> top;  // the highest-ranked rows of the sample, at most 10
    PreviewEstimate estimate;
    double sample_ms = 0.0;  // what the preview itself took
};

// Previews the strategy on the upload. The upload must exist (NotFound) and be completed (Conflict); a failing
// algorithm's error is returned naming its label.
Expected<PreviewReport> PreviewStrategy(store::Store& store, std::string_view workspace_id,
                                        std::string_view upload_id, const strategy::Strategy& strategy,
                                        const PreviewOptions& options = {});

}  // namespace granska::engine
