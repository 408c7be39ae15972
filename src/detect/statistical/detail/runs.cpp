#include "detect/statistical/detail/runs.h"

#include <algorithm>
#include <numeric>

namespace granska::detect {

Runs SortedRuns(const std::vector<int64_t>& keys, int shift) {
    Runs runs;
    runs.order.resize(keys.size());
    std::iota(runs.order.begin(), runs.order.end(), size_t{0});
    std::stable_sort(runs.order.begin(), runs.order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    for (size_t k = 0; k < runs.order.size(); ++k)
        if (k == 0 || (keys[runs.order[k]] >> shift) != (keys[runs.order[k - 1]] >> shift)) runs.starts.push_back(k);
    runs.starts.push_back(runs.order.size());
    return runs;
}

}  // namespace granska::detect
