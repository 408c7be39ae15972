#include "detect/detail/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace granska::detect {

double Median(std::vector<double>& values) {
    if (values.empty()) return 0.0;
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
    const double upper = values[mid];
    if (values.size() % 2 == 1) return upper;
    const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lower + upper) / 2.0;
}

Baseline ComputeBaseline(std::vector<double>& values, bool robust) {
    Baseline baseline{.count = static_cast<int64_t>(values.size())};
    if (values.empty()) return baseline;
    if (robust) {
        baseline.center = Median(values);
        double mean_deviation = 0.0;
        for (double& v : values) {
            v = std::abs(v - baseline.center);
            mean_deviation += v;
        }
        mean_deviation /= static_cast<double>(values.size());
        const double mad = Median(values);
        baseline.scale = mad > 0 ? 1.4826 * mad : 1.2533 * mean_deviation;
        return baseline;
    }
    const double n = static_cast<double>(values.size());
    baseline.center = std::accumulate(values.begin(), values.end(), 0.0) / n;
    if (values.size() < 2) return baseline;
    double squares = 0.0;
    for (const double v : values) squares += (v - baseline.center) * (v - baseline.center);
    baseline.scale = std::sqrt(squares / (n - 1.0));
    return baseline;
}

}  // namespace granska::detect
