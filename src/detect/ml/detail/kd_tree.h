#pragma once
// A k-d tree over a fixed set of points (Bentley 1975): each node splits its points at the median of the dimension
// in which they spread most, down to leaves of at most 16 points. Answers radius, nearest-neighbour and k-th
// neighbour queries in Euclidean distance without comparing all pairs. Points are row-major, n × dims doubles; the
// tree keeps its own copy in tree order. Queries are const and may run on several threads at once.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace granska::detect {

class KdTree {
public:
    KdTree() = default;
    KdTree(std::span<const double> points, size_t dims);

    size_t size() const { return index_.size(); }
    size_t dims() const { return dims_; }

    // Calls visit(i) for every point i (its index in the given points) within radius of query (distance <= radius).
    void ForEachWithin(const double* query, double radius, const std::function<void(uint32_t)>& visit) const;
    // Counts the points within radius, stopping once `enough` are found.
    size_t CountWithin(const double* query, double radius, size_t enough) const;
    // The nearest point: its index and squared distance (ties: the first in tree order). The tree must not be empty.
    std::pair<uint32_t, double> Nearest(const double* query) const;
    // The distance to the k-th nearest point (k >= 1; the query point itself counts when it is in the tree).
    double KthDistance(const double* query, size_t k) const;

private:
    struct Node {
        uint32_t begin = 0, end = 0;  // points [begin, end) in tree order
        int32_t split_dim = -1;       // -1 = leaf
        double split = 0.0;
        uint32_t left = 0, right = 0;
    };
    uint32_t Build(uint32_t begin, uint32_t end);
    double Distance2(const double* query, uint32_t slot) const;
    template <class Leaf>
    void Search(const double* query, double& bound2, Leaf leaf) const;

    size_t dims_ = 0;
    std::vector<double> points_;   // tree order
    std::vector<uint32_t> index_;  // tree slot -> given index
    std::vector<Node> nodes_;
};

}  // namespace granska::detect
