#pragma once
// What RunAnalysis and PreviewStrategy share: the progress tracker with per-algorithm state, running a strategy's
// algorithms on a bounded pool, saved models, calibration and the effective parameters. Private to the engine.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "detect/registry.h"
#include "engine/analysis.h"
#include "engine/calibration.h"
#include "store/store.h"
#include "strategy/strategy.h"
#include "transform/frame.h"

namespace granska::engine::detail {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start);

// Progress shares of the whole run.
inline constexpr double kLoadShare = 0.10;
inline constexpr double kAlgorithmShare = 0.75;
inline constexpr double kCombineShare = 0.05;

// pending → running → done | failed; cancelled = stopped or never started because another algorithm failed.
enum class AlgorithmState { kPending, kRunning, kDone, kFailed, kCancelled };
std::string_view AlgorithmStateName(AlgorithmState state);

// The run's progress: the caller's ProgressFn on every report, and the store (Run::progress_detail, docs/progress.md)
// on every change of stage or algorithm state and otherwise at most once per interval. Reports come from the
// algorithm threads; one mutex orders them, so the store sees them in order.
class ProgressTracker {
public:
    // Writes (stage, fraction, progress_detail JSON) to the store; empty = report to the caller only (a preview).
    using StoreWrite = std::function<void(std::string_view stage, double fraction, const std::string& detail)>;

    ProgressTracker(const strategy::Strategy& strategy, ProgressFn report, StoreWrite write,
                    std::chrono::milliseconds interval);

    // A stage of the run ("loading", "combining", "writing"); stored = also written to the store.
    void Stage(std::string_view stage, double fraction, bool stored);
    void Started(size_t algorithm);
    void Progress(size_t algorithm, double fraction);
    void Finished(size_t algorithm, AlgorithmState state, double milliseconds);
    // {"algorithms": [{"label", "name", "state", "progress", "ms"}]}
    std::string DetailJson() const;

private:
    struct Entry {
        std::string label;
        std::string name;
        AlgorithmState state = AlgorithmState::kPending;
        double progress = 0.0;
        double ms = 0.0;
    };
    // Under mutex_.
    void Publish(std::string_view stage, bool force);
    std::string DetailJsonLocked() const;
    double AlgorithmFraction() const;

    ProgressFn report_;
    StoreWrite write_;
    std::chrono::milliseconds interval_;
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
    std::optional<Clock::time_point> last_write_;
};

// The saved model an algorithm scores with: the document, and what the engine itself needs from it (read once).
struct SavedModel {
    std::string document;                       // "" = fit a model
    std::vector<std::string> columns;           // the numeric features it encodes
    std::optional<CalibrationFit> calibration;  // as the run that fitted it calibrated
};

// The saved model of each algorithm: the caller's (CLI files), else the strategy's model_run.
Expected<std::vector<SavedModel>> SavedModels(store::Store& store, std::string_view workspace_id,
                                              const strategy::Strategy& strategy,
                                              const std::map<std::string, std::string, std::less<>>& given);

// The columns of the file the strategy's algorithms (or their saved models) use as features.
std::vector<std::string> RawColumnsUsed(const strategy::Strategy& strategy, std::span<const SavedModel> models);

// Calibrates each algorithm's scores in place (strategy::Calibration) and returns the fits.
std::vector<CalibrationFit> Calibrate(const strategy::Strategy& strategy, std::span<const SavedModel> models,
                                      std::vector<detect::AlgorithmOutput>& outputs);

// Runs every algorithm, at most max_threads at once, each with its saved model if any. After the first failure the
// others are cancelled and that failure is returned, naming the algorithm's label. An exception thrown on a pool
// thread is rethrown here once every thread has stopped. When stop (may be null) becomes true, the algorithms are
// cancelled within about 20 ms and RunCancelled() is returned.
Expected<std::vector<detect::AlgorithmOutput>> RunAlgorithms(const strategy::Strategy& strategy,
                                                             const transform::TransactionFrame& frame,
                                                             std::span<const SavedModel> models, size_t max_threads,
                                                             ProgressTracker& tracker,
                                                             std::vector<double>& milliseconds,
                                                             const std::atomic<bool>* stop = nullptr);

// max_threads of AnalysisOptions: 0 = hardware concurrency.
size_t ThreadCount(size_t max_threads);

// The algorithm's parameters as it runs with them: the registry's defaults, overridden by those the strategy gives.
nlohmann::json EffectiveParams(const detect::Registry& registry, const strategy::AlgorithmSpec& spec);

}  // namespace granska::engine::detail
