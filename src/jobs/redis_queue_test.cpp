// The Redis queue's own behaviour against a real Redis (GRANSKA_TEST_REDIS_URL, or a redis-server of the test's own
// for the restart) and both stores: abandoned entries, a Redis restart, and which URLs OpenQueue accepts.

#include "jobs/redis_queue.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "core/uuid.h"
#include "jobs/detail/redis_client.h"
#include "jobs/detail/test_support.h"
#include "jobs/worker_pool.h"

namespace granska::jobs {
namespace {

using std::chrono::milliseconds;
using testing::AllEnded;
using testing::CreateJobs;
using testing::PoolOptions;
using testing::Reload;
using testing::Tasks;
using testing::WaitFor;

constexpr milliseconds kLong{60'000};

// A loopback port nobody listens on now: the one the kernel hands out for port 0.
int FreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the socket API takes sockaddr*
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    const bool bound = fd >= 0 && bind(fd, generic, sizeof(address)) == 0 && getsockname(fd, generic, &length) == 0;
    if (fd >= 0) close(fd);
    if (!bound) throw std::runtime_error("no free loopback port");
    return ntohs(address.sin_port);
}

// A redis-server child process on a port of its own, started and killed by the test.
class RedisServer {
public:
    explicit RedisServer(int port) : port_(port) { Start(); }
    ~RedisServer() { Kill(); }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    void Start() {
        const std::string port = std::to_string(port_);
        pid_ = fork();
        if (pid_ == 0) {
            execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--logfile", "/dev/null", static_cast<char*>(nullptr));
            _exit(127);
        }
        const bool up = WaitFor(
            [&] {
                try {
                    detail::RedisClient client(Address(), milliseconds(200));
                    return client.Ping() == "PONG";
                } catch (const std::runtime_error&) {
                    return false;
                }
            },
            milliseconds(10'000));
        ASSERT_TRUE(up) << "redis-server did not start on port " << port_;
    }

    // SIGKILL: the server loses everything (no persistence), as a crash would.
    void Kill() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    detail::RedisAddress Address() const { return {.host = "127.0.0.1", .port = port_}; }
    std::string Url() const { return fmt::format("redis://127.0.0.1:{}", port_); }

private:
    int port_;
    pid_t pid_ = -1;
};

bool HaveRedisServer() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

class RedisQueueTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (!testing::BackendAvailable(GetParam())) {
            GTEST_SKIP() << "GRANSKA_TEST_POSTGRES_URL is not set; scripts/with_test_servers.sh starts PostgreSQL";
        }
        database_ = std::make_unique<testing::TestDatabase>(GetParam());
        store_ = database_->Open();
    }

    QueueOptions Options() const { return {.prefix = prefix_, .sweep_interval = milliseconds(100)}; }

    const std::string prefix_ = "granska-test-" + NewUuidV7();
    std::unique_ptr<testing::TestDatabase> database_;
    std::unique_ptr<store::Store> store_;
};

TEST_P(RedisQueueTest, AJobAbandonedByADeadConsumerIsFinishedByAnotherAfterTheLease) {
    if (testing::RedisUrl() == nullptr) GTEST_SKIP() << "GRANSKA_TEST_REDIS_URL is not set";
    const detail::RedisAddress address = *detail::ParseRedisUrl(testing::RedisUrl());
    const auto jobs = CreateJobs(*store_, 1);
    {
        // Takes the job and "dies": no Finished, no lease renewal.
        RedisQueue dying(*store_, address, Options());
        dying.Publish(jobs[0]);
        const auto taken = dying.Take("dead/0", milliseconds(200), kLong);
        ASSERT_TRUE(taken.has_value());
        EXPECT_EQ(taken->id, jobs[0].id);
    }
    std::atomic<int> runs{0};
    // Announcing nothing from the store leaves the dead consumer's pending entry as the only way to the job.
    QueueOptions reclaim_only = Options();
    reclaim_only.announce_limit = 0;
    RedisQueue queue(*store_, address, reclaim_only);
    WorkerPool pool(*store_, queue, Tasks([&](const store::Job&, const std::atomic<bool>&) {
        ++runs;
        return TaskResult{TaskResult::Outcome::kCompleted, ""};
    }),
                    PoolOptions("alive", milliseconds(1000)));
    pool.Start();
    ASSERT_TRUE(WaitFor([&] { return AllEnded(*store_, jobs, "completed"); }, kLong));
    EXPECT_EQ(Reload(*store_, jobs[0]).attempts, 2);
    EXPECT_EQ(runs, 1);
    // The dead consumer's entry is taken over and acknowledged: nothing stays pending.
    detail::RedisClient client(address, milliseconds(2000));
    EXPECT_TRUE(WaitFor([&] { return client.PendingCount(queue.Stream(), RedisQueue::kGroup) == 0; }, kLong));
    pool.Stop(kLong);
}

TEST_P(RedisQueueTest, JobsCompleteAcrossARedisRestart) {
    if (!HaveRedisServer()) GTEST_SKIP() << "redis-server is not installed";
    RedisServer server(FreePort());
    RedisQueue queue(*store_, server.Address(), Options());
    std::atomic<bool> gate{false};
    std::mutex mutex;
    std::map<std::string, int> runs;
    WorkerPool pool(*store_, queue, Tasks([&](const store::Job& job, const std::atomic<bool>&) {
        {
            const std::lock_guard lock(mutex);
            ++runs[job.id];
        }
        // Holds the first jobs running until Redis is down.
        WaitFor([&] { return gate.load(); }, kLong);
        return TaskResult{TaskResult::Outcome::kCompleted, ""};
    }),
                    PoolOptions("survivor", milliseconds(1000)));
    pool.Start();
    const auto jobs = CreateJobs(*store_, 10);
    for (const store::Job& job : jobs) queue.Publish(job);
    server.Kill();
    // The running jobs end during the outage: acknowledging them fails, and the queue notices.
    gate = true;
    EXPECT_TRUE(WaitFor([&] { return !queue.Available(); }, kLong));
    server.Start();
    ASSERT_TRUE(WaitFor([&] { return AllEnded(*store_, jobs, "completed"); }, kLong));
    EXPECT_TRUE(WaitFor([&] { return queue.Available(); }, kLong));
    pool.Stop(kLong);
    const std::lock_guard lock(mutex);
    EXPECT_EQ(runs.size(), 10U);
    for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
}

TEST_P(RedisQueueTest, PublishAndTakeDuringAnOutageReturnQuietly) {
    RedisQueue queue(*store_, detail::RedisAddress{.host = "127.0.0.1", .port = FreePort()}, Options());
    const auto jobs = CreateJobs(*store_, 1);
    queue.Publish(jobs[0]);
    EXPECT_FALSE(queue.Available());
    const auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(queue.Take("w/0", milliseconds(1000), milliseconds(300)).has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(300));
    EXPECT_EQ(Reload(*store_, jobs[0]).status, "queued");
}

TEST_P(RedisQueueTest, OpenQueueAcceptsLocalAndRedisAndNamesTheQueueOtherwise) {
    const auto local = OpenQueue("local", *store_, QueueOptions());
    ASSERT_TRUE(local.has_value());
    EXPECT_EQ((*local)->Name(), "local");

    for (const char* bad : {"", "memory", "redis:/x", "amqp://host"}) {
        SCOPED_TRACE(bad);
        const auto queue = OpenQueue(bad, *store_, QueueOptions());
        ASSERT_FALSE(queue.has_value());
        EXPECT_EQ(queue.error().kind, ErrorKind::kBadRequest);
        EXPECT_EQ(queue.error().column, "queue");
    }

    const auto redis = OpenQueue("redis://127.0.0.1:" + std::to_string(FreePort()), *store_, QueueOptions());
    ASSERT_FALSE(redis.has_value());
    if (GetParam() == "sqlite") {
        EXPECT_EQ(redis.error().kind, ErrorKind::kBadRequest);
        EXPECT_EQ(redis.error().message,
                  "The Redis queue needs a database every worker can reach: use --db postgresql://… (SQLite is one "
                  "machine's file).");
    } else {
        // Nothing listens there.
        EXPECT_EQ(redis.error().kind, ErrorKind::kInternal);
        EXPECT_NE(redis.error().message.find("cannot be reached"), std::string::npos) << redis.error().message;
    }
}

TEST_P(RedisQueueTest, OpenQueueConnectsToAReachableRedis) {
    if (testing::RedisUrl() == nullptr) GTEST_SKIP() << "GRANSKA_TEST_REDIS_URL is not set";
    if (GetParam() == "sqlite") GTEST_SKIP() << "a Redis queue needs PostgreSQL";
    const auto queue = OpenQueue(testing::RedisUrl(), *store_, Options());
    ASSERT_TRUE(queue.has_value()) << queue.error().message;
    EXPECT_EQ((*queue)->Name(), "redis");
    EXPECT_TRUE((*queue)->Available());
}

INSTANTIATE_TEST_SUITE_P(Stores, RedisQueueTest, ::testing::Values("sqlite", "postgresql"));

}  // namespace
}  // namespace granska::jobs
