#pragma once
// weekend_threshold: large amounts dated on a Saturday, Sunday or (optionally) a public holiday, when nobody
// should be booking business. A row triggers when |amount| > T, T = `threshold`, or with `relative_to_account`
// the larger of `threshold` and the account's `account_quantile` (P90) of weekday |amounts|.
// Score = ExcessScore(log10(|amount| / T) + 0.5, 0.75): 0.31 just above T, 0.80 at 10 T, 0.92 at 100 T.
// Closing entries dated on a period's last day (VAT settlement, accruals) are dated by convention, not by when
// someone worked: `skip_period_end` leaves them out. Journal-entry testing practice: entries dated on non-business
// days (the ISA 240 journal-entry risk factors).

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct WeekendThresholdParams {
    double threshold = 10'000.0;       // major units
    bool relative_to_account = false;  // raise the threshold to the account's weekday quantile
    double account_quantile = 0.9;     // which quantile of the account's weekday |amounts|
    int min_account_lines = 20;        // fewer weekday lines: the absolute threshold alone
    bool holidays = true;              // public holidays count like weekends
    bool skip_period_end = true;       // rows dated on the last day of their month are not flagged

    static Expected<WeekendThresholdParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class WeekendThreshold final : public Algorithm {
public:
    static constexpr std::string_view kName = "weekend_threshold";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit WeekendThreshold(WeekendThresholdParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    WeekendThresholdParams params_;
};

}  // namespace granska::detect
