#include "detect/rules/weekend_threshold.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/rules/detail_rules1.h"

namespace granska::detect {

Expected<WeekendThresholdParams> WeekendThresholdParams::FromJson(const nlohmann::json& json, std::string_view path) {
    WeekendThresholdParams params;
    ParamReader reader(json, path);
    reader.Read("threshold", params.threshold);
    reader.Read("relative_to_account", params.relative_to_account);
    reader.Read("account_quantile", params.account_quantile);
    reader.Read("min_account_lines", params.min_account_lines);
    reader.Read("holidays", params.holidays);
    reader.Read("skip_period_end", params.skip_period_end);
    if (!(params.threshold > 0)) reader.Fail("threshold", "'threshold' must be greater than 0.");
    if (!(params.account_quantile > 0 && params.account_quantile < 1)) {
        reader.Fail("account_quantile", "'account_quantile' must lie between 0 and 1 (exclusive).");
    }
    if (params.min_account_lines < 1) reader.Fail("min_account_lines", "'min_account_lines' must be at least 1.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo WeekendThreshold::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Large amounts dated on a weekend or public holiday; the score grows with how far the amount exceeds "
            "the threshold (absolute, or relative to the account's usual weekday amounts).",
        .params =
            {
                {"threshold", "number", "10000.0", "|amount| (major units) above which a weekend entry is flagged"},
                {"relative_to_account", "boolean", "false",
                 "raise the threshold to the account's quantile of weekday amounts"},
                {"account_quantile", "number", "0.9", "the quantile of the account's weekday |amounts| (0..1)"},
                {"min_account_lines", "integer", "20",
                 "accounts with fewer weekday lines use the absolute threshold alone"},
                {"holidays", "boolean", "true", "public holidays count like weekends"},
                {"skip_period_end", "boolean", "true",
                 "leave out rows dated on the last day of their month (closing entries dated by convention)"},
            },
        .create = FactoryOf<WeekendThreshold, WeekendThresholdParams>(),
    };
}

namespace {

struct AccountLimit {
    double quantile = 0.0;  // 0 when the account has too few weekday lines
    int64_t lines = 0;
};

// Each account's quantile of weekday (not weekend, not holiday) |amounts| in major units.
std::vector<AccountLimit> WeekdayQuantiles(const transform::TransactionFrame& frame, double quantile, int min_lines) {
    std::vector<std::vector<double>> amounts(frame.account.values.size());
    for (size_t i = 0; i < frame.size(); ++i) {
        if (frame.is_weekend[i] != 0 || frame.is_holiday[i] != 0) continue;
        amounts[static_cast<size_t>(frame.account.codes[i])].push_back(std::abs(rules1::AmountMajor(frame, i)));
    }
    std::vector<AccountLimit> limits(amounts.size());
    for (size_t a = 0; a < amounts.size(); ++a) {
        std::vector<double>& values = amounts[a];
        limits[a].lines = std::ssize(values);
        if (std::ssize(values) < min_lines || values.empty()) continue;
        const auto k = static_cast<size_t>(std::ceil(quantile * static_cast<double>(values.size()))) - 1;
        const auto nth = values.begin() + static_cast<std::ptrdiff_t>(std::min(k, values.size() - 1));
        std::nth_element(values.begin(), nth, values.end());
        limits[a].quantile = *nth;
    }
    return limits;
}

}  // namespace

Expected<AlgorithmOutput> WeekendThreshold::Run(const transform::TransactionFrame& frame,
                                                const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    std::vector<AccountLimit> limits;
    if (params_.relative_to_account) {
        limits = WeekdayQuantiles(frame, params_.account_quantile, params_.min_account_lines);
    }
    const int percentile = static_cast<int>(std::lround(params_.account_quantile * 100));
    constexpr size_t kChunk = 65'536;
    for (size_t i = 0; i < rows; ++i) {
        if (i % kChunk == 0) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            context.progress(static_cast<double>(i) / static_cast<double>(rows));
        }
        output.confidence[i] = 1.0;
        const bool weekend = frame.is_weekend[i] != 0;
        const bool holiday = params_.holidays && frame.is_holiday[i] != 0;
        if (!weekend && !holiday) continue;
        if (params_.skip_period_end && frame.days_to_period_end[i] == 0) continue;

        double limit = params_.threshold;
        bool from_account = false;
        const auto account = static_cast<size_t>(frame.account.codes[i]);
        if (params_.relative_to_account) {
            const AccountLimit& own = limits[account];
            if (own.quantile > limit) {
                limit = own.quantile;
                from_account = true;
                output.confidence[i] =
                    static_cast<double>(own.lines) / static_cast<double>(own.lines + params_.min_account_lines);
            }
        }
        const double amount = rules1::AmountMajor(frame, i);
        if (!(std::abs(amount) > limit)) continue;

        output.score[i] = rules1::SizeScore(std::abs(amount) / limit);
        const std::string_view day = rules1::WeekdayName(frame.weekday[i]);
        const std::string_view kind = weekend && holiday ? "a weekend and public holiday"
                                      : weekend          ? "a weekend"
                                                         : "a public holiday";
        const std::string basis = from_account ? fmt::format(" (the {}th percentile of account {}'s weekday amounts)",
                                                             percentile, frame.account.values[account])
                                               : std::string();
        if (output.score[i] >= 0.3) {
            output.reason[i] =
                fmt::format("Posted on {} {} ({}) for {}, above {}{}.", day, rules1::DateText(frame.date_days[i]), kind,
                            FormatAmount(amount), FormatAmount(limit), basis);
        }
        nlohmann::json metadata = {{"threshold", limit},
                                   {"weekday", day},
                                   {"weekend", weekend},
                                   {"holiday", frame.is_holiday[i] != 0},
                                   {"relative_to_account", from_account}};
        output.flags.push_back(RuleFlag{.row = i,
                                        .rule = "weekend_amount",
                                        .triggered = true,
                                        .value = std::abs(amount),
                                        .metadata = metadata.dump()});
    }
    context.progress(1.0);
    return output;
}

}  // namespace granska::detect
