#pragma once
// periodization: entries booked into the wrong period. Two sub-rules, each its own RuleFlag rule and switch:
// - late_posting: the registration lags the date by lag > `max_lag_days` days, or falls after the period's close
//   (its month end + `close_days`: "dated into a closed period"). Score = ExcessScore(w × lag, max_lag_days) with
//   w = 1 + 0.5 (closed period) + 0.5 (registered after the fiscal year's end + close_days: a closed year)
//   + 0.25 (dated within `period_end_days` of the month end, where cut-off is manipulated).
// - reversal: an amount dated in the last `period_end_days` days of a month and reversed (same account, opposite
//   sign, same amount; with `match_counter_account` the reversing voucher mirrors the whole original voucher) in
//   the first `reversal_days` days of the next month: a period-end accrual or invoice undone after the cut-off.
//   Both lines score SizeScore(|amount| / account's median |amount|) = ExcessScore(log10(ratio) + 0.5, 0.75), so
//   routine small accruals score low and spikes high. Matching sorts (account, |amount|, date): n log n.
// Cites ISA 240 (journal entries "recorded at the end of the period or as post-closing entries") and cut-off testing.

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct PeriodizationParams {
    bool late_posting = true;
    int max_lag_days = 30;    // registration this many days after the date is late
    int close_days = 10;      // a month (fiscal year) closes this many days after its last day
    int period_end_days = 3;  // "at period end": the last 3 days of a month
    bool reversal = true;
    int reversal_days = 10;             // a reversal within the first 10 days of the next month
    bool match_counter_account = true;  // the reversing voucher must mirror the original's counter lines

    static Expected<PeriodizationParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class Periodization final : public Algorithm {
public:
    static constexpr std::string_view kName = "periodization";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit Periodization(PeriodizationParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    Expected<void> LatePosting(const transform::TransactionFrame& frame, const RunContext& context,
                               AlgorithmOutput& output) const;
    Expected<void> Reversals(const transform::TransactionFrame& frame, const RunContext& context,
                             AlgorithmOutput& output) const;

    PeriodizationParams params_;
};

}  // namespace granska::detect
