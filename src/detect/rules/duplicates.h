#pragma once
// duplicates: the same posting entered twice. Two lines match when they have the same account and the same amount
// (exact minor units, same sign: an opposite sign is a payment or reversal of the first, not a copy), are at most
// window_days apart, belong to different vouchers, and are about the same party: their counterparties are equal, or
// (when either has none) their texts are. Texts are compared after normalising case and whitespace:
//   same text, with a reference number (a run of >= 3 digits: invoice, OCR)  level 0.9
//   same text without one ("Kontantförsäljning kassa 1")                      level 0.4
//   similar text: word-set Jaccard >= min_similarity, digit runs masked       level 0.5 (0.4 without references)
//   counterparty: equal counterparties, texts neither same nor similar        level 0.5
// plus 0.1 on the same date. The LATER line scores level × (1 − 0.5 × days / window_days) × 2 / k, where k is how
// often the amount occurs on the account in the upload (a recurring price or fee coincides by nature); the first
// stays 0. Same date and same text is rule "exact", the rest "near". A voucher whose every line matches a line of
// one earlier voucher of the same size repeats it whole: all its lines score its highest score.
// Recurring postings are not duplicates: a pair whose gap (>= 5 days) repeats, within 3 days, the gap of the
// previous or next pair of the same chain is periodic, and a pair about a month apart (27–33 days) that shares no
// reference number is a monthly charge; both score 0.2 × the above (flag "recurring", not triggered).
// Linear after one sort by (account, amount, date); at most 64 earlier candidates per line. Duplicate payments are a
// standard fraud-audit test (ACFE Fraud Examiners Manual; Nigrini, Forensic Analytics (2011), ch. 11 "same-same-same"
// and "same-same-different" tests).

#include "detect/registry.h"

namespace granska::detect {

struct DuplicatesParams {
    int window_days = 30;         // the copy is at most this many days after the first
    double min_similarity = 0.8;  // word-set Jaccard of the digit-masked texts for "similar text"

    static Expected<DuplicatesParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class Duplicates final : public Algorithm {
public:
    static constexpr std::string_view kName = "duplicates";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit Duplicates(DuplicatesParams params) : params_(params) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    DuplicatesParams params_;
};

}  // namespace granska::detect
