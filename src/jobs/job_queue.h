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
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.h"
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
    // False while the queue's server cannot be reached (for health lines); the local queue is always available.
    virtual bool Available() const = 0;
};

struct QueueOptions {
    // Redis keys: <prefix>:jobs (the stream), <prefix>:jobs:dead (dead letters), <prefix>:jobs:sweep (the lock).
    std::string prefix = "granska";
    // How often one worker of all (the one holding the sweep lock) reclaims abandoned entries and announces
    // claimable jobs again.
    std::chrono::milliseconds sweep_interval{5000};
    size_t announce_limit = 1000;         // claimable jobs announced per sweep
    int64_t max_length = 100'000;         // entries kept per stream (approximately: XADD MAXLEN ~)
    std::chrono::milliseconds poll{500};  // the local queue looks at the store at least this often while waiting
    std::chrono::milliseconds connect_timeout{2000};  // also bounds each Redis command (beyond a blocking read)
};

// The queue a URL names: "local" or "redis://HOST[:PORT][/DB]". Anything else is kBadRequest naming "queue"; so is a
// Redis queue over a SQLite store (the workers of a Redis queue run on several machines). A Redis that cannot be
// reached at start is kInternal (core/error.h has no "unavailable" kind; it is not the user's input that is wrong).
Expected<std::unique_ptr<JobQueue>> OpenQueue(std::string_view url, store::Store& store, const QueueOptions& options);

}  // namespace granska::jobs
