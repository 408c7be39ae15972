#include "detect/ml/isolation_forest.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <thread>
#include <unordered_map>

#include "detect/detail/algorithm_support.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"

namespace granska::detect {
namespace {

constexpr double kEulerGamma = 0.5772156649;
constexpr double kReasonScore = 0.55;  // IF scores near 0.5 are normal
constexpr size_t kRowBlock = 256;      // rows scored together: the block's feature values stay in cache

uint64_t SplitMix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// The chosen features, column-major: value of column c at row r is values[c * rows + r]. Column `cols` is all
// zeros: external nodes "split" on it with threshold +inf and lead to themselves, so walks need no branch.
struct FeatureMatrix {
    size_t rows = 0;
    size_t cols = 0;
    std::vector<float> values;  // float: half the memory traffic of double, ample for isolating
    float At(size_t row, size_t col) const { return values[col * rows + row]; }
};

FeatureMatrix BuildMatrix(const transform::TransactionFrame& frame, const std::vector<std::string>& features) {
    FeatureMatrix matrix{.rows = frame.size(), .cols = features.size(), .values = {}};
    matrix.values.reserve(matrix.rows * (matrix.cols + 1));
    std::vector<double> finite;
    const auto is_finite = [](double v) { return std::isfinite(v); };
    for (const std::string& name : features) {
        std::vector<double> column = frame.NumericFeature(name);
        if (!std::all_of(column.begin(), column.end(), is_finite)) {  // missing-value policy: impute the median
            finite.clear();
            std::copy_if(column.begin(), column.end(), std::back_inserter(finite), is_finite);
            const double median = Median(finite);
            std::replace_if(
                column.begin(), column.end(), [](double v) { return !std::isfinite(v); }, median);
        }
        std::transform(column.begin(), column.end(), std::back_inserter(matrix.values),
                       [](double v) { return static_cast<float>(v); });
    }
    matrix.values.resize(matrix.rows * (matrix.cols + 1), 0.0F);
    return matrix;
}

// All trees' nodes in flat arrays (struct of arrays); a tree's nodes are contiguous from root[t].
struct Forest {
    std::vector<int32_t> feature;  // split feature; external nodes: the zero column
    std::vector<float> threshold;  // go left when x < threshold; external nodes: +inf
    std::vector<int32_t> left;     // left child; the right child is left + 1; external nodes: themselves
    std::vector<float> gain;       // isolation earned by reaching the node: log2(parent's size / its size)
    std::vector<double> value;     // external nodes: path length depth + c(size)
    std::vector<int32_t> root;

    int32_t AddNode() {
        feature.push_back(-1);
        threshold.push_back(0.0F);
        left.push_back(-1);
        gain.push_back(0.0F);
        value.push_back(0.0);
        return static_cast<int32_t>(feature.size() - 1);
    }
    void Append(const Forest& tree) {
        const auto base = static_cast<int32_t>(feature.size());
        root.push_back(base);
        feature.insert(feature.end(), tree.feature.begin(), tree.feature.end());
        threshold.insert(threshold.end(), tree.threshold.begin(), tree.threshold.end());
        for (const int32_t child : tree.left) left.push_back(child + base);
        gain.insert(gain.end(), tree.gain.begin(), tree.gain.end());
        value.insert(value.end(), tree.value.begin(), tree.value.end());
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

Forest BuildTree(const FeatureMatrix& x, size_t psi, int max_depth, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint32_t> rows = SubSample(x.rows, psi, rng);
    Forest tree;
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
        tree.gain[node] =
            static_cast<float>(std::log2(static_cast<double>(p.parent_size) / static_cast<double>(count)));
        varying.clear();
        if (p.depth < max_depth && count > 1) {
            for (size_t c = 0; c < x.cols; ++c) {
                low[c] = high[c] = x.At(rows[p.begin], c);
                for (size_t i = p.begin + 1; i < p.end; ++i) {
                    const float v = x.At(rows[i], c);
                    low[c] = std::min(low[c], v);
                    high[c] = std::max(high[c], v);
                }
                if (high[c] > low[c]) varying.push_back(c);
            }
        }
        if (varying.empty()) {  // external node
            tree.feature[node] = static_cast<int32_t>(x.cols);
            tree.threshold[node] = std::numeric_limits<float>::infinity();
            tree.left[node] = p.node;
            tree.value[node] = p.depth + IsolationAveragePathLength(static_cast<int64_t>(count));
            continue;
        }
        const size_t f = varying[std::uniform_int_distribution<size_t>(0, varying.size() - 1)(rng)];
        const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        float split = static_cast<float>(low[f] + u * (static_cast<double>(high[f]) - low[f]));
        if (!(split > low[f])) split = high[f];  // both sides keep at least one row
        const auto first = rows.begin() + static_cast<std::ptrdiff_t>(p.begin);
        const auto middle = std::partition(first, rows.begin() + static_cast<std::ptrdiff_t>(p.end),
                                           [&](uint32_t r) { return x.At(r, f) < split; });
        const size_t mid = p.begin + static_cast<size_t>(middle - first);
        const int32_t left = tree.AddNode();
        tree.AddNode();
        tree.feature[node] = static_cast<int32_t>(f);
        tree.threshold[node] = split;
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

// Walks rows (at most kRowBlock) through every tree, level by level together so that their independent loads
// overlap; adds each row's path lengths to path_sum (in tree order). With kCredit, credit[k * (cols + 1) + f]
// collects the isolation feature f earned for row k: reaching a node that keeps n_child of its parent's n_node
// training rows earns log2(n_node / n_child).
template <bool kCredit>
void WalkBlock(const Forest& forest, const FeatureMatrix& x, int max_depth, std::span<const size_t> rows,
               std::span<double> path_sum, std::span<float> credit) {
    const size_t stride = x.cols + 1;
    std::array<int32_t, kRowBlock> node{};
    for (const int32_t root : forest.root) {
        std::fill_n(node.begin(), rows.size(), root);
        for (int level = 0; level < max_depth; ++level) {
            for (size_t k = 0; k < rows.size(); ++k) {
                const auto n = static_cast<size_t>(node[k]);
                const auto f = static_cast<size_t>(forest.feature[n]);
                const int32_t child = forest.left[n] + (x.At(rows[k], f) < forest.threshold[n] ? 0 : 1);
                if constexpr (kCredit) credit[k * stride + f] += forest.gain[static_cast<size_t>(child)];
                node[k] = child;
            }
        }
        for (size_t k = 0; k < rows.size(); ++k) path_sum[k] += forest.value[static_cast<size_t>(node[k])];
    }
}

// Up to three features that earned 60% of a row's isolation, the most first; -1 = no more.
using Deciding = std::array<int8_t, 3>;

Deciding DecidingFeatures(std::span<const float> credit) {
    std::vector<size_t> order(credit.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return credit[a] > credit[b]; });
    const double total = std::accumulate(credit.begin(), credit.end(), 0.0);
    Deciding deciding = {-1, -1, -1};
    double covered = 0.0;
    const size_t most = std::min(deciding.size(), credit.size());
    for (size_t k = 0; k < most && credit[order[k]] > 0 && covered < 0.6 * total; ++k) {
        deciding[k] = static_cast<int8_t>(order[k]);
        covered += credit[order[k]];
    }
    return deciding;
}

std::string Reason(double path, double typical, const Deciding& deciding, const std::vector<std::string>& names) {
    std::vector<std::string_view> named;
    for (const int8_t f : deciding) {
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
    reader.Read("features", params.features);
    reader.Read("threads", params.threads);
    if (params.n_trees < 1 || params.n_trees > 100'000)
        reader.Fail("n_trees", "'n_trees' must be between 1 and 100 000.");
    if (params.sample_size < 2) reader.Fail("sample_size", "'sample_size' must be at least 2.");
    if (params.max_depth < 0 || params.max_depth > 64)
        reader.Fail("max_depth", "'max_depth' must be between 0 (= ceil(log2 sample_size)) and 64.");
    if (params.seed < 0) reader.Fail("seed", "'seed' must be 0 or more.");
    if (params.threads < 0 || params.threads > 1024)
        reader.Fail("threads", "'threads' must be between 0 (= all hardware threads) and 1024.");
    if (params.features.empty()) reader.Fail("features", "'features' must name at least one numeric feature.");
    const auto known = transform::TransactionFrame::NumericFeatureNames();
    for (size_t i = 0; i < params.features.size(); ++i) {
        const std::string& name = params.features[i];
        const std::string field = fmt::format("features[{}]", i);
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            reader.Fail(field, fmt::format("'{}' is \"{}\", not a numeric feature; known: {}.", field, name,
                                           fmt::join(known, ", ")));
        } else if (std::find(params.features.begin(), params.features.begin() + static_cast<std::ptrdiff_t>(i), name) !=
                   params.features.begin() + static_cast<std::ptrdiff_t>(i)) {
            reader.Fail(field, fmt::format("'{}' repeats \"{}\".", field, name));
        }
    }
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo IsolationForest::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Isolation Forest (Liu, Ting & Zhou 2008): random trees split the lines on the chosen features; lines "
            "that are isolated in few splits score high. The reason names the features that isolated the line.",
        .params =
            {
                {"n_trees", "integer", "100", "number of trees"},
                {"sample_size", "integer", "256", "lines drawn (without replacement) to grow each tree"},
                {"max_depth", "integer", "0", "tree height limit; 0 = ceil(log2 sample_size)"},
                {"seed", "integer", "42", "random seed; the same seed gives the same scores"},
                {"features", "string list",
                 R"(["log_amount", "weekday", "day_of_month", "posting_lag_days", "account_frequency", )"
                 R"("user_frequency", "voucher_size"])",
                 "numeric features the trees split on"},
                {"threads", "integer", "0", "worker threads; 0 = all hardware threads (scores do not depend on it)"},
            },
        .create = FactoryOf<IsolationForest, IsolationForestParams>(),
    };
}

Expected<AlgorithmOutput> IsolationForest::Run(const transform::TransactionFrame& frame,
                                               const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows < 2) return output;
    const FeatureMatrix x = BuildMatrix(frame, params_.features);
    const size_t psi = std::min(rows, static_cast<size_t>(params_.sample_size));
    const int max_depth =
        params_.max_depth > 0 ? params_.max_depth : static_cast<int>(std::ceil(std::log2(static_cast<double>(psi))));
    const size_t threads =
        params_.threads > 0 ? static_cast<size_t>(params_.threads) : std::max(1u, std::thread::hardware_concurrency());
    const auto n_trees = static_cast<size_t>(params_.n_trees);
    const auto cancelled = [] { return Unexpected(Internal("cancelled")); };

    std::vector<Forest> trees(n_trees);
    const bool built = ParallelFor(n_trees, threads, context, 0.0, 0.4, [&](size_t t) {
        trees[t] = BuildTree(x, psi, max_depth, SplitMix64(static_cast<uint64_t>(params_.seed) ^ t));
    });
    if (!built) return cancelled();
    Forest forest;
    for (const Forest& tree : trees) forest.Append(tree);
    trees = {};

    // Pass 1, E[h(x)] per row over blocks of rows; pass 2, for rows scoring >= 0.55 only, the isolation per feature.
    const double norm = IsolationAveragePathLength(static_cast<int64_t>(psi));
    const double confidence = static_cast<double>(psi) / static_cast<double>(psi + 32) * static_cast<double>(n_trees) /
                              static_cast<double>(n_trees + 10);
    std::vector<double> path(rows, 0.0);
    const size_t blocks = (rows + kRowBlock - 1) / kRowBlock;
    const bool scored = ParallelFor(blocks, threads, context, 0.4, 0.9, [&](size_t b) {
        std::array<size_t, kRowBlock> block{};
        const size_t count = std::min(rows, (b + 1) * kRowBlock) - b * kRowBlock;
        std::iota(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(count), b * kRowBlock);
        const std::span<const size_t> block_rows(block.data(), count);
        WalkBlock<false>(forest, x, max_depth, block_rows, std::span<double>(path).subspan(b * kRowBlock, count), {});
        for (const size_t r : block_rows) {
            path[r] /= static_cast<double>(n_trees);
            output.score[r] = std::exp2(-path[r] / norm);
            output.confidence[r] = confidence;
        }
    });
    if (!scored) return cancelled();
    std::vector<size_t> explain;
    for (size_t r = 0; r < rows; ++r) {
        if (output.score[r] >= kReasonScore) explain.push_back(r);
    }
    std::vector<double> scratch(path);
    const double typical = Median(scratch);
    const size_t stride = x.cols + 1;  // the zero column collects the external nodes' self-loops
    const bool explained =
        ParallelFor((explain.size() + kRowBlock - 1) / kRowBlock, threads, context, 0.9, 1.0, [&](size_t b) {
            const auto block_rows = std::span<const size_t>(explain).subspan(
                b * kRowBlock, std::min(kRowBlock, explain.size() - b * kRowBlock));
            std::vector<double> unused(block_rows.size(), 0.0);
            std::vector<float> credit(block_rows.size() * stride, 0.0F);
            WalkBlock<true>(forest, x, max_depth, block_rows, unused, credit);
            for (size_t k = 0; k < block_rows.size(); ++k) {
                const Deciding deciding = DecidingFeatures(std::span<const float>(credit).subspan(k * stride, x.cols));
                const size_t r = block_rows[k];
                output.reason[r] = Reason(path[r], typical, deciding, params_.features);
            }
        });
    if (!explained) return cancelled();
    return output;
}

}  // namespace granska::detect
