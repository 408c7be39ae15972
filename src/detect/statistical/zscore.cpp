#include "detect/statistical/zscore.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "detect/detail/algorithm_support.h"
#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/statistical/detail/runs.h"

namespace granska::detect {

Expected<ZscoreParams> ZscoreParams::FromJson(const nlohmann::json& json, std::string_view path) {
    ZscoreParams params;
    ParamReader reader(json, path);
    reader.Read("group_by", params.group_by, {"none", "account", "account_month"});
    reader.Read("robust", params.robust);
    reader.Read("value", params.value, {"log_amount", "amount"});
    reader.Read("direction", params.direction, {"both", "high", "low"});
    reader.Read("threshold", params.threshold);
    reader.Read("min_group_size", params.min_group_size);
    if (!(params.threshold > 0)) reader.Fail("threshold", "'threshold' must be greater than 0.");
    if (params.min_group_size < 2) reader.Fail("min_group_size", "'min_group_size' must be at least 2.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo Zscore::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Distance of each amount from the typical amount of its group (all lines or its account), "
            "in standard deviations; robust mode uses the median and MAD so that outliers do not hide "
            "each other.",
        .params =
            {
                {"group_by", "string", R"("account")",
                 "\"none\" compares with all lines, \"account\" per account, \"account_month\" per account and "
                 "calendar month (a small month falls back to its account, a small account to all lines)"},
                {"robust", "boolean", "true", "median and MAD instead of mean and standard deviation"},
                {"value", "string", R"("log_amount")", "\"log_amount\" = ln(1+|amount|), or the signed \"amount\""},
                {"direction", "string", R"("both")", "flag \"high\" values, \"low\" values or \"both\""},
                {"threshold", "number", "3.0", "the |z| that scores 0.5"},
                {"min_group_size", "integer", "10", "smaller groups are compared with all lines instead"},
            },
        .create = FactoryOf<Zscore, ZscoreParams>(),
    };
}

Expected<AlgorithmOutput> Zscore::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;
    const bool log_scale = params_.value == "log_amount";
    const std::vector<double> values = frame.NumericFeature(params_.value);

    // Groups: one for "none", the account code for "account", account × calendar month for "account_month".
    const bool per_account = params_.group_by != "none";
    const bool per_month = params_.group_by == "account_month";
    std::vector<int64_t> keys(rows, 0);
    std::vector<int64_t> account_size(frame.account.values.size(), 0);
    for (size_t i = 0; i < rows; ++i) {
        const int64_t account = frame.account.codes[i];
        ++account_size[static_cast<size_t>(account)];
        if (!per_account) continue;
        const Date date{frame.date_days[i]};
        keys[i] = per_month ? account * 1'000'000 + (date.Year() + 10'000) * 12 + date.Month() - 1 : account;
    }
    const Runs groups = SortedRuns(keys);

    std::vector<double> scratch(values);
    const Baseline global = ComputeBaseline(scratch, params_.robust);
    const int64_t min_size = params_.min_group_size;
    // Account baselines for account_month groups that are too small.
    std::vector<Baseline> account_baseline(per_month ? frame.account.values.size() : 0, global);
    if (per_month) {
        std::vector<int64_t> account_keys(frame.account.codes.begin(), frame.account.codes.end());
        const Runs accounts = SortedRuns(account_keys);
        for (size_t a = 0; a < accounts.size(); ++a) {
            const std::span<const size_t> group = accounts.Run(a);
            if (std::ssize(group) < min_size) continue;
            scratch.clear();
            for (const size_t i : group) scratch.push_back(values[i]);
            account_baseline[static_cast<size_t>(frame.account.codes[group.front()])] =
                ComputeBaseline(scratch, params_.robust);
        }
    }
    const std::string_view centre_name = params_.robust ? "median" : "mean";
    const std::string_view unit = params_.robust ? "robust standard deviations" : "standard deviations";

    for (size_t g = 0; g < groups.size(); ++g) {
        if (Cancelled(context)) return Unexpected(Internal("cancelled"));
        const std::span<const size_t> group = groups.Run(g);
        const size_t account = static_cast<size_t>(frame.account.codes[group.front()]);
        const std::string& account_name = frame.account.values[account];
        const auto size = std::ssize(group);
        const bool own = !per_account || size >= min_size;
        const bool account_fallback = per_month && !own && account_size[account] >= min_size;
        Baseline baseline = global;
        std::string where = "all lines";
        double weight = own ? 1.0 : 0.5;
        if (own && per_account) {
            scratch.clear();
            for (const size_t i : group) scratch.push_back(values[i]);
            baseline = ComputeBaseline(scratch, params_.robust);
        } else if (account_fallback) {
            baseline = account_baseline[account];
            weight = 0.75;
        }
        if (per_month) {
            const Date date{frame.date_days[group.front()]};
            const std::string month = fmt::format("{:04}-{:02}", date.Year(), date.Month());
            where = own                ? fmt::format("account {} in {}", account_name, month)
                    : account_fallback ? fmt::format("account {} ({} has only {} of its lines)", account_name, month,
                                                     FormatCount(size))
                                       : fmt::format("all lines (account {} has only {})", account_name,
                                                     FormatCount(account_size[account]));
        } else if (per_account) {
            where = own ? fmt::format("account {}", account_name)
                        : fmt::format("all lines (account {} has only {})", account_name, FormatCount(size));
        }
        const double confidence = weight * static_cast<double>(baseline.count) /
                                  (static_cast<double>(baseline.count) + static_cast<double>(min_size));
        const double typical = log_scale ? std::expm1(baseline.center) : baseline.center;

        for (const size_t i : group) {
            const double z = baseline.scale > 0 ? (values[i] - baseline.center) / baseline.scale : 0.0;
            const double excess = params_.direction == "high"  ? std::max(z, 0.0)
                                  : params_.direction == "low" ? std::max(-z, 0.0)
                                                               : std::abs(z);
            output.score[i] = ExcessScore(excess, params_.threshold);
            output.confidence[i] = confidence;
            if (excess < 1.0) continue;
            const double amount = static_cast<double>(frame.amount_minor[i]) / 100.0;
            const std::string_view side = z > 0 ? (log_scale ? "larger" : "above") : (log_scale ? "smaller" : "below");
            output.reason[i] =
                log_scale
                    ? fmt::format("Amount {} is {:.1f} {} {} than usual for {} (typical size {}, the {} of {} lines).",
                                  FormatAmount(amount), std::abs(z), unit, side, where, FormatAmount(typical),
                                  centre_name, FormatCount(baseline.count))
                    : fmt::format("Amount {} is {:.1f} {} {} the {} of {} ({} over {} lines).", FormatAmount(amount),
                                  std::abs(z), unit, side, centre_name, where, FormatAmount(typical),
                                  FormatCount(baseline.count));
        }
        context.progress(static_cast<double>(g + 1) / static_cast<double>(groups.size()));
    }
    return output;
}

}  // namespace granska::detect
