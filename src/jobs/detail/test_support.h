#pragma once
// For the jobs tests only (header-only, so it stays out of the library): a database of the test's own on either
// backend, jobs to run, and waiting with a deadline.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/uuid.h"
#include "jobs/worker_pool.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace granska::jobs::testing {

inline const char* EnvUrl(const char* name) {
    const char* url = std::getenv(name);
    return url != nullptr && *url != '\0' ? url : nullptr;
}

inline const char* PostgresUrl() { return EnvUrl("GRANSKA_TEST_POSTGRES_URL"); }
inline const char* RedisUrl() { return EnvUrl("GRANSKA_TEST_REDIS_URL"); }

// "sqlite": a temporary file. "postgresql": a fresh database on the test server, dropped at the end, because
// ClaimNextJob and ClaimableJobs see every workspace and another test's jobs must not be run here.
class TestDatabase {
public:
    explicit TestDatabase(std::string backend) : backend_(std::move(backend)) {
        if (backend_ == "sqlite") {
            dir_ = std::filesystem::temp_directory_path() / ("granska-jobs-test-" + NewUuidV7());
            url_ = (dir_ / "granska.db").string();
            return;
        }
        admin_url_ = PostgresUrl();
        name_ = "granska_jobs_" + std::to_string(std::random_device{}());
        pqxx::connection admin(admin_url_);
        pqxx::nontransaction(admin).exec("CREATE DATABASE " + name_);
        // postgresql://user@host:port/db[?params]: the same server, the new database.
        const size_t slash = admin_url_.rfind('/');
        const size_t query = admin_url_.find('?', slash);
        url_ = admin_url_.substr(0, slash + 1) + name_ + (query == std::string::npos ? "" : admin_url_.substr(query));
    }

    ~TestDatabase() {
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
        if (name_.empty()) return;
        try {
            pqxx::connection admin(admin_url_);
            pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (const std::exception& e) {
            ADD_FAILURE() << "dropping " << name_ << ": " << e.what();
        }
    }

    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    // A migrated store on the database; each one stands for another process.
    std::unique_ptr<store::Store> Open() const {
        auto store = backend_ == "sqlite" ? store::OpenSqliteStore(url_) : store::OpenPostgresStore(url_);
        store->Migrate();
        return store;
    }

private:
    std::string backend_;
    std::string url_;
    std::string admin_url_;
    std::string name_;
    std::filesystem::path dir_;
};

// Skips the test when its backend's server is not configured; true when it may go on.
inline bool BackendAvailable(const std::string& backend) { return backend == "sqlite" || PostgresUrl() != nullptr; }

// n jobs processing uploads of a new workspace.
inline std::vector<store::Job> CreateJobs(store::Store& store, int n, int max_attempts = 3) {
    const std::string workspace = store.CreateWorkspace("jobs-test-" + NewUuidV7()).id;
    std::vector<store::Job> jobs;
    for (int i = 0; i < n; ++i) {
        const store::Upload upload = store.CreateUpload(
            store::NewUpload{.workspace_id = workspace, .filename = "t.csv", .file_type = "csv", .file_size = 1});
        jobs.push_back(store.CreateJob(store::NewJob{.workspace_id = workspace,
                                                     .kind = std::string(store::kProcessUploadedFile),
                                                     .target_id = upload.id,
                                                     .max_attempts = max_attempts}));
    }
    return jobs;
}

// Polls condition until it holds or the deadline passes (real concurrency has no other clock); returns the last value.
inline bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

// The one task a test's pools run, for the kind of CreateJobs's jobs.
inline std::map<std::string, Task, std::less<>> Tasks(Task task) {
    std::map<std::string, Task, std::less<>> tasks;
    tasks.emplace(std::string(store::kProcessUploadedFile), std::move(task));
    return tasks;
}

// Two threads, quick heartbeats and retries, a 200 ms idle wait.
inline WorkerOptions PoolOptions(std::string name, std::chrono::milliseconds lease) {
    return {.name = std::move(name),
            .concurrency = 2,
            .lease = lease,
            .heartbeat = std::chrono::milliseconds(50),
            .idle_wait = std::chrono::milliseconds(200),
            .retry = {.max_attempts = 3, .base = std::chrono::milliseconds(10), .cap = std::chrono::milliseconds(50)},
            .seed = 7};
}

inline store::Job Reload(store::Store& store, const store::Job& job) {
    auto current = store.GetJob(job.workspace_id, job.id);
    if (!current) throw std::runtime_error("job " + job.id + " is gone");
    return *current;
}

inline bool AllEnded(store::Store& store, const std::vector<store::Job>& jobs, std::string_view status) {
    for (const store::Job& job : jobs) {
        if (Reload(store, job).status != status) return false;
    }
    return true;
}

}  // namespace granska::jobs::testing
