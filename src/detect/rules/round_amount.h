#pragma once
// round_amount: amounts that are suspiciously round for their size — estimates, invented or negotiated figures
// rather than computed ones (Nigrini, "Forensic Analytics", round-number tests; ISA 240 lists round numbers among
// journal-entry risk factors). An amount |a| ≥ `min_amount` that is a multiple of 10^z (z = round_exponent ≥
// `min_exponent`, in major units) with s significant digits has roundness ρ = z − 0.5 (s − 1): 50 000.00 → 4, 25 000.00
// → 2.5, 125 000.00 → 2. Score = ExcessScore(ρ, min_exponent) × (0.5 + 0.5 SizeScore(|a| / min_amount)) × (1 − share),
// where share is the part of the account's other lines that are at least as round (rent that is always 25 000.00 scores
// ~0).

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct RoundAmountParams {
    double min_amount = 1'000.0;  // major units
    int min_exponent = 3;         // at least a multiple of 1 000.00
    bool account_history = true;  // discount amounts whose roundness is common on their account

    static Expected<RoundAmountParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class RoundAmount final : public Algorithm {
public:
    static constexpr std::string_view kName = "round_amount";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit RoundAmount(RoundAmountParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    RoundAmountParams params_;
};

}  // namespace granska::detect
