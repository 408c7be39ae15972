#pragma once
// numbering_gaps: completeness and order of voucher numbering. Per voucher series ("<series> <number>", split at
// the last space) and fiscal year, the numeric voucher numbers are sorted:
// - gap: numbers missing between two consecutive vouchers. Both vouchers next to the gap score gap_score (a modest,
//   fixed score: a gap asks for an explanation, it is no evidence of fraud by itself) and get a "gap" flag whose
//   metadata lists the missing numbers (the first 20) and side "before"/"after"; the "after" flags list every gap once.
// - out_of_order: numbers are handed out in time order, so a voucher's date should lie between the dates of its
//   neighbours in number order. Expected range [lo, hi] = medians of the dates of the `neighbours` vouchers before
//   and after it (robust to one misplaced neighbour; open below for the first voucher of a series, above for the
//   last); deviation d = days outside that range. d > tolerance_days
//   flags the voucher, scoring d² / (d² + t²) with t = max(tolerance_days, 1) (≥ 0.5 once flagged).
// Vouchers with non-numeric numbers are skipped (score 0). Completeness of the sequence is the audit assertion
// tested (ISA 500 A49; BFL 5 kap. 6–7 §§ requires verifications numbered in an unbroken series).
// Confidence m / (m + 20) for a series of m vouchers.

#include "detect/registry.h"

namespace granska::detect {

struct NumberingGapsParams {
    double gap_score = 0.3;  // score of the vouchers next to a gap
    int tolerance_days = 7;  // days a voucher may lie outside its neighbours' dates before it is out of order
    int neighbours = 3;      // vouchers on each side whose median date frames the expected date

    static Expected<NumberingGapsParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class NumberingGaps final : public Algorithm {
public:
    static constexpr std::string_view kName = "numbering_gaps";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit NumberingGaps(NumberingGapsParams params) : params_(params) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    NumberingGapsParams params_;
};

}  // namespace granska::detect
