// The worker pool over each queue and each store: SQLite (a temporary file) and PostgreSQL (GRANSKA_TEST_POSTGRES_URL),
// the local queue and Redis (GRANSKA_TEST_REDIS_URL); scripts/with_test_servers.sh sets both. Tasks are lambdas.

#include "jobs/worker_pool.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/uuid.h"
#include "jobs/detail/redis_client.h"
#include "jobs/detail/test_support.h"
#include "jobs/local_queue.h"
#include "jobs/redis_queue.h"

namespace granska::jobs {
namespace {

using std::chrono::milliseconds;
using testing::AllEnded;
using testing::CreateJobs;
using testing::Reload;
using testing::Tasks;
using testing::WaitFor;
using Outcome = TaskResult::Outcome;

constexpr milliseconds kLong{60'000};  // generous: the dev build runs under ASan on two cores

// Waits, with a deadline, for the task to see its cancel flag; a task that never sees it fails the test.
TaskResult RunUntilCancelled(const std::atomic<bool>& cancelled) {
    if (!WaitFor([&] { return cancelled.load(); }, kLong)) return {Outcome::kFailed, "never cancelled"};
    return {Outcome::kCancelled, ""};
}

// Counts the runs of each job.
class RunCounter {
public:
    void Add(const std::string& id) {
        const std::lock_guard lock(mutex_);
        ++runs_[id];
    }
    std::map<std::string, int> Runs() const {
        const std::lock_guard lock(mutex_);
        return runs_;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, int> runs_;
};

// Parameter: "<backend>/<queue>".
class WorkerPoolTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        const std::string& param = GetParam();
        backend_ = param.substr(0, param.find('/'));
        queue_kind_ = param.substr(param.find('/') + 1);
        if (!testing::BackendAvailable(backend_)) {
            GTEST_SKIP() << "GRANSKA_TEST_POSTGRES_URL is not set; scripts/with_test_servers.sh starts PostgreSQL";
        }
        if (queue_kind_ == "redis" && testing::RedisUrl() == nullptr) {
            GTEST_SKIP() << "GRANSKA_TEST_REDIS_URL is not set; scripts/with_test_servers.sh starts Redis";
        }
        database_ = std::make_unique<testing::TestDatabase>(backend_);
        store_ = database_->Open();
    }

    std::unique_ptr<JobQueue> NewQueue(store::Store& store) const {
        if (queue_kind_ == "local") return std::make_unique<LocalQueue>(store, milliseconds(50));
        return std::make_unique<RedisQueue>(store, *detail::ParseRedisUrl(testing::RedisUrl()),
                                            QueueOptions{.prefix = prefix_, .sweep_interval = milliseconds(100)});
    }

    static WorkerOptions Options(std::string name) { return testing::PoolOptions(std::move(name), milliseconds(3000)); }

    static void Publish(JobQueue& queue, const std::vector<store::Job>& jobs) {
        for (const store::Job& job : jobs) queue.Publish(job);
    }

    // Runs one new job on a pool of the tasks until it is `status`; the job as stored then, and the pool's counts.
    std::pair<store::Job, WorkerPool::Stats> RunOneJob(std::map<std::string, Task, std::less<>> tasks, std::string name,
                                                       std::string_view status) {
        const auto queue = NewQueue(*store_);
        WorkerPool pool(*store_, *queue, std::move(tasks), Options(std::move(name)));
        pool.Start();
        const auto jobs = CreateJobs(*store_, 1);
        queue->Publish(jobs[0]);
        EXPECT_TRUE(WaitFor([&] { return AllEnded(*store_, jobs, status); }, kLong)) << "never " << status;
        pool.Stop(kLong);
        return {Reload(*store_, jobs[0]), pool.GetStats()};
    }

    // The dead-letter stream's entries, as field maps.
    std::vector<std::map<std::string, std::string>> DeadLetters() const {
        detail::RedisClient client(*detail::ParseRedisUrl(testing::RedisUrl()), milliseconds(2000));
        const std::string stream = prefix_ + ":jobs:dead";
        client.CreateGroup(stream, "test-reader");
        std::vector<std::map<std::string, std::string>> letters;
        for (const auto& entry : client.ReadGroup(stream, "test-reader", "reader", 1000, milliseconds(0))) {
            letters.emplace_back(entry.fields.begin(), entry.fields.end());
        }
        return letters;
    }

    std::string backend_;
    std::string queue_kind_;
    const std::string prefix_ = "granska-test-" + NewUuidV7();
    std::unique_ptr<testing::TestDatabase> database_;
    std::unique_ptr<store::Store> store_;
};

TEST_P(WorkerPoolTest, AJobRunsOnceAndCompletes) {
    RunCounter counter;
    const auto [done, stats] = RunOneJob(Tasks([&](const store::Job& job, const std::atomic<bool>&) {
                                             counter.Add(job.id);
                                             return TaskResult{Outcome::kCompleted, ""};
                                         }),
                                         "one", "completed");
    EXPECT_EQ(done.attempts, 1);
    EXPECT_EQ(done.worker.rfind("one/", 0), 0U) << done.worker;
    EXPECT_EQ(counter.Runs(), (std::map<std::string, int>{{done.id, 1}}));
    EXPECT_EQ(stats.completed, 1);
    EXPECT_EQ(stats.failed + stats.retried + stats.cancelled + stats.handed_back, 0);
    EXPECT_EQ(stats.busy, 0);
    EXPECT_EQ(stats.concurrency, 2);
}

TEST_P(WorkerPoolTest, AThrowingTaskFailsAfterThreeAttemptsWithItsError) {
    std::atomic<int> runs{0};
    const auto [failed, stats] = RunOneJob(Tasks([&](const store::Job&, const std::atomic<bool>&) -> TaskResult {
                                               ++runs;
                                               throw std::runtime_error("the database went away");
                                           }),
                                           "flaky", "failed");
    EXPECT_EQ(failed.attempts, 3);
    EXPECT_EQ(failed.error, "the database went away");
    EXPECT_EQ(runs, 3);
    EXPECT_EQ(stats.retried, 2);
    EXPECT_EQ(stats.failed, 1);
    if (queue_kind_ == "redis") {
        const auto letters = DeadLetters();
        ASSERT_EQ(letters.size(), 1U);
        EXPECT_EQ(letters[0].at("job_id"), failed.id);
        EXPECT_EQ(letters[0].at("kind"), store::kProcessUploadedFile);
        EXPECT_EQ(letters[0].at("target_id"), failed.target_id);
        EXPECT_EQ(letters[0].at("attempts"), "3");
        EXPECT_EQ(letters[0].at("error"), "the database went away");
    }
}

TEST_P(WorkerPoolTest, AFailedResultIsNotRetried) {
    std::atomic<int> runs{0};
    const auto [failed, stats] = RunOneJob(Tasks([&](const store::Job&, const std::atomic<bool>&) {
                                               ++runs;
                                               return TaskResult{Outcome::kFailed, "line 3: not a date"};
                                           }),
                                           "strict", "failed");
    EXPECT_EQ(failed.attempts, 1);
    EXPECT_EQ(failed.error, "line 3: not a date");
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(stats.retried, 0);
}

TEST_P(WorkerPoolTest, AJobOfAKindWithoutATaskFails) {
    const auto [failed, stats] = RunOneJob({}, "empty", "failed");
    EXPECT_EQ(failed.error, "No task for job kind 'process_uploaded_file'");
    EXPECT_EQ(stats.failed, 1);
}

TEST_P(WorkerPoolTest, CancellingARunningJobStopsItWithinASecond) {
    const auto queue = NewQueue(*store_);
    std::atomic<bool> started{false};
    std::atomic<std::chrono::steady_clock::time_point::rep> stopped_at{0};
    WorkerPool pool(*store_, *queue, Tasks([&](const store::Job&, const std::atomic<bool>& cancelled) {
        started = true;
        TaskResult result = RunUntilCancelled(cancelled);
        stopped_at = std::chrono::steady_clock::now().time_since_epoch().count();
        return result;
    }),
                    Options("cancel"));
    pool.Start();
    const auto jobs = CreateJobs(*store_, 1);
    Publish(*queue, jobs);
    ASSERT_TRUE(WaitFor([&] { return started.load(); }, kLong));
    const auto cancelled_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(store_->CancelJobFor(jobs[0].workspace_id, jobs[0].target_id).has_value());
    ASSERT_TRUE(WaitFor([&] { return AllEnded(*store_, jobs, "cancelled"); }, kLong));
    const auto took =
        std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(stopped_at.load())) - cancelled_at;
    EXPECT_LT(took, std::chrono::seconds(1));
    pool.Stop(kLong);
    EXPECT_EQ(pool.GetStats().cancelled, 1);
}

TEST_P(WorkerPoolTest, StopWithoutGraceHandsARunningJobBack) {
    const auto queue = NewQueue(*store_);
    std::atomic<bool> started{false};
    WorkerPool pool(*store_, *queue, Tasks([&](const store::Job&, const std::atomic<bool>& cancelled) {
        started = true;
        return RunUntilCancelled(cancelled);
    }),
                    Options("stopping"));
    pool.Start();
    const auto jobs = CreateJobs(*store_, 1);
    Publish(*queue, jobs);
    ASSERT_TRUE(WaitFor([&] { return started.load(); }, kLong));
    pool.Stop(milliseconds(0));
    pool.Stop(milliseconds(0));  // idempotent
    const store::Job back = Reload(*store_, jobs[0]);
    EXPECT_EQ(back.status, "queued");
    EXPECT_EQ(back.attempts, 0);
    // A thread waiting in Take when the pool stopped may claim the job again and hand it back again.
    EXPECT_GE(pool.GetStats().handed_back, 1);
    EXPECT_EQ(pool.GetStats().cancelled, 0);
}

TEST_P(WorkerPoolTest, StopLetsARunningJobFinishWithinTheGrace) {
    const auto queue = NewQueue(*store_);
    std::atomic<bool> started{false};
    std::atomic<bool> finish{false};
    WorkerPool pool(*store_, *queue, Tasks([&](const store::Job&, const std::atomic<bool>& cancelled) {
        started = true;
        WaitFor([&] { return finish.load() || cancelled.load(); }, kLong);
        return TaskResult{cancelled ? Outcome::kCancelled : Outcome::kCompleted, ""};
    }),
                    Options("graceful"));
    pool.Start();
    const auto jobs = CreateJobs(*store_, 1);
    Publish(*queue, jobs);
    ASSERT_TRUE(WaitFor([&] { return started.load(); }, kLong));
    std::atomic<bool> stop_returned{false};
    std::thread stopper([&] {
        pool.Stop(kLong);
        stop_returned = true;
    });
    // Stop cannot return while the attempt runs: it waits for it within the grace.
    EXPECT_FALSE(stop_returned.load());
    finish = true;
    stopper.join();
    EXPECT_EQ(Reload(*store_, jobs[0]).status, "completed");
    EXPECT_EQ(pool.GetStats().completed, 1);
    EXPECT_EQ(pool.GetStats().handed_back, 0);
}

TEST_P(WorkerPoolTest, AWorkerThatLostItsJobStopsItAndRecordsNothing) {
    const auto queue = NewQueue(*store_);
    std::atomic<bool> started{false};
    std::atomic<bool> stopped{false};
    WorkerPool pool(*store_, *queue, Tasks([&](const store::Job&, const std::atomic<bool>& cancelled) {
        started = true;
        TaskResult result = RunUntilCancelled(cancelled);
        stopped = true;
        return result;
    }),
                    testing::PoolOptions("loser", milliseconds(300)));
    pool.Start();
    const auto jobs = CreateJobs(*store_, 1);
    Publish(*queue, jobs);
    ASSERT_TRUE(WaitFor([&] { return started.load(); }, kLong));
    // Another worker takes the job over once its lease is gone (the holder may renew it in between: try again).
    ASSERT_TRUE(WaitFor(
        [&] {
            store_->ExpireLeases();
            return store_->ClaimJob(jobs[0].id, "thief/0", kLong).has_value();
        },
        kLong));
    ASSERT_TRUE(WaitFor([&] { return stopped.load(); }, kLong));
    pool.Stop(kLong);
    const store::Job taken = Reload(*store_, jobs[0]);
    EXPECT_EQ(taken.status, "running");
    EXPECT_EQ(taken.worker, "thief/0");
    const auto stats = pool.GetStats();
    EXPECT_EQ(stats.completed + stats.failed + stats.retried + stats.cancelled + stats.handed_back, 0);
}

TEST_P(WorkerPoolTest, AHealthLineCountsTheEndsAndNamesTheQueue) {
    const auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
    const auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("health-test", sink));
    const auto queue = NewQueue(*store_);
    WorkerOptions options = Options("healthy");
    options.health_interval = milliseconds(20);
    WorkerPool pool(*store_, *queue, Tasks([](const store::Job&, const std::atomic<bool>&) {
        return TaskResult{Outcome::kCompleted, ""};
    }),
                    options);
    pool.Start();
    const auto jobs = CreateJobs(*store_, 1);
    Publish(*queue, jobs);
    const std::string expected = fmt::format(
        "worker healthy: 0/2 busy, 1 completed, 0 failed, 0 retried, 0 cancelled; queue {} ok", queue_kind_);
    const bool logged = WaitFor(
        [&] {
            for (const std::string& line : sink->last_formatted()) {
                if (line.find(expected) != std::string::npos) return true;
            }
            return false;
        },
        kLong);
    pool.Stop(kLong);
    spdlog::set_default_logger(previous);
    EXPECT_TRUE(logged) << expected;
}

TEST_P(WorkerPoolTest, ThreePoolsRunEachOfThirtyJobsOnce) {
    RunCounter counter;
    const auto task = [&](const store::Job& job, const std::atomic<bool>&) {
        counter.Add(job.id);
        return TaskResult{Outcome::kCompleted, ""};
    };
    // Three "processes": a store, a queue and a pool each.
    std::vector<std::unique_ptr<store::Store>> stores;
    std::vector<std::unique_ptr<JobQueue>> queues;
    std::vector<std::unique_ptr<WorkerPool>> pools;
    for (int i = 0; i < 3; ++i) {
        stores.push_back(database_->Open());
        queues.push_back(NewQueue(*stores.back()));
        pools.push_back(
            std::make_unique<WorkerPool>(*stores.back(), *queues.back(), Tasks(task), Options(fmt::format("p{}", i))));
        pools.back()->Start();
    }
    const auto jobs = CreateJobs(*store_, 30);
    Publish(*queues[0], jobs);
    ASSERT_TRUE(WaitFor([&] { return AllEnded(*store_, jobs, "completed"); }, kLong));
    for (const auto& pool : pools) pool->Stop(kLong);
    const auto runs = counter.Runs();
    EXPECT_EQ(runs.size(), 30U);
    for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
    int64_t completed = 0;
    for (const auto& pool : pools) completed += pool->GetStats().completed;
    EXPECT_EQ(completed, 30);
}

INSTANTIATE_TEST_SUITE_P(StoresAndQueues, WorkerPoolTest,
                         ::testing::Values("sqlite/local", "postgresql/local", "sqlite/redis", "postgresql/redis"),
                         [](const ::testing::TestParamInfo<std::string>& test) {
                             std::string name = test.param;
                             name.replace(name.find('/'), 1, "_");
                             return name;
                         });

}  // namespace
}  // namespace granska::jobs
