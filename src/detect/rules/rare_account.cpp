#include "detect/rules/rare_account.h"

#include <fmt/format.h>

#include "detect/detail/format.h"

namespace granska::detect {

Expected<RareAccountParams> RareAccountParams::FromJson(const nlohmann::json& json, std::string_view path) {
    RareAccountParams params;
    ParamReader reader(json, path);
    ReadRarityRule(reader, params.rarity);
    reader.Read("voucher_weight", params.voucher_weight);
    if (!(params.voucher_weight >= 0 && params.voucher_weight <= 1))
        reader.Fail("voucher_weight", "'voucher_weight' must be in [0, 1].");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo RareAccount::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Accounts used in only a few vouchers: an entry to a seldom-used account is worth a look; the "
            "fewer the uses, the higher the score.",
        .params =
            {
                {"max_count", "integer", "5", "an account in at most this many vouchers is rare"},
                {"max_share", "number", "0.005", "... and in at most this share of all vouchers"},
                {"voucher_weight", "number", "0.5",
                 "the voucher's other lines score this times the rare line's score (0: only the rare line)"},
            },
        .create = FactoryOf<RareAccount, RareAccountParams>(),
    };
}

namespace {
std::string DescribeAccount(std::string_view account, int64_t count, int64_t total) {
    return fmt::format("Account {} is used in {} of {} vouchers.", account, FormatCount(count), FormatCount(total));
}
}  // namespace

Expected<AlgorithmOutput> RareAccount::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    return RunRareCategory(frame, context,
                           RareCategoryRun{.column = &frame.account,
                                           .rule = params_.rarity,
                                           .other_lines_weight = params_.voucher_weight,
                                           .rule_name = "rare_account",
                                           .noun = "account",
                                           .describe = DescribeAccount});
}

}  // namespace granska::detect
