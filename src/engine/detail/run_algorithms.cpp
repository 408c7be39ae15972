#include "engine/detail/run_algorithms.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <thread>

#include "transform/frame.h"

namespace granska::engine::detail {

namespace {

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

}  // namespace

double MillisecondsSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string_view AlgorithmStateName(AlgorithmState state) {
    switch (state) {
        case AlgorithmState::kPending: return "pending";
        case AlgorithmState::kRunning: return "running";
        case AlgorithmState::kDone: return "done";
        case AlgorithmState::kFailed: return "failed";
        case AlgorithmState::kCancelled: return "cancelled";
    }
    return "pending";
}

ProgressTracker::ProgressTracker(const strategy::Strategy& strategy, ProgressFn report, StoreWrite write,
                                 std::chrono::milliseconds interval)
    : report_(std::move(report)), write_(std::move(write)), interval_(interval) {
    for (const strategy::AlgorithmSpec& spec : strategy.algorithms) {
        entries_.push_back({.label = spec.label, .name = spec.name});
    }
}

void ProgressTracker::Stage(std::string_view stage, double fraction, bool stored) {
    std::lock_guard lock(mutex_);
    if (stored && write_) {
        write_(stage, fraction, DetailJsonLocked());
        last_write_ = Clock::now();
    }
    if (report_) report_(stage, fraction);
}

void ProgressTracker::Started(size_t algorithm) {
    std::lock_guard lock(mutex_);
    entries_[algorithm].state = AlgorithmState::kRunning;
    Publish(entries_[algorithm].label, /*force=*/true);
}

void ProgressTracker::Progress(size_t algorithm, double fraction) {
    std::lock_guard lock(mutex_);
    entries_[algorithm].progress = std::clamp(fraction, 0.0, 1.0);
    Publish(entries_[algorithm].label, /*force=*/false);
}

void ProgressTracker::Finished(size_t algorithm, AlgorithmState state, double milliseconds) {
    std::lock_guard lock(mutex_);
    Entry& entry = entries_[algorithm];
    entry.state = state;
    entry.ms = milliseconds;
    if (state == AlgorithmState::kDone) entry.progress = 1.0;
    Publish(entry.label, /*force=*/true);
}

std::string ProgressTracker::DetailJson() const {
    std::lock_guard lock(mutex_);
    return DetailJsonLocked();
}

std::string ProgressTracker::DetailJsonLocked() const {
    nlohmann::json algorithms = nlohmann::json::array();
    for (const Entry& entry : entries_) {
        algorithms.push_back({{"label", entry.label},
                              {"name", entry.name},
                              {"state", AlgorithmStateName(entry.state)},
                              {"progress", entry.progress},
                              {"ms", entry.ms}});
    }
    return nlohmann::json{{"algorithms", std::move(algorithms)}}.dump();
}

double ProgressTracker::AlgorithmFraction() const {
    if (entries_.empty()) return kLoadShare + kAlgorithmShare;
    double sum = 0.0;
    for (const Entry& entry : entries_) sum += entry.progress;
    return kLoadShare + kAlgorithmShare * sum / static_cast<double>(entries_.size());
}

void ProgressTracker::Publish(std::string_view stage, bool force) {
    const double fraction = AlgorithmFraction();
    const auto now = Clock::now();
    if (write_ && (force || !last_write_ || now - *last_write_ >= interval_)) {
        write_(stage, fraction, DetailJsonLocked());
        last_write_ = now;
    }
    if (report_) report_(stage, fraction);
}

Expected<std::vector<SavedModel>> SavedModels(store::Store& store, std::string_view workspace_id,
                                              const strategy::Strategy& strategy,
                                              const std::map<std::string, std::string, std::less<>>& given) {
    std::vector<SavedModel> models(strategy.algorithms.size());
    for (size_t a = 0; a < models.size(); ++a) {
        const strategy::AlgorithmSpec& spec = strategy.algorithms[a];
        SavedModel& model = models[a];
        if (const auto found = given.find(spec.label); found != given.end()) {
            model.document = found->second;
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
        // A document the engine cannot read is passed on as it is: the algorithm says what is wrong with it.
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

std::vector<CalibrationFit> Calibrate(const strategy::Strategy& strategy, std::span<const SavedModel> models,
                                      std::vector<detect::AlgorithmOutput>& outputs) {
    std::vector<CalibrationFit> fits;
    for (size_t a = 0; a < outputs.size(); ++a) {
        const strategy::Calibration method = strategy.algorithms[a].calibration;
        // A saved model brings the constants it was fitted with; a newly fitted model carries its own away.
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

Expected<std::vector<detect::AlgorithmOutput>> RunAlgorithms(
    const strategy::Strategy& strategy, const transform::TransactionFrame& frame, std::span<const SavedModel> models,
    size_t max_threads, ProgressTracker& tracker, std::vector<double>& milliseconds, const std::atomic<bool>* stop) {
    const size_t count = strategy.algorithms.size();
    std::vector<std::optional<Expected<detect::AlgorithmOutput>>> results(count);
    milliseconds.assign(count, 0.0);
    std::atomic<bool> cancelled = false;
    std::atomic<size_t> next = 0;
    std::mutex failure_mutex;
    std::optional<size_t> first_failure;  // the algorithm whose failure cancelled the others
    std::exception_ptr exception;
    auto work = [&] {
        for (size_t i = next++; i < count; i = next++) {
            try {
                if (cancelled) {
                    tracker.Finished(i, AlgorithmState::kCancelled, 0.0);
                    continue;
                }
                const strategy::AlgorithmSpec& spec = strategy.algorithms[i];
                tracker.Started(i);
                detect::RunContext context{.progress = [&tracker, i](double fraction) { tracker.Progress(i, fraction); },
                                           .cancelled = &cancelled,
                                           .model = models[i].document};
                const auto start = Clock::now();
                Expected<detect::AlgorithmOutput> output = spec.algorithm->Run(frame, context);
                milliseconds[i] = MillisecondsSince(start);
                if (!output) {
                    Error error = std::move(output).error();
                    error.message = fmt::format("Algorithm '{}' failed: {}", spec.label, error.message);
                    output = Unexpected(std::move(error));
                } else if (auto checked = CheckOutput(*output, frame.size(), spec.label); !checked) {
                    output = Unexpected(std::move(checked).error());
                }
                AlgorithmState state = AlgorithmState::kDone;
                if (!output) {
                    // An algorithm that stops because another failed is cancelled, not the cause.
                    std::lock_guard lock(failure_mutex);
                    state = first_failure ? AlgorithmState::kCancelled : AlgorithmState::kFailed;
                    if (!first_failure) first_failure = i;
                    cancelled = true;
                }
                results[i] = std::move(output);
                tracker.Finished(i, state, milliseconds[i]);
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                if (!exception) exception = std::current_exception();
                cancelled = true;
            }
        }
    };
    const size_t threads = std::min(count, max_threads);
    {
        // Algorithms poll one flag between chunks; the caller's stop request is forwarded to it.
        std::jthread watcher;
        if (stop != nullptr) {
            watcher = std::jthread([stop, &cancelled](const std::stop_token& done) {
                while (!done.stop_requested()) {
                    if (stop->load()) {
                        cancelled = true;
                        return;
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
            });
        }
        std::vector<std::jthread> pool;
        for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
        work();
    }
    if (exception) std::rethrow_exception(exception);
    if (stop != nullptr && stop->load()) return Unexpected(RunCancelled());
    if (first_failure) return Unexpected(std::move(*results[*first_failure]).error());
    std::vector<detect::AlgorithmOutput> outputs;
    outputs.reserve(count);
    for (size_t i = 0; i < count; ++i) outputs.push_back(std::move(*results[i]).value());
    return outputs;
}

size_t ThreadCount(size_t max_threads) {
    return max_threads > 0 ? max_threads : std::max(1u, std::thread::hardware_concurrency());
}

nlohmann::json EffectiveParams(const detect::Registry& registry, const strategy::AlgorithmSpec& spec) {
    nlohmann::json effective = nlohmann::json::object();
    if (const detect::AlgorithmInfo* info = registry.Find(spec.name)) {
        for (const detect::ParamInfo& param : info->params) {
            const auto value = nlohmann::json::parse(param.default_value, nullptr, /*allow_exceptions=*/false);
            if (!value.is_discarded()) effective[param.name] = value;
        }
    }
    const auto given = nlohmann::json::parse(spec.params, nullptr, /*allow_exceptions=*/false);
    if (given.is_object()) {
        for (const auto& [name, value] : given.items()) effective[name] = value;
    }
    return effective;
}

}  // namespace granska::engine::detail
