#include "jobs/job_queue.h"

#include <fmt/format.h>

#include <utility>

#include "jobs/local_queue.h"
#include "jobs/redis_queue.h"

namespace granska::jobs {

Expected<std::unique_ptr<JobQueue>> OpenQueue(std::string_view url, store::Store& store, const QueueOptions& options) {
    if (url == "local") return std::unique_ptr<JobQueue>(std::make_unique<LocalQueue>(store, options.poll));
    if (url.starts_with("redis://")) {
        if (store.Backend() == "sqlite") {
            Error error = BadRequest("queue_needs_shared_database",
                                     "The Redis queue needs a database every worker can reach: use --db "
                                     "postgresql://… (SQLite is one machine's file).");
            error.column = "queue";
            return Unexpected(std::move(error));
        }
        auto queue = RedisQueue::Open(store, url, options);
        if (!queue) return Unexpected(std::move(queue).error());
        return std::unique_ptr<JobQueue>(std::move(*queue));
    }
    Error error =
        BadRequest("bad_queue_url", fmt::format("'{}' is not a queue: use --queue local (the embedded default) "
                                                "or --queue redis://HOST[:PORT][/DB].",
                                                url));
    error.column = "queue";
    return Unexpected(std::move(error));
}

}  // namespace granska::jobs
