#pragma once
// account_rules: per-account policy the auditor configures. `rules` maps an account ("7010") or a prefix pattern
// ("7*", "*") to conditions: min_amount / max_amount (on |amount|, major units), allowed_weekdays (1 = Monday ..
// 7 = Sunday), allowed_users, allowed_counter_accounts (the other accounts of the row's voucher; patterns allowed).
// An exact account beats a pattern; among patterns the longest prefix wins. Each broken condition is a RuleFlag
// (min_amount, max_amount, weekday, user, counter_account) with score s: amounts 0.5 + 0.5 ExcessScore(log10(ratio),
// 0.5) (0.63 at twice the limit, 0.9 at ten times), the others 0.8; the row scores 1 − Π(1 − s).
// No rules (the default): nothing scores; rows no rule covers score 0 with confidence 0.

#include <optional>
#include <string>
#include <vector>

#include "detect/registry.h"

namespace granska::detect {

struct AccountRule {
    std::string pattern;  // "7010", or a prefix ending in '*'
    std::optional<double> min_amount;
    std::optional<double> max_amount;
    std::optional<std::vector<int>> allowed_weekdays;
    std::optional<std::vector<std::string>> allowed_users;
    std::optional<std::vector<std::string>> allowed_counter_accounts;  // accounts or prefix patterns
};

struct AccountRulesParams {
    std::vector<AccountRule> rules;  // in key order

    static Expected<AccountRulesParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class AccountRules final : public Algorithm {
public:
    static constexpr std::string_view kName = "account_rules";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit AccountRules(AccountRulesParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    AccountRulesParams params_;
};

}  // namespace granska::detect
