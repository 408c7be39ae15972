#include "detect/ml/clustering.h"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <optional>
#include <random>
#include <thread>

#include "detect/detail/algorithm_support.h"
#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/ml/detail/encoded_frame.h"
#include "detect/ml/detail/kd_tree.h"
#include "detect/ml/model.h"

namespace granska::detect {
namespace {

constexpr size_t kBlock = 4096;          // rows per block of work; sums are made per block, added in block order
constexpr double kReasonScore = 0.5;
constexpr double kRegCovar = 1e-6;       // added to covariance diagonals (standardized features)
constexpr double kEpsQuantile = 0.9;     // automatic eps: this quantile of the min_samples-th neighbour distance
constexpr int kDefaultSample = 100'000;  // kmeans, gmm
constexpr int kDefaultDbscanSample = 20'000;
const double kLog2Pi = std::log(2.0 * std::numbers::pi);

size_t Threads(int threads) {
    return threads > 0 ? static_cast<size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
}

size_t Blocks(size_t rows) { return (rows + kBlock - 1) / kBlock; }

// Runs work(b, begin, end) for every block b of kBlock rows of [0, rows) on up to `threads` threads. Each block's
// results go to the block's own slots, so the outcome does not depend on which thread ran it. False when cancelled.
// With `report`, the caller's thread reports the share of blocks done as progress.
template <class Work>
bool ForEachBlock(size_t rows, size_t threads, const RunContext& context, Work work, bool report = false) {
    const size_t blocks = Blocks(rows);
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    std::atomic<bool> cancelled{false};
    const auto worker = [&](bool caller) {
        for (size_t b = next++; b < blocks && !cancelled; b = next++) {
            if (Cancelled(context)) {
                cancelled = true;
                return;
            }
            work(b, b * kBlock, std::min(rows, (b + 1) * kBlock));
            const size_t finished = ++done;
            if (caller && report) context.progress(static_cast<double>(finished) / static_cast<double>(blocks));
        }
    };
    {
        std::vector<std::jthread> pool;
        for (size_t t = 1; t < std::min(threads, blocks); ++t) pool.emplace_back(worker, false);
        worker(true);
    }
    return !cancelled && !Cancelled(context);
}

double SquaredDistance(const double* a, const double* b, size_t dims) {
    double sum = 0.0;
    for (size_t d = 0; d < dims; ++d) sum += (a[d] - b[d]) * (a[d] - b[d]);
    return sum;
}

// The q-quantile (nearest rank) of values; values is scratch space.
double Quantile(std::vector<double>& values, double q) {
    if (values.empty()) return 0.0;
    const double at = std::max(0.0, std::ceil(q * static_cast<double>(values.size())) - 1.0);
    const size_t rank = std::min(values.size() - 1, static_cast<size_t>(at));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
    return values[rank];
}

// Up to `m` of the n rows without replacement, in row order (selection sampling, Knuth's Algorithm S).
std::vector<size_t> SampleRows(size_t n, size_t m, std::mt19937_64& rng) {
    std::vector<size_t> rows;
    if (m >= n) {
        rows.resize(n);
        std::iota(rows.begin(), rows.end(), size_t{0});
        return rows;
    }
    rows.reserve(m);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (size_t r = 0; r < n && rows.size() < m; ++r) {
        if (static_cast<double>(n - r) * uniform(rng) < static_cast<double>(m - rows.size())) rows.push_back(r);
    }
    return rows;
}

// Rows of a column-major float matrix as row-major doubles.
std::vector<double> RowMajor(const FeatureMatrix& x, std::span<const size_t> rows) {
    std::vector<double> out(rows.size() * x.cols);
    for (size_t c = 0; c < x.cols; ++c) {
        const float* column = x.Column(c);
        for (size_t i = 0; i < rows.size(); ++i) out[i * x.cols + c] = column[rows[i]];
    }
    return out;
}

double LogSumExp(std::span<const double> values) {
    double high = -std::numeric_limits<double>::infinity();
    for (const double v : values) high = std::max(high, v);
    if (!std::isfinite(high)) return high;
    double sum = 0.0;
    for (const double v : values) sum += std::exp(v - high);
    return high + std::log(sum);
}

std::string Ordinal(int cluster, size_t clusters) { return fmt::format("{} of {}", cluster + 1, clusters); }

}  // namespace

// ---- The model's state: what is saved, and what is derived from it when fitted or loaded ----

struct ClusteringModel::State {
    std::string method;
    size_t dims = 0;
    size_t training_rows = 0;
    size_t clusters = 0;
    std::vector<double> centers;      // clusters × dims: kmeans centres, gmm means
    std::vector<int64_t> sizes;       // training rows per cluster
    std::vector<uint8_t> reference;   // 1 = large enough to be a reference
    std::vector<double> typical;      // kmeans: median training distance to the own centre
    std::string covariance;           // gmm: diagonal | full
    std::vector<double> weights;      // gmm: mixing weights
    std::vector<double> cov;          // gmm: clusters × dims variances, or clusters × dims × dims
    double eps = 0.0;                 // dbscan
    std::vector<double> cores;        // dbscan: reference core points, row-major
    std::vector<int> core_cluster;    // dbscan: their clusters
    double t = 1.0, w = 1.0, median = 0.0;  // calibration

    // Derived by Prepare().
    std::vector<double> factor;    // gmm: 1 / variance (diagonal) or the lower Cholesky factor (full)
    std::vector<double> log_norm;  // gmm: log π_c − ½ log det Σ_c − d/2 log 2π
    KdTree tree;                   // dbscan: over the cores

    bool Prepare();
    double LogComponent(const double* x, size_t c, double* scratch) const;
    // The raw value of one row, and its reference cluster; scratch holds dims + clusters doubles.
    double Raw(const double* x, int& ref, double* scratch) const;
    double Calibrate(double raw) const;
};

bool ClusteringModel::State::Prepare() {
    if (method == "gmm") {
        factor.assign(cov.size(), 0.0);
        log_norm.assign(clusters, 0.0);
        for (size_t c = 0; c < clusters; ++c) {
            double log_det = 0.0;
            if (covariance == "diagonal") {
                for (size_t d = 0; d < dims; ++d) {
                    const double v = cov[c * dims + d];
                    if (!(v > 0.0)) return false;
                    factor[c * dims + d] = 1.0 / v;
                    log_det += std::log(v);
                }
            } else {
                const Eigen::Map<const Eigen::MatrixXd> sigma(cov.data() + c * dims * dims, static_cast<Eigen::Index>(dims),
                                                            static_cast<Eigen::Index>(dims));
                const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
                if (llt.info() != Eigen::Success) return false;
                const Eigen::MatrixXd lower = llt.matrixL();
                Eigen::Map<Eigen::MatrixXd>(factor.data() + c * dims * dims, static_cast<Eigen::Index>(dims),
                                            static_cast<Eigen::Index>(dims)) = lower;
                for (size_t d = 0; d < dims; ++d) log_det += 2.0 * std::log(lower(static_cast<Eigen::Index>(d),
                                                                                     static_cast<Eigen::Index>(d)));
            }
            log_norm[c] = std::log(std::max(weights[c], 1e-300)) - 0.5 * log_det - 0.5 * static_cast<double>(dims) * kLog2Pi;
        }
    } else if (method == "dbscan") {
        tree = KdTree(cores, dims);
    }
    return true;
}

// log π_c N(x | μ_c, Σ_c); scratch holds dims doubles.
double ClusteringModel::State::LogComponent(const double* x, size_t c, double* scratch) const {
    const double* mu = centers.data() + c * dims;
    double quad = 0.0;
    if (covariance == "diagonal") {
        const double* inverse = factor.data() + c * dims;
        for (size_t d = 0; d < dims; ++d) quad += (x[d] - mu[d]) * (x[d] - mu[d]) * inverse[d];
    } else {
        const double* lower = factor.data() + c * dims * dims;  // column-major
        for (size_t i = 0; i < dims; ++i) {  // forward substitution: L z = x − μ
            double v = x[i] - mu[i];
            for (size_t j = 0; j < i; ++j) v -= lower[j * dims + i] * scratch[j];
            scratch[i] = v / lower[i * dims + i];
            quad += scratch[i] * scratch[i];
        }
    }
    return log_norm[c] - 0.5 * quad;
}

double ClusteringModel::State::Raw(const double* x, int& ref, double* scratch) const {
    if (method == "kmeans") {
        double best = std::numeric_limits<double>::infinity();
        for (size_t c = 0; c < clusters; ++c) {
            if (reference[c] == 0) continue;
            const double d2 = SquaredDistance(x, centers.data() + c * dims, dims);
            if (d2 < best) {
                best = d2;
                ref = static_cast<int>(c);
            }
        }
        return std::sqrt(best) / typical[static_cast<size_t>(ref)];
    }
    if (method == "gmm") {
        double* logs = scratch + dims;
        size_t count = 0;
        double best = -std::numeric_limits<double>::infinity();
        for (size_t c = 0; c < clusters; ++c) {
            if (reference[c] == 0) continue;
            logs[count] = LogComponent(x, c, scratch);
            if (logs[count] > best) {
                best = logs[count];
                ref = static_cast<int>(c);
            }
            ++count;
        }
        return -LogSumExp(std::span<const double>(logs, count));
    }
    const auto [core, d2] = tree.Nearest(x);
    ref = core_cluster[core];
    return std::sqrt(d2) / eps;
}

double ClusteringModel::State::Calibrate(double raw) const {
    if (method == "gmm") return 1.0 / (1.0 + std::exp(-(raw - t) / w));
    return raw * raw / (raw * raw + t * t);
}

// ---- Fitting ----

namespace {

struct KMeansResult {
    std::vector<double> centers;
    std::vector<int> label;
};

// Assigns each sample row to its nearest centre (distance² in dist2).
bool Assign(std::span<const double> s, size_t dims, std::span<const double> centers, std::vector<int>& label,
            std::vector<double>& dist2, size_t threads, const RunContext& context) {
    const size_t n = label.size();
    const size_t k = centers.size() / dims;
    return ForEachBlock(n, threads, context, [&](size_t, size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) {
            double best = std::numeric_limits<double>::infinity();
            for (size_t c = 0; c < k; ++c) {
                const double d2 = SquaredDistance(&s[i * dims], &centers[c * dims], dims);
                if (d2 < best) {
                    best = d2;
                    label[i] = static_cast<int>(c);
                }
            }
            dist2[i] = best;
        }
    });
}

// k-means++ seeding (Arthur & Vassilvitskii 2007) then Lloyd's iterations on the row-major sample s.
std::optional<KMeansResult> KMeans(std::span<const double> s, size_t dims, size_t k, const ClusteringParams& params,
                                   std::mt19937_64& rng, size_t threads, const RunContext& context) {
    const size_t n = s.size() / dims;
    KMeansResult result;
    result.label.assign(n, 0);
    std::vector<double> dist2(n, std::numeric_limits<double>::infinity());
    const size_t first = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
    result.centers.assign(s.begin() + static_cast<std::ptrdiff_t>(first * dims),
                          s.begin() + static_cast<std::ptrdiff_t>((first + 1) * dims));
    while (result.centers.size() / dims < k) {
        const double* latest = result.centers.data() + result.centers.size() - dims;
        const bool updated = ForEachBlock(n, threads, context, [&](size_t, size_t begin, size_t end) {
            for (size_t i = begin; i < end; ++i) dist2[i] = std::min(dist2[i], SquaredDistance(&s[i * dims], latest, dims));
        });
        if (!updated) return std::nullopt;
        const double total = std::accumulate(dist2.begin(), dist2.end(), 0.0);
        if (!(total > 0.0)) break;  // fewer distinct rows than k
        double target = std::uniform_real_distribution<double>(0.0, total)(rng);
        size_t pick = 0;
        for (; pick + 1 < n && (target -= dist2[pick]) >= 0.0;) ++pick;
        while (dist2[pick] == 0.0 && pick > 0) --pick;  // never a row that is already a centre
        while (dist2[pick] == 0.0 && pick + 1 < n) ++pick;
        result.centers.insert(result.centers.end(), s.begin() + static_cast<std::ptrdiff_t>(pick * dims),
                              s.begin() + static_cast<std::ptrdiff_t>((pick + 1) * dims));
    }
    k = result.centers.size() / dims;

    // Stop when no centre moves more than tolerance × the mean variance of the features (as scikit-learn).
    double variance = 0.0;
    for (size_t d = 0; d < dims; ++d) {
        double mean = 0.0, square = 0.0;
        for (size_t i = 0; i < n; ++i) mean += s[i * dims + d];
        mean /= static_cast<double>(n);
        for (size_t i = 0; i < n; ++i) square += (s[i * dims + d] - mean) * (s[i * dims + d] - mean);
        variance += square / static_cast<double>(n);
    }
    const double tolerance = params.tolerance * variance / static_cast<double>(dims);
    const size_t blocks = Blocks(n);
    std::vector<double> sums(blocks * k * dims);
    std::vector<int64_t> counts(blocks * k);
    for (int iteration = 0; iteration < params.max_iter; ++iteration) {
        if (!Assign(s, dims, result.centers, result.label, dist2, threads, context)) return std::nullopt;
        std::fill(sums.begin(), sums.end(), 0.0);
        std::fill(counts.begin(), counts.end(), 0);
        const bool summed = ForEachBlock(n, threads, context, [&](size_t b, size_t begin, size_t end) {
            for (size_t i = begin; i < end; ++i) {
                const auto c = static_cast<size_t>(result.label[i]);
                ++counts[b * k + c];
                for (size_t d = 0; d < dims; ++d) sums[(b * k + c) * dims + d] += s[i * dims + d];
            }
        });
        if (!summed) return std::nullopt;
        double shift = 0.0;
        for (size_t c = 0; c < k; ++c) {
            int64_t count = 0;
            std::vector<double> sum(dims, 0.0);
            for (size_t b = 0; b < blocks; ++b) {
                count += counts[b * k + c];
                for (size_t d = 0; d < dims; ++d) sum[d] += sums[(b * k + c) * dims + d];
            }
            if (count == 0) continue;  // an empty cluster keeps its centre
            for (size_t d = 0; d < dims; ++d) sum[d] /= static_cast<double>(count);
            shift = std::max(shift, SquaredDistance(sum.data(), &result.centers[c * dims], dims));
            std::copy(sum.begin(), sum.end(), result.centers.begin() + static_cast<std::ptrdiff_t>(c * dims));
        }
        context.progress(0.5 * (iteration + 1) / params.max_iter);
        if (shift <= tolerance) break;
    }
    if (!Assign(s, dims, result.centers, result.label, dist2, threads, context)) return std::nullopt;
    return result;
}

// EM for a Gaussian mixture started from hard k-means labels; fills means, weights and covariances.
bool Em(std::span<const double> s, size_t dims, const KMeansResult& start, const ClusteringParams& params,
        ClusteringModel::State& m, size_t threads, const RunContext& context) {
    const size_t n = s.size() / dims;
    const size_t k = start.centers.size() / dims;
    const bool full = m.covariance == "full";
    const size_t cov_size = full ? dims * dims : dims;
    const size_t blocks = Blocks(n);
    std::vector<double> resp(n * k, 0.0);
    for (size_t i = 0; i < n; ++i) resp[i * k + static_cast<size_t>(start.label[i])] = 1.0;
    std::vector<double> block_nk(blocks * k), block_sum(blocks * k * dims), block_cov(blocks * k * cov_size);
    std::vector<double> block_ll(blocks);
    m.clusters = k;
    m.centers.assign(k * dims, 0.0);
    m.weights.assign(k, 0.0);
    m.cov.assign(k * cov_size, 0.0);

    const auto m_step = [&]() -> bool {
        std::fill(block_nk.begin(), block_nk.end(), 0.0);
        std::fill(block_sum.begin(), block_sum.end(), 0.0);
        std::fill(block_cov.begin(), block_cov.end(), 0.0);
        if (!ForEachBlock(n, threads, context, [&](size_t b, size_t begin, size_t end) {
                for (size_t i = begin; i < end; ++i) {
                    for (size_t c = 0; c < k; ++c) {
                        const double r = resp[i * k + c];
                        block_nk[b * k + c] += r;
                        for (size_t d = 0; d < dims; ++d) block_sum[(b * k + c) * dims + d] += r * s[i * dims + d];
                    }
                }
            }))
            return false;
        std::vector<double> nk(k, 0.0);
        for (size_t c = 0; c < k; ++c) {
            std::vector<double> sum(dims, 0.0);
            for (size_t b = 0; b < blocks; ++b) {
                nk[c] += block_nk[b * k + c];
                for (size_t d = 0; d < dims; ++d) sum[d] += block_sum[(b * k + c) * dims + d];
            }
            nk[c] += 10.0 * std::numeric_limits<double>::epsilon();  // an empty component stays defined
            for (size_t d = 0; d < dims; ++d) m.centers[c * dims + d] = sum[d] / nk[c];
            m.weights[c] = nk[c] / static_cast<double>(n);
        }
        if (!ForEachBlock(n, threads, context, [&](size_t b, size_t begin, size_t end) {
                std::vector<double> diff(dims);
                for (size_t i = begin; i < end; ++i) {
                    for (size_t c = 0; c < k; ++c) {
                        const double r = resp[i * k + c];
                        if (r == 0.0) continue;
                        for (size_t d = 0; d < dims; ++d) diff[d] = s[i * dims + d] - m.centers[c * dims + d];
                        double* out = &block_cov[(b * k + c) * cov_size];
                        if (!full) {
                            for (size_t d = 0; d < dims; ++d) out[d] += r * diff[d] * diff[d];
                        } else {
                            for (size_t p = 0; p < dims; ++p) {
                                for (size_t q = 0; q < dims; ++q) out[p * dims + q] += r * diff[p] * diff[q];
                            }
                        }
                    }
                }
            }))
            return false;
        for (size_t c = 0; c < k; ++c) {
            for (size_t j = 0; j < cov_size; ++j) {
                double sum = 0.0;
                for (size_t b = 0; b < blocks; ++b) sum += block_cov[(b * k + c) * cov_size + j];
                m.cov[c * cov_size + j] = sum / nk[c];
            }
            for (size_t d = 0; d < dims; ++d) m.cov[c * cov_size + (full ? d * dims + d : d)] += kRegCovar;
        }
        return true;
    };

    double previous = -std::numeric_limits<double>::infinity();
    for (int iteration = 0;; ++iteration) {
        if (!m_step()) return false;
        if (!m.Prepare()) {  // a covariance that is not positive definite: more regularization
            for (size_t c = 0; c < k; ++c) {
                for (size_t d = 0; d < dims; ++d) m.cov[c * cov_size + (full ? d * dims + d : d)] += 1e-3;
            }
            if (!m.Prepare()) return false;
        }
        if (iteration >= params.max_iter) break;
        const bool expected = ForEachBlock(n, threads, context, [&](size_t b, size_t begin, size_t end) {
            std::vector<double> scratch(dims);
            double ll = 0.0;
            for (size_t i = begin; i < end; ++i) {
                double* r = &resp[i * k];
                for (size_t c = 0; c < k; ++c) r[c] = m.LogComponent(&s[i * dims], c, scratch.data());
                const double total = LogSumExp(std::span<const double>(r, k));
                for (size_t c = 0; c < k; ++c) r[c] = std::exp(r[c] - total);
                ll += total;
            }
            block_ll[b] = ll;
        });
        if (!expected) return false;
        const double mean_ll = std::accumulate(block_ll.begin(), block_ll.end(), 0.0) / static_cast<double>(n);
        context.progress(0.5 + 0.4 * (iteration + 1) / params.max_iter);
        if (std::abs(mean_ll - previous) < params.tolerance) {
            if (!m_step() || !m.Prepare()) return false;
            break;
        }
        previous = mean_ll;
    }
    m.sizes.assign(k, 0);
    for (size_t i = 0; i < n; ++i) {
        const double* r = &resp[i * k];
        ++m.sizes[static_cast<size_t>(std::max_element(r, r + k) - r)];
    }
    return true;
}

// Union-find with the smaller index as root, so that the clusters do not depend on the visiting order.
size_t Root(std::vector<uint32_t>& parent, size_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

// DBSCAN on the sample: fills eps, the reference cores, their clusters and the clusters' sizes.
bool Dbscan(std::span<const double> s, size_t dims, const ClusteringParams& params, ClusteringModel::State& m,
            size_t threads, const RunContext& context) {
    const size_t n = s.size() / dims;
    const KdTree all(s, dims);
    const auto min_samples = static_cast<size_t>(params.min_samples);
    m.eps = params.eps;
    if (!(m.eps > 0.0)) {
        std::vector<double> kth(n);
        if (!ForEachBlock(n, threads, context, [&](size_t, size_t begin, size_t end) {
                for (size_t i = begin; i < end; ++i) kth[i] = all.KthDistance(&s[i * dims], std::min(min_samples, n));
            }))
            return false;
        std::vector<double> positive;
        for (const double d : kth) {
            if (d > 0.0) positive.push_back(d);
        }
        m.eps = Quantile(kth, kEpsQuantile);
        if (!(m.eps > 0.0)) {
            m.eps = positive.empty() ? 1.0 : std::accumulate(positive.begin(), positive.end(), 0.0) /
                                                 static_cast<double>(positive.size());
        }
    }
    context.progress(0.2);
    std::vector<uint8_t> core(n, 0);
    if (!ForEachBlock(n, threads, context, [&](size_t, size_t begin, size_t end) {
            for (size_t i = begin; i < end; ++i) core[i] = all.CountWithin(&s[i * dims], m.eps, min_samples) >= min_samples;
        }))
        return false;
    context.progress(0.4);
    std::vector<uint32_t> parent(n);
    std::iota(parent.begin(), parent.end(), uint32_t{0});
    for (size_t i = 0; i < n; ++i) {
        if (core[i] == 0) continue;
        if (i % kBlock == 0 && Cancelled(context)) return false;
        all.ForEachWithin(&s[i * dims], m.eps, [&](uint32_t j) {
            if (core[j] == 0) return;
            const size_t a = Root(parent, i), b = Root(parent, j);
            if (a != b) parent[std::max(a, b)] = static_cast<uint32_t>(std::min(a, b));
        });
    }
    context.progress(0.7);
    // Clusters numbered in the order of their first core; no core at all: the whole sample is one cluster.
    std::vector<int> cluster_of(n, -1);
    std::vector<size_t> core_rows;
    int clusters = 0;
    for (size_t i = 0; i < n; ++i) {
        if (core[i] == 0) continue;
        const size_t root = Root(parent, i);
        if (cluster_of[root] < 0) cluster_of[root] = clusters++;
        cluster_of[i] = cluster_of[root];
        core_rows.push_back(i);
    }
    if (core_rows.empty()) {
        core_rows.resize(n);
        std::iota(core_rows.begin(), core_rows.end(), size_t{0});
        std::fill(cluster_of.begin(), cluster_of.end(), 0);
        clusters = 1;
    }
    std::vector<double> core_points;
    for (const size_t i : core_rows) core_points.insert(core_points.end(), &s[i * dims], &s[(i + 1) * dims]);
    const KdTree cores(core_points, dims);
    m.clusters = static_cast<size_t>(clusters);
    m.sizes.assign(m.clusters, 0);
    for (size_t i = 0; i < n; ++i) {  // a border point belongs to its nearest core's cluster
        const auto [nearest, d2] = cores.Nearest(&s[i * dims]);
        if (std::sqrt(d2) <= m.eps || core_rows.size() == n) ++m.sizes[static_cast<size_t>(cluster_of[core_rows[nearest]])];
    }
    m.reference.assign(m.clusters, 0);
    bool any = false;
    for (size_t c = 0; c < m.clusters; ++c) {
        m.reference[c] = static_cast<double>(m.sizes[c]) >= params.min_cluster_share * static_cast<double>(n);
        any = any || m.reference[c] != 0;
    }
    if (!any) std::fill(m.reference.begin(), m.reference.end(), uint8_t{1});
    for (const size_t i : core_rows) {
        const int c = cluster_of[i];
        if (m.reference[static_cast<size_t>(c)] == 0) continue;
        m.cores.insert(m.cores.end(), &s[i * dims], &s[(i + 1) * dims]);
        m.core_cluster.push_back(c);
    }
    return true;
}

// References are the clusters holding at least min_cluster_share of the training rows (all of them when none does).
void MarkReferences(ClusteringModel::State& m, double min_share) {
    m.reference.assign(m.clusters, 0);
    bool any = false;
    for (size_t c = 0; c < m.clusters; ++c) {
        m.reference[c] = static_cast<double>(m.sizes[c]) >= min_share * static_cast<double>(m.training_rows);
        any = any || m.reference[c] != 0;
    }
    if (!any) std::fill(m.reference.begin(), m.reference.end(), uint8_t{1});
}

}  // namespace

ClusteringModel::ClusteringModel() : state_(std::make_unique<State>()) {}
ClusteringModel::~ClusteringModel() = default;
ClusteringModel::ClusteringModel(ClusteringModel&&) noexcept = default;
ClusteringModel& ClusteringModel::operator=(ClusteringModel&&) noexcept = default;

const std::string& ClusteringModel::method() const { return state_->method; }
size_t ClusteringModel::clusters() const { return state_->clusters; }
double ClusteringModel::typical_raw() const { return state_->median; }
double ClusteringModel::eps() const { return state_->eps; }
size_t ClusteringModel::training_rows() const { return state_->training_rows; }

Expected<ClusteringModel> ClusteringModel::Fit(const FeatureMatrix& x, const ClusteringParams& params,
                                               const RunContext& context) {
    ClusteringModel model;
    State& m = *model.state_;
    m.method = params.method;
    m.covariance = params.covariance;
    m.dims = x.cols;
    const size_t threads = Threads(params.threads);
    std::mt19937_64 rng(static_cast<uint64_t>(params.seed));
    const int sample = params.sample > 0 ? params.sample
                                         : (params.method == "dbscan" ? kDefaultDbscanSample : kDefaultSample);
    const std::vector<size_t> rows = SampleRows(x.rows, static_cast<size_t>(sample), rng);
    const std::vector<double> s = RowMajor(x, rows);
    const size_t n = rows.size();
    const size_t dims = x.cols;
    m.training_rows = n;
    if (n == 0 || dims == 0) return Unexpected(InvalidInput("no_rows", "Clustering needs at least one row and one feature."));
    const auto cancelled = [] { return Unexpected(Internal("cancelled")); };

    std::vector<int> label(n, 0);
    if (m.method == "dbscan") {
        if (!Dbscan(s, dims, params, m, threads, context)) return cancelled();
    } else {
        const size_t k = static_cast<size_t>(m.method == "gmm" ? params.components : params.k);
        auto fitted = KMeans(s, dims, std::min(k, n), params, rng, threads, context);
        if (!fitted) return cancelled();
        if (m.method == "kmeans") {
            m.centers = fitted->centers;
            m.clusters = m.centers.size() / dims;
            m.sizes.assign(m.clusters, 0);
            for (const int c : fitted->label) ++m.sizes[static_cast<size_t>(c)];
            label = fitted->label;
        } else if (!Em(s, dims, *fitted, params, m, threads, context)) {
            return Cancelled(context) ? cancelled()
                                      : Unexpected(Internal("The mixture's covariances could not be factorized."));
        }
        MarkReferences(m, params.min_cluster_share);
    }
    if (m.method == "kmeans") {  // each cluster's typical distance: the median over its own training rows
        std::vector<std::vector<double>> distances(m.clusters);
        std::vector<double> positive;
        for (size_t i = 0; i < n; ++i) {
            const auto c = static_cast<size_t>(label[i]);
            distances[c].push_back(std::sqrt(SquaredDistance(&s[i * dims], &m.centers[c * dims], dims)));
            if (distances[c].back() > 0.0) positive.push_back(distances[c].back());
        }
        const double fallback = positive.empty() ? 1.0 : Median(positive);
        m.typical.assign(m.clusters, fallback);
        for (size_t c = 0; c < m.clusters; ++c) {
            const double mean = distances[c].empty() ? 0.0
                                                     : std::accumulate(distances[c].begin(), distances[c].end(), 0.0) /
                                                           static_cast<double>(distances[c].size());
            const double median = Median(distances[c]);
            m.typical[c] = median > 0.0 ? median : (mean > 0.0 ? mean : fallback);
        }
    }
    if (!m.Prepare()) return Unexpected(Internal("The fitted model could not be prepared."));

    // Calibration on the training rows' raw values.
    std::vector<double> raw(n);
    if (!ForEachBlock(n, threads, context, [&](size_t, size_t begin, size_t end) {
            std::vector<double> scratch(dims + m.clusters);
            int ref = 0;
            for (size_t i = begin; i < end; ++i) raw[i] = m.Raw(&s[i * dims], ref, scratch.data());
        }))
        return cancelled();
    std::vector<double> scratch = raw;
    m.median = Median(scratch);
    const double q1 = Quantile(scratch, 0.25);
    const double q3 = Quantile(raw, 0.75);
    const double high = q3 + 3.0 * (q3 - q1);  // Tukey's far fence
    if (m.method == "kmeans") {
        m.t = high > 0.0 ? high : 1.0;
    } else if (m.method == "gmm") {
        m.t = high;
        m.w = high > m.median ? (high - m.median) / std::log(99.0) : 1.0;
    }
    context.progress(1.0);
    return model;
}

Expected<ClusterScores> ClusteringModel::Score(const FeatureMatrix& x, size_t threads, const RunContext& context) const {
    const State& m = *state_;
    ClusterScores out;
    out.score.resize(x.rows);
    out.raw.resize(x.rows);
    out.reference.resize(x.rows);
    const bool scored = ForEachBlock(
        x.rows, threads, context,
        [&](size_t, size_t begin, size_t end) {
        std::vector<double> row(x.cols), scratch(x.cols + m.clusters);
        for (size_t r = begin; r < end; ++r) {
            for (size_t c = 0; c < x.cols; ++c) row[c] = x.At(r, c);
            int ref = 0;
            out.raw[r] = m.Raw(row.data(), ref, scratch.data());
            out.reference[r] = ref;
            out.score[r] = m.Calibrate(out.raw[r]);
        }
        },
        /*report=*/true);
    if (!scored) return Unexpected(Internal("cancelled"));
    return out;
}

std::vector<double> ClusteringModel::Contributions(const FeatureMatrix& x, size_t row, int reference) const {
    const State& m = *state_;
    std::vector<double> point(x.cols), part(x.cols, 0.0);
    for (size_t c = 0; c < x.cols; ++c) point[c] = x.At(row, c);
    const auto ref = static_cast<size_t>(reference);
    const double* center = nullptr;
    if (m.method == "dbscan") {
        center = m.cores.data() + static_cast<size_t>(m.tree.Nearest(point.data()).first) * m.dims;
    } else {
        center = m.centers.data() + ref * m.dims;
    }
    for (size_t c = 0; c < x.cols; ++c) {
        part[c] = (point[c] - center[c]) * (point[c] - center[c]);
        if (m.method == "gmm") {
            part[c] /= m.cov[m.covariance == "full" ? (ref * m.dims + c) * m.dims + c : ref * m.dims + c];
        }
    }
    const double total = std::accumulate(part.begin(), part.end(), 0.0);
    for (double& p : part) p = total > 0.0 ? p / total : 0.0;
    return part;
}

nlohmann::json ClusteringModel::ToJson() const {
    const State& m = *state_;
    nlohmann::json json = {{"method", m.method},
                           {"dims", m.dims},
                           {"training_rows", m.training_rows},
                           {"clusters", m.clusters},
                           {"sizes", m.sizes},
                           {"reference", m.reference},
                           {"calibration", {{"t", m.t}, {"w", m.w}, {"median", m.median}}}};
    if (m.method == "kmeans") {
        json["centers"] = m.centers;
        json["typical"] = m.typical;
    } else if (m.method == "gmm") {
        json["covariance"] = m.covariance;
        json["centers"] = m.centers;
        json["weights"] = m.weights;
        json["cov"] = m.cov;
    } else {
        json["eps"] = m.eps;
        json["cores"] = m.cores;
        json["core_cluster"] = m.core_cluster;
    }
    return json;
}

Expected<ClusteringModel> ClusteringModel::FromJson(const nlohmann::json& json, size_t columns) {
    ClusteringModel model;
    State& m = *model.state_;
    const auto bad = [](std::string_view why) {
        return Unexpected(InvalidInput("bad_model", fmt::format("The clustering model is not usable: {}", why)));
    };
    try {
        m.method = json.at("method").get<std::string>();
        m.dims = json.at("dims").get<size_t>();
        m.training_rows = json.at("training_rows").get<size_t>();
        m.clusters = json.at("clusters").get<size_t>();
        m.sizes = json.at("sizes").get<std::vector<int64_t>>();
        m.reference = json.at("reference").get<std::vector<uint8_t>>();
        m.t = json.at("calibration").at("t").get<double>();
        m.w = json.at("calibration").at("w").get<double>();
        m.median = json.at("calibration").at("median").get<double>();
        if (m.method == "kmeans") {
            m.centers = json.at("centers").get<std::vector<double>>();
            m.typical = json.at("typical").get<std::vector<double>>();
        } else if (m.method == "gmm") {
            m.covariance = json.at("covariance").get<std::string>();
            m.centers = json.at("centers").get<std::vector<double>>();
            m.weights = json.at("weights").get<std::vector<double>>();
            m.cov = json.at("cov").get<std::vector<double>>();
        } else if (m.method == "dbscan") {
            m.eps = json.at("eps").get<double>();
            m.cores = json.at("cores").get<std::vector<double>>();
            m.core_cluster = json.at("core_cluster").get<std::vector<int>>();
        } else {
            return bad(fmt::format("unknown method '{}'.", m.method));
        }
    } catch (const nlohmann::json::exception& e) {
        return bad(e.what());
    }
    if (m.dims != columns || m.dims == 0) return bad(fmt::format("it has {} feature columns, not {}.", m.dims, columns));
    bool valid = m.clusters >= 1 && m.sizes.size() == m.clusters && m.reference.size() == m.clusters &&
                 std::any_of(m.reference.begin(), m.reference.end(), [](uint8_t r) { return r != 0; });
    if (m.method == "kmeans") {
        valid = valid && m.centers.size() == m.clusters * m.dims && m.typical.size() == m.clusters &&
                std::all_of(m.typical.begin(), m.typical.end(), [](double t) { return t > 0.0; }) && m.t > 0.0;
    } else if (m.method == "gmm") {
        valid = valid && (m.covariance == "diagonal" || m.covariance == "full") &&
                m.centers.size() == m.clusters * m.dims && m.weights.size() == m.clusters &&
                m.cov.size() == m.clusters * m.dims * (m.covariance == "full" ? m.dims : 1) && m.w > 0.0;
    } else {
        valid = valid && m.eps > 0.0 && !m.cores.empty() && m.cores.size() == m.core_cluster.size() * m.dims &&
                std::all_of(m.core_cluster.begin(), m.core_cluster.end(),
                            [&](int c) { return c >= 0 && static_cast<size_t>(c) < m.clusters; }) && m.t > 0.0;
    }
    if (!valid || !m.Prepare()) return bad("its parts do not fit together.");
    return model;
}

// ---- Parameters and the algorithm ----

Expected<ClusteringParams> ClusteringParams::FromJson(const nlohmann::json& json, std::string_view path) {
    ClusteringParams params;
    ParamReader reader(json, path);
    reader.Read("method", params.method, {"kmeans", "gmm", "dbscan"});
    reader.Read("k", params.k);
    reader.Read("components", params.components);
    reader.Read("covariance", params.covariance, {"diagonal", "full"});
    reader.Read("max_iter", params.max_iter);
    reader.Read("tolerance", params.tolerance);
    reader.Read("eps", params.eps);
    reader.Read("min_samples", params.min_samples);
    reader.Read("min_cluster_share", params.min_cluster_share);
    reader.Read("sample", params.sample);
    reader.Read("seed", params.seed);
    params.features.Read(reader);
    reader.Read("threads", params.threads);
    if (params.k < 1 || params.k > 1000) reader.Fail("k", "'k' must be between 1 and 1 000.");
    if (params.components < 1 || params.components > 100)
        reader.Fail("components", "'components' must be between 1 and 100.");
    if (params.max_iter < 1 || params.max_iter > 10'000)
        reader.Fail("max_iter", "'max_iter' must be between 1 and 10 000.");
    if (!(params.tolerance >= 0.0 && params.tolerance < 1.0))
        reader.Fail("tolerance", "'tolerance' must be at least 0 and below 1.");
    if (!(params.eps >= 0.0 && params.eps < 1e6)) reader.Fail("eps", "'eps' must be 0 (automatic) or a positive radius.");
    if (params.min_samples < 1 || params.min_samples > 10'000)
        reader.Fail("min_samples", "'min_samples' must be between 1 and 10 000.");
    if (!(params.min_cluster_share >= 0.0 && params.min_cluster_share < 1.0))
        reader.Fail("min_cluster_share", "'min_cluster_share' must be at least 0 and below 1.");
    if (params.sample < 0 || (params.sample > 0 && params.sample < 2))
        reader.Fail("sample", "'sample' must be 0 (the method's default) or at least 2.");
    if (params.seed < 0) reader.Fail("seed", "'seed' must be 0 or more.");
    if (params.threads < 0 || params.threads > 1024)
        reader.Fail("threads", "'threads' must be between 0 (= all hardware threads) and 1024.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

nlohmann::json ClusteringParams::ToJson() const {
    nlohmann::json json = {{"method", method},
                           {"k", k},
                           {"components", components},
                           {"covariance", covariance},
                           {"max_iter", max_iter},
                           {"tolerance", tolerance},
                           {"eps", eps},
                           {"min_samples", min_samples},
                           {"min_cluster_share", min_cluster_share},
                           {"sample", sample},
                           {"seed", seed}};
    features.AddTo(json);
    return json;
}

namespace {

std::vector<ParamInfo> Params() {
    const ClusteringParams defaults;
    std::vector<ParamInfo> params = {
        {"method", "string", "\"gmm\"", "gmm (Gaussian mixture), kmeans or dbscan"},
        {"k", "integer", "8", "kmeans: clusters"},
        {"components", "integer", "8", "gmm: mixture components"},
        {"covariance", "string", "\"diagonal\"", "gmm: diagonal or full covariance matrices"},
        {"max_iter", "integer", "100", "kmeans and gmm: iterations at most"},
        {"tolerance", "number", "0.0001",
         "kmeans: stop when no centre moves more (× the mean feature variance); gmm: change of mean log-likelihood"},
        {"eps", "number", "0", "dbscan: neighbourhood radius in standard deviations; 0 = automatic"},
        {"min_samples", "integer", "10", "dbscan: neighbours (itself included) that make a core point"},
        {"min_cluster_share", "number", "0.05",
         "clusters with a smaller share of the training lines are not references: their lines are measured against "
         "the nearest large cluster"},
        {"sample", "integer", "0", "lines the model is fitted on; 0 = 100 000 (kmeans, gmm) or 20 000 (dbscan)"},
        {"seed", "integer", "42", "random seed; the same seed gives the same scores"},
        {"threads", "integer", "0", "worker threads; 0 = all hardware threads (scores do not depend on it)"},
    };
    const std::vector<ParamInfo> features = FeatureParamInfo(defaults.features);
    params.insert(params.end(), features.begin(), features.end());
    return params;
}

// The source features that make up at least 60 % of the distance (three at most), each named by its largest column.
std::string Mostly(std::span<const double> share, const FeatureEncoder& encoder) {
    const std::vector<size_t>& source = encoder.source();
    const std::vector<std::string>& names = encoder.names();
    const size_t groups = source.empty() ? 0 : *std::max_element(source.begin(), source.end()) + 1;
    std::vector<double> total(groups, 0.0);
    std::vector<size_t> largest(groups, share.size());
    for (size_t c = 0; c < share.size() && c < source.size(); ++c) {
        const size_t g = source[c];
        if (largest[g] == share.size() || share[c] > share[largest[g]]) largest[g] = c;
        total[g] += share[c];
    }
    std::vector<size_t> order(groups);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return total[a] > total[b]; });
    std::vector<std::string_view> named;
    double covered = 0.0;
    for (size_t g = 0; g < order.size() && named.size() < 3 && covered < 0.6 && total[order[g]] > 0.0; ++g) {
        named.push_back(names[largest[order[g]]]);
        covered += total[order[g]];
    }
    if (named.empty()) return "";
    if (named.size() == 1) return fmt::format(", mostly in {}", named[0]);
    return fmt::format(", mostly in {} and {}", fmt::join(named.begin(), named.end() - 1, ", "), named.back());
}

}  // namespace

AlgorithmInfo Clustering::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Clustering of the standardized features (k-means with k-means++ seeding, a Gaussian mixture fitted by "
            "EM, or DBSCAN): lines far from every large cluster score high. The reason says how far, from which "
            "cluster, and which features make up the distance.",
        .params = Params(),
        .create = FactoryOf<Clustering, ClusteringParams>(),
    };
}

Expected<AlgorithmOutput> Clustering::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows < 2 && context.model.empty()) return output;
    const size_t threads = Threads(params_.threads);
    auto encoded = EncodeFrame(frame, context, kName, params_.features, /*standardize=*/true);
    if (!encoded) return Unexpected(std::move(encoded).error());
    const FeatureEncoder& encoder = encoded->encoder;
    const FeatureMatrix* x = &encoded->x;
    auto model = encoded->saved ? ClusteringModel::FromJson(*encoded->saved, x->cols)
                                : ClusteringModel::Fit(*x, params_, ScaledProgress(context, 0.0, 0.6));
    if (!model) return Unexpected(std::move(model).error());
    if (!encoded->saved) output.model = WriteModelDocument(kName, params_.ToJson(), encoder, model->ToJson());

    auto scores = model->Score(*x, threads, ScaledProgress(context, 0.6, 0.95));
    if (!scores) return Unexpected(std::move(scores).error());
    output.score = scores->score;
    const auto fitted_rows = static_cast<double>(model->training_rows());
    std::fill(output.confidence.begin(), output.confidence.end(), fitted_rows / (fitted_rows + 100.0));

    std::vector<int64_t> lines(model->clusters(), 0);
    for (const int c : scores->reference) ++lines[static_cast<size_t>(c)];
    const size_t k = model->clusters();
    for (size_t r = 0; r < rows; ++r) {
        if (output.score[r] < kReasonScore) continue;
        if (r % kBlock == 0 && Cancelled(context)) return Unexpected(Internal("cancelled"));
        const int c = scores->reference[r];
        const std::string mostly = Mostly(model->Contributions(*x, r, c), encoder);
        const std::string cluster = fmt::format("{}, {} lines", Ordinal(c, k), FormatCount(lines[static_cast<size_t>(c)]));
        const double raw = scores->raw[r];
        if (model->method() == "kmeans") {
            output.reason[r] = fmt::format(
                "{:.1f} times farther from the nearest cluster centre (cluster {}) than that cluster's typical line{}.",
                raw, cluster, mostly);
        } else if (model->method() == "gmm") {
            output.reason[r] = fmt::format(
                "Unlikely under the fitted mixture: negative log-likelihood {:.1f} against a typical {:.1f} (nearest "
                "component {}){}.",
                raw, model->typical_raw(), cluster, mostly);
        } else {
            output.reason[r] = fmt::format(
                "Outside every dense cluster: {:.1f} times eps ({:.2f}) from the nearest core line (cluster {}){}.", raw,
                model->eps(), cluster, mostly);
        }
    }
    context.progress(1.0);
    return output;
}

}  // namespace granska::detect
