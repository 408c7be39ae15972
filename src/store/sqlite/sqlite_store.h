#pragma once
// The embedded SQLite store (the default: nothing to install or start).
//
// Every method may be called from several threads at once: each call borrows a connection from a small pool and
// WAL lets readers run beside the single writer. A TransactionWriter holds its own connection, and from its first
// Write until Commit (or destruction) SQLite's one write lock: other writes wait for it (up to 60 s), reads do not.
// A RunResultWriter holds its connection and the write lock from BeginRunResults until Commit (or destruction).
// So commit or destroy a writer before writing anything else from the same thread, and destroy every writer
// before the store.

#include <memory>
#include <string>

#include "store/store.h"

namespace granska::store {

// Opens (creating) the database file at path, creating its parent directories; call Migrate() before use.
// ":memory:" gives a private, already migrated database that disappears with the store (backed by a temporary
// file: an in-memory SQLite database cannot be shared by a connection pool). Throws std::runtime_error when the
// file cannot be opened.
std::unique_ptr<Store> OpenSqliteStore(const std::string& path);

}  // namespace granska::store
