#pragma once
// Runs jobs: `concurrency` threads take jobs from a queue and run the task registered for each job's kind, one attempt
// at a time, and record how the attempt ended in the store. One heartbeat thread renews the leases of running jobs
// (every lease/3) and looks for cancellation (every `heartbeat`), and logs a health line every `health_interval`.
//
// How an attempt ends: the task's kCompleted → "completed"; kFailed (bad input) → "failed" for good; kCancelled →
// "cancelled" when cancellation was requested, "queued" (handed back) when the pool is stopping; an exception
// (infrastructure trouble) → "retrying" with backoff while attempts < max_attempts, else "failed". A worker whose
// lease passed to another worker records nothing: the job is the other's now.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_queue.h"
#include "jobs/retry.h"
#include "store/store.h"

namespace granska::jobs {

struct TaskResult {
    enum class Outcome { kCompleted, kFailed, kCancelled };
    Outcome outcome = Outcome::kCompleted;
    std::string error;
};

// One attempt of a job. Bad input: kFailed (the job fails for good, no retry). Infrastructure trouble: throw (the
// attempt failed; retried with backoff while attempts < max_attempts). kCancelled when `cancelled` became true and the
// task stopped.
using Task = std::function<TaskResult(const store::Job& job, const std::atomic<bool>& cancelled)>;

struct WorkerOptions {
    std::string name;  // "<host>:<pid>"; thread i is "<name>/<i>"
    int concurrency = 1;
    std::chrono::milliseconds lease{30'000};
    std::chrono::milliseconds heartbeat{250};   // how often running jobs are checked for cancellation
    std::chrono::milliseconds idle_wait{1000};  // one Take's wait; also bounds how long Stop waits for an idle thread
    RetryPolicy retry;
    uint64_t seed = 0;  // jitter draws: thread i draws from an engine seeded with seed + i
    std::chrono::milliseconds health_interval{30'000};
};

class WorkerPool {
public:
    // The store and the queue outlive the pool. Stop does not close the queue (another pool may share it).
    WorkerPool(store::Store& store, JobQueue& queue, std::map<std::string, Task, std::less<>> tasks,
               WorkerOptions options);
    ~WorkerPool();  // Stop(0) when still running
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    void Start();
    // Stops taking jobs; waits up to grace for running attempts; then sets their cancel flags and hands them back
    // (FinishJob status "queued"); returns when every thread ended. Idempotent.
    void Stop(std::chrono::milliseconds grace);

    struct Stats {
        int busy = 0;
        int concurrency = 0;
        int64_t completed = 0, failed = 0, retried = 0, cancelled = 0, handed_back = 0;
    };
    Stats GetStats() const;

private:
    struct Slot;

    void Work(int index);
    void RunAttempt(Slot& slot, const std::string& worker, const store::Job& job, std::mt19937_64& random);
    // Records the end of an attempt and tells the queue; false when the worker no longer held the job.
    void Record(const std::string& worker, const store::Job& job, const store::JobEnd& end);
    void Beat();
    void BeatSlot(Slot& slot);
    void LogHealth() const;

    store::Store& store_;
    JobQueue& queue_;
    const std::map<std::string, Task, std::less<>> tasks_;
    const WorkerOptions options_;

    std::vector<std::unique_ptr<Slot>> slots_;
    std::vector<std::thread> workers_;
    std::thread heartbeat_;

    std::mutex stop_mutex_;  // serializes Start and Stop
    bool started_ = false;
    bool stopped_ = false;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> cancel_all_{false};  // the grace ended: running attempts are asked to stop
    bool heartbeat_done_ = false;

    std::atomic<int> busy_{0};
    std::atomic<int64_t> completed_{0}, failed_{0}, retried_{0}, cancelled_{0}, handed_back_{0};
};

}  // namespace granska::jobs
