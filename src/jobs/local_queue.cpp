#include "jobs/local_queue.h"

#include <algorithm>

namespace granska::jobs {

LocalQueue::LocalQueue(store::Store& store, std::chrono::milliseconds poll) : store_(store), poll_(poll) {}

void LocalQueue::Publish(const store::Job& /*job*/) {
    {
        const std::lock_guard lock(mutex_);
        ++published_;
    }
    changed_.notify_all();
}

std::optional<store::Job> LocalQueue::Take(std::string_view worker, std::chrono::milliseconds lease,
                                           std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        uint64_t seen = 0;
        {
            const std::lock_guard lock(mutex_);
            if (closed_) return std::nullopt;
            seen = published_;
        }
        if (auto job = store_.ClaimNextJob(worker, lease)) return job;
        std::unique_lock lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return std::nullopt;
        changed_.wait_until(lock, std::min(deadline, now + poll_), [&] { return closed_ || published_ != seen; });
    }
}

void LocalQueue::Finished(const store::Job& /*job*/) {}

void LocalQueue::Close() {
    {
        const std::lock_guard lock(mutex_);
        closed_ = true;
    }
    changed_.notify_all();
}

}  // namespace granska::jobs
