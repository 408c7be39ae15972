// The local queue over a SQLite store: Publish and Close wake a waiting Take.

#include "jobs/local_queue.h"

#include <gtest/gtest.h>

#include <future>

#include "jobs/detail/test_support.h"

namespace granska::jobs {
namespace {

using std::chrono::milliseconds;

class LocalQueueTest : public ::testing::Test {
protected:
    testing::TestDatabase database_{"sqlite"};
    std::unique_ptr<store::Store> store_ = database_.Open();
};

TEST_F(LocalQueueTest, APublishWakesAWaitingTake) {
    // A poll far longer than the test may take: only the Publish can wake the Take in time.
    LocalQueue queue(*store_, milliseconds(600'000));
    auto taken =
        std::async(std::launch::async, [&] { return queue.Take("w/0", milliseconds(5000), milliseconds(600'000)); });
    // The job appears after the Take looked at the store (or before it: then it claims it at once).
    const auto jobs = testing::CreateJobs(*store_, 1);
    queue.Publish(jobs[0]);
    ASSERT_EQ(taken.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    const auto job = taken.get();
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->id, jobs[0].id);
    EXPECT_EQ(job->status, "running");
    EXPECT_EQ(job->worker, "w/0");
}

TEST_F(LocalQueueTest, ATakeFindsJobsOfOtherProcessesByPolling) {
    LocalQueue queue(*store_, milliseconds(20));
    auto taken =
        std::async(std::launch::async, [&] { return queue.Take("w/0", milliseconds(5000), milliseconds(600'000)); });
    // Another process's store: this queue hears no Publish.
    const auto other = database_.Open();
    const auto jobs = testing::CreateJobs(*other, 1);
    ASSERT_EQ(taken.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_EQ(taken.get()->id, jobs[0].id);
}

TEST_F(LocalQueueTest, CloseWakesEveryTakeAndLaterTakesReturnAtOnce) {
    LocalQueue queue(*store_, milliseconds(600'000));
    auto first =
        std::async(std::launch::async, [&] { return queue.Take("w/0", milliseconds(5000), milliseconds(600'000)); });
    auto second =
        std::async(std::launch::async, [&] { return queue.Take("w/1", milliseconds(5000), milliseconds(600'000)); });
    queue.Close();
    queue.Close();
    ASSERT_EQ(first.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    ASSERT_EQ(second.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_FALSE(first.get().has_value());
    EXPECT_FALSE(second.get().has_value());
    testing::CreateJobs(*store_, 1);
    EXPECT_FALSE(queue.Take("w/2", milliseconds(5000), milliseconds(600'000)).has_value());
}

}  // namespace
}  // namespace granska::jobs
