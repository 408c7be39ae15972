#pragma once
// rare_account: accounts used in few vouchers. An account used in count of N vouchers is rare when
// count <= max_count and count <= max_share × N; its lines score (max_count + 1 − count) / max_count (a single use
// scores 1). The voucher's other lines score voucher_weight × that: an entry to a rarely used account is judged as a
// whole (its bank or VAT lines say which money moved). Confidence N / (N + 100 × max_count).
// Entries to seldom-used accounts are a journal-entry test named in ISA 240 (A44).

#include "detect/registry.h"
#include "detect/rules/detail_rules2.h"

namespace granska::detect {

struct RareAccountParams {
    RarityRule rarity{.max_count = 5, .max_share = 0.005};
    double voucher_weight = 0.5;  // the voucher's other lines score this × the rare line's score; 0 = only that line

    static Expected<RareAccountParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class RareAccount final : public Algorithm {
public:
    static constexpr std::string_view kName = "rare_account";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit RareAccount(RareAccountParams params) : params_(params) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    RareAccountParams params_;
};

}  // namespace granska::detect
