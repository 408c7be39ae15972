#pragma once
// isolation_forest: Isolation Forest (F. T. Liu, K. M. Ting, Z.-H. Zhou, "Isolation Forest", ICDM 2008).
// Each of n_trees trees is grown on its own sub-sample of sample_size rows drawn without replacement: a node
// picks a feature at random (among those that still vary in the node) and a threshold uniformly between the
// node's minimum and maximum, until one row remains or max_depth is reached. Anomalies are isolated in few splits.
// Path length h(x) = splits to the external node + c(size) when that node holds size > 1 training rows, with
// c(n) = 2 H(n − 1) − 2 (n − 1) / n, H(i) ≈ ln(i) + 0.5772156649 (c(2) = 1, c(1) = 0).
// Score = 2^(−E[h(x)] / c(ψ)), ψ = the sub-sample size actually used: near 1 for anomalies, ≤ 0.5 for normal rows.
// Reason (score ≥ 0.55): E[h] against the median over all rows, and the deciding features — those that earned the
// most isolation on the row's paths, a split that leaves the row with n_child of the node's n_node training rows
// earning log2(n_node / n_child).
// Confidence = ψ / (ψ + 32) · n_trees / (n_trees + 10): the same for every row, higher with more evidence per tree.
// Missing values: a non-finite feature value is imputed by that feature's median over the finite values (0 if none).
// Deterministic: tree t uses std::mt19937_64 seeded by splitmix64(seed ^ t), and each row sums its trees in tree
// order, so scores are identical for any thread count.

#include <cstdint>
#include <string>
#include <vector>

#include "detect/registry.h"

namespace granska::detect {

struct IsolationForestParams {
    int n_trees = 100;
    int sample_size = 256;  // ψ; all rows when there are fewer
    int max_depth = 0;      // 0 = ceil(log2 ψ), the paper's height limit
    int seed = 42;
    std::vector<std::string> features = {"log_amount",        "weekday",        "day_of_month", "posting_lag_days",
                                         "account_frequency", "user_frequency", "voucher_size"};
    int threads = 0;  // 0 = all hardware threads

    static Expected<IsolationForestParams> FromJson(const nlohmann::json& params, std::string_view path);
};

// c(n): the average path length of an unsuccessful binary-search-tree search among n points (Liu et al., eq. 1).
double IsolationAveragePathLength(int64_t n);

class IsolationForest final : public Algorithm {
public:
    static constexpr std::string_view kName = "isolation_forest";
    static constexpr AlgorithmType kType = AlgorithmType::kMlBased;

    explicit IsolationForest(IsolationForestParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    IsolationForestParams params_;
};

}  // namespace granska::detect
