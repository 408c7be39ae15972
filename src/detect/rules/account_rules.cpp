#include "detect/rules/account_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/rules/detail_rules1.h"

namespace granska::detect {

namespace {

constexpr double kCategoryScore = 0.8;  // a broken weekday, user or counter-account condition

// "7010" matches itself; "7*" every account starting with 7; "*" every account.
bool Matches(std::string_view pattern, std::string_view account) {
    if (!pattern.empty() && pattern.back() == '*') return account.starts_with(pattern.substr(0, pattern.size() - 1));
    return pattern == account;
}

bool ValidPattern(std::string_view pattern) { return !pattern.empty() && pattern.find('*') >= pattern.size() - 1; }

// Reads one rule object; failures name "rules.<key>.<field>[<index>]".
void ReadRule(ParamReader& reader, const std::string& key, const nlohmann::json& json, AccountRule& rule) {
    const auto field = [&key](std::string_view name) { return fmt::format("rules.{}.{}", key, name); };
    if (!ValidPattern(key)) {
        return reader.Fail(fmt::format("rules.{}", key),
                           fmt::format("Rule key \"{}\" must be an account or a prefix ending in '*' (\"7*\").", key));
    }
    if (!json.is_object()) {
        return reader.Fail(fmt::format("rules.{}", key), fmt::format("The rule for \"{}\" must be an object.", key));
    }
    if (json.empty()) {
        return reader.Fail(fmt::format("rules.{}", key), fmt::format("The rule for \"{}\" sets no condition.", key));
    }
    for (const auto& [name, value] : json.items()) {
        if (name == "min_amount" || name == "max_amount") {
            if (!value.is_number() || !(value.get<double>() >= 0)) {
                return reader.Fail(field(name), fmt::format("'{}' must be a number of at least 0.", name));
            }
            (name == "min_amount" ? rule.min_amount : rule.max_amount) = value.get<double>();
        } else if (name == "allowed_weekdays") {
            if (!value.is_array() || value.empty()) {
                return reader.Fail(field(name), "'allowed_weekdays' must be a non-empty list of weekdays 1..7.");
            }
            rule.allowed_weekdays.emplace();
            for (size_t k = 0; k < value.size(); ++k) {
                const nlohmann::json& day = value[k];
                if (!day.is_number_integer() || day.get<int64_t>() < 1 || day.get<int64_t>() > 7) {
                    return reader.Fail(fmt::format("{}[{}]", field(name), k),
                                       "A weekday must be a whole number from 1 (Monday) to 7 (Sunday).");
                }
                rule.allowed_weekdays->push_back(day.get<int>());
            }
        } else if (name == "allowed_users" || name == "allowed_counter_accounts") {
            if (!value.is_array() || value.empty()) {
                return reader.Fail(field(name), fmt::format("'{}' must be a non-empty list of strings.", name));
            }
            auto& list = name == "allowed_users" ? rule.allowed_users : rule.allowed_counter_accounts;
            list.emplace();
            for (size_t k = 0; k < value.size(); ++k) {
                const nlohmann::json& item = value[k];
                const bool pattern_ok =
                    name == "allowed_users" || (item.is_string() && ValidPattern(item.get<std::string>()));
                if (!item.is_string() || item.get<std::string>().empty() || !pattern_ok) {
                    return reader.Fail(
                        fmt::format("{}[{}]", field(name), k),
                        name == "allowed_users"
                            ? std::string("A user must be a non-empty string.")
                            : std::string("A counter account must be an account or a prefix ending in '*'."));
                }
                list->push_back(item.get<std::string>());
            }
        } else {
            return reader.Fail(field(name), fmt::format("Unknown condition '{}'; a rule takes: min_amount, max_amount, "
                                                        "allowed_weekdays, allowed_users, allowed_counter_accounts.",
                                                        name));
        }
    }
    if (rule.min_amount && rule.max_amount && *rule.min_amount > *rule.max_amount) {
        reader.Fail(field("max_amount"), "'max_amount' must not be below 'min_amount'.");
    }
}

// The rule covering each account code: the exact key, else the longest matching prefix; -1 for none.
std::vector<int> RuleOfAccount(const std::vector<AccountRule>& rules, const std::vector<std::string>& accounts) {
    std::vector<int> chosen(accounts.size(), -1);
    for (size_t a = 0; a < accounts.size(); ++a) {
        size_t best_length = 0;
        for (size_t r = 0; r < rules.size(); ++r) {
            const std::string& pattern = rules[r].pattern;
            if (!Matches(pattern, accounts[a])) continue;
            const bool exact = pattern.back() != '*';
            const size_t length = exact ? SIZE_MAX : pattern.size();
            if (chosen[a] < 0 || length > best_length) {
                chosen[a] = static_cast<int>(r);
                best_length = length;
            }
        }
    }
    return chosen;
}

// allowed[code] for a list of values or patterns over a dictionary.
std::vector<uint8_t> AllowedCodes(const std::vector<std::string>& list, const std::vector<std::string>& values,
                                  bool patterns) {
    std::vector<uint8_t> allowed(values.size(), 0);
    for (size_t c = 0; c < values.size(); ++c) {
        for (const std::string& item : list) {
            if (patterns ? Matches(item, values[c]) : item == values[c]) allowed[c] = 1;
        }
    }
    return allowed;
}

double AmountBreachScore(double ratio) {
    return 0.5 + 0.5 * ExcessScore(std::isfinite(ratio) ? std::log10(ratio) : 1e6, 0.5);
}

}  // namespace

Expected<AccountRulesParams> AccountRulesParams::FromJson(const nlohmann::json& json, std::string_view path) {
    AccountRulesParams params;
    ParamReader reader(json, path);
    if (const nlohmann::json* rules = reader.Raw("rules"); rules != nullptr) {
        if (!rules->is_object()) {
            reader.Fail("rules", "'rules' must be an object keyed by account or pattern (\"7010\", \"7*\").");
        } else {
            for (const auto& [key, value] : rules->items()) {
                AccountRule rule{.pattern = key};
                ReadRule(reader, key, value, rule);
                params.rules.push_back(std::move(rule));
            }
        }
    }
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo AccountRules::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Per-account policy: amount limits, allowed weekdays, users and counter accounts for an account or an "
            "account pattern such as \"7*\"; every broken condition is flagged.",
        .params =
            {
                {"rules", "object", "{}",
                 "account or pattern → {min_amount, max_amount, allowed_weekdays [1..7], allowed_users [...], "
                 "allowed_counter_accounts [...]}"},
            },
        .create = FactoryOf<AccountRules, AccountRulesParams>(),
    };
}

Expected<AlgorithmOutput> AccountRules::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (params_.rules.empty() || rows == 0) return output;
    const std::vector<int> rule_of = RuleOfAccount(params_.rules, frame.account.values);
    std::vector<std::vector<uint8_t>> users_allowed(params_.rules.size());
    std::vector<std::vector<uint8_t>> counters_allowed(params_.rules.size());
    for (size_t r = 0; r < params_.rules.size(); ++r) {
        const AccountRule& rule = params_.rules[r];
        if (rule.allowed_users) users_allowed[r] = AllowedCodes(*rule.allowed_users, frame.user.values, false);
        if (rule.allowed_counter_accounts) {
            counters_allowed[r] = AllowedCodes(*rule.allowed_counter_accounts, frame.account.values, true);
        }
    }

    for (size_t i = 0; i < rows; ++i) {
        if (i % 65'536 == 0) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            context.progress(static_cast<double>(i) / static_cast<double>(rows));
        }
        const int r = rule_of[static_cast<size_t>(frame.account.codes[i])];
        if (r < 0) continue;
        const AccountRule& rule = params_.rules[static_cast<size_t>(r)];
        output.confidence[i] = 1.0;
        const double amount = std::abs(rules1::AmountMajor(frame, i));
        double keep = 1.0;  // Π(1 − s) over broken conditions
        std::vector<std::string> clauses;
        const auto breach = [&](std::string_view name, double score, double value, nlohmann::json metadata,
                                std::string clause) {
            keep *= 1.0 - score;
            clauses.push_back(std::move(clause));
            metadata["rule"] = rule.pattern;
            output.flags.push_back(RuleFlag{
                .row = i, .rule = std::string(name), .triggered = true, .value = value, .metadata = metadata.dump()});
        };

        if (rule.max_amount && amount > *rule.max_amount) {
            breach(
                "max_amount", AmountBreachScore(amount / *rule.max_amount), amount, {{"max_amount", *rule.max_amount}},
                fmt::format("amount {} is above the maximum {}", FormatAmount(amount), FormatAmount(*rule.max_amount)));
        }
        if (rule.min_amount && amount < *rule.min_amount) {
            breach(
                "min_amount", AmountBreachScore(*rule.min_amount / amount), amount, {{"min_amount", *rule.min_amount}},
                fmt::format("amount {} is below the minimum {}", FormatAmount(amount), FormatAmount(*rule.min_amount)));
        }
        const int weekday = frame.weekday[i];
        if (rule.allowed_weekdays && std::find(rule.allowed_weekdays->begin(), rule.allowed_weekdays->end(), weekday) ==
                                         rule.allowed_weekdays->end()) {
            breach("weekday", kCategoryScore, weekday, {{"allowed_weekdays", *rule.allowed_weekdays}},
                   fmt::format("it is dated on a {}, not an allowed weekday", rules1::WeekdayName(weekday)));
        }
        const auto user = static_cast<size_t>(frame.user.codes[i]);
        if (rule.allowed_users && !frame.user.values[user].empty() &&
            users_allowed[static_cast<size_t>(r)][user] == 0) {
            breach("user", kCategoryScore, 1.0,
                   {{"user", frame.user.values[user]}, {"allowed_users", *rule.allowed_users}},
                   fmt::format("user {} is not among the allowed users", frame.user.values[user]));
        }
        if (rule.allowed_counter_accounts && frame.HasVoucher(i)) {
            const int32_t own = frame.account.codes[i];
            std::set<std::string> disallowed;
            for (const int32_t k : frame.VoucherRows(frame.voucher.codes[i])) {
                const int32_t other = frame.account.codes[static_cast<size_t>(k)];
                if (other != own && counters_allowed[static_cast<size_t>(r)][static_cast<size_t>(other)] == 0) {
                    disallowed.insert(frame.account.values[static_cast<size_t>(other)]);
                }
            }
            if (!disallowed.empty()) {
                breach("counter_account", kCategoryScore, static_cast<double>(disallowed.size()),
                       {{"counter_accounts", disallowed}, {"allowed_counter_accounts", *rule.allowed_counter_accounts}},
                       fmt::format("counter account{} {} {} not allowed", disallowed.size() > 1 ? "s" : "",
                                   fmt::join(disallowed, ", "), disallowed.size() > 1 ? "are" : "is"));
            }
        }
        if (clauses.empty()) continue;
        output.score[i] = 1.0 - keep;
        const std::string& account = frame.account.values[static_cast<size_t>(frame.account.codes[i])];
        const std::string which = rule.pattern == account ? "its rule" : fmt::format("the rule for {}", rule.pattern);
        output.reason[i] = fmt::format("Account {} breaks {}: {}.", account, which, fmt::join(clauses, ", "));
    }
    context.progress(1.0);
    return output;
}

}  // namespace granska::detect
