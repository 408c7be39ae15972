#include "detect/ml/isolation_forest.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "detect/detail/algorithm_support.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/ml/detail/encoded_frame.h"
#include "detect/ml/model.h"

namespace granska::detect {
namespace {

constexpr double kEulerGamma = 0.5772156649;
constexpr double kReasonShare = 0.05;  // the top 5 % get a reason too: calibration may rank them high
constexpr size_t kRowBlock = 256;      // rows scored together: the block's feature values stay in cache

uint64_t SplitMix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// All trees' nodes in flat arrays (struct of arrays); a tree's nodes are contiguous from root[t].
struct Nodes {
    std::vector<int32_t> feature;  // split feature; external nodes: 0
    std::vector<float> threshold;  // go left when x < threshold; external nodes: +inf
    std::vector<int32_t> left;     // left child; the right child is left + 1; external nodes: themselves
    std::vector<float> gain;       // isolation earned by reaching the node: log2(parent's size / its size)
    std::vector<double> value;     // external nodes: path length depth + c(size)
    std::vector<int32_t> root;
    // Extended forests (width > 0): node n goes left when sum_j plane_coef[n w + j] x[plane_feature[n w + j]] <
    // threshold[n]; unused entries and external nodes have coefficient 0. Standard forests: width 0, no planes.
    size_t width = 0;
    std::vector<int32_t> plane_feature;
    std::vector<float> plane_coef;

    int32_t AddNode() {
        feature.push_back(-1);
        threshold.push_back(0.0F);
        left.push_back(-1);
        gain.push_back(0.0F);
        value.push_back(0.0);
        plane_feature.resize(plane_feature.size() + width, 0);
        plane_coef.resize(plane_coef.size() + width, 0.0F);
        return static_cast<int32_t>(feature.size() - 1);
    }
    void Append(const Nodes& tree) {
        const auto base = static_cast<int32_t>(feature.size());
        root.push_back(base);
        feature.insert(feature.end(), tree.feature.begin(), tree.feature.end());
        threshold.insert(threshold.end(), tree.threshold.begin(), tree.threshold.end());
        for (const int32_t child : tree.left) left.push_back(child + base);
        gain.insert(gain.end(), tree.gain.begin(), tree.gain.end());
        value.insert(value.end(), tree.value.begin(), tree.value.end());
        width = tree.width;
        plane_feature.insert(plane_feature.end(), tree.plane_feature.begin(), tree.plane_feature.end());
        plane_coef.insert(plane_coef.end(), tree.plane_coef.begin(), tree.plane_coef.end());
    }
};

// psi distinct rows of n, without replacement (a Fisher–Yates shuffle that stores only the displaced slots).
std::vector<uint32_t> SubSample(size_t n, size_t psi, std::mt19937_64& rng) {
    std::vector<uint32_t> sample(psi);
    std::unordered_map<size_t, size_t> moved;
    const auto slot = [&moved](size_t i) {
        const auto it = moved.find(i);
        return it == moved.end() ? i : it->second;
    };
    for (size_t i = 0; i < psi; ++i) {
        const size_t j = std::uniform_int_distribution<size_t>(i, n - 1)(rng);
        const size_t picked = slot(j);
        moved[j] = slot(i);
        sample[i] = static_cast<uint32_t>(picked);
    }
    return sample;
}

// The hot loops are optimized in every build: unoptimized, the sanitizer builds' tests on the ODDS tables would take
// minutes. (GCC only; clang has no per-function optimization level.)
#if defined(__GNUC__) && !defined(__clang__) && !defined(__OPTIMIZE__)
#define GRANSKA_HOT_LOOP __attribute__((optimize("O2"), no_sanitize("undefined")))
#else
#define GRANSKA_HOT_LOOP
#endif

// The lowest and highest of column[rows[i]], i in [begin, end) (begin < end), compared as std::min and std::max do.
GRANSKA_HOT_LOOP std::pair<float, float> Range(const float* column, const uint32_t* rows, size_t begin, size_t end) {
    float low = column[rows[begin]];
    float high = low;
    for (size_t i = begin + 1; i < end; ++i) {
        const float v = column[rows[i]];
        if (v < low) low = v;
        if (high < v) high = v;
    }
    return {low, high};
}

// Projection of local row r of the sub-sample on a node's hyperplane normal, summed as scoring sums it.
float Project(const float* sample, size_t psi, const int32_t* feature, const float* coef, size_t width, uint32_t r) {
    float dot = 0.0F;
    for (size_t j = 0; j < width; ++j) dot += coef[j] * sample[static_cast<size_t>(feature[j]) * psi + r];
    return dot;
}

// width 0: the paper's axis-parallel splits. width > 0 (extended): a node's hyperplane has a normal with N(0, 1)
// coefficients on min(width, varying) randomly chosen varying features and passes through a point drawn uniformly in
// the node's bounding box (Hariri et al. 2021); a side may stay empty.
Nodes BuildTree(const FeatureMatrix& x, size_t psi, int max_depth, size_t width, uint64_t seed) {
    std::mt19937_64 rng(seed);
    // The sub-sample's values, column by column (sample[c * psi + i]): one gather from the large matrix, then the
    // splits partition local row numbers.
    std::vector<float> sample(psi * x.cols);
    {
        const std::vector<uint32_t> picked = SubSample(x.rows, psi, rng);
        for (size_t c = 0; c < x.cols; ++c) {
            const float* column = x.Column(c);
            float* out = sample.data() + c * psi;
            for (size_t i = 0; i < psi; ++i) out[i] = column[picked[i]];
        }
    }
    std::vector<uint32_t> rows(psi);
    std::iota(rows.begin(), rows.end(), uint32_t{0});
    Nodes tree;
    tree.width = width;
    tree.feature.reserve(2 * psi);
    struct Pending {
        int32_t node;
        size_t begin, end;
        int depth;
        size_t parent_size;
    };
    std::vector<Pending> stack = {{tree.AddNode(), 0, psi, 0, psi}};
    std::vector<size_t> varying;
    std::vector<float> low(x.cols), high(x.cols);
    while (!stack.empty()) {
        const Pending p = stack.back();
        stack.pop_back();
        const auto node = static_cast<size_t>(p.node);
        const size_t count = p.end - p.begin;
        // An empty side (extended splits only) counts as isolating the parent's rows one by one.
        tree.gain[node] = static_cast<float>(
            std::log2(static_cast<double>(p.parent_size) / static_cast<double>(std::max<size_t>(count, 1))));
        varying.clear();
        if (p.depth < max_depth && count > 1) {
            for (size_t c = 0; c < x.cols; ++c) {
                std::tie(low[c], high[c]) = Range(sample.data() + c * psi, rows.data(), p.begin, p.end);
                if (high[c] > low[c]) varying.push_back(c);
            }
        }
        if (varying.empty()) {  // external node: x < +inf leads back to itself
            tree.feature[node] = 0;
            tree.threshold[node] = std::numeric_limits<float>::infinity();
            tree.left[node] = p.node;
            tree.value[node] = p.depth + IsolationAveragePathLength(static_cast<int64_t>(count));
            continue;
        }
        const auto first = rows.begin() + static_cast<std::ptrdiff_t>(p.begin);
        const auto last = rows.begin() + static_cast<std::ptrdiff_t>(p.end);
        std::vector<uint32_t>::iterator middle;
        if (width == 0) {
            const size_t f = varying[std::uniform_int_distribution<size_t>(0, varying.size() - 1)(rng)];
            const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
            float split = static_cast<float>(low[f] + u * (static_cast<double>(high[f]) - low[f]));
            if (!(split > low[f])) split = high[f];  // both sides keep at least one row
            const float* column = sample.data() + f * psi;
            middle = std::partition(first, last, [column, split](uint32_t r) { return column[r] < split; });
            tree.feature[node] = static_cast<int32_t>(f);
            tree.threshold[node] = split;
        } else {
            int32_t* plane_feature = tree.plane_feature.data() + node * width;
            float* plane_coef = tree.plane_coef.data() + node * width;
            float intercept = 0.0F;
            for (size_t j = 0; j < std::min(width, varying.size()); ++j) {
                std::swap(varying[j], varying[std::uniform_int_distribution<size_t>(j, varying.size() - 1)(rng)]);
                const size_t f = varying[j];
                const auto coef = static_cast<float>(std::normal_distribution<double>(0.0, 1.0)(rng));
                const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
                const auto point = static_cast<float>(low[f] + u * (static_cast<double>(high[f]) - low[f]));
                plane_feature[j] = static_cast<int32_t>(f);
                plane_coef[j] = coef;
                intercept += coef * point;
            }
            middle = std::partition(first, last, [&](uint32_t r) {
                return Project(sample.data(), psi, plane_feature, plane_coef, width, r) < intercept;
            });
            tree.feature[node] = plane_feature[0];
            tree.threshold[node] = intercept;
        }
        const size_t mid = p.begin + static_cast<size_t>(middle - first);
        const int32_t left = tree.AddNode();  // may move the plane arrays: plane_feature and plane_coef are stale
        tree.AddNode();
        tree.left[node] = left;
        stack.push_back({left + 1, mid, p.end, p.depth + 1, count});
        stack.push_back({left, p.begin, mid, p.depth + 1, count});
    }
    return tree;
}

// Runs work(i) for i in [0, count) on `threads` threads (the caller's included); the caller's thread reports
// progress. False when cancelled.
template <class Work>
bool ParallelFor(size_t count, size_t threads, const RunContext& context, double from, double to, Work work) {
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    std::atomic<bool> stop{false};
    const auto run = [&](bool reports) {
        while (!stop.load(std::memory_order_relaxed)) {
            if (Cancelled(context)) {
                stop = true;
                break;
            }
            const size_t i = next.fetch_add(1);
            if (i >= count) break;
            work(i);
            const size_t finished = done.fetch_add(1) + 1;
            if (reports && finished * 100 / count != (finished - 1) * 100 / count) {  // about every 1%
                context.progress(from + (to - from) * static_cast<double>(finished) / static_cast<double>(count));
            }
        }
    };
    {
        std::vector<std::jthread> workers;
        for (size_t t = 1; t < std::min(threads, count); ++t) workers.emplace_back(run, false);
        run(true);
    }
    return !stop.load();
}

// The forest as scoring walks it: one 12-byte step per node, so that a split costs one node load and one feature
// load. Features are read from a block: up to kRowBlock rows copied column by column, stride kRowBlock.
struct Step {
    float threshold;  // go left when x < threshold; external nodes: +inf, and left = the node itself
    int32_t offset;   // split feature × kRowBlock: where the feature's values start in a block
    int32_t left;     // the right child is left + 1
};

struct PackedForest : Nodes {
    std::vector<Step> steps;            // built from the nodes by Pack()
    std::vector<int32_t> plane_offset;  // extended: plane_feature × kRowBlock

    void Pack() {
        steps.resize(feature.size());
        for (size_t n = 0; n < steps.size(); ++n) {
            steps[n] = {threshold[n], feature[n] * static_cast<int32_t>(kRowBlock), left[n]};
        }
        plane_offset.resize(plane_feature.size());
        for (size_t i = 0; i < plane_offset.size(); ++i) {
            plane_offset[i] = plane_feature[i] * static_cast<int32_t>(kRowBlock);
        }
    }
};

// Block row k's projection on node n's hyperplane normal (extended forests), summed as Project sums it.
inline float Dot(const PackedForest& forest, const float* x, size_t n, size_t k) {
    const size_t w = forest.width;
    const int32_t* offset = forest.plane_offset.data() + n * w;
    const float* coef = forest.plane_coef.data() + n * w;
    float dot = 0.0F;
    for (size_t j = 0; j < w; ++j) dot += coef[j] * x[static_cast<size_t>(offset[j]) + k];
    return dot;
}

// Copies rows begin..begin+count (or the listed rows) of x into block, column-major with stride kRowBlock.
void FillBlock(const FeatureMatrix& x, size_t begin, size_t count, std::vector<float>& block) {
    for (size_t c = 0; c < x.cols; ++c) std::copy_n(x.Column(c) + begin, count, block.data() + c * kRowBlock);
}
void FillBlock(const FeatureMatrix& x, std::span<const size_t> rows, std::vector<float>& block) {
    for (size_t c = 0; c < x.cols; ++c) {
        const float* column = x.Column(c);
        float* out = block.data() + c * kRowBlock;
        for (size_t k = 0; k < rows.size(); ++k) out[k] = column[rows[k]];
    }
}

// The general walk (extended forests, reasons): block rows 0..count go through each tree level by level;
// on_step(k, node, child) sees every step row k takes (child == node at an end node), on_leaf(k, node) its end node.
template <class OnStep, class OnLeaf>
void Walk(const PackedForest& forest, const float* x, size_t count, int max_depth, OnStep on_step, OnLeaf on_leaf) {
    std::array<int32_t, kRowBlock> node{};
    for (const int32_t root : forest.root) {
        std::fill_n(node.begin(), count, root);
        for (int level = 0; level < max_depth; ++level) {
            for (size_t k = 0; k < count; ++k) {
                const auto n = static_cast<size_t>(node[k]);
                const Step& s = forest.steps[n];
                const float v = forest.width > 0 ? Dot(forest, x, n, k) : x[static_cast<size_t>(s.offset) + k];
                node[k] = s.left + static_cast<int32_t>(!(v < s.threshold));
                on_step(k, n, node[k]);
            }
        }
        for (size_t k = 0; k < count; ++k) on_leaf(k, node[k]);
    }
}

// WalkPaths for extended forests: each step is a dot product with the node's hyperplane normal.
GRANSKA_HOT_LOOP void WalkPathsExtended(const PackedForest& forest, std::span<const float> block, size_t count,
                                        int max_depth, std::span<double> path_sum) {
    Walk(
        forest, block.data(), count, max_depth, [](size_t, size_t, int32_t) {},
        [&](size_t k, int32_t end) { path_sum[k] += forest.value[static_cast<size_t>(end)]; });
}

// Adds to path_sum[k] the path length of block row k (k < count) in every tree, in tree order. All rows go through
// a tree level by level, so that their independent loads overlap and the tree stays in cache; the root's level has
// one node for every row and is a plain vector compare. External nodes lead back to themselves, so every walk
// takes max_depth steps and has no branch.
GRANSKA_HOT_LOOP void WalkPaths(const PackedForest& forest, std::span<const float> block, size_t count, int max_depth,
                                std::span<double> path_sum) {
    if (forest.width > 0) return WalkPathsExtended(forest, block, count, max_depth, path_sum);
    const Step* steps = forest.steps.data();
    const double* value = forest.value.data();
    const float* x = block.data();
    double* sum = path_sum.data();
    std::array<int32_t, kRowBlock> nodes{};
    int32_t* node = nodes.data();
    for (const int32_t root : forest.root) {
        const Step top = steps[root];
        const float* column = x + top.offset;
        for (size_t k = 0; k < count; ++k) node[k] = top.left + static_cast<int32_t>(!(column[k] < top.threshold));
        for (int level = 1; level < max_depth; ++level) {
            for (size_t k = 0; k < count; ++k) {
                const Step& s = steps[node[k]];
                node[k] = s.left + static_cast<int32_t>(!(x[static_cast<size_t>(s.offset) + k] < s.threshold));
            }
        }
        for (size_t k = 0; k < count; ++k) sum[k] += value[node[k]];
    }
}

// credit[k * cols + f] collects the isolation feature f earned for block row k: reaching a node that keeps n_child
// of its parent's n_node training rows earns log2(n_node / n_child); a hyperplane shares it among its features in
// proportion to their |coefficient|.
void WalkCredit(const PackedForest& forest, std::span<const float> block, size_t count, size_t cols, int max_depth,
                std::span<float> credit) {
    const auto on_step = [&](size_t k, size_t n, int32_t child) {
        if (child == static_cast<int32_t>(n)) return;
        const float gain = forest.gain[static_cast<size_t>(child)];
        if (forest.width == 0) {
            credit[k * cols + static_cast<size_t>(forest.steps[n].offset) / kRowBlock] += gain;
            return;
        }
        const float* coef = forest.plane_coef.data() + n * forest.width;
        float total = 0.0F;
        for (size_t j = 0; j < forest.width; ++j) total += std::abs(coef[j]);
        for (size_t j = 0; j < forest.width && total > 0; ++j) {
            const auto f = static_cast<size_t>(forest.plane_feature[n * forest.width + j]);
            credit[k * cols + f] += gain * std::abs(coef[j]) / total;
        }
    };
    Walk(forest, block.data(), count, max_depth, on_step, [](size_t, int32_t) {});
}

// Up to three features that earned 60% of a row's isolation, the most first (ties: the first column); -1 = no more.
using Deciding = std::array<int, 3>;

Deciding DecidingFeatures(std::span<const float> credit) {
    const double total = std::accumulate(credit.begin(), credit.end(), 0.0);
    Deciding deciding = {-1, -1, -1};
    double covered = 0.0;
    for (size_t k = 0; k < deciding.size() && covered < 0.6 * total; ++k) {
        int best = -1;
        for (size_t f = 0; f < credit.size(); ++f) {
            if (std::find(deciding.begin(), deciding.begin() + static_cast<std::ptrdiff_t>(k), static_cast<int>(f)) !=
                deciding.begin() + static_cast<std::ptrdiff_t>(k)) {
                continue;
            }
            if (best < 0 || credit[f] > credit[static_cast<size_t>(best)]) best = static_cast<int>(f);
        }
        if (best < 0 || !(credit[static_cast<size_t>(best)] > 0)) break;
        deciding[k] = best;
        covered += credit[static_cast<size_t>(best)];
    }
    return deciding;
}

std::string Reason(double path, double typical, const Deciding& deciding, const std::vector<std::string>& names) {
    std::vector<std::string_view> named;
    for (const int f : deciding) {
        if (f >= 0) named.push_back(names[static_cast<size_t>(f)]);
    }
    return fmt::format("Isolated after {:.1f} splits on average (typical {:.1f}), decided by the feature{} {}.", path,
                       typical, named.size() == 1 ? "" : "s", fmt::join(named, ", "));
}

}  // namespace

double IsolationAveragePathLength(int64_t n) {
    if (n <= 1) return 0.0;
    if (n == 2) return 1.0;
    const auto m = static_cast<double>(n - 1);
    return 2.0 * (std::log(m) + kEulerGamma) - 2.0 * m / static_cast<double>(n);
}

Expected<IsolationForestParams> IsolationForestParams::FromJson(const nlohmann::json& json, std::string_view path) {
    IsolationForestParams params;
    ParamReader reader(json, path);
    reader.Read("n_trees", params.n_trees);
    reader.Read("sample_size", params.sample_size);
    reader.Read("max_depth", params.max_depth);
    reader.Read("seed", params.seed);
    reader.Read("extension_level", params.extension_level);
    params.features.Read(reader);
    reader.Read("threads", params.threads);
    if (params.n_trees < 1 || params.n_trees > 100'000)
        reader.Fail("n_trees", "'n_trees' must be between 1 and 100 000.");
    if (params.sample_size < 2) reader.Fail("sample_size", "'sample_size' must be at least 2.");
    if (params.max_depth < 0 || params.max_depth > 64)
        reader.Fail("max_depth", "'max_depth' must be between 0 (= ceil(log2 sample_size)) and 64.");
    if (params.seed < 0) reader.Fail("seed", "'seed' must be 0 or more.");
    if (params.extension_level < 0 || params.extension_level > 1024) {
        reader.Fail("extension_level",
                    "'extension_level' must be between 0 (= the standard axis-parallel splits) and 1024.");
    }
    if (params.threads < 0 || params.threads > 1024)
        reader.Fail("threads", "'threads' must be between 0 (= all hardware threads) and 1024.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

nlohmann::json IsolationForestParams::ToJson() const {
    nlohmann::json json = {{"n_trees", n_trees},
                           {"sample_size", sample_size},
                           {"max_depth", max_depth},
                           {"seed", seed},
                           {"extension_level", extension_level}};
    features.AddTo(json);
    return json;
}

namespace {

std::vector<ParamInfo> Params() {
    std::vector<ParamInfo> params = {
        {"n_trees", "integer", "100", "number of trees"},
        {"sample_size", "integer", "256", "lines drawn (without replacement) to grow each tree"},
        {"max_depth", "integer", "0", "tree height limit; 0 = ceil(log2 sample_size)"},
        {"seed", "integer", "42", "random seed; the same seed gives the same scores"},
        {"extension_level", "integer", "0",
         "0 = the standard axis-parallel splits; k > 0 = extended isolation forest: random hyperplanes through k + 1 "
         "features (all of them when there are fewer), on standardized features"},
        {"threads", "integer", "0", "worker threads; 0 = all hardware threads (scores do not depend on it)"},
    };
    const std::vector<ParamInfo> features = FeatureParamInfo(IsolationForestParams{}.features);
    params.insert(params.end(), features.begin(), features.end());
    return params;
}

}  // namespace

AlgorithmInfo IsolationForest::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Isolation Forest (Liu, Ting & Zhou 2008): random trees split the lines on the chosen features; lines "
            "that are isolated in few splits score high. The reason names the features that isolated the line.",
        .params = Params(),
        .create = FactoryOf<IsolationForest, IsolationForestParams>(),
        .calibrated = false,  // ordinary rows score about 0.5
    };
}

struct IsolationForestModel::Forest : PackedForest {};

IsolationForestModel::IsolationForestModel() : forest_(std::make_unique<Forest>()) {}
IsolationForestModel::~IsolationForestModel() = default;
IsolationForestModel::IsolationForestModel(IsolationForestModel&&) noexcept = default;
IsolationForestModel& IsolationForestModel::operator=(IsolationForestModel&&) noexcept = default;

size_t IsolationForestModel::trees() const { return forest_->root.size(); }

Expected<IsolationForestModel> IsolationForestModel::Fit(const FeatureMatrix& x, const IsolationForestParams& params,
                                                         const RunContext& context) {
    IsolationForestModel model;
    const size_t psi = std::min(x.rows, static_cast<size_t>(params.sample_size));
    model.psi_ = static_cast<int>(psi);
    model.max_depth_ =
        params.max_depth > 0 ? params.max_depth : static_cast<int>(std::ceil(std::log2(static_cast<double>(psi))));
    if (x.rows < 2 || x.cols == 0) return model;  // no trees: every row scores 2^0 ... see Score
    const auto n_trees = static_cast<size_t>(params.n_trees);
    const size_t width =
        params.extension_level > 0 ? std::min(static_cast<size_t>(params.extension_level) + 1, x.cols) : 0;
    const size_t threads =
        params.threads > 0 ? static_cast<size_t>(params.threads) : std::max(1u, std::thread::hardware_concurrency());
    std::vector<Nodes> trees(n_trees);
    const bool built = ParallelFor(n_trees, threads, context, 0.0, 1.0, [&](size_t t) {
        trees[t] = BuildTree(x, psi, model.max_depth_, width, SplitMix64(static_cast<uint64_t>(params.seed) ^ t));
    });
    if (!built) return Unexpected(Internal("cancelled"));
    for (const Nodes& tree : trees) model.forest_->Append(tree);
    model.forest_->Pack();
    return model;
}

Expected<std::vector<double>> IsolationForestModel::Score(const FeatureMatrix& x, size_t threads,
                                                          const RunContext& context,
                                                          std::vector<double>* path_out) const {
    const size_t rows = x.rows;
    std::vector<double> score(rows, 0.5);  // no trees (fewer than 2 training rows): nothing is isolated
    std::vector<double> path(rows, 0.0);
    const size_t n_trees = trees();
    if (n_trees > 0) {
        const double norm = IsolationAveragePathLength(psi_);
        const size_t blocks = (rows + kRowBlock - 1) / kRowBlock;
        const bool scored = ParallelFor(blocks, threads, context, 0.0, 1.0, [&](size_t b) {
            const size_t begin = b * kRowBlock;
            const size_t count = std::min(rows, begin + kRowBlock) - begin;
            std::vector<float> block(x.cols * kRowBlock, 0.0F);
            FillBlock(x, begin, count, block);
            WalkPaths(*forest_, block, count, max_depth_, std::span<double>(path).subspan(begin, count));
            for (size_t r = begin; r < begin + count; ++r) {
                path[r] /= static_cast<double>(n_trees);
                score[r] = std::exp2(-path[r] / norm);
            }
        });
        if (!scored) return Unexpected(Internal("cancelled"));
    }
    if (path_out != nullptr) *path_out = std::move(path);
    return score;
}

std::vector<std::array<int, 3>> IsolationForestModel::DecidingColumns(const FeatureMatrix& x,
                                                                      std::span<const size_t> rows,
                                                                      size_t threads) const {
    std::vector<std::array<int, 3>> deciding(rows.size(), {-1, -1, -1});
    if (trees() == 0 || x.cols == 0) return deciding;
    ParallelFor((rows.size() + kRowBlock - 1) / kRowBlock, threads, RunContext{}, 0.0, 1.0, [&](size_t b) {
        const auto block_rows = rows.subspan(b * kRowBlock, std::min(kRowBlock, rows.size() - b * kRowBlock));
        std::vector<float> block(x.cols * kRowBlock, 0.0F);
        FillBlock(x, block_rows, block);
        std::vector<float> credit(block_rows.size() * x.cols, 0.0F);
        WalkCredit(*forest_, block, block_rows.size(), x.cols, max_depth_, credit);
        for (size_t k = 0; k < block_rows.size(); ++k) {
            deciding[b * kRowBlock + k] = DecidingFeatures(std::span<const float>(credit).subspan(k * x.cols, x.cols));
        }
    });
    return deciding;
}

nlohmann::json IsolationForestModel::ToJson() const {
    const Forest& f = *forest_;
    std::vector<float> threshold = f.threshold;  // +inf (external nodes) is not JSON: they are known by left = self
    for (size_t n = 0; n < threshold.size(); ++n) {
        if (f.left[n] == static_cast<int32_t>(n)) threshold[n] = 0.0F;
    }
    nlohmann::json json = {{"sample_size", psi_},  {"max_depth", max_depth_}, {"root", f.root},
                           {"feature", f.feature}, {"threshold", threshold},  {"left", f.left},
                           {"gain", f.gain},       {"value", f.value}};
    if (f.width > 0) {  // extended
        json["plane_width"] = f.width;
        json["plane_feature"] = f.plane_feature;
        json["plane_coef"] = f.plane_coef;
    }
    return json;
}

Expected<IsolationForestModel> IsolationForestModel::FromJson(const nlohmann::json& json, size_t columns) {
    IsolationForestModel model;
    Forest& f = *model.forest_;
    try {
        model.psi_ = json.at("sample_size").get<int>();
        model.max_depth_ = json.at("max_depth").get<int>();
        f.root = json.at("root").get<std::vector<int32_t>>();
        f.feature = json.at("feature").get<std::vector<int32_t>>();
        f.threshold = json.at("threshold").get<std::vector<float>>();
        f.left = json.at("left").get<std::vector<int32_t>>();
        f.gain = json.at("gain").get<std::vector<float>>();
        f.value = json.at("value").get<std::vector<double>>();
        if (json.contains("plane_width")) {
            f.width = json.at("plane_width").get<size_t>();
            f.plane_feature = json.at("plane_feature").get<std::vector<int32_t>>();
            f.plane_coef = json.at("plane_coef").get<std::vector<float>>();
        }
    } catch (const nlohmann::json::exception& e) {
        return Unexpected(InvalidInput("bad_model", fmt::format("The isolation forest is not readable: {}", e.what())));
    }
    const size_t nodes = f.feature.size();
    bool valid = model.psi_ >= 1 && model.max_depth_ >= 1 && model.max_depth_ <= 64 && f.threshold.size() == nodes &&
                 f.left.size() == nodes && f.gain.size() == nodes && f.value.size() == nodes;
    for (size_t n = 0; valid && n < nodes; ++n) {
        const int32_t left = f.left[n];
        const bool external = left == static_cast<int32_t>(n);
        valid = f.feature[n] >= 0 && static_cast<size_t>(f.feature[n]) < std::max<size_t>(columns, 1) && left >= 0 &&
                (external || static_cast<size_t>(left) + 1 < nodes);
        if (external) f.threshold[n] = std::numeric_limits<float>::infinity();
    }
    for (const int32_t root : f.root) valid = valid && root >= 0 && static_cast<size_t>(root) < nodes;
    valid = valid && f.width <= std::max<size_t>(columns, 1) && f.plane_feature.size() == nodes * f.width &&
            f.plane_coef.size() == nodes * f.width;
    for (size_t i = 0; valid && i < f.plane_feature.size(); ++i) {
        valid = f.plane_feature[i] >= 0 && static_cast<size_t>(f.plane_feature[i]) < std::max<size_t>(columns, 1);
    }
    valid = valid && columns * kRowBlock < static_cast<size_t>(std::numeric_limits<int32_t>::max());
    if (!valid) {
        return Unexpected(InvalidInput(
            "bad_model",
            fmt::format("The isolation forest does not fit {} feature columns or its nodes do not link up.", columns)));
    }
    f.Pack();
    return model;
}

Expected<AlgorithmOutput> IsolationForest::Run(const transform::TransactionFrame& frame,
                                               const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows < 2 && context.model.empty()) return output;
    const size_t threads =
        params_.threads > 0 ? static_cast<size_t>(params_.threads) : std::max(1u, std::thread::hardware_concurrency());

    // A saved model brings its own encoding and forest; otherwise both are fitted here and saved with the run.
    // Axis-parallel splits do not care about scale; hyperplanes do.
    auto encoded = EncodeFrame(frame, context, kName, params_.features, /*standardize=*/params_.extension_level > 0);
    if (!encoded) return Unexpected(std::move(encoded).error());
    const FeatureMatrix* x = &encoded->x;
    IsolationForestModel model;
    if (encoded->saved) {
        auto loaded = IsolationForestModel::FromJson(*encoded->saved, x->cols);
        if (!loaded) return Unexpected(std::move(loaded).error());
        model = std::move(*loaded);
    } else {
        auto grown = IsolationForestModel::Fit(*x, params_, ScaledProgress(context, 0.0, 0.4));
        if (!grown) return Unexpected(std::move(grown).error());
        model = std::move(*grown);
        output.model = WriteModelDocument(kName, params_.ToJson(), encoded->encoder, model.ToJson());
    }

    std::vector<double> path;
    auto scores = model.Score(*x, threads, ScaledProgress(context, 0.4, 0.9), &path);
    if (!scores) return Unexpected(std::move(scores).error());
    output.score = std::move(*scores);
    const auto psi = static_cast<double>(model.sample_size());
    const auto n_trees = static_cast<double>(model.trees());
    std::fill(output.confidence.begin(), output.confidence.end(), psi / (psi + 32.0) * n_trees / (n_trees + 10.0));

    // The reason, for rows scoring >= kIsolationReasonScore or among the top kReasonShare: E[h] against the median,
    // and the deciding features.
    std::vector<double> sorted(output.score);
    const auto top = static_cast<std::ptrdiff_t>(static_cast<double>(rows) * (1.0 - kReasonShare));
    std::nth_element(sorted.begin(), sorted.begin() + top, sorted.end());
    const double reason_score = std::min(kIsolationReasonScore, sorted[static_cast<size_t>(top)]);
    std::vector<size_t> explain;
    for (size_t r = 0; r < rows; ++r) {
        if (output.score[r] >= reason_score && output.score[r] > 0.5) explain.push_back(r);
    }
    if (Cancelled(context)) return Unexpected(Internal("cancelled"));
    std::vector<double> scratch(path);
    const double typical = Median(scratch);
    const std::vector<Deciding> deciding = model.DecidingColumns(*x, explain, threads);
    for (size_t k = 0; k < explain.size(); ++k) {
        output.reason[explain[k]] = Reason(path[explain[k]], typical, deciding[k], x->names);
    }
    return output;
}

}  // namespace granska::detect
