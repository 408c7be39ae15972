#include "detect/statistical/moving_average.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <utility>

#include "detect/detail/algorithm_support.h"
#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/statistical/detail/runs.h"

namespace granska::detect {

Expected<MovingAverageParams> MovingAverageParams::FromJson(const nlohmann::json& json, std::string_view path) {
    MovingAverageParams params;
    ParamReader reader(json, path);
    reader.Read("method", params.method, {"sma", "ewma"});
    reader.Read("window", params.window);
    reader.Read("alpha", params.alpha);
    reader.Read("value", params.value, {"log_amount", "amount"});
    reader.Read("direction", params.direction, {"both", "high", "low"});
    reader.Read("threshold", params.threshold);
    reader.Read("min_history", params.min_history);
    reader.Read("min_spread", params.min_spread);
    reader.Read("recurrence_days", params.recurrence_days);
    if (params.window < 2) reader.Fail("window", "'window' must be at least 2.");
    if (!(params.alpha > 0 && params.alpha <= 1)) reader.Fail("alpha", "'alpha' must be greater than 0 and at most 1.");
    if (!(params.threshold > 0)) reader.Fail("threshold", "'threshold' must be greater than 0.");
    if (params.min_history < 2) reader.Fail("min_history", "'min_history' must be at least 2.");
    if (!(params.min_spread > 0)) reader.Fail("min_spread", "'min_spread' must be greater than 0.");
    if (params.recurrence_days < 0 || params.recurrence_days > 366)
        reader.Fail("recurrence_days", "'recurrence_days' must be between 0 and 366.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo MovingAverage::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Distance of each amount from its account's trailing moving average (simple over the previous lines, "
            "or exponentially weighted), in units of the account's recent spread; lines in date order.",
        .params =
            {
                {"method", "string", R"("ewma")",
                 "\"sma\" = mean of the previous window lines, \"ewma\" = exponentially "
                 "weighted"},
                {"window", "integer", "20", "sma: previous lines in the average and the spread"},
                {"alpha", "number", "0.05", "ewma: weight of the newest line, in (0, 1]"},
                {"value", "string", R"("log_amount")", "\"log_amount\" = ln(1+|amount|), or the signed \"amount\""},
                {"direction", "string", R"("high")", "flag \"high\" values, \"low\" values or \"both\""},
                {"threshold", "number", "4.0", "the deviations that score 0.5"},
                {"min_history", "integer", "10", "lines of the account before the first one scored"},
                {"min_spread", "number", "0.1",
                 "floor of the spread: in log units, or as a share of the average for \"amount\""},
                {"recurrence_days", "integer", "0",
                 "only the part beyond the account's extremes of this many previous days counts (0 = off)"},
            },
        .create = FactoryOf<MovingAverage, MovingAverageParams>(),
    };
}

namespace {

constexpr double kMeanDeviationToSigma = 1.2533;  // sqrt(pi / 2): mean absolute deviation → standard deviation

// The trailing average and spread of one account's lines, fed one line at a time.
class Trail {
public:
    explicit Trail(const MovingAverageParams& params)
        : sma_(params.method == "sma"), window_(static_cast<size_t>(params.window)), alpha_(params.alpha) {
        if (sma_) {
            values_.resize(window_);
            errors_.resize(window_);
        }
    }

    size_t seen() const { return seen_; }
    double average() const { return sma_ ? value_sum_ / static_cast<double>(std::min(seen_, window_)) : average_; }
    // Mean absolute forecast error × 1.2533; 0 before the second line.
    double spread() const {
        if (seen_ < 2) return 0.0;
        const double mean_error =
            sma_ ? error_sum_ / static_cast<double>(std::min(seen_ - 1, window_)) : error_average_;
        return kMeanDeviationToSigma * mean_error;
    }
    // Lines the average stands on: all seen (ewma, up to its effective length (2 − α) / α) or the window.
    double support() const {
        return std::min(static_cast<double>(seen_), sma_ ? static_cast<double>(window_) : (2.0 - alpha_) / alpha_);
    }

    // Adds a line; its forecast error is measured against the average before it.
    void Add(double value) {
        if (seen_ == 0) {
            Push(value, 0.0, false);
            return;
        }
        Push(value, std::abs(value - average()), true);
    }

private:
    void Push(double value, double error, bool has_error) {
        if (sma_) {
            const size_t slot = seen_ % window_;
            if (seen_ >= window_) value_sum_ -= values_[slot];
            values_[slot] = value;
            value_sum_ += value;
            // Errors exist from the second line on; error k sits in slot k % window.
            if (has_error) {
                const size_t error_slot = (seen_ - 1) % window_;
                if (seen_ - 1 >= window_) error_sum_ -= errors_[error_slot];
                errors_[error_slot] = error;
                error_sum_ += error;
            }
        } else {
            // Weights 1/n until they fall below α: the early average is the plain mean.
            const double weight = std::max(alpha_, 1.0 / static_cast<double>(seen_ + 1));
            if (has_error) {
                const double error_weight = std::max(alpha_, 1.0 / static_cast<double>(seen_));
                error_average_ += error_weight * (error - error_average_);
            }
            average_ = seen_ == 0 ? value : average_ + weight * (value - average_);
        }
        ++seen_;
    }

    bool sma_;
    size_t window_;
    double alpha_;
    size_t seen_ = 0;
    std::vector<double> values_, errors_;
    double value_sum_ = 0.0, error_sum_ = 0.0;
    double average_ = 0.0, error_average_ = 0.0;
};

// The largest and smallest value of the lines of the last `days` days (monotonic deques: O(1) amortised per line).
class RecentExtremes {
public:
    explicit RecentExtremes(int days) : days_(days) {}

    void Forget(int32_t today) {
        while (!high_.empty() && high_.front().first < today - days_) high_.pop_front();
        while (!low_.empty() && low_.front().first < today - days_) low_.pop_front();
    }
    void Add(int32_t date, double value) {
        while (!high_.empty() && high_.back().second <= value) high_.pop_back();
        high_.emplace_back(date, value);
        while (!low_.empty() && low_.back().second >= value) low_.pop_back();
        low_.emplace_back(date, value);
    }
    bool empty() const { return high_.empty(); }
    double high() const { return high_.front().second; }
    double low() const { return low_.front().second; }

private:
    int days_;
    std::deque<std::pair<int32_t, double>> high_, low_;
};

}  // namespace

Expected<AlgorithmOutput> MovingAverage::Run(const transform::TransactionFrame& frame,
                                             const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;
    const bool log_scale = params_.value == "log_amount";
    const std::vector<double> values = frame.NumericFeature(params_.value);

    std::vector<int64_t> keys(rows);
    for (size_t i = 0; i < rows; ++i) keys[i] = AccountDateKey(frame.account.codes[i], frame.date_days[i]);
    const Runs accounts = SortedRuns(keys, 32);
    const auto min_history = static_cast<size_t>(params_.min_history);
    const double clip = 2.0 * params_.threshold;

    for (size_t a = 0; a < accounts.size(); ++a) {
        if (Cancelled(context)) return Unexpected(Internal("cancelled"));
        const std::span<const size_t> lines = accounts.Run(a);
        if (lines.size() <= min_history) continue;
        const std::string& account = frame.account.values[static_cast<size_t>(frame.account.codes[lines.front()])];
        Trail trail(params_);
        RecentExtremes recent(params_.recurrence_days);
        for (const size_t i : lines) {
            const double value = values[i];
            const bool guard = params_.recurrence_days > 0;
            if (guard) recent.Forget(frame.date_days[i]);
            if (trail.seen() < min_history) {
                trail.Add(value);
                if (guard) recent.Add(frame.date_days[i], value);
                continue;
            }
            const double average = trail.average();
            const double floor = log_scale ? params_.min_spread : params_.min_spread * std::max(std::abs(average), 1.0);
            const double spread = std::max(trail.spread(), floor);
            double z = (value - average) / spread;
            // A size the account already reached within recurrence_days (a monthly settlement) is not news.
            if (guard && !recent.empty())
                z = z > 0 ? std::min(z, std::max((value - recent.high()) / spread, 0.0))
                          : std::max(z, std::min((value - recent.low()) / spread, 0.0));
            const double excess = params_.direction == "high"  ? std::max(z, 0.0)
                                  : params_.direction == "low" ? std::max(-z, 0.0)
                                                               : std::abs(z);
            const double support = trail.support();
            output.score[i] = ExcessScore(excess, params_.threshold);
            output.confidence[i] = support / (support + static_cast<double>(min_history));
            if (output.score[i] >= 0.3) {
                const double typical = log_scale ? std::expm1(average) : average;
                const std::string over =
                    params_.method == "sma"
                        ? fmt::format("moving average {} over its previous {} lines", FormatAmount(typical),
                                      FormatCount(static_cast<int64_t>(support)))
                        : fmt::format(
                              "exponentially weighted moving average {} (alpha {:g}) over its previous {} lines",
                              FormatAmount(typical), params_.alpha, FormatCount(static_cast<int64_t>(trail.seen())));
                const std::string_view side =
                    z > 0 ? (log_scale ? "larger than" : "above") : (log_scale ? "smaller than" : "below");
                output.reason[i] = fmt::format("Amount {} is {:.1f} deviations {} account {}'s {}.",
                                               FormatAmount(static_cast<double>(frame.amount_minor[i]) / 100.0),
                                               std::abs(z), side, account, over);
            }
            // An outlier enters the history clipped (Huber), so that it does not hide the lines after it.
            trail.Add(std::clamp(value, average - clip * spread, average + clip * spread));
            if (guard) recent.Add(frame.date_days[i], value);
        }
        context.progress(static_cast<double>(a + 1) / static_cast<double>(accounts.size()));
    }
    return output;
}

}  // namespace granska::detect
