#pragma once
// The Algorithm interface: one detector, configured by its Params, run over a read-only TransactionFrame.
// It returns, for every row in frame order, a score in [0, 1] (higher = more anomalous), a confidence in
// [0, 1] and a plain-language reason ("" when there is nothing to say). Algorithms never see HTTP, SQL or Redis.

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "transform/frame.h"

namespace granska::detect {

enum class AlgorithmType { kStatistical, kRuleBased, kMlBased };
std::string_view TypeName(AlgorithmType type);  // "statistical" | "rule_based" | "ml_based"

// One rule_flags row: a rule-based algorithm's finding on one row. Only rows a rule has something to say about
// get one (sparse): triggered = the rule's condition holds; value = the measured quantity the rule compared
// (amount, lag in days, count, ...); metadata = a JSON object with the rest (thresholds, the matched row, ...).
struct RuleFlag {
    size_t row = 0;       // frame row
    std::string rule;     // the sub-rule, e.g. "late_posting"; stored as "<algorithm label>.<rule>"
    bool triggered = true;
    double value = 0.0;
    std::string metadata = "{}";
};

struct AlgorithmOutput {
    std::vector<double> score;
    std::vector<double> confidence;
    std::vector<std::string> reason;
    std::vector<RuleFlag> flags;  // rule-based algorithms only; any order
    std::string model;            // ML algorithms: the fitted model (ml/model.h) to save with the run; "" otherwise

    explicit AlgorithmOutput(size_t rows) : score(rows, 0.0), confidence(rows, 0.0), reason(rows) {}
};

struct RunContext {
    // Reports progress within this algorithm, 0..1; may be called from the algorithm's thread.
    std::function<void(double)> progress = [](double) {};
    // Set by the engine to ask the algorithm to stop early; an algorithm checks it between chunks of work.
    const std::atomic<bool>* cancelled = nullptr;
    // ML algorithms: a saved model (ml/model.h) to score with instead of fitting one; empty = fit on the frame.
    std::string_view model;
};

class Algorithm {
public:
    virtual ~Algorithm() = default;
    virtual std::string_view Name() const = 0;
    virtual Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame,
                                          const RunContext& context) const = 0;
};

}  // namespace granska::detect
