#pragma once
// clustering: rows far from every dense group of ordinary rows score high. The features are standardized (ml/features.h)
// and the model is fitted on a sample of at most `sample` rows drawn without replacement; every row is then scored.
// method:
//   kmeans — k-means++ seeding (Arthur & Vassilvitskii, SODA 2007), then Lloyd iterations until no centre moves by more
//            than tolerance × the mean feature variance. Raw value r = distance to the reference centre / that
//            cluster's typical distance (the median over its training rows).
//   gmm    — (the default) a Gaussian mixture (diagonal or full covariance) fitted by EM (Dempster, Laird & Rubin 1977), started
//            from the k-means solution; covariances get 1e-6 added to their diagonal. Raw value = negative
//            log-likelihood −log Σ_c π_c N(x | μ_c, Σ_c) over the reference components.
//   dbscan — DBSCAN (Ester, Kriegel, Sander & Xu, KDD 1996) on the sample: a core point has at least min_samples
//            sample points within eps (itself included); cores within eps of each other form clusters. Neighbourhoods
//            come from a k-d tree, never from all pairs. eps = 0 picks the 90th percentile of the sample's distances
//            to their min_samples-th neighbour. Raw value r = distance to the nearest reference core point / eps:
//            r > 1 is noise.
// Small clusters (after He, Xu & Deng's CBLOF, 2003): a cluster or component holding less than min_cluster_share
// of the training rows is not a reference — its rows are measured against the nearest large one, so that a tight
// group of outliers does not pass for a cluster of its own.
// Score (constants fitted on the training rows and saved with the model): kmeans and dbscan s = r² / (r² + t²), with
// t = Tukey's far fence Q3 + 3 (Q3 − Q1) of the training r for kmeans and t = 1 (the eps boundary) for dbscan; gmm
// s = 1 / (1 + exp(−(nll − t) / w)), t = the far fence of the training nll, w = (t − median) / ln 99, so the median
// training row scores 0.01. Higher = more anomalous; monotone in the raw value. The fence holds while less than a
// quarter of the training rows are anomalous.
// Reason (score ≥ 0.5): how far the row is, its reference cluster (1-based, and how many of the scored lines it
// holds), and the features that make up most of the distance, grouped by their source feature.
// Deterministic: every random draw comes from std::mt19937_64(seed); sums over rows are made per fixed block of rows
// and added in block order, so the results are identical for any thread count.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "detect/ml/features.h"
#include "detect/registry.h"

namespace granska::detect {

struct ClusteringParams {
    std::string method = "gmm";           // gmm | kmeans | dbscan
    int k = 8;                            // kmeans: clusters
    int components = 8;                   // gmm: mixture components
    std::string covariance = "diagonal";  // gmm: diagonal | full
    int max_iter = 100;                   // kmeans and gmm iterations at most
    double tolerance = 1e-4;              // kmeans: centre shift; gmm: change of the mean log-likelihood
    double eps = 0.0;                     // dbscan neighbourhood radius in standardized units; 0 = automatic
    int min_samples = 10;                 // dbscan: neighbours (itself included) that make a core point
    double min_cluster_share = 0.05;      // smaller clusters are not references
    int sample = 0;                       // rows the model is fitted on; 0 = 100 000 (kmeans, gmm) or 20 000 (dbscan)
    int seed = 42;
    FeatureParams features = {.features = {"log_amount", "weekday", "day_of_month", "posting_lag_days",
                                           "account_frequency", "user_frequency", "voucher_size"}};
    int threads = 0;  // 0 = all hardware threads

    static Expected<ClusteringParams> FromJson(const nlohmann::json& params, std::string_view path);
    nlohmann::json ToJson() const;
};

// What the model says about each scored row.
struct ClusterScores {
    std::vector<double> score;    // [0, 1]
    std::vector<double> raw;      // r (kmeans, dbscan) or nll (gmm)
    std::vector<int> reference;   // the reference cluster / component of the row (0-based)
};

// The fitted model on its own: fit on a (standardized) matrix, score a matrix, save and load. Used by the
// algorithm, the ODDS benchmarks and the tests.
class ClusteringModel {
public:
    ClusteringModel();
    ~ClusteringModel();
    ClusteringModel(ClusteringModel&&) noexcept;
    ClusteringModel& operator=(ClusteringModel&&) noexcept;

    static Expected<ClusteringModel> Fit(const FeatureMatrix& x, const ClusteringParams& params,
                                         const RunContext& context = {});
    // Fails only when cancelled.
    Expected<ClusterScores> Score(const FeatureMatrix& x, size_t threads, const RunContext& context = {}) const;
    // Per column of x, the share of row's distance from its reference that the column makes up (sums to 1).
    std::vector<double> Contributions(const FeatureMatrix& x, size_t row, int reference) const;

    const std::string& method() const;
    size_t clusters() const;        // clusters or components, references or not
    double typical_raw() const;     // the median training raw value
    double eps() const;             // dbscan's radius (0 for the others)
    size_t training_rows() const;

    nlohmann::json ToJson() const;
    static Expected<ClusteringModel> FromJson(const nlohmann::json& json, size_t columns);

    struct State;  // opaque: defined and used in clustering.cpp only

private:
    std::unique_ptr<State> state_;
};

class Clustering final : public Algorithm {
public:
    static constexpr std::string_view kName = "clustering";
    static constexpr AlgorithmType kType = AlgorithmType::kMlBased;

    explicit Clustering(ClusteringParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    ClusteringParams params_;
};

}  // namespace granska::detect
