#include "detect/rules/rare_user.h"

#include <fmt/format.h>

#include "detect/detail/format.h"

namespace granska::detect {

Expected<RareUserParams> RareUserParams::FromJson(const nlohmann::json& json, std::string_view path) {
    RareUserParams params;
    ParamReader reader(json, path);
    ReadRarityRule(reader, params.rarity);
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo RareUser::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Users who post only a few vouchers (someone who normally never books): the fewer their "
            "vouchers, the higher the score of each of their lines.",
        .params =
            {
                {"max_count", "integer", "10", "a user of at most this many vouchers is rare"},
                {"max_share", "number", "0.005", "... and of at most this share of all vouchers"},
            },
        .create = FactoryOf<RareUser, RareUserParams>(),
    };
}

namespace {
std::string DescribeUser(std::string_view user, int64_t count, int64_t total) {
    return fmt::format("User {} posted {} of {} vouchers.", user, FormatCount(count), FormatCount(total));
}
}  // namespace

Expected<AlgorithmOutput> RareUser::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    return RunRareCategory(frame, context,
                           RareCategoryRun{.column = &frame.user,
                                           .rule = params_.rarity,
                                           .rule_name = "rare_user",
                                           .noun = "user",
                                           .describe = DescribeUser});
}

}  // namespace granska::detect
