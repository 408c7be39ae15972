#include "jobs/worker_pool.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

namespace granska::jobs {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// After the store failed in a worker's loop: long enough not to spin on a broken database.
constexpr milliseconds kPauseAfterError{500};

}  // namespace

// What the heartbeat knows about the job a worker thread runs. The heartbeat applies what it learned only when the
// slot still holds the job it asked about (generation).
struct WorkerPool::Slot {
    std::mutex mutex;
    uint64_t generation = 0;
    std::optional<store::Job> job;
    std::string worker;
    Clock::time_point renewed;
    bool cancel_requested = false;
    bool lost = false;
    std::atomic<bool> cancelled{false};  // the task's flag
};

WorkerPool::WorkerPool(store::Store& store, JobQueue& queue, std::map<std::string, Task, std::less<>> tasks,
                       WorkerOptions options)
    : store_(store), queue_(queue), tasks_(std::move(tasks)), options_(std::move(options)) {
    if (options_.concurrency < 1) throw std::invalid_argument("WorkerPool: concurrency must be at least 1");
    for (int i = 0; i < options_.concurrency; ++i) slots_.push_back(std::make_unique<Slot>());
}

WorkerPool::~WorkerPool() { Stop(milliseconds(0)); }

void WorkerPool::Start() {
    const std::lock_guard lock(stop_mutex_);
    if (started_) return;
    started_ = true;
    for (int i = 0; i < options_.concurrency; ++i) workers_.emplace_back([this, i] { Work(i); });
    heartbeat_ = std::thread([this] { Beat(); });
}

void WorkerPool::Stop(milliseconds grace) {
    const std::lock_guard stop_lock(stop_mutex_);
    if (!started_ || stopped_) {
        stopped_ = true;
        return;
    }
    stopped_ = true;
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, grace, [&] { return busy_ == 0; });
    }
    // Set before the flags: an attempt that starts after this sees it (RunAttempt reads it under the slot's lock).
    cancel_all_ = true;
    for (const auto& slot : slots_) {
        const std::lock_guard lock(slot->mutex);
        if (slot->job) slot->cancelled = true;
    }
    for (std::thread& worker : workers_) worker.join();
    {
        const std::lock_guard lock(mutex_);
        heartbeat_done_ = true;
    }
    changed_.notify_all();
    heartbeat_.join();
}

WorkerPool::Stats WorkerPool::GetStats() const {
    return Stats{.busy = busy_,
                 .concurrency = options_.concurrency,
                 .completed = completed_,
                 .failed = failed_,
                 .retried = retried_,
                 .cancelled = cancelled_,
                 .handed_back = handed_back_};
}

void WorkerPool::Work(int index) {
    const std::string worker = fmt::format("{}/{}", options_.name, index);
    std::mt19937_64 random(options_.seed + static_cast<uint64_t>(index));
    Slot& slot = *slots_[static_cast<size_t>(index)];
    while (!stopping_) {
        try {
            const std::optional<store::Job> job = queue_.Take(worker, options_.lease, options_.idle_wait);
            if (!job) continue;
            if (stopping_) {
                Record(worker, *job, store::JobEnd{.status = "queued"});
                continue;
            }
            RunAttempt(slot, worker, *job, random);
        } catch (const std::exception& e) {
            // The store (or the queue) failed: the thread lives on; an unrecorded job is claimed again after its lease.
            spdlog::error("worker {}: {}; going on in {} ms", worker, e.what(), kPauseAfterError.count());
            std::unique_lock lock(mutex_);
            changed_.wait_for(lock, kPauseAfterError, [&] { return stopping_.load(); });
        }
    }
}

void WorkerPool::RunAttempt(Slot& slot, const std::string& worker, const store::Job& job, std::mt19937_64& random) {
    ++busy_;
    // Counts the attempt as running until its end is recorded, also when recording throws.
    struct Busy {
        WorkerPool& pool;
        ~Busy() {
            {
                const std::lock_guard lock(pool.mutex_);
                --pool.busy_;
            }
            pool.changed_.notify_all();
        }
    } busy{*this};
    {
        const std::lock_guard lock(slot.mutex);
        ++slot.generation;
        slot.job = job;
        slot.worker = worker;
        slot.renewed = Clock::now();
        slot.cancel_requested = false;
        slot.lost = false;
        slot.cancelled = cancel_all_.load();
    }

    TaskResult result;
    std::optional<std::string> thrown;
    if (const auto task = tasks_.find(job.kind); task == tasks_.end()) {
        result = {TaskResult::Outcome::kFailed, fmt::format("No task for job kind '{}'", job.kind)};
    } else {
        try {
            result = task->second(job, slot.cancelled);
        } catch (const std::exception& e) {
            thrown = e.what();
        } catch (...) {
            thrown = "The task threw something that is not a std::exception.";
        }
    }

    bool cancel_requested = false;
    bool lost = false;
    {
        const std::lock_guard lock(slot.mutex);
        cancel_requested = slot.cancel_requested;
        lost = slot.lost;
        slot.job.reset();
    }
    if (lost) {
        spdlog::warn(
            "worker {}: job {} passed to another worker (its lease was not renewed in time); its end is "
            "not recorded",
            worker, job.id);
        return;
    }

    store::JobEnd end;
    if (thrown) {
        if (job.attempts < job.max_attempts) {
            end = {.status = "retrying",
                   .error = *thrown,
                   .retry_after = BackoffDelay(options_.retry, job.attempts,
                                               std::uniform_real_distribution<double>(0.0, 1.0)(random))};
        } else {
            end = {.status = "failed", .error = *thrown};
        }
    } else if (result.outcome == TaskResult::Outcome::kCompleted) {
        end = {.status = "completed"};
    } else if (result.outcome == TaskResult::Outcome::kFailed) {
        end = {.status = "failed", .error = result.error};
    } else {
        end = {.status = !cancel_requested && stopping_ ? "queued" : "cancelled"};
    }
    Record(worker, job, end);
}

void WorkerPool::Record(const std::string& worker, const store::Job& job, const store::JobEnd& end) {
    const std::optional<store::Job> finished = store_.FinishJob(job.id, worker, end);
    if (!finished) {
        spdlog::warn("worker {}: job {} was no longer held when its attempt ended ({})", worker, job.id, end.status);
        return;
    }
    if (end.status == "completed") {
        ++completed_;
    } else if (end.status == "failed") {
        ++failed_;
    } else if (end.status == "retrying") {
        ++retried_;
    } else if (end.status == "cancelled") {
        ++cancelled_;
    } else {
        ++handed_back_;
    }
    queue_.Finished(*finished);
}

void WorkerPool::Beat() {
    auto next_health = Clock::now() + options_.health_interval;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            changed_.wait_for(lock, options_.heartbeat, [&] { return heartbeat_done_; });
            if (heartbeat_done_) return;
        }
        for (const auto& slot : slots_) BeatSlot(*slot);
        if (Clock::now() >= next_health) {
            LogHealth();
            next_health = Clock::now() + options_.health_interval;
        }
    }
}

void WorkerPool::BeatSlot(Slot& slot) {
    store::Job job;
    std::string worker;
    uint64_t generation = 0;
    bool renew = false;
    {
        const std::lock_guard lock(slot.mutex);
        if (!slot.job) return;
        job = *slot.job;
        worker = slot.worker;
        generation = slot.generation;
        renew = Clock::now() - slot.renewed >= options_.lease / 3;
    }
    const auto asked_at = Clock::now();
    bool renewed = false;
    bool lost = false;
    bool cancel = false;
    if (renew) {
        try {
            const std::optional<store::Job> held = store_.RenewLease(job.id, worker, options_.lease);
            renewed = held.has_value();
            lost = !held;
            cancel = held && held->cancel_requested;
        } catch (const std::exception& e) {
            // E.g. SQLite busy behind a long write: the lease has two more thirds to go.
            spdlog::warn("worker {}: the lease of job {} was not renewed ({}); trying again", worker, job.id, e.what());
        }
    }
    if (!lost && !cancel) {
        try {
            const Expected<store::Job> current = store_.GetJob(job.workspace_id, job.id);
            cancel = current && current->cancel_requested;
        } catch (const std::exception& e) {
            spdlog::warn("worker {}: job {} was not checked for cancellation ({})", worker, job.id, e.what());
        }
    }
    const std::lock_guard lock(slot.mutex);
    if (!slot.job || slot.generation != generation) return;
    if (renewed) slot.renewed = asked_at;
    if (lost) slot.lost = true;
    if (cancel) slot.cancel_requested = true;
    if (lost || cancel) slot.cancelled = true;
}

void WorkerPool::LogHealth() const {
    const Stats stats = GetStats();
    spdlog::info("worker {}: {}/{} busy, {} completed, {} failed, {} retried, {} cancelled; queue {} {}", options_.name,
                 stats.busy, stats.concurrency, stats.completed, stats.failed, stats.retried, stats.cancelled,
                 queue_.Name(), queue_.Available() ? "ok" : "unavailable");
}

}  // namespace granska::jobs
