#include "api/detail/run_queue.h"

#include <algorithm>
#include <utility>

namespace granska::api::detail {

RunQueue::RunQueue(int workers, JobFn execute, JobFn abandon)
    : execute_(std::move(execute)), abandon_(std::move(abandon)) {
    const int count = std::max(1, workers);
    threads_.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) threads_.emplace_back([this] { Work(); });
}

RunQueue::~RunQueue() { Shutdown(); }

bool RunQueue::Push(RunJob job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

void RunQueue::Shutdown() {
    std::lock_guard join_lock(join_mutex_);
    std::deque<RunJob> abandoned;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        abandoned.swap(jobs_);
    }
    wake_.notify_all();
    for (std::thread& thread : threads_) {
        if (thread.joinable()) thread.join();
    }
    for (const RunJob& job : abandoned) abandon_(job);
}

void RunQueue::Work() {
    for (;;) {
        RunJob job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        execute_(job);
    }
}

}  // namespace granska::api::detail
