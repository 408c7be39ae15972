#include "api/detail/run_queue.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace granska::api::detail {
namespace {

TEST(RunQueueTest, RunsEveryPushedJob) {
    std::mutex mutex;
    std::vector<std::string> done;
    std::vector<std::string> abandoned;
    {
        RunQueue queue(
            2,
            [&](const RunJob& job) {
                std::lock_guard lock(mutex);
                done.push_back(job.run_id);
            },
            [&](const RunJob& job) { abandoned.push_back(job.run_id); });
        for (int i = 0; i < 5; ++i) ASSERT_TRUE(queue.Push({.workspace_id = "w", .run_id = std::to_string(i)}));
        for (;;) {
            {
                std::lock_guard lock(mutex);
                if (done.size() == 5) break;
            }
            std::this_thread::yield();
        }
        queue.Shutdown();
    }
    EXPECT_EQ(done.size(), 5u);
    EXPECT_TRUE(abandoned.empty());
}

TEST(RunQueueTest, ShutdownFinishesTheRunningJobAndAbandonsTheWaitingOnes) {
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::vector<std::string> done;
    std::vector<std::string> abandoned;
    RunQueue queue(
        1,
        [&](const RunJob& job) {
            if (job.run_id == "first") started.set_value();
            released.wait();
            done.push_back(job.run_id);
        },
        [&](const RunJob& job) { abandoned.push_back(job.run_id); });
    ASSERT_TRUE(queue.Push({.workspace_id = "w", .run_id = "first"}));
    started.get_future().wait();
    ASSERT_TRUE(queue.Push({.workspace_id = "w", .run_id = "second"}));
    std::thread stopper([&] { queue.Shutdown(); });
    // Shutdown has stopped intake once Push refuses; then let the running job end.
    while (queue.Push({.workspace_id = "w", .run_id = "late"})) {
        std::this_thread::yield();
    }
    release.set_value();
    stopper.join();
    EXPECT_EQ(done, std::vector<std::string>{"first"});
    // "late" pushes that slipped in before Shutdown are abandoned too, so check only the order's head.
    ASSERT_FALSE(abandoned.empty());
    EXPECT_EQ(abandoned.front(), "second");
}

TEST(RunQueueTest, ShutdownTwiceIsHarmless) {
    RunQueue queue(
        3, [](const RunJob&) {}, [](const RunJob&) {});
    queue.Shutdown();
    queue.Shutdown();
    EXPECT_FALSE(queue.Push({.workspace_id = "w", .run_id = "x"}));
}

}  // namespace
}  // namespace granska::api::detail
