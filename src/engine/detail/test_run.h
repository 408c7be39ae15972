// Test code only (the engine's *_test.cpp files): an in-memory SQLite store with the builtin algorithms, and uploads
// written straight to it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/transaction.h"
#include "detect/registry.h"
#include "store/sqlite/sqlite_store.h"

namespace granska::engine::detail {

class EngineStoreTest : public ::testing::Test {
protected:
    EngineStoreTest() : store_(store::OpenSqliteStore(":memory:")) {
        store_->Migrate();
        detect::RegisterBuiltinAlgorithms(registry_);
    }

    // Writes `rows` as a completed upload of the default workspace; its id.
    std::string WriteUpload(const std::vector<Transaction>& rows, const std::string& filename = "a.csv") {
        const std::string id =
            store_->CreateUpload({.workspace_id = std::string(store::kDefaultWorkspaceId), .filename = filename}).id;
        auto writer = store_->BeginTransactions(store::kDefaultWorkspaceId, id);
        writer->Write(rows);
        writer->Commit("{}");
        return id;
    }

    std::unique_ptr<store::Store> store_;
    detect::Registry registry_;
};

}  // namespace granska::engine::detail
