#pragma once
// timeseries: days and weeks on which an account moves far more money than its season says, and postings off an
// account's regular day of the month. Three parts; each line scores the strongest of them.
//
// Daily spikes. Per account, the day's turnover T = Σ|amount| of its lines, x = ln(1 + T). Baseline: a robust
// weekday × calendar-month profile — median and 1.4826 × MAD of x over the account's posting days with that
// weekday in that month — shrunk towards the account's weekday profile, itself shrunk towards all its days:
// centre = (n·m_cell + k·centre_weekday) / (n + k), the same for the scale, k = `shrinkage` days, scale ≥
// `min_scale`. Days without postings are left out of the profile (a median over mostly empty days is 0 and would
// flag every posting of a quiet account), so a large total on an otherwise empty day is measured against the
// account's usual posting day. The last day of a month, where settlements and accruals land, has its own profile
// when the account has at least 3 of them: their median and MAD, shrunk with a weight of 2 days towards the cell.
// z = (x − centre) / scale.
// Level shifts. Weekly turnover (Monday to Sunday; weeks without postings count as 0) against the median and MAD
// of the account's previous `weeks` weeks, where that median is not 0; month-end days stay out of the weekly totals.
// Score of a day or week = z² / (z² + threshold²) on the high side. A line inherits it in proportion to its share of
// the excess: × sqrt(min(1, |amount| / (T − typical T))), so small lines on a big day stay quiet.
// Regular posting days (`regular_days`). An account whose lines, over at least `regular_min_months` months,
// fall for ≥ `regular_share` within ±`regular_tolerance` days of at most two modal days of the month (counted
// from the 1st, or back from the month's last day, whichever concentrates more), each modal day recurring in at
// least three of four of its months: a line d days outside those windows scores d² / (d² + regular_threshold²).
// Robust z: Iglewicz & Hoaglin (1993); seasonal profiles with shrinkage: Cleveland et al. (1990), Efron & Morris.

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct TimeseriesParams {
    double threshold = 4.0;          // robust z of a day's or week's turnover that scores 0.5
    int min_days = 20;               // posting days an account needs for its daily profile
    double shrinkage = 10.0;         // days of weight the coarser profile carries in a cell
    double min_scale = 0.25;         // floor of the robust scale, in log units
    bool weekly = true;              // the level-shift test on weekly totals
    int weeks = 8;                   // previous weeks the weekly median is taken over
    bool regular_days = true;        // the posting-day regularity test
    double regular_share = 0.8;      // share of the account's lines near its modal days
    int regular_tolerance = 2;       // ± days around a modal day
    int regular_min_months = 6;      // distinct months the account must be posted in
    double regular_threshold = 3.0;  // days beyond the tolerance that score 0.5

    static Expected<TimeseriesParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class Timeseries final : public Algorithm {
public:
    static constexpr std::string_view kName = "timeseries";
    static constexpr AlgorithmType kType = AlgorithmType::kStatistical;

    explicit Timeseries(TimeseriesParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    TimeseriesParams params_;
};

}  // namespace granska::detect
