#include "detect/ml/detail/kd_tree.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>

namespace granska::detect {
namespace {

constexpr uint32_t kLeafSize = 16;

}  // namespace

KdTree::KdTree(std::span<const double> points, size_t dims) : dims_(dims) {
    const size_t n = dims == 0 ? 0 : points.size() / dims;
    index_.resize(n);
    std::iota(index_.begin(), index_.end(), uint32_t{0});
    points_.assign(points.begin(), points.begin() + static_cast<std::ptrdiff_t>(n * dims));
    if (n > 0) Build(0, static_cast<uint32_t>(n));
    std::vector<double> ordered(n * dims);
    for (size_t slot = 0; slot < n; ++slot) {
        std::copy_n(points.begin() + static_cast<std::ptrdiff_t>(index_[slot] * dims), dims,
                    ordered.begin() + static_cast<std::ptrdiff_t>(slot * dims));
    }
    points_ = std::move(ordered);
}

// Builds over index_[begin, end) (points_ still in the given order); returns the node.
uint32_t KdTree::Build(uint32_t begin, uint32_t end) {
    const auto id = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back({.begin = begin, .end = end});
    if (end - begin <= kLeafSize) return id;
    size_t widest = 0;
    double spread = -1.0;
    for (size_t d = 0; d < dims_; ++d) {
        double low = std::numeric_limits<double>::infinity();
        double high = -low;
        for (uint32_t i = begin; i < end; ++i) {
            const double v = points_[index_[i] * dims_ + d];
            low = std::min(low, v);
            high = std::max(high, v);
        }
        if (high - low > spread) {
            spread = high - low;
            widest = d;
        }
    }
    if (!(spread > 0.0)) return id;  // all points equal: one leaf
    const uint32_t mid = begin + (end - begin) / 2;
    const auto at = [&](uint32_t i) { return points_[i * dims_ + widest]; };
    std::nth_element(index_.begin() + begin, index_.begin() + mid, index_.begin() + end,
                     [&](uint32_t a, uint32_t b) { return at(a) < at(b) || (at(a) == at(b) && a < b); });
    const double split = at(index_[mid]);
    const uint32_t left = Build(begin, mid);
    const uint32_t right = Build(mid, end);
    Node& node = nodes_[id];
    node.split_dim = static_cast<int32_t>(widest);
    node.split = split;
    node.left = left;
    node.right = right;
    return id;
}

double KdTree::Distance2(const double* query, uint32_t slot) const {
    const double* p = points_.data() + static_cast<size_t>(slot) * dims_;
    double sum = 0.0;
    for (size_t d = 0; d < dims_; ++d) {
        const double diff = query[d] - p[d];
        sum += diff * diff;
    }
    return sum;
}

// Depth-first, nearer child first; a far child is entered only when its splitting plane lies within bound2
// (leaf may shrink bound2 as it finds closer points).
template <class Leaf>
void KdTree::Search(const double* query, double& bound2, Leaf leaf) const {
    if (nodes_.empty()) return;
    // Balanced: depth <= log2(n / 16) + 1, and the stack grows by one entry per level at most.
    std::array<uint32_t, 70> stack;
    std::array<double, 70> plane2;
    size_t top = 0;
    stack[top] = 0;
    plane2[top++] = 0.0;
    while (top > 0) {
        --top;
        const Node& node = nodes_[stack[top]];
        const double gap2 = plane2[top];
        if (gap2 > bound2) continue;
        if (node.split_dim < 0) {
            leaf(node.begin, node.end);
            continue;
        }
        const double diff = query[node.split_dim] - node.split;
        const bool go_left = diff < 0.0;
        stack[top] = go_left ? node.right : node.left;  // far side, visited last
        plane2[top++] = std::max(gap2, diff * diff);
        stack[top] = go_left ? node.left : node.right;
        plane2[top++] = gap2;
    }
}

void KdTree::ForEachWithin(const double* query, double radius, const std::function<void(uint32_t)>& visit) const {
    double bound2 = radius * radius;
    Search(query, bound2, [&](uint32_t begin, uint32_t end) {
        for (uint32_t slot = begin; slot < end; ++slot) {
            if (Distance2(query, slot) <= bound2) visit(index_[slot]);
        }
    });
}

size_t KdTree::CountWithin(const double* query, double radius, size_t enough) const {
    double bound2 = radius * radius;
    size_t count = 0;
    Search(query, bound2, [&](uint32_t begin, uint32_t end) {
        for (uint32_t slot = begin; slot < end && count < enough; ++slot) {
            if (Distance2(query, slot) <= radius * radius) ++count;
        }
        if (count >= enough) bound2 = -1.0;  // stop: every remaining node is skipped
    });
    return count;
}

std::pair<uint32_t, double> KdTree::Nearest(const double* query) const {
    double best2 = std::numeric_limits<double>::infinity();
    uint32_t best = 0;
    Search(query, best2, [&](uint32_t begin, uint32_t end) {
        for (uint32_t slot = begin; slot < end; ++slot) {
            const double d2 = Distance2(query, slot);
            if (d2 < best2) {
                best2 = d2;
                best = index_[slot];
            }
        }
    });
    return {best, best2};
}

double KdTree::KthDistance(const double* query, size_t k) const {
    std::priority_queue<double> nearest;  // the k smallest squared distances so far, largest on top
    double bound2 = std::numeric_limits<double>::infinity();
    Search(query, bound2, [&](uint32_t begin, uint32_t end) {
        for (uint32_t slot = begin; slot < end; ++slot) {
            const double d2 = Distance2(query, slot);
            if (nearest.size() < k) {
                nearest.push(d2);
            } else if (d2 < nearest.top()) {
                nearest.pop();
                nearest.push(d2);
            }
            if (nearest.size() == k) bound2 = nearest.top();
        }
    });
    return nearest.empty() ? 0.0 : std::sqrt(nearest.top());
}

}  // namespace granska::detect
