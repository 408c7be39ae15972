#include "engine/preview.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "core/date.h"
#include "core/money.h"
#include "engine/detail/run_algorithms.h"
#include "transform/frame.h"

namespace granska::engine {

namespace {

using detail::Clock;
using detail::MillisecondsSince;

constexpr size_t kTopExamples = 10;
constexpr size_t kBins = 20;

// Writing a run's rows (anomaly_scores, analysis_results, rule_flags) and committing, microseconds per row: measured
// with granska analyze (RelWithDebInfo) on a 100 000-line ledger, quick-scan, 200 000 rows written (docs/progress.md).
double WriteMicrosPerRow(std::string_view backend) { return backend == "postgresql" ? 26.0 : 19.5; }

// n·log₂ n, at least n (so 1 row does not cost nothing).
double NLogN(double n) { return n * std::max(1.0, std::log2(std::max(n, 2.0))); }

// Nearest-rank quantile of sorted values.
double Quantile(std::span<const double> sorted, double q) {
    if (sorted.empty()) return 0.0;
    const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// The full upload's flagged rows by the threshold: a share for a score threshold, the threshold's own count for the
// others, never more than the rows the sample says score above 0.
int64_t ExpectedFlagged(const strategy::Threshold& threshold, int64_t upload_rows, double flagged_share,
                        double positive_share) {
    const double n = static_cast<double>(upload_rows);
    double limit = n;
    switch (threshold.type) {
        case strategy::ThresholdType::kScore: return std::llround(flagged_share * n);
        case strategy::ThresholdType::kTopPercent: limit = std::ceil(n * threshold.value / 100.0 - 1e-9); break;
        case strategy::ThresholdType::kTopK: limit = threshold.value; break;
        case strategy::ThresholdType::kContamination: limit = std::ceil(n * threshold.value - 1e-9); break;
    }
    return static_cast<int64_t>(std::min(limit, std::round(positive_share * n)));
}

}  // namespace

std::string SampleKey(const Transaction& row) {
    if (row.voucher_number.empty()) return "row:" + row.external_id;
    return fmt::format("voucher:{} {}", row.voucher_series, row.voucher_number);
}

uint64_t SampleHash(std::string_view key, uint64_t seed) {
    uint64_t hash = 0xcbf29ce484222325ull ^ seed;
    for (const char c : key) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ull;
    }
    hash ^= hash >> 30;
    hash *= 0xbf58476d1ce4e5b9ull;
    hash ^= hash >> 27;
    hash *= 0x94d049bb133111ebull;
    hash ^= hash >> 31;
    return hash;
}

std::vector<store::StoredTransaction> SampleUpload(store::Store& store, std::string_view workspace_id,
                                                   std::string_view upload_id, const PreviewOptions& options) {
    // Units by (hash, key), ascending; a unit at or past the cutoff has been dropped for good.
    using UnitKey = std::pair<uint64_t, std::string>;
    std::map<UnitKey, std::vector<store::StoredTransaction>> kept;
    std::optional<UnitKey> cutoff;
    size_t kept_rows = 0;
    store.ForEachTransaction(workspace_id, upload_id, 8192, [&](std::span<const store::StoredTransaction> batch) {
        for (const store::StoredTransaction& row : batch) {
            std::string key = SampleKey(row.transaction);
            UnitKey unit{SampleHash(key, options.seed), std::move(key)};
            if (cutoff && unit >= *cutoff) continue;
            kept[std::move(unit)].push_back(row);
            ++kept_rows;
            while (kept_rows > options.max_rows) {
                const auto last = std::prev(kept.end());
                kept_rows -= last->second.size();
                cutoff = last->first;
                kept.erase(last);
            }
        }
    });
    std::vector<store::StoredTransaction> rows;
    rows.reserve(kept_rows);
    for (auto& [unit, unit_rows] : kept) {
        for (store::StoredTransaction& row : unit_rows) rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return a.transaction.row_number < b.transaction.row_number;
    });
    return rows;
}

Expected<PreviewReport> PreviewStrategy(store::Store& store, std::string_view workspace_id,
                                        std::string_view upload_id, const strategy::Strategy& strategy,
                                        const PreviewOptions& options) {
    const auto preview_start = Clock::now();
    auto upload = store.GetUpload(workspace_id, upload_id);
    if (!upload) return Unexpected(std::move(upload).error());
    if (upload->status != "completed") {
        return Unexpected(Conflict("upload_not_ready",
                                   fmt::format("The upload is {}; only a completed upload can be previewed.",
                                               upload->status)));
    }
    auto models = detail::SavedModels(store, workspace_id, strategy, {});
    if (!models) return Unexpected(std::move(models).error());

    auto start = Clock::now();
    const std::vector<store::StoredTransaction> sample = SampleUpload(store, workspace_id, upload_id, options);
    const double scan_ms = MillisecondsSince(start);
    start = Clock::now();
    transform::FrameOptions frame_options = transform::FrameOptionsFromMetadata(upload->metadata);
    frame_options.raw_columns = detail::RawColumnsUsed(strategy, *models);
    transform::FrameBuilder builder(std::move(frame_options));
    builder.Append(sample);
    const transform::TransactionFrame frame = std::move(builder).Finish();
    const double build_ms = MillisecondsSince(start);

    detail::ProgressTracker tracker(strategy, {}, {}, std::chrono::milliseconds(0));
    std::vector<double> algorithm_ms;
    const size_t threads = detail::ThreadCount(options.max_threads);
    auto outputs = detail::RunAlgorithms(strategy, frame, *models, threads, tracker, algorithm_ms);
    if (!outputs) return Unexpected(std::move(outputs).error());
    start = Clock::now();
    detail::Calibrate(strategy, *models, *outputs);
    const Combined combined = Combine(strategy, *outputs, frame.row_number, &frame.voucher);
    const double combine_ms = MillisecondsSince(start);

    PreviewReport report;
    const size_t rows = frame.size();
    report.upload_rows = upload->row_count;
    report.sample_rows = static_cast<int64_t>(rows);
    report.flagged_in_sample = combined.flagged_count;
    int64_t positive = 0;
    for (const double score : combined.score) {
        ++report.histogram[std::min(kBins - 1, static_cast<size_t>(std::max(0.0, score) * kBins))];
        if (score > 0.0) ++positive;
    }
    if (rows > 0) {
        report.flagged_share = static_cast<double>(combined.flagged_count) / static_cast<double>(rows);
        report.expected_flagged =
            ExpectedFlagged(strategy.threshold, upload->row_count, report.flagged_share,
                            static_cast<double>(positive) / static_cast<double>(rows));
    }

    // Each flagged row's evidence, weight·score per algorithm; its top reason is the algorithm with the most evidence
    // among those giving a reason (as Combine orders reasons).
    const size_t count = outputs->size();
    std::vector<double> evidence(count, 0.0);
    std::vector<int64_t> top_reason(count, 0);
    double total_evidence = 0.0;
    for (size_t i = 0; i < rows; ++i) {
        if (combined.flagged[i] == 0) continue;
        std::optional<size_t> top;
        double top_weighted = 0.0;
        for (size_t a = 0; a < count; ++a) {
            const double weighted = strategy.algorithms[a].weight * std::clamp((*outputs)[a].score[i], 0.0, 1.0);
            evidence[a] += weighted;
            total_evidence += weighted;
            if (!(*outputs)[a].reason[i].empty() && (!top || weighted > top_weighted)) {
                top = a;
                top_weighted = weighted;
            }
        }
        if (top) ++top_reason[*top];
    }

    const double n = static_cast<double>(rows);
    const double big_n = static_cast<double>(upload->row_count);
    const double scale = rows == 0 ? 0.0 : NLogN(big_n) / NLogN(n);
    double algorithms_sum = 0.0;
    double algorithms_max = 0.0;
    size_t flags = 0;
    std::vector<double> sorted;
    for (size_t a = 0; a < count; ++a) {
        sorted.assign((*outputs)[a].score.begin(), (*outputs)[a].score.end());
        std::sort(sorted.begin(), sorted.end());
        PreviewAlgorithm entry{.label = strategy.algorithms[a].label,
                               .name = strategy.algorithms[a].name,
                               .weight = strategy.algorithms[a].weight,
                               .score_share = total_evidence > 0.0 ? evidence[a] / total_evidence : 0.0,
                               .top_reason_count = top_reason[a],
                               .p50 = Quantile(sorted, 0.50),
                               .p90 = Quantile(sorted, 0.90),
                               .p99 = Quantile(sorted, 0.99),
                               .sample_ms = algorithm_ms[a],
                               .estimated_ms = algorithm_ms[a] * scale};
        algorithms_sum += entry.estimated_ms;
        algorithms_max = std::max(algorithms_max, entry.estimated_ms);
        flags += (*outputs)[a].flags.size();
        report.algorithms.push_back(std::move(entry));
    }

    std::vector<size_t> order(rows);
    for (size_t i = 0; i < rows; ++i) order[static_cast<size_t>(combined.rank[i] - 1)] = i;
    for (size_t r = 0; r < std::min(kTopExamples, rows); ++r) {
        const size_t i = order[r];
        PreviewExample example{.row_number = frame.row_number[i],
                               .external_id = frame.external_id[i],
                               .date = Date{frame.date_days[i]}.ToString(),
                               .account = frame.account.values[static_cast<size_t>(frame.account.codes[i])],
                               .amount = Money{frame.amount_minor[i]}.ToString(),
                               .score = combined.score[i],
                               .reasons = combined.reasons[i]};
        for (size_t a = 0; a < count; ++a) {
            example.algorithm_scores.emplace_back(strategy.algorithms[a].label, (*outputs)[a].score[i]);
        }
        report.top.push_back(std::move(example));
    }

    // The estimate: the scan already read every row; the frame, the algorithms and Combine grow with the rows.
    PreviewEstimate& estimate = report.estimate;
    const double linear = rows == 0 ? 0.0 : big_n / n;
    estimate.load_ms = scan_ms + build_ms * linear;
    estimate.algorithms_ms = std::max(algorithms_max, algorithms_sum / static_cast<double>(std::min(threads, count)));
    estimate.combine_ms = combine_ms * scale;
    const double written_rows = big_n * static_cast<double>(count + 1) + static_cast<double>(flags) * linear;
    estimate.write_ms = written_rows * WriteMicrosPerRow(store.Backend()) / 1000.0;
    estimate.total_ms = estimate.load_ms + estimate.algorithms_ms + estimate.combine_ms + estimate.write_ms;
    report.sample_ms = MillisecondsSince(preview_start);
    return report;
}

}  // namespace granska::engine
