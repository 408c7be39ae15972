#pragma once
// moving_average: how far each line's amount lies from its account's recent history. Per account, lines are taken
// in date order (file order within a day); each line is compared with a trailing average of the lines before it —
// the mean of the previous `window` lines ("sma") or an exponentially weighted moving average ("ewma", weight
// `alpha` on the newest line) — in units of a trailing spread: the mean absolute forecast error of those same
// lines (each line's distance from the average it was compared with), × 1.2533 so that it estimates a standard
// deviation for normal errors, floored at `min_spread` (log units; for "amount", × the average's size) so that a
// perfectly flat history does not give an infinite deviation.
// z = (value − average) / spread; score = z² / (z² + threshold²) (0.5 at the threshold) on the chosen side.
// Recurrence guard: only the part of z beyond the largest (smallest, on the low side) value the account had in the
// previous `recurrence_days` days counts, so that a monthly settlement is not news every month.
// The first `min_history` lines of an account score 0. Roberts (1959) and Hunter (1986) for EWMA control charts.

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct MovingAverageParams {
    std::string method = "ewma";       // "sma" | "ewma"
    int window = 20;                   // sma: previous lines averaged (and spread over)
    double alpha = 0.05;               // ewma: weight of the newest line, (0, 1]
    std::string value = "log_amount";  // "log_amount" | "amount"
    std::string direction = "high";    // "both" | "high" | "low"
    double threshold = 4.0;            // deviations that score 0.5
    int min_history = 10;              // lines of the account before the first scored one
    double min_spread = 0.1;           // spread floor: log units, or a share of the average for "amount"
    int recurrence_days = 0;           // 0 = off; see the header comment

    static Expected<MovingAverageParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class MovingAverage final : public Algorithm {
public:
    static constexpr std::string_view kName = "moving_average";
    static constexpr AlgorithmType kType = AlgorithmType::kStatistical;

    explicit MovingAverage(MovingAverageParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    MovingAverageParams params_;
};

}  // namespace granska::detect
