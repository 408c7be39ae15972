#include "jobs/redis_queue.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace granska::jobs {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{2000};
// A blocked read cannot be woken; this bounds how long Close waits for one.
constexpr milliseconds kMaxBlock{250};
constexpr size_t kAutoClaimPage = 100;
constexpr int kAutoClaimPages = 10;

std::string_view Field(const detail::StreamEntry& entry, std::string_view name) {
    for (const auto& [field, value] : entry.fields) {
        if (field == name) return value;
    }
    return {};
}

}  // namespace

Expected<std::unique_ptr<RedisQueue>> RedisQueue::Open(store::Store& store, std::string_view url,
                                                       const QueueOptions& options) {
    auto address = detail::ParseRedisUrl(url);
    if (!address) return Unexpected(std::move(address).error());
    try {
        detail::RedisClient check(*address, options.connect_timeout);
        check.Ping();
    } catch (const std::runtime_error& e) {
        Error error = Internal(fmt::format("The job queue cannot start: {}.", e.what()));
        error.code = "queue_unavailable";
        error.column = "queue";
        return Unexpected(std::move(error));
    }
    return std::make_unique<RedisQueue>(store, *address, options);
}

RedisQueue::RedisQueue(store::Store& store, detail::RedisAddress address, QueueOptions options)
    : store_(store),
      address_(std::move(address)),
      options_(std::move(options)),
      stream_(options_.prefix + ":jobs"),
      dead_stream_(options_.prefix + ":jobs:dead"),
      lock_key_(options_.prefix + ":jobs:sweep") {}

RedisQueue::~RedisQueue() = default;

bool RedisQueue::WithRedis(const std::function<void(detail::RedisClient&)>& action) {
    Client client = Borrow();
    {
        const std::lock_guard lock(mutex_);
        // In an outage only the first caller after retry_at_ tries to connect; the others give up at once.
        if (!client && down_ && Clock::now() < retry_at_) return false;
        if (!client && down_) retry_at_ = Clock::now() + backoff_;
    }
    try {
        if (!client) {
            client = std::make_unique<detail::RedisClient>(address_, options_.connect_timeout);
            // A new connection may meet a restarted Redis that lost the group.
            client->CreateGroup(stream_, kGroup);
        }
        action(*client);
    } catch (const std::runtime_error& e) {
        Lost(e);
        return false;
    }
    GiveBack(std::move(client));
    Reachable();
    return true;
}

RedisQueue::Client RedisQueue::Borrow() {
    const std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    Client client = std::move(idle_.back());
    idle_.pop_back();
    return client;
}

void RedisQueue::GiveBack(Client client) {
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(client));
}

void RedisQueue::Lost(const std::runtime_error& error) {
    const std::lock_guard lock(mutex_);
    // The pooled connections went with the server.
    idle_.clear();
    if (!down_) {
        spdlog::warn("job queue: Redis at {}:{} is unavailable ({}); jobs wait in the database until it is back",
                     address_.host, address_.port, error.what());
        backoff_ = kFirstBackoff;
    } else {
        backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    }
    down_ = true;
    retry_at_ = Clock::now() + backoff_;
}

void RedisQueue::Reachable() {
    const std::lock_guard lock(mutex_);
    if (!down_) return;
    spdlog::info("job queue: Redis at {}:{} is back", address_.host, address_.port);
    down_ = false;
    backoff_ = milliseconds(0);
}

bool RedisQueue::Available() const {
    const std::lock_guard lock(mutex_);
    return !down_;
}

void RedisQueue::Publish(const store::Job& job) {
    WithRedis([&](detail::RedisClient& client) {
        client.Add(stream_, {{"job_id", job.id}, {"kind", job.kind}}, options_.max_length);
    });
}

std::optional<store::Job> RedisQueue::Take(std::string_view worker, milliseconds lease, milliseconds wait) {
    const auto deadline = Clock::now() + wait;
    for (;;) {
        {
            const std::lock_guard lock(mutex_);
            if (closed_) return std::nullopt;
        }
        if (auto job = MaybeSweep(worker, lease)) return job;
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        const milliseconds block = std::clamp(left, milliseconds(0), kMaxBlock);
        std::vector<detail::StreamEntry> entries;
        if (!WithRedis(
                [&](detail::RedisClient& client) { entries = client.ReadGroup(stream_, kGroup, worker, 1, block); })) {
            // An outage: wait for the next connection attempt, the deadline or Close.
            std::unique_lock lock(mutex_);
            closed_changed_.wait_until(lock, std::min(deadline, retry_at_), [&] { return closed_; });
        }
        for (const detail::StreamEntry& entry : entries) {
            if (auto job = Claim(entry, worker, lease)) return job;
        }
        if (Clock::now() >= deadline) return std::nullopt;
    }
}

std::optional<store::Job> RedisQueue::Claim(const detail::StreamEntry& entry, std::string_view worker,
                                            milliseconds lease) {
    const std::string_view job_id = Field(entry, "job_id");
    std::optional<store::Job> job;
    if (!job_id.empty()) job = store_.ClaimJob(job_id, worker, lease);
    if (!job) {
        // Running elsewhere, finished, not due or unknown: the store announces it again when it may run.
        Acknowledge(entry.id);
        return std::nullopt;
    }
    std::string previous;
    {
        const std::lock_guard lock(mutex_);
        std::string& remembered = entries_[job->id];
        previous = std::exchange(remembered, entry.id);
    }
    // An earlier attempt here lost the job without ending it: its entry is of no use any more.
    if (!previous.empty() && previous != entry.id) Acknowledge(previous);
    return job;
}

void RedisQueue::Acknowledge(const std::string& entry_id) {
    WithRedis([&](detail::RedisClient& client) { client.Ack(stream_, kGroup, std::span(&entry_id, 1)); });
}

std::optional<store::Job> RedisQueue::MaybeSweep(std::string_view worker, milliseconds lease) {
    {
        const std::lock_guard lock(mutex_);
        const auto now = Clock::now();
        if (now < next_sweep_) return std::nullopt;
        next_sweep_ = now + options_.sweep_interval;
    }
    // The lock expires by itself: at most one sweep per interval among all workers.
    bool mine = false;
    if (!WithRedis([&](detail::RedisClient& client) {
            mine = client.SetIfAbsent(lock_key_, worker, options_.sweep_interval);
        }) ||
        !mine) {
        return std::nullopt;
    }

    // Announced first: after this the only store call is the one claim, so no claimed job is lost to an exception.
    for (const store::Job& job : store_.ClaimableJobs(options_.announce_limit)) Publish(job);

    std::optional<store::Job> taken;
    std::string start = "0-0";
    for (int page = 0; page < kAutoClaimPages; ++page) {
        detail::AutoClaimed claimed;
        if (!WithRedis([&](detail::RedisClient& client) {
                claimed = client.AutoClaim(stream_, kGroup, worker, lease, start, kAutoClaimPage);
            })) {
            break;
        }
        for (const detail::StreamEntry& entry : claimed.entries) {
            if (!taken) {
                // The store decides whether the holder's lease really expired.
                taken = Claim(entry, worker, lease);
                continue;
            }
            // One job is enough for this worker: the others are announced again for the rest.
            WithRedis([&](detail::RedisClient& client) {
                const std::string job_id(Field(entry, "job_id"));
                const std::string kind(Field(entry, "kind"));
                client.Add(stream_, {{"job_id", job_id}, {"kind", kind}}, options_.max_length);
                client.Ack(stream_, kGroup, std::span(&entry.id, 1));
            });
        }
        if (claimed.next.empty() || claimed.next == "0-0") break;
        start = claimed.next;
    }
    return taken;
}

void RedisQueue::Finished(const store::Job& job) {
    std::string entry_id;
    {
        const std::lock_guard lock(mutex_);
        if (const auto found = entries_.find(job.id); found != entries_.end()) {
            entry_id = std::move(found->second);
            entries_.erase(found);
        }
    }
    // An entry left pending by an outage is reclaimed by a sweep, which finds its job finished and acknowledges it.
    if (!entry_id.empty()) Acknowledge(entry_id);
    if (job.status != "failed") return;
    const bool dead_lettered = WithRedis([&](detail::RedisClient& client) {
        client.Add(dead_stream_,
                   {{"job_id", job.id},
                    {"kind", job.kind},
                    {"target_id", job.target_id},
                    {"attempts", std::to_string(job.attempts)},
                    {"error", job.error}},
                   options_.max_length);
    });
    if (!dead_lettered) spdlog::warn("job queue: job {} failed for good and could not be dead-lettered", job.id);
}

void RedisQueue::Close() {
    {
        const std::lock_guard lock(mutex_);
        closed_ = true;
    }
    closed_changed_.notify_all();
}

}  // namespace granska::jobs
