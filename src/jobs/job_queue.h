#pragma once
// Where workers find their next job. The store's jobs table is the truth about every job (state, attempts, lease,
// cancellation); a queue only tells a worker which job to claim next, and claiming is always the store's atomic
// ClaimJob / ClaimNextJob. So a message delivered twice, or a job announced twice, still runs once.
//
// LocalQueue (--queue local, the embedded default): polls the store, woken at once by Publish in the same process.
// RedisQueue (--queue redis://HOST:PORT/DB): a Redis stream with a consumer group; a delivered entry stays pending
// until its job ends, so the entries of a dead worker are taken over (XAUTOCLAIM) once they have been idle for a
// lease; jobs that are claimable but unannounced (a message lost with a Redis restart, a retry that became due) are
// announced again from the store; jobs that failed for good go to a dead-letter stream with their last error.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace granska::jobs {

class JobQueue {
public:
    virtual ~JobQueue() = default;

    virtual std::string_view Name() const = 0;  // "local" | "redis"
    // Announces a job the store holds (created, or due again). Announcing a job twice is harmless.
    virtual void Publish(const store::Job& job) = 0;
    // Waits up to `wait` for a job this worker may run and claims it in the store with the lease; nullopt when none
    // came in time or the queue is closed. Thread-safe: every worker thread of a process calls it.
    virtual std::optional<store::Job> Take(std::string_view worker, std::chrono::milliseconds lease,
                                           std::chrono::milliseconds wait) = 0;
    // The worker's attempt at the job ended and the store has recorded how (Store::FinishJob returned the job): the
    // queue forgets its message; a job "failed" for good is dead-lettered with its last error.
    virtual void Finished(const store::Job& job) = 0;
    // Wakes every Take; later Takes return nullopt at once. Idempotent.
    virtual void Close() = 0;
};

}  // namespace granska::jobs
