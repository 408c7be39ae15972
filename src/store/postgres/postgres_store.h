#pragma once
// The PostgreSQL store, for production and scale-out: any number of API nodes and workers share one database.
//
// Every method may be called from several threads at once: each call borrows a connection from a small pool
// (opened on demand). A TransactionWriter holds its own connection and one open COPY until Commit or destruction;
// a RunResultWriter also holds the run's row lock (FOR UPDATE), so writes to that run wait for it. Destroy every
// writer before the store. Migrate() is safe to run from several processes at once (an advisory
// lock serializes them). A lost connection throws std::runtime_error (a pqxx::failure) and is not reused.

#include <memory>
#include <string>

#include "store/store.h"

namespace granska::store {

// Connects to url ("postgresql://user@host:port/db" or a libpq key=value string). Throws std::runtime_error when
// the server cannot be reached. Call Migrate() before anything else.
std::unique_ptr<Store> OpenPostgresStore(const std::string& url);

}  // namespace granska::store
