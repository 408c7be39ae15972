#pragma once
// The local analysis queue: a fixed set of worker threads taking run ids from a mutex + condition_variable
// queue. Shutdown lets the jobs already running finish; jobs still waiting are handed to `abandon` instead,
// so a stopped server does not leave runs "queued" forever.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace granska::api::detail {

struct RunJob {
    std::string workspace_id;
    std::string run_id;
};

class RunQueue {
public:
    // execute runs on a worker thread and must not throw; abandon runs on the thread calling Shutdown.
    using JobFn = std::function<void(const RunJob&)>;

    RunQueue(int workers, JobFn execute, JobFn abandon);
    ~RunQueue();
    RunQueue(const RunQueue&) = delete;
    RunQueue& operator=(const RunQueue&) = delete;

    // False once Shutdown has begun: the job was not queued.
    bool Push(RunJob job);
    // Thread-safe and idempotent; returns when every worker has ended.
    void Shutdown();

private:
    void Work();

    JobFn execute_;
    JobFn abandon_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<RunJob> jobs_;
    bool stopping_ = false;
    std::mutex join_mutex_;  // serializes Shutdown callers: a thread may be joined once
    std::vector<std::thread> threads_;
};

}  // namespace granska::api::detail
