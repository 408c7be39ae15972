#include "store/sqlite/detail/sqlite_connection.h"

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

namespace granska::store::sqlite_detail {

namespace {

// Writers wait this long for SQLite's write lock before giving up; a writer holds it for a whole upload.
constexpr int kBusyTimeoutMs = 60'000;

[[noreturn]] void Fail(sqlite3* db, std::string_view what) {
    throw std::runtime_error(fmt::format("SQLite {}: {}", what, db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

// SQLITE_TRANSIENT is a macro with an old-style cast; spelled out here to keep -Wold-style-cast quiet.
sqlite3_destructor_type Transient() { return reinterpret_cast<sqlite3_destructor_type>(static_cast<intptr_t>(-1)); }

}  // namespace

Statement::~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

Statement& Statement::Bind(int index, std::string_view text) {
    if (sqlite3_bind_text64(stmt_, index, text.data(), text.size(), Transient(), SQLITE_UTF8) != SQLITE_OK) {
        Fail(db_, "bind");
    }
    return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) Fail(db_, "bind");
    return *this;
}

Statement& Statement::Bind(int index, double value) {
    if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) Fail(db_, "bind");
    return *this;
}

Statement& Statement::BindNull(int index) {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) Fail(db_, "bind");
    return *this;
}

Statement& Statement::BindOptional(int index, std::optional<std::string_view> text) {
    return text ? Bind(index, *text) : BindNull(index);
}

bool Statement::Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Fail(db_, "step");
}

void Statement::Run() {
    while (Step()) {
    }
}

void Statement::Reset() { sqlite3_reset(stmt_); }

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string_view Statement::View(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (text == nullptr) return {};
    return {text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string Statement::Text(int column) const { return std::string(View(column)); }
int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

void Connection::StatementDeleter::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

Connection::Connection(const std::string& path) {
    // NOMUTEX: the pool hands a connection to one thread at a time.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw std::runtime_error(fmt::format("SQLite cannot open '{}': {}", path, message));
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // A 64 MiB page cache keeps the transactions indexes in memory during bulk loads of a million rows.
    Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
         "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;");
}

Connection::~Connection() {
    statements_.clear();
    sqlite3_close_v2(db_);
}

Statement Connection::Prepare(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    if (it == statements_.end()) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                               nullptr) != SQLITE_OK) {
            Fail(db_, fmt::format("prepare '{}'", sql));
        }
        it = statements_.emplace(std::string(sql), std::unique_ptr<sqlite3_stmt, StatementDeleter>(stmt)).first;
    }
    return Statement(db_, it->second.get());
}

void Connection::Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string message = error != nullptr ? error : sqlite3_errmsg(db_);
        sqlite3_free(error);
        throw std::runtime_error(fmt::format("SQLite: {}", message));
    }
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Pool::Lease::~Lease() {
    if (connection_) pool_->Release(std::move(connection_));
}

Pool::Lease Pool::Acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(connection));
        }
    }
    return Lease(*this, std::make_unique<Connection>(path_));
}

void Pool::Release(std::unique_ptr<Connection> connection) {
    // A connection left inside a transaction (an exception mid-way) is rolled back before reuse.
    if (connection->InTransaction()) {
        try {
            connection->Exec("ROLLBACK");
        } catch (const std::exception&) {
            return;  // unusable: dropped
        }
    }
    std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(connection));
}

WriteTransaction::WriteTransaction(Connection& connection) : connection_(connection) {
    connection_.Exec("BEGIN IMMEDIATE");
}

WriteTransaction::~WriteTransaction() {
    if (done_) return;
    try {
        connection_.Exec("ROLLBACK");
    } catch (const std::exception&) {
        // Nothing to do: the pool rolls back or drops the connection when it comes back.
    }
}

void WriteTransaction::Commit() {
    connection_.Exec("COMMIT");
    done_ = true;
}

}  // namespace granska::store::sqlite_detail
