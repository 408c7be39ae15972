#include "detect/statistical/zscore.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"

namespace granska::detect {


Expected<ZscoreParams> ZscoreParams::FromJson(const nlohmann::json& json, std::string_view path) {
    ZscoreParams params;
    ParamReader reader(json, path);
    reader.Read("group_by", params.group_by, {"none", "account"});
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
                {"group_by", "string", R"("account")", "\"none\" compares with all lines, \"account\" per account"},
                {"robust", "boolean", "true", "median and MAD instead of mean and standard deviation"},
                {"value", "string", R"("log_amount")", "\"log_amount\" = ln(1+|amount|), or the signed \"amount\""},
                {"direction", "string", R"("both")", "flag \"high\" values, \"low\" values or \"both\""},
                {"threshold", "number", "3.0", "the |z| that scores 0.5"},
                {"min_group_size", "integer", "10", "smaller groups are compared with all lines instead"},
            },
        .create = [](const nlohmann::json& json, std::string_view path) -> Expected<std::unique_ptr<Algorithm>> {
            auto params = ZscoreParams::FromJson(json, path);
            if (!params) return Unexpected(std::move(params).error());
            return std::unique_ptr<Algorithm>(std::make_unique<Zscore>(std::move(*params)));
        },
    };
}

Expected<AlgorithmOutput> Zscore::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;
    const bool log_scale = params_.value == "log_amount";
    const std::vector<double> values = frame.NumericFeature(params_.value);

    // Group codes: one group for "none", the account code otherwise.
    const bool per_account = params_.group_by == "account";
    const size_t groups = per_account ? frame.account.values.size() : 1;
    std::vector<std::vector<size_t>> members(groups);
    for (size_t i = 0; i < rows; ++i)
        members[per_account ? static_cast<size_t>(frame.account.codes[i]) : 0].push_back(i);

    std::vector<double> scratch(values);
    const Baseline global = ComputeBaseline(scratch, params_.robust);
    const double min_size = params_.min_group_size;

    for (size_t g = 0; g < groups; ++g) {
        if (context.cancelled != nullptr && context.cancelled->load()) return Unexpected(Internal("cancelled"));
        const std::vector<size_t>& group = members[g];
        if (group.empty()) continue;
        const bool own = !per_account || static_cast<int64_t>(group.size()) >= params_.min_group_size;
        Baseline baseline = global;
        if (own && per_account) {
            scratch.clear();
            for (const size_t i : group) scratch.push_back(values[i]);
            baseline = ComputeBaseline(scratch, params_.robust);
        }
        const std::string where = !per_account ? "all lines"
                                  : own        ? fmt::format("account {}", frame.account.values[g])
                                        : fmt::format("all lines (account {} has only {})", frame.account.values[g],
                                                      FormatCount(std::ssize(group)));
        const double confidence =
            (own ? 1.0 : 0.5) * static_cast<double>(baseline.count) / (static_cast<double>(baseline.count) + min_size);
        const std::string_view centre_name = params_.robust ? "median" : "mean";
        const std::string_view unit = params_.robust ? "robust standard deviations" : "standard deviations";
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
        context.progress(static_cast<double>(g + 1) / static_cast<double>(groups));
    }
    return output;
}

}  // namespace granska::detect
