#pragma once
// rare_user: users who post few vouchers (someone who normally never books: an outside consultant, the CEO).
// A user in count of N vouchers is rare when count <= max_count and count <= max_share × N; each of the user's
// lines scores (max_count + 1 − count) / max_count (a single voucher scores 1). Rows without a user score 0 with
// confidence 0; others have confidence N / (N + 100 × max_count). Entries by individuals who seldom post are a
// journal-entry test named in ISA 240 (A44).

#include "detect/registry.h"
#include "detect/rules/detail_rules2.h"

namespace granska::detect {

struct RareUserParams {
    RarityRule rarity{.max_count = 10, .max_share = 0.005};

    static Expected<RareUserParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class RareUser final : public Algorithm {
public:
    static constexpr std::string_view kName = "rare_user";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit RareUser(RareUserParams params) : params_(params) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    RareUserParams params_;
};

}  // namespace granska::detect
