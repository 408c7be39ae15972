#pragma once
// benford: Benford's law tests of the leading digits of amounts (Nigrini, Benford's Law: Applications for Forensic
// Accounting, Auditing, and Fraud Detection, Wiley 2012). Amounts with |amount| >= min_amount are grouped (all of
// them, per account, or per account class = first digit of the account, BAS classes 1–8); a group with fewer than
// min_group_size amounts is tested as part of the whole upload. Per group and test (first digit: 9 bins, first two
// digits: 90 bins, expected share log10(1 + 1/d)):
//   MAD = mean over bins of |observed share − expected share|, classified with Nigrini's limits (2012, table 7.1):
//   first digit close <= 0.006 < acceptable <= 0.012 < marginal <= 0.015 < nonconformity;
//   first two   close <= 0.0012 < acceptable <= 0.0018 < marginal <= 0.0022 < nonconformity.
//   Z per bin = (|p − e| − 1/(2n)) / sqrt(e(1 − e)/n) (Nigrini's Z-statistic with continuity correction).
// In a group at or beyond flag_level, rows whose bin is over-represented (p > e, Z > min_z) score
//   ExcessScore(MAD, nonconformity limit) × ExcessScore((p − e)/e, 1)
// (0.5 × 0.5 for a bin twice as full as expected in a group just past the limit); the row's score is the higher of
// the tests run, each flagged bin gives a flag "first_digit" / "first_two_digits" with the group's MAD in metadata.
// Confidence n / (n + min_group_size), halved for amounts of small groups tested with the whole upload.

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct BenfordParams {
    std::string group_by = "account_class";    // "none" | "account" | "account_class"
    std::string test = "first_two";            // "first" | "first_two" | "both"
    double min_amount = 10.0;                  // major units; smaller amounts are not tested
    int min_group_size = 300;                  // smaller groups are tested with the whole upload
    std::string flag_level = "nonconformity";  // "marginal" | "nonconformity": the MAD class that flags a group
    double min_z = 1.96;                       // a bin's Z must exceed this (5 % two-sided) to flag its rows

    static Expected<BenfordParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class Benford final : public Algorithm {
public:
    static constexpr std::string_view kName = "benford";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit Benford(BenfordParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    BenfordParams params_;
};

}  // namespace granska::detect
