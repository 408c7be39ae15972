#pragma once
// When a failed job runs again: exponential backoff with jitter, up to a number of attempts. Jitter spreads the
// retries of jobs that failed together (a database restart) so they do not return together ("equal jitter",
// Brooker 2015, "Exponential Backoff and Jitter"): half of the exponential delay is fixed, half is random.

#include <chrono>

namespace granska::jobs {

struct RetryPolicy {
    int max_attempts = 3;  // a job that fails this many times is failed for good (and dead-lettered)
    std::chrono::milliseconds base{1000};
    std::chrono::milliseconds cap{60'000};
};

// True when a job that has failed `attempts` times runs again.
bool ShouldRetry(const RetryPolicy& policy, int attempts);

// The wait before the next attempt of a job that has failed `attempts` (≥ 1) times: with e = min(cap, base ·
// 2^(attempts − 1)), e/2 + unit · e/2, where unit in [0, 1) is the caller's random draw.
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempts, double unit);

}  // namespace granska::jobs
