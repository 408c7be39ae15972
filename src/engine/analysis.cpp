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

namespace granska::engine {

namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Progress shares of the whole run.
constexpr double kLoadShare = 0.10;
constexpr double kAlgorithmShare = 0.75;
constexpr double kCombineShare = 0.05;
// Rows per bulk write: bounded memory however large the upload.
constexpr size_t kWriteChunk = 8192;

class ProgressTracker {
public:
    ProgressTracker(const ProgressFn& report, size_t algorithms) : report_(report), per_algorithm_(algorithms, 0.0) {}

    void Stage(std::string_view stage, double fraction) {
        std::lock_guard lock(mutex_);
        if (report_) report_(stage, fraction);
    }
    void Algorithm(size_t index, std::string_view name, double fraction) {
        std::lock_guard lock(mutex_);
        per_algorithm_[index] = std::clamp(fraction, 0.0, 1.0);
        const double mean = std::accumulate(per_algorithm_.begin(), per_algorithm_.end(), 0.0) /
                            static_cast<double>(per_algorithm_.size());
        if (report_) report_(name, kLoadShare + kAlgorithmShare * mean);
    }

private:
    const ProgressFn& report_;
    std::mutex mutex_;
    std::vector<double> per_algorithm_;
};

// An output that does not fit the frame is a bug in the algorithm: the run fails rather than store it.
Expected<void> CheckOutput(const detect::AlgorithmOutput& output, size_t rows, std::string_view label) {
    if (output.score.size() != rows || output.confidence.size() != rows || output.reason.size() != rows) {
        return Unexpected(
            Internal(fmt::format("Algorithm '{}' returned {} scores for {} rows.", label, output.score.size(), rows)));
    }
    for (const detect::RuleFlag& flag : output.flags) {
        if (flag.row >= rows) {
            return Unexpected(Internal(fmt::format("Algorithm '{}' flagged row {} of a frame of {} rows (rule '{}').",
                                                   label, flag.row, rows, flag.rule)));
        }
        if (flag.rule.empty()) {
            return Unexpected(
                Internal(fmt::format("Algorithm '{}' flagged row {} without naming the rule.", label, flag.row)));
        }
        if (!flag.metadata.empty() && !nlohmann::json::parse(flag.metadata, nullptr, false).is_object()) {
            return Unexpected(Internal(
                fmt::format("Algorithm '{}' gave rule '{}' metadata that is not a JSON object.", label, flag.rule)));
        }
    }
    return {};
}

// The saved model an algorithm scores with: the document, and what the engine itself needs from it (read once).
struct SavedModel {
    std::string document;                       // "" = fit a model
    std::vector<std::string> columns;           // the numeric features it encodes
    std::optional<CalibrationFit> calibration;  // as the run that fitted it calibrated
};

// The saved model of each algorithm: the caller's (CLI files), else the strategy's model_run. A document the engine
// cannot read is passed on as it is: the algorithm says what is wrong with it.
Expected<std::vector<SavedModel>> SavedModels(store::Store& store, std::string_view workspace_id,
                                              const strategy::Strategy& strategy, const AnalysisOptions& options) {
    std::vector<SavedModel> models(strategy.algorithms.size());
    for (size_t a = 0; a < models.size(); ++a) {
        const strategy::AlgorithmSpec& spec = strategy.algorithms[a];
        SavedModel& model = models[a];
        if (const auto given = options.models.find(spec.label); given != options.models.end()) {
            model.document = given->second;
        } else if (!spec.model_run.empty()) {
            auto saved = store.GetModel(workspace_id, spec.model_run, spec.label);
            if (!saved) {
                return Unexpected(strategy::BadStrategyField(
                    fmt::format("algorithms[{}].model_run", a),
                    fmt::format("Run {} saved no model under the label '{}': name a completed run of this workspace "
                                "whose strategy fitted '{}'.",
                                spec.model_run, spec.label, spec.label)));
            }
            model.document = std::move(saved->document);
        }
        if (model.document.empty()) continue;
        const auto document = nlohmann::json::parse(model.document, nullptr, /*allow_exceptions=*/false);
        if (!document.is_object()) continue;
        if (document.contains("calibration")) model.calibration = CalibrationFit::FromJson(document["calibration"]);
        if (!document.contains("features") || !document["features"].is_object()) continue;
        for (const nlohmann::json& feature : document["features"].value("numeric", nlohmann::json::array())) {
            if (feature.is_object() && feature.contains("name") && feature["name"].is_string()) {
                model.columns.push_back(feature["name"].get<std::string>());
            }
        }
    }
    return models;
}

// The columns of the file the strategy's algorithms (or their saved models) use as features: every name in a
// "features" list that is not a derived feature.
std::vector<std::string> RawColumnsUsed(const strategy::Strategy& strategy, std::span<const SavedModel> models) {
    const auto derived = transform::TransactionFrame::NumericFeatureNames();
    std::vector<std::string> columns;
    auto add = [&](const std::string& name) {
        if (std::find(derived.begin(), derived.end(), name) == derived.end() &&
            std::find(columns.begin(), columns.end(), name) == columns.end()) {
            columns.push_back(name);
        }
    };
    for (size_t a = 0; a < strategy.algorithms.size(); ++a) {
        if (!models[a].document.empty()) {
            for (const std::string& name : models[a].columns) add(name);
            continue;
        }
        const auto params = nlohmann::json::parse(strategy.algorithms[a].params, nullptr, false);
        if (!params.is_object() || !params.contains("features") || !params["features"].is_array()) continue;
        for (const nlohmann::json& name : params["features"]) {
            if (name.is_string()) add(name.get<std::string>());
        }
    }
    return columns;
}

// Calibrates each algorithm's scores (strategy::Calibration); a saved model brings the constants it was fitted
// with, and a newly fitted model carries its own away.
std::vector<CalibrationFit> Calibrate(const strategy::Strategy& strategy, std::span<const SavedModel> models,
                                      std::vector<detect::AlgorithmOutput>& outputs) {
    std::vector<CalibrationFit> fits;
    for (size_t a = 0; a < outputs.size(); ++a) {
        const strategy::Calibration method = strategy.algorithms[a].calibration;
        std::optional<CalibrationFit> fit = models[a].calibration;
        if (fit && fit->method != method) fit.reset();
        if (!fit) fit = FitCalibration(method, outputs[a].score);
        ApplyCalibration(*fit, outputs[a].score);
        if (!outputs[a].model.empty()) {
            nlohmann::json document = nlohmann::json::parse(outputs[a].model);
            document["calibration"] = fit->ToJson();
            outputs[a].model = document.dump();
        }
        fits.push_back(*fit);
    }
    return fits;
}

// Runs every algorithm, at most max_threads at once, each with its saved model if any. The first failure is
// returned.
Expected<std::vector<detect::AlgorithmOutput>> RunAlgorithms(const strategy::Strategy& strategy,
                                                             const transform::TransactionFrame& frame,
                                                             std::span<const SavedModel> models,
                                                             size_t max_threads, ProgressTracker& tracker,
                                                             std::vector<double>& milliseconds) {
    const size_t count = strategy.algorithms.size();
    std::vector<std::optional<Expected<detect::AlgorithmOutput>>> results(count);
    milliseconds.assign(count, 0.0);
    std::atomic<bool> cancelled = false;
    std::atomic<size_t> next = 0;
    auto work = [&] {
        for (size_t i = next++; i < count; i = next++) {
            const strategy::AlgorithmSpec& spec = strategy.algorithms[i];
            detect::RunContext context{
                .progress = [&tracker, i, &spec](double fraction) { tracker.Algorithm(i, spec.label, fraction); },
                .cancelled = &cancelled,
                .model = models[i].document};
            const auto start = Clock::now();
            results[i] = spec.algorithm->Run(frame, context);
            milliseconds[i] = MillisecondsSince(start);
            tracker.Algorithm(i, spec.label, 1.0);
            if (!results[i]->has_value()) cancelled = true;
        }
    };
    const size_t threads = std::min(count, max_threads);
    {
        std::vector<std::jthread> pool;
        for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
        work();
    }
    std::vector<detect::AlgorithmOutput> outputs;
    outputs.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        if (!results[i]->has_value()) {
            Error error = std::move(*results[i]).error();
            error.message = fmt::format("Algorithm '{}' failed: {}", strategy.algorithms[i].label, error.message);
            return Unexpected(std::move(error));
        }
        detect::AlgorithmOutput output = std::move(*results[i]).value();
        if (auto checked = CheckOutput(output, frame.size(), strategy.algorithms[i].label); !checked) {
            return Unexpected(std::move(checked).error());
        }
        outputs.push_back(std::move(output));
    }
    return outputs;
}

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

Expected<AnalysisOutcome> RunAnalysis(store::Store& store, const detect::Registry& registry,
                                      std::string_view workspace_id, std::string_view run_id,
                                      const AnalysisOptions& options) {
    auto run = store.GetRun(workspace_id, run_id);
    if (!run) return Unexpected(std::move(run).error());
    auto fail = [&](Error error) -> Expected<AnalysisOutcome> {
        store.FailRun(workspace_id, run_id, error.message);
        return Unexpected(std::move(error));
    };
    try {
        auto parsed = strategy::ParseStrategy(run->configuration, registry);
        if (!parsed) return fail(std::move(parsed).error());
        const strategy::Strategy& strategy = *parsed;
        const auto run_start = Clock::now();
        ProgressTracker tracker(options.progress, strategy.algorithms.size());
        auto report = [&](std::string_view stage, double fraction) {
            store.UpdateRunProgress(workspace_id, run_id, stage, fraction);
            tracker.Stage(stage, fraction);
        };

        auto models = SavedModels(store, workspace_id, strategy, options);
        if (!models) return fail(std::move(models).error());

        report("loading", 0.0);
        auto start = Clock::now();
        AnalysisOutcome outcome;
        outcome.frame = transform::LoadFrame(store, workspace_id, run->upload_id, RawColumnsUsed(strategy, *models));
        const double load_ms = MillisecondsSince(start);
        report(strategy.algorithms.front().label, kLoadShare);

        const size_t threads =
            options.max_threads > 0 ? options.max_threads : std::max(1u, std::thread::hardware_concurrency());
        std::vector<double> algorithm_ms;
        auto outputs = RunAlgorithms(strategy, outcome.frame, *models, threads, tracker, algorithm_ms);
        if (!outputs) return fail(std::move(outputs).error());

        report("combining", kLoadShare + kAlgorithmShare);
        start = Clock::now();
        const std::vector<CalibrationFit> calibration = Calibrate(strategy, *models, *outputs);
        Combined combined = Combine(strategy, *outputs, outcome.frame.row_number, &outcome.frame.voucher);
        const double combine_ms = MillisecondsSince(start);

        const size_t rows = outcome.frame.size();
        size_t flag_count = 0;
        for (const detect::AlgorithmOutput& output : *outputs) flag_count += output.flags.size();
        nlohmann::json algorithms = nlohmann::json::array();
        for (size_t a = 0; a < outputs->size(); ++a) {
            nlohmann::json entry = {{"name", strategy.algorithms[a].name},
                                    {"label", strategy.algorithms[a].label},
                                    {"weight", strategy.algorithms[a].weight},
                                    {"params", nlohmann::json::parse(strategy.algorithms[a].params)},
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
             {{"load_ms", load_ms}, {"combine_ms", combine_ms}, {"before_write_ms", MillisecondsSince(run_start)}}},
        };
        outcome.metadata = metadata.dump();

        // Written in chunks, never all rows at once. The writer holds the run (and on SQLite the database) until
        // Commit, so progress goes to the caller only, not to the store.
        report("writing", kLoadShare + kAlgorithmShare + kCombineShare);
        const double write_start = kLoadShare + kAlgorithmShare + kCombineShare;
        const double total_rows = static_cast<double>(rows * (outputs->size() + 1) + flag_count);
        double written = 0;
        std::unique_ptr<store::RunResultWriter> writer = store.BeginRunResults(workspace_id, run_id);
        std::vector<store::AlgorithmScore> scores;
        scores.reserve(kWriteChunk);
        auto count_written = [&](size_t count) {
            written += static_cast<double>(count);
            tracker.Stage("writing", write_start + (1.0 - write_start) * written / total_rows);
        };
        auto flush_scores = [&] {
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
        tracker.Stage("done", 1.0);

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
    } catch (const std::exception& e) {
        store.FailRun(workspace_id, run_id, fmt::format("The analysis stopped: {}", e.what()));
        throw;
    }
}

}  // namespace granska::engine
