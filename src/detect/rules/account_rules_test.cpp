#include "detect/rules/account_rules.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules1_testing.h"

namespace granska::detect {
namespace {

using rules1::MakeFrame;
using rules1::TestRow;

AccountRules Make(const nlohmann::json& params) {
    return rules1::MakeAlgorithm<AccountRules, AccountRulesParams>(params);
}

const nlohmann::json kRules = {{"rules",
                                {{"7*", {{"max_amount", 20'000}, {"allowed_weekdays", {1, 2, 3, 4, 5}}}},
                                 {"7010",
                                  {{"allowed_users", nlohmann::json::array({"ANNA"})},
                                   {"allowed_counter_accounts", nlohmann::json::array({"19*", "2710"})}}}}}};

std::vector<TestRow> Payroll() {
    return {
        {.minor = 5'000'000, .account = "7010", .voucher = "L 1", .user = "EVA"},  // 0: user not allowed
        {.minor = -4'000'000, .account = "1930", .voucher = "L 1", .user = "EVA"},
        {.minor = -1'000'000, .account = "2710", .voucher = "L 1", .user = "EVA"},
        {.date = "2024-01-13", .minor = 5'000'000, .account = "7210", .voucher = "L 2"},  // 3: Saturday, > max
        {.date = "2024-01-13", .minor = -5'000'000, .account = "1930", .voucher = "L 2"},
        {.minor = 100'000, .account = "7010", .voucher = "L 3", .user = "ANNA"},  // 5: counter 3001
        {.minor = -100'000, .account = "3001", .voucher = "L 3", .user = "ANNA"},
        {.minor = 100'000, .account = "7010", .voucher = "L 4", .user = "ANNA"},  // 7: compliant
        {.minor = -100'000, .account = "1910", .voucher = "L 4", .user = "ANNA"},
    };
}

TEST(AccountRulesTest, ExactAccountRuleBeatsThePattern) {
    const auto output = Make(kRules).Run(MakeFrame(Payroll()), {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[0], 0.8, 1e-12);  // only 7010's rule applies: 50 000.00 is no breach there
    EXPECT_EQ(output->reason[0], "Account 7010 breaks its rule: user EVA is not among the allowed users.");
    EXPECT_EQ(output->score[7], 0.0);
    EXPECT_EQ(output->confidence[7], 1.0);
    EXPECT_EQ(output->score[1], 0.0);
    EXPECT_EQ(output->confidence[1], 0.0);  // 1930 has no rule
}

TEST(AccountRulesTest, BrokenConditionsCombine) {
    const auto output = Make(kRules).Run(MakeFrame(Payroll()), {});
    ASSERT_TRUE(output);
    // max_amount: ratio 2.5, l = log10 2.5 = 0.39794: 0.5 + 0.5 l² / (l² + 0.25) = 0.693895; weekday: 0.8.
    const double l = std::log10(2.5);
    const double amount_score = 0.5 + 0.5 * l * l / (l * l + 0.25);
    EXPECT_NEAR(amount_score, 0.693895, 1e-6);
    EXPECT_NEAR(output->score[3], 1.0 - (1.0 - amount_score) * (1.0 - 0.8), 1e-12);
    EXPECT_EQ(output->reason[3],
              "Account 7210 breaks the rule for 7*: amount 50 000.00 is above the maximum 20 000.00, it is dated on "
              "a Saturday, not an allowed weekday.");
    std::vector<std::string> rules;
    for (const RuleFlag& flag : output->flags) {
        if (flag.row == 3) rules.push_back(flag.rule);
    }
    EXPECT_EQ(rules, (std::vector<std::string>{"max_amount", "weekday"}));
    for (const RuleFlag& flag : output->flags) {
        if (flag.row == 3 && flag.rule == "weekday") {
            EXPECT_EQ(flag.value, 6.0);
        }
        if (flag.row == 3 && flag.rule == "max_amount") {
            EXPECT_DOUBLE_EQ(flag.value, 50'000.0);
            EXPECT_EQ(nlohmann::json::parse(flag.metadata)["rule"], "7*");
        }
    }
}

TEST(AccountRulesTest, CounterAccountsComeFromTheVoucher) {
    const auto output = Make(kRules).Run(MakeFrame(Payroll()), {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[5], 0.8, 1e-12);
    EXPECT_EQ(output->reason[5], "Account 7010 breaks its rule: counter account 3001 is not allowed.");
    bool found = false;
    for (const RuleFlag& flag : output->flags) {
        if (flag.row != 5) continue;
        found = true;
        EXPECT_EQ(flag.rule, "counter_account");
        EXPECT_EQ(flag.value, 1.0);
        EXPECT_EQ(nlohmann::json::parse(flag.metadata)["counter_accounts"], nlohmann::json({"3001"}));
    }
    EXPECT_TRUE(found);
}

TEST(AccountRulesTest, MinimumAmount) {
    const auto output =
        Make({{"rules", {{"6*", {{"min_amount", 100}}}}}}).Run(MakeFrame({{.minor = 2'500, .account = "6110"}}), {});
    ASSERT_TRUE(output);
    const double l = std::log10(4.0);  // 100.00 / 25.00
    EXPECT_NEAR(output->score[0], 0.5 + 0.5 * l * l / (l * l + 0.25), 1e-12);
    EXPECT_EQ(output->flags.at(0).rule, "min_amount");
}

TEST(AccountRulesTest, NoRulesScoreNothing) {
    const auto output = Make({}).Run(MakeFrame(Payroll()), {});
    ASSERT_TRUE(output);
    for (size_t i = 0; i < output->score.size(); ++i) {
        EXPECT_EQ(output->score[i], 0.0);
        EXPECT_EQ(output->confidence[i], 0.0);
    }
    EXPECT_TRUE(output->flags.empty());
}

TEST(AccountRulesParamsTest, RejectsBadNestedFieldsByFullPath) {
    const auto column = [](const nlohmann::json& params) {
        const auto parsed = AccountRulesParams::FromJson(params, "params");
        return parsed ? std::string("(accepted)") : parsed.error().column;
    };
    EXPECT_EQ(column({{"rules", {{"7010", {{"allowed_weekdays", {1, 2, 9}}}}}}}),
              "params.rules.7010.allowed_weekdays[2]");
    EXPECT_EQ(column({{"rules", {{"7010", {{"allowed_weekdays", nlohmann::json::array()}}}}}}),
              "params.rules.7010.allowed_weekdays");
    EXPECT_EQ(column({{"rules", nlohmann::json::array()}}), "params.rules");
    EXPECT_EQ(column({{"rules", {{"7*0", {{"max_amount", 5}}}}}}), "params.rules.7*0");
    EXPECT_EQ(column({{"rules", {{"7010", {{"max_amount", -5}}}}}}), "params.rules.7010.max_amount");
    EXPECT_EQ(column({{"rules", {{"7010", {{"min_amount", 10}, {"max_amount", 5}}}}}}), "params.rules.7010.max_amount");
    EXPECT_EQ(column({{"rules", {{"7010", {{"allowed_userz", {"A"}}}}}}}), "params.rules.7010.allowed_userz");
    EXPECT_EQ(column({{"rules", {{"7010", {{"allowed_users", nlohmann::json::array({"A", ""})}}}}}}),
              "params.rules.7010.allowed_users[1]");
    EXPECT_EQ(column({{"rules", {{"7010", {{"allowed_counter_accounts", nlohmann::json::array({"19*", 1930})}}}}}}),
              "params.rules.7010.allowed_counter_accounts[1]");
    EXPECT_EQ(column({{"rules", {{"7010", nlohmann::json::object()}}}}), "params.rules.7010");
    EXPECT_EQ(column({{"rules", {{"7010", 5}}}}), "params.rules.7010");
    EXPECT_EQ(column({{"rulez", nlohmann::json::object()}}), "params.rulez");
    EXPECT_EQ(column(kRules), "(accepted)");
}

}  // namespace
}  // namespace granska::detect
