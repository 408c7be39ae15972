#include "detect/rules/round_amount.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/rules/detail_rules1.h"

namespace granska::detect {

namespace {

constexpr int kMinExponent = -2;  // round_exponent of an amount with non-zero cents
constexpr int kMaxExponent = 16;  // 10^16 major units = 10^18 minor: the largest that fits int64
constexpr size_t kSlots = kMaxExponent - kMinExponent + 1;

int64_t PowerOfTen(int exponent) {
    int64_t power = 1;
    for (int k = 0; k < exponent; ++k) power *= 10;
    return power;
}

int DigitCount(int64_t value) {
    int digits = 1;
    while (value >= 10) {
        value /= 10;
        ++digits;
    }
    return digits;
}

}  // namespace

Expected<RoundAmountParams> RoundAmountParams::FromJson(const nlohmann::json& json, std::string_view path) {
    RoundAmountParams params;
    ParamReader reader(json, path);
    reader.Read("min_amount", params.min_amount);
    reader.Read("min_exponent", params.min_exponent);
    reader.Read("account_history", params.account_history);
    if (!(params.min_amount > 0)) reader.Fail("min_amount", "'min_amount' must be greater than 0.");
    if (params.min_exponent < 1 || params.min_exponent > kMaxExponent) {
        reader.Fail("min_exponent", fmt::format("'min_exponent' must lie between 1 and {}.", kMaxExponent));
    }
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo RoundAmount::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Amounts that are round multiples of a large power of ten for their size (50 000.00 = 5 × 10 000), "
            "scored higher for rounder and larger amounts and lower where the account usually has such amounts.",
        .params =
            {
                {"min_amount", "number", "1000.0", "smaller |amounts| (major units) are not considered"},
                {"min_exponent", "integer", "3", "an amount must be a multiple of 10^min_exponent (3: of 1 000.00)"},
                {"account_history", "boolean", "true",
                 "score less when the account's other amounts are as round (share of them)"},
            },
        .create = FactoryOf<RoundAmount, RoundAmountParams>(),
    };
}

Expected<AlgorithmOutput> RoundAmount::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    const auto slot = [](int exponent) {
        return static_cast<size_t>(std::clamp(exponent, kMinExponent, kMaxExponent) - kMinExponent);
    };

    // at_least[account][slot(z)] = the account's non-zero lines that are multiples of 10^z or rounder.
    const size_t accounts = frame.account.values.size();
    std::vector<int32_t> at_least(accounts * kSlots, 0);
    for (size_t i = 0; i < rows; ++i) {
        if (frame.amount_minor[i] == 0) continue;
        ++at_least[static_cast<size_t>(frame.account.codes[i]) * kSlots + slot(frame.round_exponent[i])];
    }
    for (size_t a = 0; a < accounts; ++a) {
        for (size_t s = kSlots - 1; s > 0; --s) at_least[a * kSlots + s - 1] += at_least[a * kSlots + s];
    }
    if (Cancelled(context)) return Unexpected(Internal("cancelled"));

    for (size_t i = 0; i < rows; ++i) {
        if (i % 65'536 == 0) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            context.progress(static_cast<double>(i) / static_cast<double>(rows));
        }
        if (frame.amount_minor[i] == 0) continue;
        const auto account = static_cast<size_t>(frame.account.codes[i]);
        const int32_t lines = at_least[account * kSlots];
        output.confidence[i] = params_.account_history ? 0.5 + 0.5 * lines / (lines + 20.0) : 1.0;
        const int exponent = std::min<int>(frame.round_exponent[i], kMaxExponent);
        const double amount = std::abs(rules1::AmountMajor(frame, i));
        if (exponent < params_.min_exponent || amount < params_.min_amount) continue;

        const int64_t unit = PowerOfTen(exponent);
        const int64_t mantissa = std::abs(frame.amount_minor[i]) / 100 / unit;
        const int digits = DigitCount(mantissa);
        const double roundness = exponent - 0.5 * (digits - 1);
        const int32_t as_round = at_least[account * kSlots + slot(exponent)];
        const double others_share = lines > 1 ? static_cast<double>(as_round - 1) / (lines - 1) : 0.0;
        const double history = params_.account_history ? 1.0 - others_share : 1.0;
        const double score = ExcessScore(roundness, params_.min_exponent) *
                             (0.5 + 0.5 * rules1::SizeScore(amount / params_.min_amount)) * history;
        output.score[i] = score;
        if (score <= 0) continue;  // as round as the account's other amounts: nothing to flag
        const double share = static_cast<double>(as_round) / lines;
        if (score >= 0.3) {
            const std::string percent =
                100.0 * share < 0.1 ? std::string("under 0.1%") : fmt::format("{:.1f}%", 100.0 * share);
            output.reason[i] =
                fmt::format("Amount {} is a round {} × {}, and {} of account {}'s amounts ({} of {}) are this round.",
                            FormatAmount(rules1::AmountMajor(frame, i)), FormatCount(mantissa), FormatCount(unit),
                            percent, frame.account.values[account], FormatCount(as_round), FormatCount(lines));
        }
        const nlohmann::json metadata = {{"exponent", exponent},
                                         {"significant_digits", digits},
                                         {"min_exponent", params_.min_exponent},
                                         {"min_amount", params_.min_amount},
                                         {"account_lines", lines},
                                         {"account_share_as_round", share}};
        output.flags.push_back(RuleFlag{
            .row = i, .rule = "round_amount", .triggered = true, .value = amount, .metadata = metadata.dump()});
    }
    context.progress(1.0);
    return output;
}

}  // namespace granska::detect
