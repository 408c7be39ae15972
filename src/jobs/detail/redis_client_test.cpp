// The Streams client against a real Redis: scripts/test.sh (or scripts/with_test_servers.sh) starts one and sets
// GRANSKA_TEST_REDIS_URL; without it these tests skip, saying so.

#include "jobs/detail/redis_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <thread>

#include "core/uuid.h"

namespace granska::jobs::detail {
namespace {

using std::chrono::milliseconds;

TEST(ParseRedisUrlTest, ReadsHostPortAndDatabase) {
    const auto full = ParseRedisUrl("redis://10.0.0.5:6380/2");
    ASSERT_TRUE(full.has_value());
    EXPECT_EQ(full->host, "10.0.0.5");
    EXPECT_EQ(full->port, 6380);
    EXPECT_EQ(full->db, 2);
    const auto plain = ParseRedisUrl("redis://cache");
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(plain->host, "cache");
    EXPECT_EQ(plain->port, 6379);
    EXPECT_EQ(plain->db, 0);
    for (const char* bad : {"http://cache:6379", "redis://", "redis://cache:0", "redis://cache:70000",
                            "redis://cache:port", "redis://cache/x"}) {
        SCOPED_TRACE(bad);
        const auto parsed = ParseRedisUrl(bad);
        ASSERT_FALSE(parsed.has_value());
        EXPECT_EQ(parsed.error().kind, ErrorKind::kBadRequest);
        EXPECT_EQ(parsed.error().column, "queue");
    }
}

TEST(RedisClientTest, AnAddressWithNoServerIsAClearError) {
    // Port 1 on loopback: nothing listens there.
    try {
        RedisClient client(RedisAddress{.host = "127.0.0.1", .port = 1}, milliseconds(500));
        FAIL() << "connected to nothing";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("Redis at 127.0.0.1:1 cannot be reached"), std::string::npos) << e.what();
    }
}

TEST(RedisClientTest, AServerThatStopsAnsweringIsAnErrorAfterTheTimeout) {
    // A listening socket nobody reads from: the connection is accepted by the kernel, no reply ever comes.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the socket API takes sockaddr*
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    ASSERT_EQ(bind(fd, generic, sizeof(address)), 0);
    ASSERT_EQ(getsockname(fd, generic, &length), 0);
    ASSERT_EQ(listen(fd, 4), 0);
    RedisClient client(RedisAddress{.host = "127.0.0.1", .port = ntohs(address.sin_port)}, milliseconds(200));
    const auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(client.Ping(), std::runtime_error);
    EXPECT_THROW(client.ReadGroup("s", "g", "c", 1, milliseconds(100)), std::runtime_error);
    // Generous: the point is that it ends at all.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
    close(fd);
}

class RedisStreamsTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* url = std::getenv("GRANSKA_TEST_REDIS_URL");
        if (url == nullptr || *url == '\0') {
            GTEST_SKIP() << "GRANSKA_TEST_REDIS_URL is not set; run scripts/test.sh, which starts Redis";
        }
        auto address = ParseRedisUrl(url);
        ASSERT_TRUE(address.has_value()) << address.error().message;
        address_ = *address;
        client_ = std::make_unique<RedisClient>(address_, milliseconds(2000));
    }

    RedisAddress address_;
    std::unique_ptr<RedisClient> client_;
    const std::string stream_ = "granska-test-" + NewUuidV7();
};

TEST_F(RedisStreamsTest, EntriesReachTheGroupOnceAndLeavePendingWhenAcknowledged) {
    EXPECT_EQ(client_->Ping(), "PONG");
    client_->CreateGroup(stream_, "workers");
    client_->CreateGroup(stream_, "workers");  // again: left as it is
    const std::string first = client_->Add(stream_, {{"job", "a"}, {"attempt", "1"}});
    const std::string second = client_->Add(stream_, {{"job", "b"}});
    EXPECT_EQ(client_->Length(stream_), 2);

    const auto read = client_->ReadGroup(stream_, "workers", "w1", 10, milliseconds(0));
    ASSERT_EQ(read.size(), 2U);
    EXPECT_EQ(read[0].id, first);
    EXPECT_EQ(read[0].fields, (StreamFields{{"job", "a"}, {"attempt", "1"}}));
    EXPECT_EQ(read[1].id, second);
    // Delivered once: another consumer of the group gets nothing new.
    EXPECT_TRUE(client_->ReadGroup(stream_, "workers", "w2", 10, milliseconds(0)).empty());

    const std::vector<std::string> ids = {first, second, first};
    EXPECT_EQ(client_->Ack(stream_, "workers", ids), 2);  // the repeat is not pending any more
    // Acknowledged entries cannot be claimed.
    EXPECT_TRUE(client_->AutoClaim(stream_, "workers", "w2", milliseconds(0), "0-0", 10).entries.empty());
}

TEST_F(RedisStreamsTest, AnotherConsumerClaimsWhatAConsumerLeftUnacknowledged) {
    client_->CreateGroup(stream_, "workers");
    const std::string id = client_->Add(stream_, {{"job", "abandoned"}});
    ASSERT_EQ(client_->ReadGroup(stream_, "workers", "dead", 1, milliseconds(0)).size(), 1U);

    // Not idle long enough yet: nothing to claim.
    EXPECT_TRUE(client_->AutoClaim(stream_, "workers", "alive", milliseconds(60'000), "0-0", 10).entries.empty());
    std::this_thread::sleep_for(milliseconds(30));
    const AutoClaimed claimed = client_->AutoClaim(stream_, "workers", "alive", milliseconds(20), "0-0", 10);
    ASSERT_EQ(claimed.entries.size(), 1U);
    EXPECT_EQ(claimed.entries[0].id, id);
    EXPECT_EQ(claimed.entries[0].fields, (StreamFields{{"job", "abandoned"}}));
    EXPECT_EQ(claimed.next, "0-0");  // the pending list was scanned to its end
    const std::vector<std::string> ids = {id};
    EXPECT_EQ(client_->Ack(stream_, "workers", ids), 1);
}

TEST_F(RedisStreamsTest, AReadWaitsForAnEntryUpToItsBlockTime) {
    client_->CreateGroup(stream_, "workers");
    std::thread producer([this] {
        RedisClient other(address_, milliseconds(2000));
        std::this_thread::sleep_for(milliseconds(50));
        other.Add(stream_, {{"job", "late"}});
    });
    const auto read = client_->ReadGroup(stream_, "workers", "w1", 1, milliseconds(5000));
    producer.join();
    ASSERT_EQ(read.size(), 1U);
    EXPECT_EQ(read[0].fields, (StreamFields{{"job", "late"}}));
}

TEST_F(RedisStreamsTest, AMaximumLengthTrimsTheStream) {
    for (int i = 0; i < 500; ++i) client_->Add(stream_, {{"n", std::to_string(i)}}, 50);
    // Approximate trimming (MAXLEN ~) drops whole nodes of 100 entries: well under 500, at least 50.
    EXPECT_GE(client_->Length(stream_), 50);
    EXPECT_LE(client_->Length(stream_), 200);
}

TEST_F(RedisStreamsTest, PendingCountsDeliveredUnacknowledgedEntries) {
    client_->CreateGroup(stream_, "workers");
    EXPECT_EQ(client_->PendingCount(stream_, "workers"), 0);
    const std::string id = client_->Add(stream_, {{"job", "a"}});
    client_->Add(stream_, {{"job", "b"}});
    client_->ReadGroup(stream_, "workers", "w1", 10, milliseconds(0));
    EXPECT_EQ(client_->PendingCount(stream_, "workers"), 2);
    const std::vector<std::string> ids = {id};
    client_->Ack(stream_, "workers", ids);
    EXPECT_EQ(client_->PendingCount(stream_, "workers"), 1);
}

TEST_F(RedisStreamsTest, ALockKeyIsSetOnceUntilItExpires) {
    const std::string key = stream_ + ":lock";
    EXPECT_TRUE(client_->SetIfAbsent(key, "a", milliseconds(100)));
    EXPECT_FALSE(client_->SetIfAbsent(key, "b", milliseconds(100)));
    // Waits, with a deadline, for Redis to expire the key.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool set_again = false;
    while (!set_again && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(20));
        set_again = client_->SetIfAbsent(key, "c", milliseconds(100));
    }
    EXPECT_TRUE(set_again);
}

TEST_F(RedisStreamsTest, AnErrorReplyThrowsNamingTheCommand) {
    // A group on a key that holds no stream.
    try {
        client_->ReadGroup(stream_, "no-such-group", "w1", 1, milliseconds(0));
        FAIL() << "read from a group that does not exist";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("refused XREADGROUP"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace granska::jobs::detail
