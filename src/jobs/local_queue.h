#pragma once
// The queue of one process (--queue local): the store's jobs table is the queue. Take claims the oldest claimable job
// (Store::ClaimNextJob); when there is none it waits, woken at once by a Publish of this process and looking at the
// store again every `poll` for jobs enqueued by other processes and retries that became due.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "jobs/job_queue.h"

namespace granska::jobs {

class LocalQueue final : public JobQueue {
public:
    LocalQueue(store::Store& store, std::chrono::milliseconds poll);

    std::string_view Name() const override { return "local"; }
    void Publish(const store::Job& job) override;
    std::optional<store::Job> Take(std::string_view worker, std::chrono::milliseconds lease,
                                   std::chrono::milliseconds wait) override;
    void Finished(const store::Job& job) override;
    void Close() override;
    bool Available() const override { return true; }

private:
    store::Store& store_;
    const std::chrono::milliseconds poll_;
    std::mutex mutex_;
    std::condition_variable changed_;
    uint64_t published_ = 0;  // counts Publish calls, so a Take never misses one made while it claimed
    bool closed_ = false;
};

}  // namespace granska::jobs
