#include "detect/statistical/timeseries.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "core/date.h"
#include "detect/detail/algorithm_support.h"
#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/statistical/detail/runs.h"

namespace granska::detect {

Expected<TimeseriesParams> TimeseriesParams::FromJson(const nlohmann::json& json, std::string_view path) {
    TimeseriesParams params;
    ParamReader reader(json, path);
    reader.Read("threshold", params.threshold);
    reader.Read("min_days", params.min_days);
    reader.Read("shrinkage", params.shrinkage);
    reader.Read("min_scale", params.min_scale);
    reader.Read("weekly", params.weekly);
    reader.Read("weeks", params.weeks);
    reader.Read("regular_days", params.regular_days);
    reader.Read("regular_share", params.regular_share);
    reader.Read("regular_tolerance", params.regular_tolerance);
    reader.Read("regular_min_months", params.regular_min_months);
    reader.Read("regular_threshold", params.regular_threshold);
    if (!(params.threshold > 0)) reader.Fail("threshold", "'threshold' must be greater than 0.");
    if (params.min_days < 2) reader.Fail("min_days", "'min_days' must be at least 2.");
    if (!(params.shrinkage >= 0)) reader.Fail("shrinkage", "'shrinkage' must be 0 or more.");
    if (!(params.min_scale > 0)) reader.Fail("min_scale", "'min_scale' must be greater than 0.");
    if (params.weeks < 2) reader.Fail("weeks", "'weeks' must be at least 2.");
    if (!(params.regular_share > 0.5 && params.regular_share <= 1))
        reader.Fail("regular_share", "'regular_share' must be greater than 0.5 and at most 1.");
    if (params.regular_tolerance < 0 || params.regular_tolerance > 7)
        reader.Fail("regular_tolerance", "'regular_tolerance' must be between 0 and 7 days.");
    if (params.regular_min_months < 2) reader.Fail("regular_min_months", "'regular_min_months' must be at least 2.");
    if (!(params.regular_threshold > 0))
        reader.Fail("regular_threshold", "'regular_threshold' must be greater than 0.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo Timeseries::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Days and weeks on which an account's turnover is far above its weekday × month profile or its recent "
            "weeks, and postings away from the day of the month an account is regularly posted on.",
        .params =
            {
                {"threshold", "number", "4.0", "robust z of a day's or week's turnover that scores 0.5"},
                {"min_days", "integer", "20", "posting days an account needs for its daily and weekly profile"},
                {"shrinkage", "number", "10.0", "days of weight the weekday profile carries in a weekday × month cell"},
                {"min_scale", "number", "0.25", "floor of the robust scale, in log units"},
                {"weekly", "boolean", "true", "compare each week's turnover with the median of the previous weeks"},
                {"weeks", "integer", "8", "previous weeks in the weekly median"},
                {"regular_days", "boolean", "true", "flag postings away from an account's regular day of the month"},
                {"regular_share", "number", "0.8",
                 "share of an account's lines near its modal days to call it regular"},
                {"regular_tolerance", "integer", "2", "± days around a modal day"},
                {"regular_min_months", "integer", "6", "distinct months a regular account must be posted in"},
                {"regular_threshold", "number", "3.0", "days beyond the tolerance that score 0.5"},
            },
        .create = FactoryOf<Timeseries, TimeseriesParams>(),
    };
}

namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"January",   "February", "March",    "April",
                                                      "May",       "June",     "July",     "August",
                                                      "September", "October",  "November", "December"};

std::string Ordinal(int day) {
    const int tens = day % 100 / 10;
    const std::string_view suffix = tens == 1       ? "th"
                                    : day % 10 == 1 ? "st"
                                    : day % 10 == 2 ? "nd"
                                    : day % 10 == 3 ? "rd"
                                                    : "th";
    return fmt::format("{}{}", day, suffix);
}

// Monday-based week number: 1970-01-01 was a Thursday.
int32_t WeekOf(int32_t days) { return static_cast<int32_t>(std::floor((days + 3) / 7.0)); }

// One posting day of an account: its lines are lines[begin, end).
struct Day {
    int32_t date = 0;
    size_t begin = 0, end = 0;
    double total = 0.0;    // Σ|amount|, major units
    bool closing = false;  // the last day of its month
};

// Weight, in days, of the weekday × month cell in a closing-day profile: month ends are judged mainly by month ends.
constexpr double kClosingPrior = 2.0;
// Month ends an account needs for a closing-day profile of its own.
constexpr int64_t kMinClosingDays = 3;

// A day's or week's finding, shared by its lines.
struct Excess {
    double score = 0.0;
    double z = 0.0;
    double typical = 0.0;  // major units
    double excess = 0.0;   // total − typical
};

struct Centre {
    double center = 0.0;
    double scale = 0.0;
};

Centre Shrink(const Baseline& own, const Centre& prior, double k) {
    const double n = static_cast<double>(own.count);
    if (n + k <= 0) return prior;
    return {(n * own.center + k * prior.center) / (n + k), (n * own.scale + k * prior.scale) / (n + k)};
}

// The modal windows of one anchor (day of month, or days before month end).
struct Regularity {
    bool month_end = false;
    std::vector<int> centres;
    double share = 0.0;
    int64_t months_near = 0;
};

class AccountScorer {
public:
    AccountScorer(const TimeseriesParams& params, const transform::TransactionFrame& frame, AlgorithmOutput& output)
        : params_(params), frame_(frame), output_(output) {}

    void Score(std::span<const size_t> lines) {
        lines_ = lines;
        account_ = frame_.account.values[static_cast<size_t>(frame_.account.codes[lines.front()])];
        CollectDays();
        const bool profiled = std::ssize(days_) >= params_.min_days;
        std::vector<Excess> daily(days_.size()), weekly;
        std::vector<std::string> day_cells(days_.size());
        if (profiled) ScoreDays(daily, day_cells);
        int32_t first_week = 0;
        if (profiled && params_.weekly) {
            first_week = WeekOf(days_.front().date);
            weekly = ScoreWeeks(first_week);
        }
        const std::optional<Regularity> regular = params_.regular_days ? FindRegularity() : std::optional<Regularity>();
        const double profile_confidence =
            profiled ? static_cast<double>(days_.size()) /
                           static_cast<double>(days_.size() + static_cast<size_t>(params_.min_days))
                     : 0.0;

        for (size_t d = 0; d < days_.size(); ++d) {
            const Day& day = days_[d];
            const Excess* week = weekly.empty() ? nullptr : &weekly[static_cast<size_t>(WeekOf(day.date) - first_week)];
            for (size_t k = day.begin; k < day.end; ++k) {
                const size_t i = lines_[k];
                const double amount = std::abs(static_cast<double>(frame_.amount_minor[i]) / 100.0);
                const double day_score = Inherit(daily[d], amount);
                const double week_score = week != nullptr && !day.closing ? Inherit(*week, amount) : 0.0;
                const double regular_score = regular ? RegularScore(*regular, i) : 0.0;
                const double best = std::max({day_score, week_score, regular_score});
                output_.score[i] = best;
                output_.confidence[i] =
                    best > 0 && best == regular_score && regular ? regular->share : profile_confidence;
                if (best < 0.3) continue;
                if (best == day_score) {
                    output_.reason[i] = fmt::format(
                        "Account {}'s postings on {} total {}, {:.1f} robust deviations above its usual {} for {}.",
                        account_, Date{day.date}.ToString(), FormatAmount(day.total), daily[d].z,
                        FormatAmount(daily[d].typical), day_cells[d]);
                } else if (best == week_score) {
                    output_.reason[i] = fmt::format(
                        "Account {}'s postings in the week of {} total {}, {:.1f} robust deviations above the "
                        "median {} of its previous {} weeks.",
                        account_, Date{WeekOf(day.date) * 7 - 3}.ToString(), FormatAmount(week->typical + week->excess),
                        week->z, FormatAmount(week->typical), params_.weeks);
                } else {
                    output_.reason[i] = RegularReason(*regular, i);
                }
            }
        }
    }

private:
    void CollectDays() {
        days_.clear();
        for (size_t k = 0; k < lines_.size(); ++k) {
            const size_t i = lines_[k];
            if (days_.empty() || days_.back().date != frame_.date_days[i])
                days_.push_back({frame_.date_days[i], k, k, 0.0, frame_.days_to_period_end[i] == 0});
            days_.back().end = k + 1;
            days_.back().total += std::abs(static_cast<double>(frame_.amount_minor[i]) / 100.0);
        }
    }

    Excess Measure(double total, const Centre& centre) const {
        const double scale = std::max(centre.scale, params_.min_scale);
        const double z = (std::log1p(total) - centre.center) / scale;
        const double typical = std::expm1(centre.center);
        return {ExcessScore(std::max(z, 0.0), params_.threshold), z, typical, total - typical};
    }

    // Daily turnover against the shrunk weekday × month profile.
    void ScoreDays(std::vector<Excess>& daily, std::vector<std::string>& cells) {
        std::array<std::vector<double>, 7 * 12> cell_values;
        std::array<std::vector<double>, 7> weekday_values;
        std::vector<double> all, closing;
        for (const Day& day : days_) {
            const Date date{day.date};
            const double x = std::log1p(day.total);
            cell_values[static_cast<size_t>((date.IsoWeekday() - 1) * 12 + date.Month() - 1)].push_back(x);
            weekday_values[static_cast<size_t>(date.IsoWeekday() - 1)].push_back(x);
            all.push_back(x);
            if (day.closing) closing.push_back(x);
        }
        const Baseline overall = ComputeBaseline(all, true);
        const Baseline closing_baseline = ComputeBaseline(closing, true);
        const Centre account{overall.center, overall.scale};
        std::array<Centre, 7 * 12> cell_centre;
        for (size_t w = 0; w < 7; ++w) {
            const Centre weekday = Shrink(ComputeBaseline(weekday_values[w], true), account, params_.shrinkage);
            for (size_t m = 0; m < 12; ++m)
                cell_centre[w * 12 + m] =
                    Shrink(ComputeBaseline(cell_values[w * 12 + m], true), weekday, params_.shrinkage);
        }
        for (size_t d = 0; d < days_.size(); ++d) {
            const Date date{days_[d].date};
            const size_t w = static_cast<size_t>(date.IsoWeekday() - 1), m = static_cast<size_t>(date.Month() - 1);
            const bool closing_profile = days_[d].closing && closing_baseline.count >= kMinClosingDays;
            const Centre centre = closing_profile ? Shrink(closing_baseline, cell_centre[w * 12 + m], kClosingPrior)
                                                  : cell_centre[w * 12 + m];
            daily[d] = Measure(days_[d].total, centre);
            if (daily[d].score < 0.3) continue;
            cells[d] = closing_profile ? std::string("the last day of a month")
                                       : fmt::format("a {} in {}", kWeekdays[w], kMonths[m]);
        }
    }

    // Weekly turnover (empty weeks = 0) against the median of the previous weeks.
    std::vector<Excess> ScoreWeeks(int32_t first_week) {
        const size_t span = static_cast<size_t>(WeekOf(days_.back().date) - first_week) + 1;
        std::vector<double> totals(span, 0.0);
        for (const Day& day : days_)
            if (!day.closing) totals[static_cast<size_t>(WeekOf(day.date) - first_week)] += day.total;
        std::vector<Excess> weeks(span);
        const auto window = static_cast<size_t>(params_.weeks);
        std::vector<double> previous;
        for (size_t j = window; j < span; ++j) {
            previous.clear();
            for (size_t p = j - window; p < j; ++p) previous.push_back(std::log1p(totals[p]));
            const Baseline baseline = ComputeBaseline(previous, true);
            if (baseline.center <= 0) continue;  // mostly empty weeks: no level to shift from
            weeks[j] = Measure(totals[j], {baseline.center, baseline.scale});
        }
        return weeks;
    }

    // A line's share of its day's or week's excess, softened: sqrt(min(1, |amount| / excess)).
    static double Inherit(const Excess& excess, double amount) {
        if (excess.score <= 0 || excess.excess <= 0) return 0.0;
        return excess.score * std::sqrt(std::min(1.0, amount / excess.excess));
    }

    int Anchor(bool month_end, size_t i) const {
        return month_end ? frame_.days_to_period_end[i] : frame_.day_of_month[i];
    }
    static int64_t MonthKey(int32_t days) {
        const Date date{days};
        return int64_t{date.Year()} * 12 + date.Month() - 1;
    }
    int Distance(const Regularity& regular, size_t i) const {
        int best = 1000;
        for (const int centre : regular.centres) best = std::min(best, std::abs(Anchor(regular.month_end, i) - centre));
        return best - params_.regular_tolerance;
    }
    // Distinct months with a line within tolerance of the given centres.
    int64_t MonthsNear(bool month_end, const std::vector<int>& centres) const {
        Regularity probe{month_end, centres, 0.0, 0};
        int64_t months = 0, last = -1;
        for (const size_t i : lines_) {
            if (Distance(probe, i) > 0) continue;
            const int64_t month = MonthKey(frame_.date_days[i]);
            if (month != last) ++months;
            last = month;
        }
        return months;
    }

    std::optional<Regularity> FindRegularity() {
        int64_t months = 0, last = -1;
        for (const size_t i : lines_) {
            const int64_t month = MonthKey(frame_.date_days[i]);
            if (month != last) ++months;
            last = month;
        }
        months_ = months;
        if (months < params_.regular_min_months) return std::nullopt;
        // A modal day recurs in at least three months out of four (a schedule, not a cluster of exceptions).
        const int64_t needed_months = std::max<int64_t>(params_.regular_min_months, (3 * months + 3) / 4);
        const int tolerance = params_.regular_tolerance;
        std::optional<Regularity> best;
        for (const bool month_end : {false, true}) {
            std::array<int64_t, 32> histogram{};
            for (const size_t i : lines_) ++histogram[static_cast<size_t>(Anchor(month_end, i))];
            Regularity regular{month_end, {}, 0.0, 0};
            int64_t near = 0;
            for (int round = 0; round < 2; ++round) {
                // The window with most lines; among equals, the one whose lines sit closest to its centre.
                int best_centre = -1;
                int64_t best_count = 0, best_closeness = 0;
                for (int c = 0; c < 32; ++c) {
                    int64_t count = 0, closeness = 0;
                    for (int d = std::max(0, c - tolerance); d <= std::min(31, c + tolerance); ++d) {
                        count += histogram[static_cast<size_t>(d)];
                        closeness += histogram[static_cast<size_t>(d)] * (tolerance + 1 - std::abs(d - c));
                    }
                    if (count > best_count || (count == best_count && count > 0 && closeness > best_closeness)) {
                        best_count = count;
                        best_closeness = closeness;
                        best_centre = c;
                    }
                }
                if (best_centre < 0 || MonthsNear(month_end, {best_centre}) < needed_months) break;
                regular.centres.push_back(best_centre);
                near += best_count;
                for (int d = std::max(0, best_centre - tolerance); d <= std::min(31, best_centre + tolerance); ++d)
                    histogram[static_cast<size_t>(d)] = 0;
            }
            if (regular.centres.empty()) continue;
            regular.share = static_cast<double>(near) / static_cast<double>(lines_.size());
            regular.months_near = MonthsNear(month_end, regular.centres);
            if (!best || regular.share > best->share) best = regular;
        }
        if (!best || best->share < params_.regular_share) return std::nullopt;
        return best;
    }

    double RegularScore(const Regularity& regular, size_t i) const {
        return ExcessScore(static_cast<double>(std::max(Distance(regular, i), 0)), params_.regular_threshold);
    }

    std::string RegularReason(const Regularity& regular, size_t i) const {
        std::string days;
        for (const int centre : regular.centres) {
            if (!days.empty()) days += " or ";
            days += !regular.month_end ? fmt::format("on day {}", centre)
                    : centre == 0      ? std::string("on the last day of the month")
                                       : fmt::format("{} days before month end", centre);
        }
        const std::string dated = regular.month_end
                                      ? fmt::format("the {} ({} days before month end)",
                                                    Ordinal(frame_.day_of_month[i]), frame_.days_to_period_end[i])
                                      : fmt::format("the {}", Ordinal(frame_.day_of_month[i]));
        return fmt::format("Account {} is posted {} (±{}) in {} of {} months, but this entry is dated {}.", account_, days,
                           params_.regular_tolerance, FormatCount(regular.months_near), FormatCount(months_), dated);
    }

    const TimeseriesParams& params_;
    const transform::TransactionFrame& frame_;
    AlgorithmOutput& output_;
    std::span<const size_t> lines_;
    std::string account_;
    std::vector<Day> days_;
    int64_t months_ = 0;  // distinct months the account is posted in
};

}  // namespace

Expected<AlgorithmOutput> Timeseries::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;
    std::vector<int64_t> keys(rows);
    for (size_t i = 0; i < rows; ++i) keys[i] = AccountDateKey(frame.account.codes[i], frame.date_days[i]);
    const Runs accounts = SortedRuns(keys, 32);
    AccountScorer scorer(params_, frame, output);
    for (size_t a = 0; a < accounts.size(); ++a) {
        if (Cancelled(context)) return Unexpected(Internal("cancelled"));
        scorer.Score(accounts.Run(a));
        if (a % 64 == 63 || a + 1 == accounts.size())
            context.progress(static_cast<double>(a + 1) / static_cast<double>(accounts.size()));
    }
    return output;
}

}  // namespace granska::detect
