#pragma once
// correlation: relations between transactions, in three parts; a row's score is the highest of its parts and
// its reason comes from that part.
//
// 1. Account pairs (pointwise mutual information, Church & Hanks 1990). Each voucher's accounts (net amount per
//    account, the max_voucher_lines largest) are paired debit with credit. Over the upload, n_a = vouchers with
//    account a, c_ab = vouchers pairing a with b, N = vouchers. Independence expects E = n_a·n_b / N; the
//    under-representation u = E / c_ab = exp(−PMI). A pair seen in at most rare_pair_count vouchers whose
//    accounts are both established (each in ≥ min_account_vouchers) scores u² / (u² + pair_surprise²) on the
//    lines of both accounts (0 when u ≤ 1). A rare account alone is rare_account's business, not this one's.
// 2. Amount ratios. For an account pair in vouchers of the same shape (same number of accounts) seen in
//    ≥ min_pair_vouchers vouchers, the ratio |net b| / |net a| is rounded to 3 significant digits; the most
//    common values (at most max_modes) covering ≥ mode_coverage of those vouchers are the pair's modes (VAT at
//    25 %, 12 %, 6 %). A pair without such modes has no pattern. A voucher whose ratio lies d = min |ln(r / m)|
//    from every mode, with d > t = ln(1 + ratio_tolerance) and at least ratio_min_difference off in amount,
//    scores (d − t)² / ((d − t)² + t²) on both accounts' lines. Same shape: a third cost line in the voucher
//    changes what the VAT line is a share of, so such vouchers are compared among themselves.
// 3. Split sequences (the approval-limit split of auditing practice). Amounts just under split_threshold
//    (|amount| in [threshold·(1 − split_margin), threshold)) to the same counterparty (or, without one, the
//    same text with digits removed) — one per voucher — at least split_min_count of them inside
//    split_window_days calendar days and summing above the threshold: every member scores
//    n² / (n² + (split_min_count − 1)²) for a sequence of n.

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct CorrelationParams {
    bool pairs = true;
    int rare_pair_count = 10;       // a pair in at most this many vouchers is a candidate
    int min_account_vouchers = 20;  // both accounts must be in at least this many vouchers
    double pair_surprise = 3.0;     // expected / observed co-occurrence that scores 0.5
    int max_voucher_lines = 20;     // accounts per voucher taken into pairs (the largest by amount)

    bool ratios = true;
    int min_pair_vouchers = 30;         // vouchers of one shape with the pair needed to learn its ratio
    double mode_coverage = 0.8;         // share of those vouchers the modes must cover
    int max_modes = 4;                  // more modes than this = no pattern
    double ratio_tolerance = 0.02;      // relative distance from the nearest mode that is still normal
    double ratio_min_difference = 1.0;  // and the amount must be at least this far off (major units)

    bool splits = true;
    int split_min_count = 3;
    int split_window_days = 7;
    double split_threshold = 50'000.0;  // major units; a typical approval limit
    double split_margin = 0.10;         // "just under" = within this share below the threshold

    static Expected<CorrelationParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class Correlation final : public Algorithm {
public:
    static constexpr std::string_view kName = "correlation";
    static constexpr AlgorithmType kType = AlgorithmType::kStatistical;

    explicit Correlation(CorrelationParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    CorrelationParams params_;
};

}  // namespace granska::detect
