#include "jobs/retry.h"

#include <algorithm>
#include <cmath>

namespace granska::jobs {

bool ShouldRetry(const RetryPolicy& policy, int attempts) { return attempts < policy.max_attempts; }

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempts, double unit) {
    const double base = static_cast<double>(policy.base.count());
    const double cap = static_cast<double>(policy.cap.count());
    // 2^62 ms is already past any cap; the exponent is bounded so the power cannot overflow.
    const double exponential = std::min(cap, base * std::exp2(std::clamp(attempts - 1, 0, 62)));
    const double draw = std::clamp(unit, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(exponential / 2 + draw * exponential / 2)));
}

}  // namespace granska::jobs
