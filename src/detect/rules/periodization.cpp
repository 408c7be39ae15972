#include "detect/rules/periodization.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/rules/detail_rules1.h"

namespace granska::detect {

Expected<PeriodizationParams> PeriodizationParams::FromJson(const nlohmann::json& json, std::string_view path) {
    PeriodizationParams params;
    ParamReader reader(json, path);
    reader.Read("late_posting", params.late_posting);
    reader.Read("max_lag_days", params.max_lag_days);
    reader.Read("close_days", params.close_days);
    reader.Read("period_end_days", params.period_end_days);
    reader.Read("reversal", params.reversal);
    reader.Read("reversal_days", params.reversal_days);
    reader.Read("match_counter_account", params.match_counter_account);
    if (params.max_lag_days < 1) reader.Fail("max_lag_days", "'max_lag_days' must be at least 1.");
    if (params.close_days < 0 || params.close_days > 365) {
        reader.Fail("close_days", "'close_days' must lie between 0 and 365.");
    }
    if (params.period_end_days < 1 || params.period_end_days > 28) {
        reader.Fail("period_end_days", "'period_end_days' must lie between 1 and 28.");
    }
    if (params.reversal_days < 1 || params.reversal_days > 28) {
        reader.Fail("reversal_days", "'reversal_days' must lie between 1 and 28.");
    }
    if (!params.late_posting && !params.reversal) {
        reader.Fail("late_posting", "At least one of 'late_posting' and 'reversal' must be true.");
    }
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo Periodization::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Entries booked into the wrong period: registrations long after the date or after the period's close "
            "(backdating), and period-end amounts reversed at the start of the next period.",
        .params =
            {
                {"late_posting", "boolean", "true", "flag registrations long after the date (sub-rule late_posting)"},
                {"max_lag_days", "integer", "30", "days between date and registration that score 0.5"},
                {"close_days", "integer", "10", "a month or fiscal year closes this many days after its last day"},
                {"period_end_days", "integer", "3", "the last days of a month that count as period end"},
                {"reversal", "boolean", "true",
                 "flag period-end amounts reversed in the next period (sub-rule reversal)"},
                {"reversal_days", "integer", "10", "a reversal must fall within this many days of the next period"},
                {"match_counter_account", "boolean", "true",
                 "the reversing voucher must mirror the original voucher's counter lines"},
            },
        .create = FactoryOf<Periodization, PeriodizationParams>(),
    };
}

namespace {

// Keeps the sub-rule with the higher score as the row's score and reason.
void Offer(AlgorithmOutput& output, size_t row, double score, std::string reason) {
    if (score <= output.score[row]) return;
    output.score[row] = score;
    output.reason[row] = score >= 0.3 ? std::move(reason) : std::string();
}

std::string_view MonthName(int month) {
    static constexpr std::string_view kNames[] = {"January",   "February", "March",    "April",
                                                  "May",       "June",     "July",     "August",
                                                  "September", "October",  "November", "December"};
    return month >= 1 && month <= 12 ? kNames[month - 1] : "?";
}

// True when every line of voucher b is the negation of a line of voucher a (a mirror: the same accounts with
// opposite signs); nullopt when either row has no voucher to compare.
class VoucherMirror {
public:
    explicit VoucherMirror(const transform::TransactionFrame& frame) : frame_(frame) {}

    std::optional<bool> Mirrors(size_t a_row, size_t b_row) {
        if (!frame_.HasVoucher(a_row) || !frame_.HasVoucher(b_row)) return std::nullopt;
        const std::pair key(frame_.voucher.codes[a_row], frame_.voucher.codes[b_row]);
        if (const auto it = cache_.find(key); it != cache_.end()) return it->second;
        const auto reversing = Lines(key.second, 1);
        const auto original = Lines(key.first, -1);
        const bool mirrors = std::includes(reversing.begin(), reversing.end(), original.begin(), original.end());
        cache_.emplace(key, mirrors);
        return mirrors;
    }

private:
    std::vector<std::pair<int32_t, int64_t>> Lines(int32_t voucher, int64_t sign) const {
        std::vector<std::pair<int32_t, int64_t>> lines;
        for (const int32_t row : frame_.VoucherRows(voucher)) {
            const auto r = static_cast<size_t>(row);
            lines.emplace_back(frame_.account.codes[r], sign * frame_.amount_minor[r]);
        }
        std::sort(lines.begin(), lines.end());
        return lines;
    }

    const transform::TransactionFrame& frame_;
    std::map<std::pair<int32_t, int32_t>, bool> cache_;
};

}  // namespace

Expected<void> Periodization::LatePosting(const transform::TransactionFrame& frame, const RunContext& context,
                                          AlgorithmOutput& output) const {
    const size_t rows = frame.size();
    const double limit = params_.max_lag_days;
    for (size_t i = 0; i < rows; ++i) {
        if (i % 65'536 == 0 && Cancelled(context)) return Unexpected(Internal("cancelled"));
        const int32_t lag = frame.posting_lag_days[i];
        if (lag <= 0) continue;
        const int32_t registered = frame.registration_days[i];
        const int32_t period_close = rules1::PeriodEndDay(frame, i) + params_.close_days;
        const int32_t year_close = frame.date_days[i] + frame.days_to_year_end[i] + params_.close_days;
        const bool closed_period = registered > period_close;
        const bool closed_year = registered > year_close;
        const bool near_end = frame.days_to_period_end[i] < params_.period_end_days;
        if (lag <= params_.max_lag_days && !closed_period) continue;

        const double weight = 1.0 + (closed_period ? 0.5 : 0.0) + (closed_year ? 0.5 : 0.0) + (near_end ? 0.25 : 0.0);
        const double score = ExcessScore(weight * lag, limit);
        const Date date{frame.date_days[i]};
        const std::string closed =
            closed_year     ? fmt::format(", which dates it into fiscal year {}, closed on {}", frame.fiscal_year[i],
                                          rules1::DateText(year_close))
            : closed_period ? fmt::format(", which dates it into {} {}, closed on {}", MonthName(date.Month()),
                                          date.Year(), rules1::DateText(period_close))
                            : std::string();
        Offer(output, i, score,
              fmt::format("Dated {} but registered {}, {} days later (limit {}){}{}.", date.ToString(),
                          rules1::DateText(registered), lag, params_.max_lag_days, closed,
                          near_end ? ", at the period end" : ""));
        const nlohmann::json metadata = {{"lag_days", lag},
                                         {"max_lag_days", params_.max_lag_days},
                                         {"registration_date", rules1::DateText(registered)},
                                         {"period_close", rules1::DateText(period_close)},
                                         {"closed_period", closed_period},
                                         {"closed_year", closed_year},
                                         {"near_period_end", near_end}};
        output.flags.push_back(RuleFlag{.row = i,
                                        .rule = "late_posting",
                                        .triggered = true,
                                        .value = static_cast<double>(lag),
                                        .metadata = metadata.dump()});
    }
    return {};
}

Expected<void> Periodization::Reversals(const transform::TransactionFrame& frame, const RunContext& context,
                                        AlgorithmOutput& output) const {
    // Rows at a period end or at the start of a period, by (account, |amount|, date, row).
    struct Entry {
        int32_t account;
        int64_t magnitude;
        int32_t date;
        int32_t row;
        auto operator<=>(const Entry&) const = default;
    };
    std::vector<Entry> entries;
    for (size_t i = 0; i < frame.size(); ++i) {
        if (frame.amount_minor[i] == 0) continue;
        const bool at_end = frame.days_to_period_end[i] < params_.period_end_days;
        const bool at_start = frame.day_of_month[i] <= params_.reversal_days;
        if (!at_end && !at_start) continue;
        entries.push_back(Entry{frame.account.codes[i], std::abs(frame.amount_minor[i]), frame.date_days[i],
                                static_cast<int32_t>(i)});
    }
    std::sort(entries.begin(), entries.end());
    if (Cancelled(context)) return Unexpected(Internal("cancelled"));

    struct Pair {
        size_t original;
        size_t reversal;
        bool counter_checked;
    };
    std::vector<Pair> pairs;
    std::vector<uint8_t> used(frame.size(), 0);
    VoucherMirror mirror(frame);
    for (size_t e = 0; e < entries.size(); ++e) {
        const auto i = static_cast<size_t>(entries[e].row);
        if (frame.days_to_period_end[i] >= params_.period_end_days || used[i] != 0) continue;
        const int32_t period_end = rules1::PeriodEndDay(frame, i);
        for (size_t f = e + 1; f < entries.size(); ++f) {
            const Entry& next = entries[f];
            if (next.account != entries[e].account || next.magnitude != entries[e].magnitude ||
                next.date > period_end + params_.reversal_days) {
                break;
            }
            const auto j = static_cast<size_t>(next.row);
            if (next.date <= period_end || used[j] != 0 || frame.amount_minor[j] != -frame.amount_minor[i]) continue;
            const std::optional<bool> mirrors = mirror.Mirrors(i, j);
            if (params_.match_counter_account && mirrors == false) continue;
            used[i] = used[j] = 1;
            pairs.push_back(Pair{i, j, mirrors.has_value() && params_.match_counter_account});
            break;
        }
    }
    if (Cancelled(context)) return Unexpected(Internal("cancelled"));

    // The median |amount| of each account that has a pair.
    std::vector<std::vector<double>> amounts(frame.account.values.size());
    std::vector<uint8_t> needed(frame.account.values.size(), 0);
    for (const Pair& pair : pairs) needed[static_cast<size_t>(frame.account.codes[pair.original])] = 1;
    for (size_t i = 0; i < frame.size(); ++i) {
        const auto account = static_cast<size_t>(frame.account.codes[i]);
        if (needed[account] != 0) amounts[account].push_back(std::abs(rules1::AmountMajor(frame, i)));
    }
    std::vector<double> medians(amounts.size(), 0.0);
    for (size_t a = 0; a < amounts.size(); ++a) {
        if (needed[a] != 0) medians[a] = Median(amounts[a]);
    }

    for (const Pair& pair : pairs) {
        const size_t i = pair.original;
        const size_t j = pair.reversal;
        const auto account = static_cast<size_t>(frame.account.codes[i]);
        const double amount = std::abs(rules1::AmountMajor(frame, i));
        const double median = medians[account];
        const double ratio = median > 0 ? amount / median : 1.0;
        const double score = rules1::SizeScore(ratio);
        const int32_t days_into = frame.date_days[j] - rules1::PeriodEndDay(frame, i);
        const std::string& account_name = frame.account.values[account];
        const std::string days_text = fmt::format("{} day{}", days_into, days_into == 1 ? "" : "s");
        const std::string size =
            fmt::format("{:.1f} times the account's median amount {}", ratio, FormatAmount(median));
        const std::string original_date = rules1::DateText(frame.date_days[i]);
        const std::string reversal_date = rules1::DateText(frame.date_days[j]);
        Offer(output, i, score,
              fmt::format("Period-end entry of {} on {} on {} reversed on {} ({} into the next period), {}.",
                          FormatAmount(amount), account_name, original_date, reversal_date, days_text, size));
        Offer(output, j, score,
              fmt::format("Reverses {} posted on {} on {}, {} into the next period ({}), {}.", FormatAmount(amount),
                          account_name, original_date, days_text, reversal_date, size));
        for (const auto& [row, other] : {std::pair(i, j), std::pair(j, i)}) {
            if (!pair.counter_checked) output.confidence[row] = std::min(output.confidence[row], 0.5);
            const nlohmann::json metadata = {{"matched_row", frame.external_id[other]},
                                             {"role", row == i ? "original" : "reversal"},
                                             {"days_into_next_period", days_into},
                                             {"period_end_days", params_.period_end_days},
                                             {"reversal_days", params_.reversal_days},
                                             {"account_median", median},
                                             {"counter_accounts_matched", pair.counter_checked}};
            output.flags.push_back(RuleFlag{
                .row = row, .rule = "reversal", .triggered = true, .value = amount, .metadata = metadata.dump()});
        }
    }
    return {};
}

Expected<AlgorithmOutput> Periodization::Run(const transform::TransactionFrame& frame,
                                             const RunContext& context) const {
    AlgorithmOutput output(frame.size());
    std::fill(output.confidence.begin(), output.confidence.end(), 1.0);
    if (params_.late_posting) {
        if (auto done = LatePosting(frame, context, output); !done) return Unexpected(std::move(done).error());
        context.progress(0.5);
    }
    if (params_.reversal) {
        if (auto done = Reversals(frame, context, output); !done) return Unexpected(std::move(done).error());
    }
    context.progress(1.0);
    return output;
}

}  // namespace granska::detect
