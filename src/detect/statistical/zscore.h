#pragma once
// zscore: how far each amount lies from its group's centre, in (robust) standard deviations.
// Groups: all lines, per account, or per account × calendar month (a month with fewer than min_group_size
// lines is compared with its whole account, an account that small with all lines; the reason says which). Classic: mean
// and sample standard deviation. Robust: median and 1.4826 × MAD (Iglewicz & Hoaglin), falling back to 1.2533 × mean
// absolute deviation when MAD is 0. Score = z² / (z² + threshold²): 0.5 exactly at the threshold, rising towards 1.

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct ZscoreParams {
    std::string group_by = "account";  // "none" | "account" | "account_month"
    bool robust = true;
    std::string value = "log_amount";  // "log_amount" | "amount"
    std::string direction = "both";    // "both" | "high" | "low"
    double threshold = 3.0;            // |z| that scores 0.5
    int min_group_size = 10;           // smaller groups are compared with all lines instead

    static Expected<ZscoreParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class Zscore final : public Algorithm {
public:
    static constexpr std::string_view kName = "zscore";
    static constexpr AlgorithmType kType = AlgorithmType::kStatistical;

    explicit Zscore(ZscoreParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    ZscoreParams params_;
};

}  // namespace granska::detect
