#pragma once
// Grouping rows into runs by a sort key, for the statistical algorithms: one sort (n log n), no per-group allocation.

#include <cstdint>
#include <span>
#include <vector>

namespace granska::detect {

struct Runs {
    std::vector<size_t> order;   // row indices, stably sorted by key (equal keys keep file order)
    std::vector<size_t> starts;  // where each run begins in order, then order.size()

    size_t size() const { return starts.empty() ? 0 : starts.size() - 1; }
    std::span<const size_t> Run(size_t k) const {
        return std::span<const size_t>(order).subspan(starts[k], starts[k + 1] - starts[k]);
    }
};

// Rows sorted by keys; a run is a stretch of rows whose keys agree above the low `shift` bits (key >> shift).
Runs SortedRuns(const std::vector<int64_t>& keys, int shift = 0);

// A key that sorts by account code, then by date: runs with shift 32 are accounts in date order.
inline int64_t AccountDateKey(int32_t account_code, int32_t date_days) {
    return (static_cast<int64_t>(account_code) << 32) + (static_cast<int64_t>(date_days) + (int64_t{1} << 31));
}

}  // namespace granska::detect
