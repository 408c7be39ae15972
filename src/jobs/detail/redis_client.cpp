#include "jobs/detail/redis_client.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>

namespace granska::jobs::detail {

namespace {

Error BadQueueUrl(std::string_view url, std::string_view why) {
    Error error = BadRequest("bad_queue_url", fmt::format("'{}' is not a Redis URL ({}); write redis://HOST:PORT/DB, "
                                                          "e.g. redis://127.0.0.1:6379/0.",
                                                          url, why));
    error.column = "queue";
    return error;
}

std::optional<int> Number(std::string_view text) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
    return value;
}

std::string Text(const redisReply* reply) {
    if (reply == nullptr || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS)) return {};
    return std::string(reply->str, reply->len);
}

// [id, [field, value, ...]]
StreamEntry ReadEntry(const redisReply* reply) {
    StreamEntry entry;
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) return entry;
    entry.id = Text(reply->element[0]);
    const redisReply* fields = reply->element[1];
    if (fields == nullptr || fields->type != REDIS_REPLY_ARRAY) return entry;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        entry.fields.emplace_back(Text(fields->element[i]), Text(fields->element[i + 1]));
    }
    return entry;
}

std::vector<StreamEntry> ReadEntries(const redisReply* reply) {
    std::vector<StreamEntry> entries;
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return entries;
    for (size_t i = 0; i < reply->elements; ++i) {
        // A claimed entry deleted from the stream meanwhile is nil (Redis 6.2) or listed apart (7.0): skipped.
        if (reply->element[i] != nullptr && reply->element[i]->type == REDIS_REPLY_ARRAY) {
            entries.push_back(ReadEntry(reply->element[i]));
        }
    }
    return entries;
}

}  // namespace

Expected<RedisAddress> ParseRedisUrl(std::string_view url) {
    constexpr std::string_view kScheme = "redis://";
    if (!url.starts_with(kScheme)) return Unexpected(BadQueueUrl(url, "it does not start with redis://"));
    std::string_view rest = url.substr(kScheme.size());
    RedisAddress address;
    if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
        const std::string_view db = rest.substr(slash + 1);
        if (!db.empty()) {
            const auto number = Number(db);
            if (!number) return Unexpected(BadQueueUrl(url, "the database is not a number"));
            address.db = *number;
        }
        rest = rest.substr(0, slash);
    }
    if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
        const auto port = Number(rest.substr(colon + 1));
        if (!port || *port == 0 || *port > 65535) return Unexpected(BadQueueUrl(url, "the port is not 1-65535"));
        address.port = *port;
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) return Unexpected(BadQueueUrl(url, "it names no host"));
    address.host = std::string(rest);
    return address;
}

void RedisClient::ReplyDeleter::operator()(redisReply* reply) const { freeReplyObject(reply); }

namespace {

timeval ToTimeval(std::chrono::milliseconds duration) {
    return {.tv_sec = static_cast<time_t>(duration.count() / 1000),
            .tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000)};
}

}  // namespace

RedisClient::RedisClient(const RedisAddress& address, std::chrono::milliseconds timeout)
    : where_(fmt::format("{}:{}", address.host, address.port)), timeout_(timeout) {
    context_ = redisConnectWithTimeout(address.host.c_str(), address.port, ToTimeval(timeout));
    if (context_ == nullptr || context_->err != 0) {
        const std::string why = context_ != nullptr ? context_->errstr : "out of memory";
        if (context_ != nullptr) redisFree(context_);
        context_ = nullptr;
        throw std::runtime_error(fmt::format("Redis at {} cannot be reached: {}", where_, why));
    }
    // hiredis bounds only the connect by the timeout; commands would wait for ever.
    SetTimeout(timeout_);
    if (address.db != 0) {
        const std::string db = std::to_string(address.db);
        const std::string_view args[] = {"SELECT", db};
        Command(args);
    }
}

void RedisClient::SetTimeout(std::chrono::milliseconds timeout) {
    if (redisSetTimeout(context_, ToTimeval(timeout)) != REDIS_OK) {
        throw std::runtime_error(fmt::format("Redis at {}: the command timeout cannot be set", where_));
    }
}

RedisClient::~RedisClient() {
    if (context_ != nullptr) redisFree(context_);
}

RedisClient::Reply RedisClient::Command(std::span<const std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string_view arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) {
        throw std::runtime_error(fmt::format("Redis at {} failed on {}: {}", where_, args.front(),
                                             context_->err != 0 ? context_->errstr : "no reply"));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        throw std::runtime_error(
            fmt::format("Redis at {} refused {}: {}", where_, args.front(), std::string(reply->str, reply->len)));
    }
    return reply;
}

std::string RedisClient::Ping() {
    const std::string_view args[] = {"PING"};
    return Text(Command(args).get());
}

std::string RedisClient::Add(std::string_view stream, const StreamFields& fields, int64_t max_length) {
    const std::string length_text = std::to_string(max_length);
    std::vector<std::string_view> args = {"XADD", stream};
    if (max_length > 0) args.insert(args.end(), {"MAXLEN", "~", length_text});
    args.push_back("*");
    for (const auto& [field, value] : fields) {
        args.push_back(field);
        args.push_back(value);
    }
    return Text(Command(args).get());
}

int64_t RedisClient::Length(std::string_view stream) {
    const std::string_view args[] = {"XLEN", stream};
    return Command(args)->integer;
}

void RedisClient::CreateGroup(std::string_view stream, std::string_view group) {
    const std::string_view args[] = {"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"};
    try {
        Command(args);
    } catch (const std::runtime_error& e) {
        if (std::string_view(e.what()).find("BUSYGROUP") == std::string_view::npos) throw;
    }
}

std::vector<StreamEntry> RedisClient::ReadGroup(std::string_view stream, std::string_view group,
                                                std::string_view consumer, size_t count,
                                                std::chrono::milliseconds block) {
    const std::string count_text = std::to_string(count);
    const std::string block_text = std::to_string(block.count());
    std::vector<std::string_view> args = {"XREADGROUP", "GROUP", group, consumer, "COUNT", count_text};
    if (block.count() > 0) {
        args.push_back("BLOCK");
        args.push_back(block_text);
    }
    args.insert(args.end(), {"STREAMS", stream, ">"});
    if (block.count() > 0) SetTimeout(block + timeout_);
    Reply reply = Command(args);
    if (block.count() > 0) SetTimeout(timeout_);
    // Nil when nothing arrived; otherwise [[stream, [entries]]].
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) return {};
    const redisReply* first = reply->element[0];
    if (first == nullptr || first->type != REDIS_REPLY_ARRAY || first->elements < 2) return {};
    return ReadEntries(first->element[1]);
}

int64_t RedisClient::Ack(std::string_view stream, std::string_view group, std::span<const std::string> ids) {
    if (ids.empty()) return 0;
    std::vector<std::string_view> args = {"XACK", stream, group};
    for (const std::string& id : ids) args.push_back(id);
    return Command(args)->integer;
}

int64_t RedisClient::PendingCount(std::string_view stream, std::string_view group) {
    const std::string_view args[] = {"XPENDING", stream, group};
    const Reply reply = Command(args);
    // [count, smallest id, greatest id, [[consumer, count], ...]]
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 || reply->element[0]->type != REDIS_REPLY_INTEGER) {
        return 0;
    }
    return reply->element[0]->integer;
}

bool RedisClient::SetIfAbsent(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
    const std::string ttl_text = std::to_string(std::max<int64_t>(1, ttl.count()));
    const std::string_view args[] = {"SET", key, value, "NX", "PX", ttl_text};
    // OK when set, nil when the key exists.
    return Command(args)->type == REDIS_REPLY_STATUS;
}

AutoClaimed RedisClient::AutoClaim(std::string_view stream, std::string_view group, std::string_view consumer,
                                   std::chrono::milliseconds min_idle, std::string_view start, size_t count) {
    const std::string idle_text = std::to_string(min_idle.count());
    const std::string count_text = std::to_string(count);
    const std::string_view args[] = {"XAUTOCLAIM", stream, group, consumer, idle_text, start, "COUNT", count_text};
    const Reply reply = Command(args);
    AutoClaimed claimed;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) return claimed;
    claimed.next = Text(reply->element[0]);
    claimed.entries = ReadEntries(reply->element[1]);
    return claimed;
}

}  // namespace granska::jobs::detail
