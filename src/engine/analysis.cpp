#include "engine/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <thread>

#include "detect/ml/model.h"
#include "engine/calibration.h"
#include "engine/detail/run_algorithms.h"

namespace granska::engine {

namespace {

using detail::AlgorithmState;
using detail::Clock;
using detail::kAlgorithmShare;
using detail::kCombineShare;
using detail::kLoadShare;
using detail::MillisecondsSince;

// Rows per bulk write: bounded memory however large the upload.
constexpr size_t kWriteChunk = 8192;

// Unwinds a cancelled run out of its nested write loops; the uncommitted writer rolls back on the way.
struct CancelledWrite {};

}  // namespace

Combined Combine(const strategy::Strategy& strategy, std::span<const detect::AlgorithmOutput> outputs,
                 std::span<const int64_t> row_number, const transform::CategoryColumn* vouchers) {
    const size_t rows = row_number.size();
    Combined combined;
    combined.score.assign(rows, 0.0);
    double total_weight = 0.0;
    for (const auto& spec : strategy.algorithms) total_weight += spec.weight;
    // Noisy-or sums w·ln(1 − s) first; 1 − exp(sum) at the end. A score of 1 is held just below 1 so that weights
    // still order rows that some algorithm is certain about.
    constexpr double kCertain = 1.0 - 1e-12;
    for (size_t a = 0; a < outputs.size(); ++a) {
        const double weight = strategy.algorithms[a].weight;
        for (size_t i = 0; i < rows; ++i) {
            const double s = std::clamp(outputs[a].score[i], 0.0, 1.0);
            switch (strategy.combine) {
                case strategy::CombineMethod::kMax: combined.score[i] = std::max(combined.score[i], s); break;
                case strategy::CombineMethod::kNoisyOr:
                    combined.score[i] += weight * std::log1p(-std::min(s, kCertain));
                    break;
                case strategy::CombineMethod::kWeightedMean: combined.score[i] += weight * s / total_weight; break;
                case strategy::CombineMethod::kAverageOfMaximum: break;  // below, by group
            }
        }
    }
    if (strategy.combine == strategy::CombineMethod::kNoisyOr) {
        for (double& score : combined.score) score = -std::expm1(score);
    }
    if (strategy.combine == strategy::CombineMethod::kAverageOfMaximum) {
        // Groups in order of first appearance; each weighs the mean weight of its members.
        std::vector<std::string_view> groups;
        std::vector<size_t> group_of(outputs.size());
        std::vector<double> group_weight;
        std::vector<size_t> members;
        for (size_t a = 0; a < outputs.size(); ++a) {
            const std::string& group = strategy.algorithms[a].group;
            const auto it = std::find(groups.begin(), groups.end(), group);
            group_of[a] = static_cast<size_t>(it - groups.begin());
            if (it == groups.end()) {
                groups.push_back(group);
                group_weight.push_back(0.0);
                members.push_back(0);
            }
            group_weight[group_of[a]] += strategy.algorithms[a].weight;
            ++members[group_of[a]];
        }
        double weight_sum = 0.0;
        for (size_t g = 0; g < groups.size(); ++g) {
            group_weight[g] /= static_cast<double>(members[g]);
            weight_sum += group_weight[g];
        }
        std::vector<double> maximum(groups.size());
        for (size_t i = 0; i < rows; ++i) {
            std::fill(maximum.begin(), maximum.end(), 0.0);
            for (size_t a = 0; a < outputs.size(); ++a) {
                maximum[group_of[a]] = std::max(maximum[group_of[a]], std::clamp(outputs[a].score[i], 0.0, 1.0));
            }
            double sum = 0.0;
            for (size_t g = 0; g < groups.size(); ++g) sum += group_weight[g] * maximum[g];
            combined.score[i] = sum / weight_sum;
        }
    }

    // Per voucher: each line takes its voucher's highest score (the first line with it, in file order).
    std::vector<int64_t> inherited_from(rows, -1);
    if (strategy.per_voucher && vouchers != nullptr) {
        std::vector<int64_t> best(vouchers->values.size(), -1);
        for (size_t i = 0; i < rows; ++i) {
            const auto code = static_cast<size_t>(vouchers->codes[i]);
            if (vouchers->values[code].empty()) continue;
            if (best[code] < 0 || combined.score[i] > combined.score[static_cast<size_t>(best[code])]) {
                best[code] = static_cast<int64_t>(i);
            }
        }
        for (size_t i = 0; i < rows; ++i) {
            const auto code = static_cast<size_t>(vouchers->codes[i]);
            if (best[code] < 0) continue;
            const auto top = static_cast<size_t>(best[code]);
            if (combined.score[top] > combined.score[i]) inherited_from[i] = best[code];
        }
        for (size_t i = 0; i < rows; ++i) {
            if (inherited_from[i] >= 0) combined.score[i] = combined.score[static_cast<size_t>(inherited_from[i])];
        }
    }

    // Rank: score descending, file order among equals.
    std::vector<size_t> order(rows);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (combined.score[a] != combined.score[b]) return combined.score[a] > combined.score[b];
        return row_number[a] < row_number[b];
    });
    combined.rank.assign(rows, 0);
    for (size_t r = 0; r < rows; ++r) combined.rank[order[r]] = static_cast<int64_t>(r + 1);

    combined.flagged.assign(rows, 0);
    const strategy::Threshold& threshold = strategy.threshold;
    size_t limit = rows;
    if (threshold.type == strategy::ThresholdType::kTopPercent) {
        limit = static_cast<size_t>(std::ceil(static_cast<double>(rows) * threshold.value / 100.0 - 1e-9));
    } else if (threshold.type == strategy::ThresholdType::kTopK) {
        limit = static_cast<size_t>(threshold.value);
    } else if (threshold.type == strategy::ThresholdType::kContamination) {
        limit = static_cast<size_t>(std::ceil(static_cast<double>(rows) * threshold.value - 1e-9));
    }
    for (size_t r = 0; r < std::min(limit, rows); ++r) {
        const size_t i = order[r];
        const bool passes = threshold.type == strategy::ThresholdType::kScore ? combined.score[i] >= threshold.value
                                                                              : combined.score[i] > 0.0;
        if (!passes) break;
        combined.flagged[i] = 1;
        ++combined.flagged_count;
    }

    // Reasons: each algorithm's own sentence, strongest contribution first; after the first, only those of
    // algorithms that score the row at least kReasonScore (a faint finding would bury the real ones).
    constexpr double kReasonScore = 0.25;
    combined.reasons.resize(rows);
    std::vector<std::pair<double, size_t>> contributions;
    for (size_t i = 0; i < rows; ++i) {
        contributions.clear();
        for (size_t a = 0; a < outputs.size(); ++a) {
            if (!outputs[a].reason[i].empty()) {
                contributions.emplace_back(strategy.algorithms[a].weight * outputs[a].score[i], a);
            }
        }
        std::stable_sort(contributions.begin(), contributions.end(),
                         [](const auto& x, const auto& y) { return x.first > y.first; });
        for (size_t k = 0; k < std::min<size_t>(3, contributions.size()); ++k) {
            const size_t a = contributions[k].second;
            if (k > 0 && outputs[a].score[i] < kReasonScore) break;
            combined.reasons[i].push_back(outputs[a].reason[i]);
        }
    }
    // A line that scores by its voucher says why, first: the voucher's top line and that line's first reason.
    std::vector<std::string> voucher_reason(rows);
    for (size_t i = 0; i < rows; ++i) {
        if (inherited_from[i] < 0) continue;
        const auto top = static_cast<size_t>(inherited_from[i]);
        if (combined.reasons[top].empty()) continue;
        const std::string& voucher = vouchers->values[static_cast<size_t>(vouchers->codes[i])];
        voucher_reason[i] = fmt::format("Voucher {}, row {}: {}", voucher, row_number[top], combined.reasons[top][0]);
    }
    for (size_t i = 0; i < rows; ++i) {
        if (voucher_reason[i].empty()) continue;
        auto& reasons = combined.reasons[i];
        reasons.insert(reasons.begin(), std::move(voucher_reason[i]));
        if (reasons.size() > 3) reasons.resize(3);
    }
    return combined;
}

Error RunCancelled() { return Conflict("cancelled", "The analysis was cancelled."); }

Expected<AnalysisOutcome> RunAnalysis(store::Store& store, const detect::Registry& registry,
                                      std::string_view workspace_id, std::string_view run_id,
                                      const AnalysisOptions& options) {
    auto run = store.GetRun(workspace_id, run_id);
    if (!run) return Unexpected(std::move(run).error());
    auto stopped = [&] { return options.cancelled != nullptr && options.cancelled->load(); };
    auto fail = [&](Error error) -> Expected<AnalysisOutcome> {
        if (stopped()) return Unexpected(RunCancelled());
        store.FailRun(workspace_id, run_id, error.message);
        return Unexpected(std::move(error));
    };
    try {
        auto parsed = strategy::ParseStrategy(run->configuration, registry);
        if (!parsed) return fail(std::move(parsed).error());
        const strategy::Strategy& strategy = *parsed;
        const auto run_start = Clock::now();
        detail::ProgressTracker tracker(
            strategy, options.progress,
            [&](std::string_view stage, double fraction, const std::string& progress_detail) {
                store.UpdateRunProgress(workspace_id, run_id, stage, fraction, progress_detail);
            },
            options.progress_interval);

        auto models = detail::SavedModels(store, workspace_id, strategy, options.models);
        if (!models) return fail(std::move(models).error());

        tracker.Stage("loading", 0.0, /*stored=*/true);
        auto start = Clock::now();
        AnalysisOutcome outcome;
        outcome.frame =
            transform::LoadFrame(store, workspace_id, run->upload_id, detail::RawColumnsUsed(strategy, *models));
        const double load_ms = MillisecondsSince(start);
        if (stopped()) return Unexpected(RunCancelled());
        tracker.Stage(strategy.algorithms.front().label, kLoadShare, /*stored=*/true);

        std::vector<double> algorithm_ms;
        auto outputs = detail::RunAlgorithms(strategy, outcome.frame, *models, detail::ThreadCount(options.max_threads),
                                             tracker, algorithm_ms, options.cancelled);
        if (!outputs) return fail(std::move(outputs).error());

        tracker.Stage("combining", kLoadShare + kAlgorithmShare, /*stored=*/true);
        start = Clock::now();
        const std::vector<CalibrationFit> calibration = detail::Calibrate(strategy, *models, *outputs);
        Combined combined = Combine(strategy, *outputs, outcome.frame.row_number, &outcome.frame.voucher);
        const double combine_ms = MillisecondsSince(start);

        const size_t rows = outcome.frame.size();
        size_t flag_count = 0;
        for (const detect::AlgorithmOutput& output : *outputs) flag_count += output.flags.size();
        nlohmann::json algorithms = nlohmann::json::array();
        nlohmann::json seeds = nlohmann::json::object();
        nlohmann::json algorithm_timings = nlohmann::json::object();
        for (size_t a = 0; a < outputs->size(); ++a) {
            nlohmann::json effective = detail::EffectiveParams(registry, strategy.algorithms[a]);
            if (effective.contains("seed")) seeds[strategy.algorithms[a].label] = effective["seed"];
            algorithm_timings[strategy.algorithms[a].label] = algorithm_ms[a];
            nlohmann::json entry = {{"name", strategy.algorithms[a].name},
                                    {"label", strategy.algorithms[a].label},
                                    {"weight", strategy.algorithms[a].weight},
                                    {"params", nlohmann::json::parse(strategy.algorithms[a].params)},
                                    {"effective_params", std::move(effective)},
                                    {"calibration", calibration[a].ToJson()},
                                    {"flags", (*outputs)[a].flags.size()},
                                    {"ms", algorithm_ms[a]}};
            if (!(*models)[a].document.empty()) {
                entry["model"] = strategy.algorithms[a].model_run.empty() || options.models.contains(strategy.algorithms[a].label)
                                     ? nlohmann::json("given")
                                     : nlohmann::json(strategy.algorithms[a].model_run);
            } else if (!(*outputs)[a].model.empty()) {
                entry["model"] = "fitted";
            }
            algorithms.push_back(std::move(entry));
        }
        nlohmann::json metadata = {
            {"granska_version", GRANSKA_VERSION},
            {"strategy", strategy.name},
            {"strategy_id", run->strategy_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(run->strategy_id)},
            {"strategy_version", run->strategy_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(run->strategy_version)},
            {"seeds", std::move(seeds)},
            {"rows", rows},
            {"flagged", combined.flagged_count},
            {"flags", flag_count},
            {"algorithms", algorithms},
            {"combine", strategy::CombineMethodName(strategy.combine)},
            {"per_voucher", strategy.per_voucher},
            {"threshold",
             {{"type", strategy::ThresholdTypeName(strategy.threshold.type)}, {"value", strategy.threshold.value}}},
            // The write itself is not timed: its time is known only once it has committed.
            {"timings",
             {{"load_ms", load_ms},
              {"algorithms", std::move(algorithm_timings)},
              {"combine_ms", combine_ms},
              {"before_write_ms", MillisecondsSince(run_start)}}},
        };
        outcome.metadata = metadata.dump();

        // Written in chunks, never all rows at once. The writer holds the run (and on SQLite the database) until
        // Commit, so progress goes to the caller only, not to the store.
        tracker.Stage("writing", kLoadShare + kAlgorithmShare + kCombineShare, /*stored=*/true);
        const double write_start = kLoadShare + kAlgorithmShare + kCombineShare;
        const double total_rows = static_cast<double>(rows * (outputs->size() + 1) + flag_count);
        double written = 0;
        if (stopped()) return Unexpected(RunCancelled());
        std::unique_ptr<store::RunResultWriter> writer = store.BeginRunResults(workspace_id, run_id);
        std::vector<store::AlgorithmScore> scores;
        scores.reserve(kWriteChunk);
        auto count_written = [&](size_t count) {
            written += static_cast<double>(count);
            tracker.Stage("writing", write_start + (1.0 - write_start) * written / total_rows, /*stored=*/false);
        };
        auto flush_scores = [&] {
            if (stopped()) throw CancelledWrite{};
            writer->WriteScores(scores);
            count_written(scores.size());
            scores.clear();
        };
        for (size_t a = 0; a < outputs->size(); ++a) {
            for (size_t i = 0; i < rows; ++i) {
                scores.push_back({.transaction_id = outcome.frame.id[i],
                                  .algorithm = strategy.algorithms[a].label,
                                  .score = (*outputs)[a].score[i],
                                  .confidence = (*outputs)[a].confidence[i],
                                  .reason = (*outputs)[a].reason[i]});
                if (scores.size() == kWriteChunk) flush_scores();
            }
        }
        if (!scores.empty()) flush_scores();
        std::vector<store::AnalysisResult> results;
        results.reserve(kWriteChunk);
        for (size_t begin = 0; begin < rows; begin += kWriteChunk) {
            results.clear();
            for (size_t i = begin; i < std::min(rows, begin + kWriteChunk); ++i) {
                results.push_back({.transaction_id = outcome.frame.id[i],
                                   .score = combined.score[i],
                                   .flagged = combined.flagged[i] != 0,
                                   .rank = combined.rank[i],
                                   .reasons = nlohmann::json(combined.reasons[i]).dump()});
            }
            writer->WriteResults(results);
            count_written(results.size());
        }
        std::vector<store::RuleFlag> flags;
        flags.reserve(std::min(kWriteChunk, flag_count));
        auto flush_flags = [&] {
            writer->WriteFlags(flags);
            count_written(flags.size());
            flags.clear();
        };
        for (size_t a = 0; a < outputs->size(); ++a) {
            for (const detect::RuleFlag& flag : (*outputs)[a].flags) {
                flags.push_back({.transaction_id = outcome.frame.id[flag.row],
                                 .rule_name = fmt::format("{}.{}", strategy.algorithms[a].label, flag.rule),
                                 .triggered = flag.triggered,
                                 .flag_value = flag.value,
                                 .metadata = flag.metadata});
                if (flags.size() == kWriteChunk) flush_flags();
            }
        }
        if (!flags.empty()) flush_flags();
        for (size_t a = 0; a < outputs->size(); ++a) {
            if ((*outputs)[a].model.empty()) continue;
            writer->WriteModel({.label = strategy.algorithms[a].label,
                                .algorithm = strategy.algorithms[a].name,
                                .version = detect::kModelVersion,
                                .document = (*outputs)[a].model});
        }
        writer->Commit(outcome.metadata);
        tracker.Stage("done", 1.0, /*stored=*/false);

        for (size_t a = 0; a < outputs->size(); ++a) {
            outcome.algorithm_names.push_back(strategy.algorithms[a].label);
            outcome.algorithm_scores.push_back(std::move((*outputs)[a].score));
            if (!(*outputs)[a].model.empty()) {
                outcome.models.emplace_back(strategy.algorithms[a].label, std::move((*outputs)[a].model));
            }
        }
        outcome.score = std::move(combined.score);
        outcome.flagged = std::move(combined.flagged);
        outcome.rank = std::move(combined.rank);
        outcome.reasons = std::move(combined.reasons);
        outcome.flagged_count = combined.flagged_count;
        return outcome;
    } catch (const CancelledWrite&) {
        return Unexpected(RunCancelled());  // the writer rolled back on the way out
    } catch (const std::exception& e) {
        if (!options.retried_by_caller) {
            store.FailRun(workspace_id, run_id, fmt::format("The analysis stopped: {}", e.what()));
        }
        throw;
    }
}

}  // namespace granska::engine
