#pragma once
// A thin RAII layer over the sqlite3 C API for SqliteStore: connections with cached prepared statements, a pool of
// them (WAL lets readers run beside the one writer), and a write-transaction guard. SQLite errors throw
// std::runtime_error: by the time SQL runs, ids and inputs are validated, so an error is a broken database.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace granska::store::sqlite_detail {

// A prepared statement borrowed from its Connection's cache; reset and unbound when the borrower is done.
class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Parameters are 1-based, as in SQL; text is copied, so temporaries are fine.
    Statement& Bind(int index, std::string_view text);
    Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
    Statement& Bind(int index, int64_t value);
    Statement& Bind(int index, double value);
    Statement& BindNull(int index);
    Statement& BindOptional(int index, std::optional<std::string_view> text);

    bool Step();   // true while a row is ready
    void Run();    // steps a statement that returns no rows (or ignores them)
    void Reset();  // ready to run again; bindings are kept

    // Columns are 0-based; NULL reads as "" / 0.
    bool IsNull(int column) const;
    std::string Text(int column) const;
    std::string_view View(int column) const;  // valid until the next Step
    int64_t Int(int column) const;
    double Double(int column) const;

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

class Connection {
public:
    // Opens (creating) the database file and sets the per-connection pragmas. Throws std::runtime_error.
    explicit Connection(const std::string& path);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Prepared once per connection and SQL text, then reused.
    Statement Prepare(std::string_view sql);
    // Runs one or more statements without parameters (pragmas, BEGIN, migrations).
    void Exec(const std::string& sql);
    int64_t Changes() const;
    bool InTransaction() const;

private:
    struct StatementDeleter {
        void operator()(sqlite3_stmt* stmt) const;
    };
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StatementDeleter>> statements_;
};

// Connections are opened on demand and never waited for, so a thread may hold several (a writer and a read)
// without deadlocking; up to kMaxIdle are kept for reuse.
class Pool {
public:
    class Lease {
    public:
        Lease(Pool& pool, std::unique_ptr<Connection> connection) : pool_(&pool), connection_(std::move(connection)) {}
        ~Lease();
        Lease(Lease&& other) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        Connection& operator*() const { return *connection_; }
        Connection* operator->() const { return connection_.get(); }

    private:
        Pool* pool_;
        std::unique_ptr<Connection> connection_;
    };

    explicit Pool(std::string path) : path_(std::move(path)) {}
    Lease Acquire();

private:
    static constexpr size_t kMaxIdle = 8;
    void Release(std::unique_ptr<Connection> connection);

    std::string path_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

// BEGIN IMMEDIATE: takes SQLite's single write lock up front (waiting up to busy_timeout), so the transaction
// never fails half-way with SQLITE_BUSY. Rolls back unless committed.
class WriteTransaction {
public:
    explicit WriteTransaction(Connection& connection);
    ~WriteTransaction();
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;
    void Commit();

private:
    Connection& connection_;
    bool done_ = false;
};

}  // namespace granska::store::sqlite_detail
