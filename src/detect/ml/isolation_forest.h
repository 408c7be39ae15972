#pragma once
// isolation_forest: Isolation Forest (F. T. Liu, K. M. Ting, Z.-H. Zhou, "Isolation Forest", ICDM 2008).
// Each of n_trees trees is grown on its own sub-sample of sample_size rows drawn without replacement: a node
// picks a feature at random (among those that still vary in the node) and a threshold uniformly between the
// node's minimum and maximum, until one row remains or max_depth is reached. Anomalies are isolated in few splits.
// Path length h(x) = splits to the external node + c(size) when that node holds size > 1 training rows, with
// c(n) = 2 H(n − 1) − 2 (n − 1) / n, H(i) ≈ ln(i) + 0.5772156649 (c(2) = 1, c(1) = 0).
// Score = 2^(−E[h(x)] / c(ψ)), ψ = the sub-sample size actually used: near 1 for anomalies, ≤ 0.5 for normal rows.
// Reason (score ≥ 0.55, or among the top 5 % and above 0.5, since calibration may rank those high): E[h] against the
// median over all rows, and the deciding features — those that earned the most isolation on the row's paths, a
// split that leaves the row with n_child of the node's n_node training rows earning log2(n_node / n_child).
// Confidence = ψ / (ψ + 32) · n_trees / (n_trees + 10): the same for every row, higher with more evidence per tree.
// Extended (extension_level k > 0; S. Hariri, M. Carrasco Kind, R. J. Brunner, "Extended Isolation Forest", IEEE TKDE
// 2021): a node splits by a random hyperplane instead, x·n < p·n, the normal n with N(0, 1) coefficients on k + 1
// randomly chosen features that vary in the node (all of them when fewer), p uniform in the node's bounding box; a
// side may stay empty (its path length is its depth). A hyperplane's isolation is shared among its features by
// |coefficient| for the reason.
// Features (ml/features.h): derived features or the file's numeric columns, one-hot categoricals; a missing value is
// imputed by the training median. Standard splits do not care about scale: not standardized; extended: standardized.
// Models (ml/model.h): the fitted forest is saved with the run; a later upload can be scored with it.
// Speed: trees are flat arrays of 12-byte nodes; blocks of 256 rows walk one tree at a time, level by level, and
// threads take blocks of rows (trees while fitting).
// Deterministic: tree t uses std::mt19937_64 seeded by splitmix64(seed ^ t), and each row sums its trees in tree
// order, so scores are identical for any thread count.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "detect/ml/features.h"
#include "detect/registry.h"

namespace granska::detect {

struct IsolationForestParams {
    int n_trees = 100;
    int sample_size = 256;  // ψ; all rows when there are fewer
    int max_depth = 0;      // 0 = ceil(log2 ψ), the paper's height limit
    int seed = 42;
    int extension_level = 0;  // 0 = axis-parallel splits; k > 0 = hyperplanes through k + 1 features (extended IF)
    FeatureParams features = {.features = {"log_amount", "weekday", "day_of_month", "posting_lag_days",
                                           "account_frequency", "user_frequency"}};
    int threads = 0;  // 0 = all hardware threads

    static Expected<IsolationForestParams> FromJson(const nlohmann::json& params, std::string_view path);
    nlohmann::json ToJson() const;
};

// Rows scoring at least this get a reason (IF scores near 0.5 are normal).
inline constexpr double kIsolationReasonScore = 0.55;

// c(n): the average path length of an unsuccessful binary-search-tree search among n points (Liu et al., eq. 1).
double IsolationAveragePathLength(int64_t n);

// The fitted forest on its own: fit on a matrix, score a matrix, save and load (used by the algorithm, the ODDS
// benchmark and tests). Scores are identical for any thread count.
class IsolationForestModel {
public:
    IsolationForestModel();
    ~IsolationForestModel();
    IsolationForestModel(IsolationForestModel&&) noexcept;
    IsolationForestModel& operator=(IsolationForestModel&&) noexcept;

    // Grows params.n_trees trees on x (cancellable through context; progress 0..1 of the fit).
    static Expected<IsolationForestModel> Fit(const FeatureMatrix& x, const IsolationForestParams& params,
                                              const RunContext& context = {});
    // 2^(−E[h]/c(ψ)) per row; path (optional) receives E[h]. Fails only when cancelled.
    Expected<std::vector<double>> Score(const FeatureMatrix& x, size_t threads, const RunContext& context = {},
                                        std::vector<double>* path = nullptr) const;
    // For each given row, up to three columns of x whose splits isolated it most (-1 = none), most first.
    std::vector<std::array<int, 3>> DecidingColumns(const FeatureMatrix& x, std::span<const size_t> rows,
                                                    size_t threads) const;

    size_t trees() const;
    int sample_size() const { return psi_; }
    nlohmann::json ToJson() const;
    static Expected<IsolationForestModel> FromJson(const nlohmann::json& json, size_t columns);

private:
    struct Forest;
    std::unique_ptr<Forest> forest_;
    int psi_ = 0;
    int max_depth_ = 0;
};

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
