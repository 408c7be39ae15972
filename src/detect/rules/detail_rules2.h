#pragma once
// Helpers shared by the rule-based algorithms benford, duplicates, numbering_gaps, rare_account and rare_user:
// voucher counting per category, the rarity rule both rare_* algorithms apply, and small run utilities.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detect/algorithm.h"
#include "detect/detail/params.h"
#include "detect/detail/algorithm_support.h"
#include "detect/registry.h"
#include "transform/frame.h"

namespace granska::detect {


// A voucher's display name: its "<series> <number>", or "row <row number>" for a row without a voucher number.
std::string VoucherName(const transform::TransactionFrame& frame, size_t row);

// How many vouchers use each value of a category column (a row without a voucher number counts as a voucher of
// its own), and how many vouchers the frame has in all.
struct VoucherCounts {
    std::vector<int64_t> per_code;  // by category code
    int64_t vouchers = 0;
};
VoucherCounts CountVouchers(const transform::TransactionFrame& frame, const transform::CategoryColumn& column);

// The rarity rule of rare_account and rare_user: a value used in count vouchers of total is rare when
// count <= max_count and count <= max_share × total. Score (max_count + 1 − count) / max_count: 1 for a single use,
// falling linearly to 1 / max_count at max_count uses; 0 when not rare. Confidence total / (total + 100 × max_count):
// in a small upload every value is rare, so a rare one says less.
struct RarityRule {
    int max_count = 5;
    double max_share = 0.005;

    bool IsRare(int64_t count, int64_t total) const;
    double Score(int64_t count, int64_t total) const;
    double Confidence(int64_t total) const;
};

// Reads and validates "max_count" (>= 1) and "max_share" (in (0, 1]) into rule.
void ReadRarityRule(ParamReader& reader, RarityRule& rule);


// Runs a rarity rule over one category column (accounts or users). Rows with a rare value score by the rule and
// get a RuleFlag named rule_name; with other_lines_weight > 0 the voucher's other lines score weight × the rare
// line's score (flag "<rule_name>_voucher"). Rows with an empty value score 0 with confidence 0.
// describe(value, count, total) is the reason of a rare line, e.g. "Account 3990 is used in 2 of 18 131 vouchers."
struct RareCategoryRun {
    const transform::CategoryColumn* column = nullptr;
    RarityRule rule;
    double other_lines_weight = 0.0;
    std::string_view rule_name;
    std::string_view noun;  // "account" | "user", in reasons of the other lines
    std::string (*describe)(std::string_view value, int64_t count, int64_t total) = nullptr;
};
Expected<AlgorithmOutput> RunRareCategory(const transform::TransactionFrame& frame, const RunContext& context,
                                          const RareCategoryRun& run);

}  // namespace granska::detect
