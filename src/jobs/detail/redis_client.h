#pragma once
// A small synchronous Redis client over hiredis for the Streams job queue: XADD, consumer groups (XGROUP CREATE,
// XREADGROUP, XACK, XPENDING), reclaiming the entries of a dead consumer (XAUTOCLAIM, Redis ≥ 6.2) and a lock key
// (SET NX PX). One client is one
// connection, used by one thread at a time. A lost connection or an error reply throws std::runtime_error (lost
// infrastructure, not bad input); the caller reconnects.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/expected.h"

struct redisContext;
struct redisReply;

namespace granska::jobs::detail {

struct RedisAddress {
    std::string host = "127.0.0.1";
    int port = 6379;
    int db = 0;
};

// redis://HOST[:PORT][/DB]; a bad URL is kBadRequest naming "queue".
Expected<RedisAddress> ParseRedisUrl(std::string_view url);

using StreamFields = std::vector<std::pair<std::string, std::string>>;

struct StreamEntry {
    std::string id;  // "1700000000000-0"
    StreamFields fields;
};

struct AutoClaimed {
    std::string next;  // where the next XAUTOCLAIM scan starts; "0-0" when the pending list was scanned to its end
    std::vector<StreamEntry> entries;
};

class RedisClient {
public:
    // Connects (and SELECTs the database); throws std::runtime_error naming the address when it cannot. Connecting
    // and every command wait at most timeout for the server (a blocking read: its block time plus timeout), so a
    // server that stopped answering is an error, not a hang.
    RedisClient(const RedisAddress& address, std::chrono::milliseconds timeout);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    std::string Ping();
    // Appends an entry; returns its id. A max_length > 0 trims the stream to about that many entries (MAXLEN ~).
    std::string Add(std::string_view stream, const StreamFields& fields, int64_t max_length = 0);
    int64_t Length(std::string_view stream);
    // Creates the consumer group reading from the stream's start (and the stream, if missing); an existing group is
    // left as it is.
    void CreateGroup(std::string_view stream, std::string_view group);
    // Up to count entries never delivered to the group, waiting up to block for the first (0 = do not wait).
    std::vector<StreamEntry> ReadGroup(std::string_view stream, std::string_view group, std::string_view consumer,
                                       size_t count, std::chrono::milliseconds block);
    // Acknowledges entries: they leave the group's pending list. Returns how many were pending.
    int64_t Ack(std::string_view stream, std::string_view group, std::span<const std::string> ids);
    // Entries delivered to the group's consumers and not yet acknowledged.
    int64_t PendingCount(std::string_view stream, std::string_view group);
    // Sets key to value, expiring after ttl, only when the key does not exist (SET NX PX); true when it was set.
    bool SetIfAbsent(std::string_view key, std::string_view value, std::chrono::milliseconds ttl);
    // Takes over entries delivered to any consumer of the group and not acknowledged for at least min_idle.
    AutoClaimed AutoClaim(std::string_view stream, std::string_view group, std::string_view consumer,
                          std::chrono::milliseconds min_idle, std::string_view start, size_t count);

private:
    struct ReplyDeleter {
        void operator()(redisReply* reply) const;
    };
    using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

    Reply Command(std::span<const std::string_view> args);

    void SetTimeout(std::chrono::milliseconds timeout);

    std::string where_;  // "host:port", for messages
    std::chrono::milliseconds timeout_;
    redisContext* context_ = nullptr;
};

}  // namespace granska::jobs::detail
