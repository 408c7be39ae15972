#include "jobs/retry.h"

#include <gtest/gtest.h>

namespace granska::jobs {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicyTest, ThreeAttemptsByDefault) {
    const RetryPolicy policy;
    EXPECT_TRUE(ShouldRetry(policy, 1));
    EXPECT_TRUE(ShouldRetry(policy, 2));
    EXPECT_FALSE(ShouldRetry(policy, 3));
}

TEST(RetryPolicyTest, DelayDoublesWithinItsJitterBandUpToTheCap) {
    const RetryPolicy policy{.base = milliseconds(1000), .cap = milliseconds(60'000)};
    // e = 1000, 2000, 4000 ms; the delay is e/2 + unit · e/2.
    EXPECT_EQ(BackoffDelay(policy, 1, 0.0), milliseconds(500));
    EXPECT_EQ(BackoffDelay(policy, 1, 0.5), milliseconds(750));
    EXPECT_EQ(BackoffDelay(policy, 2, 0.0), milliseconds(1000));
    EXPECT_EQ(BackoffDelay(policy, 3, 0.25), milliseconds(2500));  // 2000 + 0.25 · 2000
    // 2^6 · 1000 = 64 000 > cap: e = 60 000.
    EXPECT_EQ(BackoffDelay(policy, 7, 0.0), milliseconds(30'000));
    EXPECT_EQ(BackoffDelay(policy, 7, 1.0), milliseconds(60'000));
    // Far beyond the cap, no overflow; an out-of-range draw is clamped.
    EXPECT_EQ(BackoffDelay(policy, 1000, 2.0), milliseconds(60'000));
    EXPECT_EQ(BackoffDelay(policy, 0, -1.0), milliseconds(500));
}

}  // namespace
}  // namespace granska::jobs
