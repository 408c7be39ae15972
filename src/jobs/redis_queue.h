#pragma once
// The distributed queue (--queue redis://HOST[:PORT][/DB]): a Redis stream "<prefix>:jobs" read by the consumer group
// "granska-workers". Each worker thread is a consumer named after the worker; an entry stays pending until its job's
// attempt ends (Finished). Every sweep_interval one worker of all, the holder of the lock key "<prefix>:jobs:sweep",
// announces the store's claimable jobs again and takes over entries left unacknowledged for a lease (XAUTOCLAIM):
// so lost messages, due retries and the jobs of dead workers all run. Jobs failed for good are appended to
// "<prefix>:jobs:dead" with their last error.
//
// Redis going away is not an error of the queue's callers: every Redis failure is logged once per outage, Take
// returns nullopt (after its wait) and Publish returns; connections are made again with backoff (100 ms doubling to
// 2 s), and the consumer group again with them (a restarted Redis may have lost it). The store's exceptions pass.
//
// Connections: a pool. Each Redis call borrows an idle connection or opens one, and gives it back when the call
// succeeds, so a blocked XREADGROUP holds only its own and the pool grows to the number of concurrent callers.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "jobs/detail/redis_client.h"
#include "jobs/job_queue.h"

namespace granska::jobs {

class RedisQueue final : public JobQueue {
public:
    static constexpr std::string_view kGroup = "granska-workers";

    // Connects once (the start-up check) and creates the consumer group: kBadRequest naming "queue" for a bad URL,
    // kInternal when Redis cannot be reached.
    static Expected<std::unique_ptr<RedisQueue>> Open(store::Store& store, std::string_view url,
                                                      const QueueOptions& options);
    // Connects on first use; Open is the checked way in.
    RedisQueue(store::Store& store, detail::RedisAddress address, QueueOptions options);
    ~RedisQueue() override;

    std::string_view Name() const override { return "redis"; }
    void Publish(const store::Job& job) override;
    std::optional<store::Job> Take(std::string_view worker, std::chrono::milliseconds lease,
                                   std::chrono::milliseconds wait) override;
    void Finished(const store::Job& job) override;
    void Close() override;
    bool Available() const override;

    const std::string& Stream() const { return stream_; }
    const std::string& DeadLetterStream() const { return dead_stream_; }

private:
    using Client = std::unique_ptr<detail::RedisClient>;
    using Clock = std::chrono::steady_clock;

    // Runs the Redis calls of action on a pooled connection; false (logged) when Redis failed or is unreachable.
    // action must make Redis calls only: any std::runtime_error it throws counts as Redis going away.
    bool WithRedis(const std::function<void(detail::RedisClient&)>& action);
    Client Borrow();  // an idle connection, or nullptr
    void GiveBack(Client client);
    void Lost(const std::runtime_error& error);
    void Reachable();

    // Claims the entry's job, remembering the entry until Finished; acknowledges an entry whose job is not claimable.
    std::optional<store::Job> Claim(const detail::StreamEntry& entry, std::string_view worker,
                                    std::chrono::milliseconds lease);
    // Every sweep_interval, in the worker holding the lock: announces claimable jobs and reclaims abandoned entries;
    // returns a job claimed on the way.
    std::optional<store::Job> MaybeSweep(std::string_view worker, std::chrono::milliseconds lease);
    void Acknowledge(const std::string& entry_id);

    store::Store& store_;
    const detail::RedisAddress address_;
    const QueueOptions options_;
    const std::string stream_;
    const std::string dead_stream_;
    const std::string lock_key_;

    mutable std::mutex mutex_;
    std::condition_variable closed_changed_;
    std::vector<Client> idle_;
    bool closed_ = false;
    bool down_ = false;  // in an outage: logged once, connections retried at retry_at_
    std::chrono::milliseconds backoff_{0};
    Clock::time_point retry_at_;
    Clock::time_point next_sweep_;
    std::map<std::string, std::string, std::less<>> entries_;  // job id → the stream entry it was claimed from
};

}  // namespace granska::jobs
