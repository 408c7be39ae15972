// The storage contract (store.h), one suite run unchanged against SQLite (a temporary file) and PostgreSQL (the
// server named by GRANSKA_TEST_POSTGRES_URL, which scripts/test.sh starts). Every test works in a workspace of its
// own, so tests never see each other's rows on the shared PostgreSQL database.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/money.h"
#include "core/uuid.h"
#include "store/detail/store_util.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/detail/sqlite_connection.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace granska::store::detail {
std::span<const Migration> SqliteMigrations();  // the embedded migrations, to build an old schema
std::span<const Migration> PostgresMigrations();
}  // namespace granska::store::detail

namespace granska::store {
namespace {

// The number of embedded migrations; bump it with each new migrations/NNNN_*.sql.
constexpr int kSchemaVersion = 5;

const char* PostgresUrl() {
    const char* url = std::getenv("GRANSKA_TEST_POSTGRES_URL");
    return url != nullptr && *url != '\0' ? url : nullptr;
}

bool IsTimestamp(const std::string& text) {
    static const std::regex kPattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
    return std::regex_match(text, kPattern);
}

// JSON is compared by value: PostgreSQL's JSONB keeps its own spacing and key order.
void ExpectSameJson(const std::string& expected, const std::string& actual) {
    if (expected.empty() || actual.empty()) {
        EXPECT_EQ(expected, actual);
        return;
    }
    EXPECT_EQ(nlohmann::json::parse(expected), nlohmann::json::parse(actual)) << expected << " vs " << actual;
}

Date Day(int year, int month, int day) { return *Date::FromYmd(year, month, day); }

Transaction Row(int64_t row_number, int64_t amount_minor) {
    Transaction t;
    t.row_number = row_number;
    t.source_line = row_number + 1;
    t.external_id = "E-" + std::to_string(row_number);
    t.date = Day(2024, 1, 1);
    t.account = "1930";
    t.amount = Money{.minor = amount_minor};
    t.currency = "SEK";
    t.raw_data = R"({"row": )" + std::to_string(row_number) + "}";
    return t;
}

void ExpectSameTransaction(const Transaction& expected, const Transaction& actual) {
    SCOPED_TRACE("row " + std::to_string(expected.row_number));
    EXPECT_EQ(expected.row_number, actual.row_number);
    EXPECT_EQ(expected.source_line, actual.source_line);
    EXPECT_EQ(expected.external_id, actual.external_id);
    EXPECT_EQ(expected.date, actual.date);
    EXPECT_EQ(expected.registration_date, actual.registration_date);
    EXPECT_EQ(expected.time_seconds, actual.time_seconds);
    EXPECT_EQ(expected.account, actual.account);
    EXPECT_EQ(expected.amount.minor, actual.amount.minor);
    EXPECT_EQ(expected.currency, actual.currency);
    EXPECT_EQ(expected.text, actual.text);
    EXPECT_EQ(expected.user, actual.user);
    EXPECT_EQ(expected.counterparty, actual.counterparty);
    EXPECT_EQ(expected.voucher_series, actual.voucher_series);
    EXPECT_EQ(expected.voucher_number, actual.voucher_number);
    ExpectSameJson(expected.raw_data, actual.raw_data);
    ExpectSameJson(expected.processed_data, actual.processed_data);
}

class StoreContractTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "postgresql") {
            if (PostgresUrl() == nullptr) {
                GTEST_SKIP() << "GRANSKA_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts a "
                                "throw-away PostgreSQL and sets it";
            }
            url_ = PostgresUrl();
        } else {
            dir_ = std::filesystem::temp_directory_path() / ("granska-store-test-" + NewUuidV7());
            url_ = (dir_ / "nested" / "granska.db").string();  // OpenSqliteStore creates the parent folders
        }
        store_ = Open(url_);
        ASSERT_EQ(store_->Migrate(), kSchemaVersion);
        workspace_ = store_->CreateWorkspace(::testing::UnitTest::GetInstance()->current_test_info()->name()).id;
    }

    void TearDown() override {
        store_.reset();
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    std::unique_ptr<Store> Open(const std::string& url) const {
        return GetParam() == "sqlite" ? OpenSqliteStore(url) : OpenPostgresStore(url);
    }

    // A fresh, empty database of the backend under test, dropped in TearDown (PostgreSQL) or with dir_ (SQLite).
    std::string FreshDatabaseUrl() {
        if (GetParam() == "sqlite") return (dir_ / ("fresh-" + NewUuidV7() + ".db")).string();
        const std::string name = "granska_fresh_" + std::to_string(std::random_device{}());
        pqxx::connection admin(url_);
        pqxx::nontransaction(admin).exec("CREATE DATABASE " + name);
        // postgresql://user@host:port/db[?params]: swap the database name.
        const size_t slash = url_.rfind('/');
        const size_t query = url_.find('?', slash);
        return url_.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url_.substr(query));
    }

    void DropFreshDatabase(const std::string& url) {
        if (GetParam() != "postgresql") return;
        const size_t slash = url.rfind('/');
        const std::string name = url.substr(slash + 1, url.find('?', slash) - slash - 1);
        pqxx::connection admin(url_);
        pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    Upload NewUploadIn(const std::string& workspace_id, const std::string& filename = "ledger.csv") {
        return store_->CreateUpload(
            NewUpload{.workspace_id = workspace_id, .filename = filename, .file_type = "csv", .file_size = 1234});
    }

    std::string CommittedUpload(const std::vector<Transaction>& rows) {
        const Upload upload = NewUploadIn(workspace_);
        auto writer = store_->BeginTransactions(workspace_, upload.id);
        writer->Write(rows);
        writer->Commit("{}");
        return upload.id;
    }

    std::vector<StoredTransaction> ReadAll(const std::string& workspace_id, const std::string& upload_id,
                                           size_t batch_size = 1000, std::vector<size_t>* batch_sizes = nullptr) {
        std::vector<StoredTransaction> out;
        store_->ForEachTransaction(workspace_id, upload_id, batch_size, [&](std::span<const StoredTransaction> batch) {
            if (batch_sizes != nullptr) batch_sizes->push_back(batch.size());
            out.insert(out.end(), batch.begin(), batch.end());
        });
        return out;
    }

    store::Run NewRunFor(const std::string& upload_id) {
        return store_->CreateRun(NewRun{.workspace_id = workspace_,
                                        .upload_id = upload_id,
                                        .strategy_name = "ad-hoc",
                                        .configuration = R"({"name": "ad-hoc", "algorithms": []})"});
    }

    // Jobs (issue 7): the job of an upload or a run of workspace_.
    Job UploadJob(const std::string& upload_id, int max_attempts = 3) {
        return store_->CreateJob(NewJob{.workspace_id = workspace_,
                                        .kind = std::string(kProcessUploadedFile),
                                        .target_id = upload_id,
                                        .max_attempts = max_attempts});
    }

    Job RunJob(const std::string& run_id, int max_attempts = 3) {
        return store_->CreateJob(NewJob{.workspace_id = workspace_,
                                        .kind = std::string(kRunAnomalyDetection),
                                        .target_id = run_id,
                                        .max_attempts = max_attempts});
    }

    // A new upload's job, claimed by worker under the lease.
    Job ClaimedUploadJob(const std::string& worker, std::chrono::milliseconds lease, int max_attempts = 3) {
        const Job job = UploadJob(NewUploadIn(workspace_).id, max_attempts);
        const auto claimed = store_->ClaimJob(job.id, worker, lease);
        if (!claimed) throw std::logic_error("a new job was not claimable");
        return *claimed;
    }

    // A new run whose job's first attempt failed and may be retried at once.
    std::pair<store::Run, Job> RetryingRunJob() {
        const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
        const Job job = RunJob(run.id);
        if (!store_->ClaimJob(job.id, "worker-a", std::chrono::hours(1))) throw std::logic_error("not claimable");
        const auto retrying = store_->FinishJob(job.id, "worker-a", {.status = "retrying", .error = "Timeout"});
        if (!retrying) throw std::logic_error("not held");
        return {run, *retrying};
    }

    std::string url_;
    std::filesystem::path dir_;
    std::unique_ptr<Store> store_;
    std::string workspace_;
};

using std::chrono_literals::operator""h;
using std::chrono_literals::operator""ms;
constexpr std::chrono::milliseconds kDeadLease = 0ms;  // a worker that died at once: the lease has run out
constexpr std::chrono::milliseconds kLiveLease = 1h;   // a worker alive for the whole test

TEST_P(StoreContractTest, BackendNamesItself) { EXPECT_EQ(store_->Backend(), GetParam()); }

TEST_P(StoreContractTest, MigrateTwiceKeepsTheVersion) {
    EXPECT_EQ(store_->Migrate(), kSchemaVersion);
    EXPECT_EQ(store_->Migrate(), kSchemaVersion);
    // A second store on the same database sees the schema as applied too.
    EXPECT_EQ(Open(url_)->Migrate(), kSchemaVersion);
}

TEST_P(StoreContractTest, ConcurrentMigrateOnAFreshDatabaseAppliesEachMigrationOnce) {
    const std::string url = FreshDatabaseUrl();
    {
        std::vector<std::unique_ptr<Store>> stores;
        for (int i = 0; i < 4; ++i) stores.push_back(Open(url));
        std::vector<int> versions(stores.size(), -1);
        std::vector<std::string> errors(stores.size());
        std::vector<std::thread> threads;
        for (size_t i = 0; i < stores.size(); ++i) {
            threads.emplace_back([&, i] {
                try {
                    versions[i] = stores[i]->Migrate();
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            });
        }
        for (auto& thread : threads) thread.join();
        for (size_t i = 0; i < stores.size(); ++i) {
            EXPECT_EQ(errors[i], "");
            EXPECT_EQ(versions[i], kSchemaVersion);
        }
        const auto fresh_default = stores[0]->GetWorkspace(kDefaultWorkspaceId);
        ASSERT_TRUE(fresh_default.has_value());
        EXPECT_EQ(fresh_default->name, "default");
    }
    DropFreshDatabase(url);
}

TEST_P(StoreContractTest, MigrationFiveTurnsPendingIntoQueuedAndProcessingIntoRunning) {
    const std::string url = FreshDatabaseUrl();
    const std::string ws(kDefaultWorkspaceId);
    const std::string pending = NewUuidV7(), processing = NewUuidV7(), completed = NewUuidV7();
    const std::string run_pending = NewUuidV7(), run_running = NewUuidV7();
    const bool sqlite = GetParam() == "sqlite";
    // Rows as version 4 wrote them; SQLite's seq is the store's, PostgreSQL's an identity column.
    std::string rows = fmt::format(
        "INSERT INTO file_uploads (id, workspace_id, {}filename, file_type, status, created_at) VALUES "
        "('{}', '{}', {}'a.csv', 'csv', 'pending', '2026-01-01T00:00:00.000Z'), "
        "('{}', '{}', {}'b.csv', 'csv', 'processing', '2026-01-01T00:00:01.000Z'), "
        "('{}', '{}', {}'c.csv', 'csv', 'completed', '2026-01-01T00:00:02.000Z');",
        sqlite ? "seq, " : "", pending, ws, sqlite ? "1, " : "", processing, ws, sqlite ? "2, " : "", completed, ws,
        sqlite ? "3, " : "");
    rows += fmt::format(
        "INSERT INTO transactions (id, workspace_id, upload_id, row_number, external_id, transaction_date, "
        "amount_minor, created_at) VALUES ('{}', '{}', '{}', 1, 'E-1', '2024-01-01', 100, '2026-01-01T00:00:03.000Z');"
        "INSERT INTO analysis_runs (id, workspace_id, upload_id, configuration, status, created_at) VALUES "
        "('{}', '{}', '{}', '{{}}', 'pending', '2026-01-01T00:00:04.000Z'), "
        "('{}', '{}', '{}', '{{}}', 'running', '2026-01-01T00:00:05.000Z');",
        NewUuidV7(), ws, completed, run_pending, ws, completed, run_running, ws, completed);
    std::string old_schema;
    for (const detail::Migration& migration :
         (sqlite ? detail::SqliteMigrations() : detail::PostgresMigrations()).first(4)) {
        old_schema += std::string(migration.sql) + ";\n";
        old_schema += fmt::format("INSERT INTO schema_migrations (version, name, applied_at) VALUES ({}, '{}', {});\n",
                                  migration.version, migration.name, sqlite ? "'2026-01-01T00:00:00.000Z'" : "now()");
    }
    if (sqlite) {
        sqlite_detail::Connection db(url);
        db.Exec("PRAGMA foreign_keys = OFF");
        db.Exec(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT "
            "NULL);" +
            old_schema + rows);
    } else {
        pqxx::connection connection(url);
        pqxx::work work(connection);
        work.exec(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ "
            "NOT NULL DEFAULT now());" +
            old_schema + rows);
        work.commit();
    }
    {
        const auto migrated = Open(url);
        ASSERT_EQ(migrated->Migrate(), kSchemaVersion);
        EXPECT_EQ(migrated->GetUpload(ws, pending)->status, "queued");
        EXPECT_EQ(migrated->GetUpload(ws, processing)->status, "running");
        EXPECT_EQ(migrated->GetUpload(ws, completed)->status, "completed");
        EXPECT_EQ(migrated->GetRun(ws, run_pending)->status, "queued");
        EXPECT_EQ(migrated->GetRun(ws, run_running)->status, "running");
        size_t kept_rows = 0;
        migrated->ForEachTransaction(ws, completed, 10, [&](auto batch) { kept_rows += batch.size(); });
        EXPECT_EQ(kept_rows, 1u);
        // The rebuilt tables keep their foreign keys: deleting the upload takes its run and rows along.
        ASSERT_TRUE(migrated->DeleteUpload(ws, completed).has_value());
        EXPECT_EQ(migrated->GetRun(ws, run_pending).error().kind, ErrorKind::kNotFound);
        EXPECT_EQ(migrated->ListUploads(ws, 10, 0).total, 2);
    }
    DropFreshDatabase(url);
}

TEST_P(StoreContractTest, SqliteInMemoryStoreIsReadyWithoutMigrate) {
    if (GetParam() != "sqlite") GTEST_SKIP() << "\":memory:\" is a SQLite path";
    const auto memory = OpenSqliteStore(":memory:");
    EXPECT_TRUE(memory->GetWorkspace(kDefaultWorkspaceId).has_value());
    EXPECT_EQ(memory->Migrate(), kSchemaVersion);
    // Two in-memory stores are two databases.
    const Workspace mine = memory->CreateWorkspace("mine");
    EXPECT_FALSE(OpenSqliteStore(":memory:")->GetWorkspace(mine.id).has_value());
}

TEST_P(StoreContractTest, DefaultWorkspaceExists) {
    const auto workspace = store_->GetWorkspace(kDefaultWorkspaceId);
    ASSERT_TRUE(workspace.has_value());
    EXPECT_EQ(workspace->id, kDefaultWorkspaceId);
    EXPECT_EQ(workspace->name, "default");
    EXPECT_TRUE(IsTimestamp(workspace->created_at)) << workspace->created_at;
}

TEST_P(StoreContractTest, CreatedWorkspaceReadsBack) {
    const Workspace created = store_->CreateWorkspace("Acme AB");
    EXPECT_TRUE(IsUuid(created.id));
    const auto read = store_->GetWorkspace(created.id);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->name, "Acme AB");
    EXPECT_EQ(read->created_at, created.created_at);
    EXPECT_TRUE(IsTimestamp(read->created_at)) << read->created_at;
}

TEST_P(StoreContractTest, UnknownOrMalformedWorkspaceIsNotFound) {
    for (const std::string& id :
         {NewUuidV7(), std::string("not-a-uuid"), std::string("'; DROP TABLE workspaces; --"), std::string("")}) {
        const auto workspace = store_->GetWorkspace(id);
        ASSERT_FALSE(workspace.has_value()) << id;
        EXPECT_EQ(workspace.error().kind, ErrorKind::kNotFound);
    }
}

TEST_P(StoreContractTest, NewUploadIsQueued) {
    const Upload created = store_->CreateUpload(NewUpload{.workspace_id = workspace_,
                                                          .filename = "huvudbok 2024.csv",
                                                          .file_type = "csv",
                                                          .file_size = 52'428'800,
                                                          .mapping = R"({"amount": "Belopp"})"});
    const auto read = store_->GetUpload(workspace_, created.id);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->id, created.id);
    EXPECT_EQ(read->workspace_id, workspace_);
    EXPECT_EQ(read->filename, "huvudbok 2024.csv");
    EXPECT_EQ(read->file_type, "csv");
    EXPECT_EQ(read->file_size, 52'428'800);
    EXPECT_EQ(read->status, "queued");
    EXPECT_EQ(read->row_count, 0);
    ExpectSameJson(R"({"amount": "Belopp"})", read->mapping);
    EXPECT_EQ(read->mapping, created.mapping);
    EXPECT_EQ(read->error_message, "");
    EXPECT_EQ(read->error_details, "");
    EXPECT_EQ(read->created_at, created.created_at);
    EXPECT_TRUE(IsTimestamp(read->created_at)) << read->created_at;
    EXPECT_EQ(read->completed_at, "");
}

TEST_P(StoreContractTest, UploadWithoutMappingHasAnEmptyObject) {
    const Upload created =
        store_->CreateUpload(NewUpload{.workspace_id = workspace_, .filename = "a.csv", .mapping = ""});
    ExpectSameJson("{}", store_->GetUpload(workspace_, created.id)->mapping);
}

TEST_P(StoreContractTest, UploadGoesFromQueuedThroughRunningToCompleted) {
    const Upload upload = NewUploadIn(workspace_);
    store_->MarkUploadProcessing(workspace_, upload.id);
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "running");

    auto writer = store_->BeginTransactions(workspace_, upload.id);
    writer->Write(std::vector{Row(1, 100), Row(2, 200)});
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "running");
    writer->Commit("{}");

    const auto done = store_->GetUpload(workspace_, upload.id);
    EXPECT_EQ(done->status, "completed");
    EXPECT_EQ(done->row_count, 2);
    EXPECT_TRUE(IsTimestamp(done->completed_at)) << done->completed_at;
    EXPECT_GE(done->completed_at, done->created_at);
}

TEST_P(StoreContractTest, RowsWrittenInBatchesComeBackInRowOrderWithEveryField) {
    std::vector<Transaction> rows;
    Transaction a = Row(1, -86226);  // "-862.26" parsed exactly
    ASSERT_EQ(ParseMoney("-862.26", '.')->minor, a.amount.minor);
    a.external_id = "A1-17-1";
    a.date = Day(2024, 3, 31);
    a.registration_date = Day(2024, 4, 2);
    a.time_seconds = 13 * 3600 + 5 * 60 + 7;
    a.text = "Hyra mars";
    a.user = "anna.svensson";
    a.counterparty = "Fastighets AB";
    a.voucher_series = "A1";
    a.voucher_number = "17";
    a.raw_data = R"({"Konto": "1930", "nested": {"list": [1, 2.5, null, true]}, "emoji": "😀"})";
    a.processed_data = R"({"log_amount": 6.76, "weekday": 7})";
    rows.push_back(a);

    Transaction b = Row(2, Money::kMaxMinor);  // 9999999999999.99, the NUMERIC(15,2) maximum
    b.text = "tab\there, newline\nhere, backslash \\ and \"quotes\", åäö €, \\N";
    b.account = "2440\t";
    b.raw_data = R"({"text": "a\tb\\c\n\"d\""})";
    b.processed_data = "";
    rows.push_back(b);

    Transaction c = Row(3, 0);
    c.external_id = "";
    c.account = "";
    c.currency = "";
    c.raw_data = "";
    rows.push_back(c);

    Transaction d = Row(4, -1);  // -0.01
    d.time_seconds = 0;          // midnight is a time, not a missing one
    d.date = Day(1969, 7, 20);   // before 1970: negative days
    d.registration_date = Day(1969, 7, 21);
    rows.push_back(d);

    Transaction e = Row(5, -Money::kMaxMinor);
    e.time_seconds = 23 * 3600 + 59 * 60 + 59;
    e.date = Day(2024, 2, 29);
    rows.push_back(e);

    Transaction f = Row(6, 123450);  // 1234.5
    f.source_line = 0;
    rows.push_back(f);

    Transaction g = Row(7, 5);
    g.raw_data = "{}";
    rows.push_back(g);

    const Upload upload = NewUploadIn(workspace_);
    auto writer = store_->BeginTransactions(workspace_, upload.id);
    writer->Write(std::span(rows).subspan(0, 3));
    writer->Write(std::span(rows).subspan(3, 2));
    writer->Write(std::span<const Transaction>());
    writer->Write(std::span(rows).subspan(5, 2));
    writer->Commit("{}");

    std::vector<size_t> batch_sizes;
    const auto stored = ReadAll(workspace_, upload.id, 3, &batch_sizes);
    EXPECT_EQ(batch_sizes, (std::vector<size_t>{3, 3, 1}));
    ASSERT_EQ(stored.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        EXPECT_TRUE(IsUuid(stored[i].id)) << stored[i].id;
        ExpectSameTransaction(rows[i], stored[i].transaction);
    }
    EXPECT_NE(stored[0].id, stored[1].id);
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->row_count, 7);
}

TEST_P(StoreContractTest, RowsComeBackInRowOrderWhateverTheWriteOrder) {
    const Upload upload = NewUploadIn(workspace_);
    auto writer = store_->BeginTransactions(workspace_, upload.id);
    writer->Write(std::vector{Row(3, 3), Row(1, 1)});
    writer->Write(std::vector{Row(2, 2)});
    writer->Commit("{}");
    const auto stored = ReadAll(workspace_, upload.id, 2);
    ASSERT_EQ(stored.size(), 3u);
    EXPECT_EQ(stored[0].transaction.row_number, 1);
    EXPECT_EQ(stored[1].transaction.row_number, 2);
    EXPECT_EQ(stored[2].transaction.row_number, 3);
}

TEST_P(StoreContractTest, DestroyingAnUncommittedWriterLeavesNoRowsAndTheStatusUnchanged) {
    const Upload upload = NewUploadIn(workspace_);
    store_->MarkUploadProcessing(workspace_, upload.id);
    {
        auto writer = store_->BeginTransactions(workspace_, upload.id);
        writer->Write(std::vector{Row(1, 10), Row(2, 20), Row(3, 30)});
    }
    const auto after = store_->GetUpload(workspace_, upload.id);
    EXPECT_EQ(after->status, "running");
    EXPECT_EQ(after->row_count, 0);
    EXPECT_EQ(after->completed_at, "");
    EXPECT_TRUE(ReadAll(workspace_, upload.id).empty());

    // The rolled-back rows left nothing behind: the same row numbers and ids can be written again.
    auto retry = store_->BeginTransactions(workspace_, upload.id);
    retry->Write(std::vector{Row(1, 10), Row(2, 20), Row(3, 30)});
    retry->Commit("{}");
    EXPECT_EQ(ReadAll(workspace_, upload.id).size(), 3u);
}

TEST_P(StoreContractTest, UncommittedRowsAreInvisibleToOtherReaders) {
    const Upload upload = NewUploadIn(workspace_);
    auto writer = store_->BeginTransactions(workspace_, upload.id);
    writer->Write(std::vector{Row(1, 10)});
    EXPECT_TRUE(ReadAll(workspace_, upload.id).empty());
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "queued");
    writer->Commit("{}");
    EXPECT_EQ(ReadAll(workspace_, upload.id).size(), 1u);
}

TEST_P(StoreContractTest, WriterMisuseIsRejected) {
    const Upload upload = NewUploadIn(workspace_);
    auto writer = store_->BeginTransactions(workspace_, upload.id);
    writer->Commit("{}");
    EXPECT_THROW(writer->Write(std::vector{Row(1, 1)}), std::logic_error);
    EXPECT_THROW(writer->Commit("{}"), std::logic_error);
    // Committing no rows still completes the upload.
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "completed");
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->row_count, 0);
}

TEST_P(StoreContractTest, DuplicateRowNumberFailsTheWriteAndKeepsNothing) {
    const Upload upload = NewUploadIn(workspace_);
    {
        auto writer = store_->BeginTransactions(workspace_, upload.id);
        Transaction duplicate = Row(1, 1);
        duplicate.external_id = "other";
        EXPECT_THROW(
            {
                writer->Write(std::vector{Row(1, 1), duplicate});
                writer->Commit("{}");
            },
            std::runtime_error);
    }
    EXPECT_TRUE(ReadAll(workspace_, upload.id).empty());
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "queued");
}

TEST_P(StoreContractTest, CommitStoresTheUploadMetadataWithTheRows) {
    const Upload upload = NewUploadIn(workspace_);
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->metadata, "{}");
    auto writer = store_->BeginTransactions(workspace_, upload.id);
    writer->Write(std::vector<Transaction>{Row(1, 1), Row(2, 2)});
    writer->Commit(R"({"format": "sie", "rows_read": 2, "problems": [{"code": "unknown_label"}]})");

    const auto stored = store_->GetUpload(workspace_, upload.id);
    EXPECT_EQ(stored->status, "completed");
    EXPECT_EQ(stored->row_count, 2);
    ExpectSameJson(R"({"format": "sie", "rows_read": 2, "problems": [{"code": "unknown_label"}]})", stored->metadata);
}

// http_status is what an upload the client waited for answers (POST /upload?wait=true).
TEST_P(StoreContractTest, FailUploadRecordsTheErrorAndDeletesTheRows) {
    const std::string upload_id = CommittedUpload({Row(1, 1), Row(2, 2), Row(3, 3)});
    Error error = InvalidInput("bad_amount", "The amount 'abc' is not a number.");
    error.file = "ledger.csv";
    error.line = 17;
    error.column = "amount";
    store_->FailUpload(workspace_, upload_id, error, R"({"format": "csv", "rows_rejected": 1})");

    const auto upload = store_->GetUpload(workspace_, upload_id);
    EXPECT_EQ(upload->status, "failed");
    ExpectSameJson(R"({"format": "csv", "rows_rejected": 1})", upload->metadata);
    EXPECT_EQ(upload->row_count, 0);
    EXPECT_EQ(upload->error_message, "The amount 'abc' is not a number.");
    ExpectSameJson(R"({"error": "bad_amount", "message": "The amount 'abc' is not a number.", "line": 17,
                       "column": "amount", "http_status": 422})",
                   upload->error_details);
    EXPECT_TRUE(ReadAll(workspace_, upload_id).empty());
}

TEST_P(StoreContractTest, FailUploadWithoutALocationHasNullLineAndColumn) {
    const Upload upload = NewUploadIn(workspace_);
    store_->FailUpload(workspace_, upload.id, Internal("disk full"), "{}");
    ExpectSameJson(R"({"error": "internal", "message": "disk full", "line": null, "column": null, "http_status": 500})",
                   store_->GetUpload(workspace_, upload.id)->error_details);
}

TEST_P(StoreContractTest, AnotherWorkspacesUploadIsNotFound) {
    const std::string upload_id = CommittedUpload({Row(1, 1)});
    const std::string other = store_->CreateWorkspace("other").id;

    const auto foreign = store_->GetUpload(other, upload_id);
    ASSERT_FALSE(foreign.has_value());
    EXPECT_EQ(foreign.error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->ListUploads(other, 50, 0).total, 0);
    EXPECT_TRUE(ReadAll(other, upload_id).empty());
    EXPECT_THROW(store_->MarkUploadProcessing(other, upload_id), std::invalid_argument);
    EXPECT_THROW(store_->FailUpload(other, upload_id, Internal("x"), "{}"), std::invalid_argument);
    EXPECT_THROW(store_->BeginTransactions(other, upload_id), std::invalid_argument);
    EXPECT_EQ(store_->GetUpload(workspace_, upload_id)->status, "completed");
    EXPECT_EQ(ReadAll(workspace_, upload_id).size(), 1u);
}

TEST_P(StoreContractTest, MalformedIdsAreNotFoundAndNeverReachSql) {
    const std::string upload_id = CommittedUpload({Row(1, 1)});
    for (const std::string& bad : {std::string("not-a-uuid"), std::string("'; DELETE FROM file_uploads; --"),
                                   upload_id.substr(0, 35), upload_id + "0", std::string("")}) {
        SCOPED_TRACE(bad);
        const auto upload = store_->GetUpload(workspace_, bad);
        ASSERT_FALSE(upload.has_value());
        EXPECT_EQ(upload.error().kind, ErrorKind::kNotFound);
        EXPECT_EQ(store_->GetUpload(bad, upload_id).error().kind, ErrorKind::kNotFound);
        EXPECT_EQ(store_->GetRun(workspace_, bad).error().kind, ErrorKind::kNotFound);
        EXPECT_EQ(store_->GetStrategy(workspace_, bad).error().kind, ErrorKind::kNotFound);
        EXPECT_TRUE(ReadAll(workspace_, bad).empty());
        EXPECT_EQ(store_->ListUploads(bad, 50, 0).total, 0);
        EXPECT_EQ(store_->ListResults(workspace_, bad, {}).total, 0);
        EXPECT_THROW(store_->MarkUploadProcessing(workspace_, bad), std::invalid_argument);
    }
    EXPECT_EQ(store_->GetUpload(workspace_, upload_id)->status, "completed");
}

TEST_P(StoreContractTest, UppercaseIdsFindTheSameRow) {
    const Upload upload = NewUploadIn(workspace_);
    std::string upper = upload.id;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const auto read = store_->GetUpload(workspace_, upper);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->id, upload.id);
}

TEST_P(StoreContractTest, ListUploadsPagesNewestFirstWithTheTotal) {
    std::vector<std::string> ids;
    for (int i = 1; i <= 5; ++i) ids.push_back(NewUploadIn(workspace_, "f" + std::to_string(i) + ".csv").id);
    NewUploadIn(store_->CreateWorkspace("noise").id);  // another workspace's upload is never counted

    auto names = [](const Page<Upload>& page) {
        std::vector<std::string> out;
        for (const Upload& upload : page.items) out.push_back(upload.filename);
        return out;
    };
    const auto first = store_->ListUploads(workspace_, 2, 0);
    EXPECT_EQ(first.total, 5);
    EXPECT_EQ(names(first), (std::vector<std::string>{"f5.csv", "f4.csv"}));
    EXPECT_EQ(first.items[0].id, ids[4]);
    EXPECT_EQ(names(store_->ListUploads(workspace_, 2, 2)), (std::vector<std::string>{"f3.csv", "f2.csv"}));
    EXPECT_EQ(names(store_->ListUploads(workspace_, 2, 4)), (std::vector<std::string>{"f1.csv"}));
    const auto past_end = store_->ListUploads(workspace_, 2, 5);
    EXPECT_TRUE(past_end.items.empty());
    EXPECT_EQ(past_end.total, 5);
    EXPECT_EQ(store_->ListUploads(workspace_, 50, -3).items.size(), 5u);  // a negative offset counts as 0
}

TEST_P(StoreContractTest, RunGoesFromQueuedThroughRunningToCompleted) {
    const std::string upload_id = CommittedUpload({Row(1, 1), Row(2, 2), Row(3, 3)});
    const Strategy strategy = *store_->CreateStrategy(
        NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = R"({"name": "audit"})"});
    const store::Run created = store_->CreateRun(NewRun{.workspace_id = workspace_,
                                                        .upload_id = upload_id,
                                                        .strategy_id = strategy.id,
                                                        .strategy_name = "audit",
                                                        .configuration = R"({"name":  "audit"})"});
    auto run = store_->GetRun(workspace_, created.id);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run->status, "queued");
    EXPECT_EQ(run->upload_id, upload_id);
    EXPECT_EQ(run->strategy_id, strategy.id);
    EXPECT_EQ(run->strategy_name, "audit");
    EXPECT_EQ(run->configuration, R"({"name":  "audit"})");
    EXPECT_EQ(run->progress, 0.0);
    EXPECT_EQ(run->stage, "");
    ExpectSameJson("{}", run->metadata);
    EXPECT_EQ(run->created_at, created.created_at);
    EXPECT_EQ(run->started_at, "");
    EXPECT_EQ(run->completed_at, "");

    store_->UpdateRunProgress(workspace_, created.id, "loading", 0.0, "");
    run = store_->GetRun(workspace_, created.id);
    EXPECT_EQ(run->status, "running");
    EXPECT_TRUE(IsTimestamp(run->started_at)) << run->started_at;
    const std::string started_at = run->started_at;

    store_->UpdateRunProgress(workspace_, created.id, "zscore", 0.25, "");
    run = store_->GetRun(workspace_, created.id);
    EXPECT_EQ(run->stage, "zscore");
    EXPECT_EQ(run->progress, 0.25);
    EXPECT_EQ(run->started_at, started_at);  // set once

    const auto stored = ReadAll(workspace_, upload_id);
    const std::vector<AnalysisResult> results = {
        {.transaction_id = stored[0].id, .score = 0.9, .flagged = true, .rank = 1, .reasons = R"(["big"])"},
        {.transaction_id = stored[1].id, .score = 0.2, .flagged = false, .rank = 2, .reasons = "[]"},
        {.transaction_id = stored[2].id, .score = 0.1, .flagged = false, .rank = 3, .reasons = "[]"}};
    store_->CompleteRun(workspace_, created.id, {}, results, R"({"rows": 3, "timings": {"load_ms": 1.5}})");
    run = store_->GetRun(workspace_, created.id);
    EXPECT_EQ(run->status, "completed");
    EXPECT_EQ(run->progress, 1.0);
    EXPECT_EQ(run->flagged_count, 1);
    ExpectSameJson(R"({"rows": 3, "timings": {"load_ms": 1.5}})", run->metadata);
    EXPECT_TRUE(IsTimestamp(run->completed_at)) << run->completed_at;
    EXPECT_EQ(run->started_at, started_at);

    // A late progress report does not reopen a finished run.
    store_->UpdateRunProgress(workspace_, created.id, "late", 0.5, "");
    EXPECT_EQ(store_->GetRun(workspace_, created.id)->status, "completed");
}

TEST_P(StoreContractTest, AdHocRunHasNoStrategyId) {
    const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->strategy_id, "");
}

TEST_P(StoreContractTest, RunOfAnotherWorkspaceIsNotFoundAndCannotBeChanged) {
    const store::Run run = NewRunFor(CommittedUpload({Row(1, 1)}));
    const std::string other = store_->CreateWorkspace("other").id;
    EXPECT_EQ(store_->GetRun(other, run.id).error().kind, ErrorKind::kNotFound);
    EXPECT_THROW(store_->UpdateRunProgress(other, run.id, "x", 0.5, ""), std::invalid_argument);
    EXPECT_THROW(store_->FailRun(other, run.id, "x"), std::invalid_argument);
    EXPECT_THROW(store_->CompleteRun(other, run.id, {}, {}, "{}"), std::invalid_argument);
    EXPECT_THROW(store_->UpdateRunProgress(workspace_, NewUuidV7(), "x", 0.5, ""), std::invalid_argument);
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->status, "queued");
    // A run cannot be created on another workspace's upload either.
    EXPECT_THROW(store_->CreateRun(NewRun{.workspace_id = other, .upload_id = run.upload_id, .configuration = "{}"}),
                 std::invalid_argument);
}

TEST_P(StoreContractTest, ProgressIsKeptBetweenZeroAndOne) {
    const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
    store_->UpdateRunProgress(workspace_, run.id, "a", 1.7, "");
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->progress, 1.0);
    store_->UpdateRunProgress(workspace_, run.id, "b", -0.5, "");
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->progress, 0.0);
    store_->UpdateRunProgress(workspace_, run.id, "c", 0.75, "");
    store_->UpdateRunProgress(workspace_, run.id, "d", std::numeric_limits<double>::quiet_NaN(), "");
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->progress, 0.0);
}

TEST_P(StoreContractTest, CreatingInAnUnknownWorkspaceIsRejected) {
    const std::string unknown = NewUuidV7();
    EXPECT_THROW(NewUploadIn(unknown), std::invalid_argument);
    EXPECT_THROW(NewUploadIn("not-a-uuid"), std::invalid_argument);
    EXPECT_THROW(store_->CreateStrategy(NewStrategy{.workspace_id = unknown, .name = "x", .configuration = "{}"}),
                 std::invalid_argument);
}

TEST_P(StoreContractTest, FailRunRecordsTheMessage) {
    const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
    store_->UpdateRunProgress(workspace_, run.id, "zscore", 0.5, "");
    store_->FailRun(workspace_, run.id, "The analysis stopped: out of memory");
    const auto failed = store_->GetRun(workspace_, run.id);
    EXPECT_EQ(failed->status, "failed");
    EXPECT_EQ(failed->error_message, "The analysis stopped: out of memory");
    EXPECT_TRUE(IsTimestamp(failed->completed_at)) << failed->completed_at;
}

// Six rows, given in row order and ranked by score; ranks 1 and 2 are flagged. Row: score, rank.
//   1: 0.10 6   2: 0.95 1   3: 0.50 3   4: 0.80 2   5: 0.20 5   6: 0.45 4
constexpr double kResultScore[] = {0.10, 0.95, 0.50, 0.80, 0.20, 0.45};
constexpr int64_t kResultRank[] = {6, 1, 3, 2, 5, 4};

TEST_P(StoreContractTest, ListResultsOrdersByRankFiltersAndPages) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 6; ++i) rows.push_back(Row(i, i * 1000));
    const std::string upload_id = CommittedUpload(rows);
    const auto stored = ReadAll(workspace_, upload_id);
    const store::Run run = NewRunFor(upload_id);

    std::vector<AlgorithmScore> scores;
    std::vector<AnalysisResult> results;
    for (size_t i = 0; i < 6; ++i) {
        const double score = kResultScore[i];
        // zscore before benford: the store sorts each row's scores by algorithm name.
        scores.push_back({.transaction_id = stored[i].id,
                          .algorithm = "zscore",
                          .score = score,
                          .confidence = 0.9,
                          .reason = "z " + std::to_string(i + 1)});
        scores.push_back(
            {.transaction_id = stored[i].id, .algorithm = "benford", .score = 1.0 - score, .confidence = 0.5});
        results.push_back({.transaction_id = stored[i].id,
                           .score = score,
                           .flagged = kResultRank[i] <= 2,
                           .rank = kResultRank[i],
                           .reasons = R"(["reason of row )" + std::to_string(i + 1) + R"("])"});
    }
    store_->CompleteRun(workspace_, run.id, scores, results, "{}");
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->flagged_count, 2);

    auto row_numbers = [](const Page<ResultRow>& page) {
        std::vector<int64_t> out;
        for (const ResultRow& row : page.items) out.push_back(row.transaction.transaction.row_number);
        return out;
    };
    const auto all = store_->ListResults(workspace_, run.id, {});
    EXPECT_EQ(all.total, 6);
    EXPECT_EQ(row_numbers(all), (std::vector<int64_t>{2, 4, 3, 6, 5, 1}));

    const auto top = all.items[0];
    EXPECT_EQ(top.result.transaction_id, stored[1].id);
    EXPECT_EQ(top.result.score, 0.95);
    EXPECT_TRUE(top.result.flagged);
    EXPECT_EQ(top.result.rank, 1);
    ExpectSameJson(R"(["reason of row 2"])", top.result.reasons);
    EXPECT_EQ(top.transaction.id, stored[1].id);
    ExpectSameTransaction(rows[1], top.transaction.transaction);
    ASSERT_EQ(top.algorithm_scores.size(), 2u);
    EXPECT_EQ(top.algorithm_scores[0].algorithm, "benford");
    EXPECT_EQ(top.algorithm_scores[0].score, 1.0 - 0.95);
    EXPECT_EQ(top.algorithm_scores[0].confidence, 0.5);
    EXPECT_EQ(top.algorithm_scores[0].reason, "");
    EXPECT_EQ(top.algorithm_scores[1].algorithm, "zscore");
    EXPECT_EQ(top.algorithm_scores[1].score, 0.95);
    EXPECT_EQ(top.algorithm_scores[1].confidence, 0.9);
    EXPECT_EQ(top.algorithm_scores[1].reason, "z 2");
    EXPECT_EQ(top.algorithm_scores[1].transaction_id, stored[1].id);
    for (const ResultRow& row : all.items) EXPECT_EQ(row.algorithm_scores.size(), 2u);

    const auto at_least = store_->ListResults(workspace_, run.id, {.min_score = 0.45});  // 0.45 itself included
    EXPECT_EQ(at_least.total, 4);
    EXPECT_EQ(row_numbers(at_least), (std::vector<int64_t>{2, 4, 3, 6}));

    const auto flagged = store_->ListResults(workspace_, run.id, {.flagged_only = true});
    EXPECT_EQ(flagged.total, 2);
    EXPECT_EQ(row_numbers(flagged), (std::vector<int64_t>{2, 4}));

    const auto page = store_->ListResults(workspace_, run.id, {.limit = 2, .offset = 2});
    EXPECT_EQ(page.total, 6);
    EXPECT_EQ(row_numbers(page), (std::vector<int64_t>{3, 6}));

    const auto filtered_page = store_->ListResults(workspace_, run.id, {.min_score = 0.45, .limit = 3, .offset = 3});
    EXPECT_EQ(filtered_page.total, 4);
    EXPECT_EQ(row_numbers(filtered_page), (std::vector<int64_t>{6}));

    const auto both = store_->ListResults(workspace_, run.id, {.min_score = 0.9, .flagged_only = true});
    EXPECT_EQ(both.total, 1);
    EXPECT_EQ(row_numbers(both), (std::vector<int64_t>{2}));

    const auto beyond = store_->ListResults(workspace_, run.id, {.offset = 10});
    EXPECT_TRUE(beyond.items.empty());
    EXPECT_EQ(beyond.total, 6);

    const auto foreign = store_->ListResults(store_->CreateWorkspace("other").id, run.id, {});
    EXPECT_TRUE(foreign.items.empty());
    EXPECT_EQ(foreign.total, 0);
}

TEST_P(StoreContractTest, CompleteRunTwiceLeavesOnlyTheSecondSetOfRows) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 4; ++i) rows.push_back(Row(i, i));
    const std::string upload_id = CommittedUpload(rows);
    const auto stored = ReadAll(workspace_, upload_id);
    const store::Run run = NewRunFor(upload_id);

    std::vector<AlgorithmScore> scores;
    std::vector<AnalysisResult> results;
    for (size_t i = 0; i < 4; ++i) {
        for (const char* algorithm : {"zscore", "benford"}) {
            scores.push_back({.transaction_id = stored[i].id, .algorithm = algorithm, .score = 0.5});
        }
        results.push_back({.transaction_id = stored[i].id,
                           .score = 0.5,
                           .flagged = true,
                           .rank = static_cast<int64_t>(i + 1),
                           .reasons = "[]"});
    }
    store_->CompleteRun(workspace_, run.id, scores, results, R"({"attempt": 1})");
    EXPECT_EQ(store_->ListResults(workspace_, run.id, {}).total, 4);

    const std::vector<AlgorithmScore> retry_scores = {
        {.transaction_id = stored[3].id, .algorithm = "isolation_forest", .score = 0.7},
        {.transaction_id = stored[2].id, .algorithm = "isolation_forest", .score = 0.6}};
    const std::vector<AnalysisResult> retry_results = {
        {.transaction_id = stored[3].id, .score = 0.7, .flagged = true, .rank = 1, .reasons = "[]"},
        {.transaction_id = stored[2].id, .score = 0.6, .flagged = false, .rank = 2, .reasons = "[]"}};
    store_->CompleteRun(workspace_, run.id, retry_scores, retry_results, R"({"attempt": 2})");

    const auto page = store_->ListResults(workspace_, run.id, {});
    EXPECT_EQ(page.total, 2);
    ASSERT_EQ(page.items.size(), 2u);
    EXPECT_EQ(page.items[0].transaction.transaction.row_number, 4);
    EXPECT_EQ(page.items[1].transaction.transaction.row_number, 3);
    for (const ResultRow& row : page.items) {
        ASSERT_EQ(row.algorithm_scores.size(), 1u);
        EXPECT_EQ(row.algorithm_scores[0].algorithm, "isolation_forest");
    }
    const auto completed = store_->GetRun(workspace_, run.id);
    EXPECT_EQ(completed->flagged_count, 1);
    ExpectSameJson(R"({"attempt": 2})", completed->metadata);
}

// Compares two pages of results field by field, ignoring only the run they belong to.
void ExpectSameResults(const Page<ResultRow>& expected, const Page<ResultRow>& actual) {
    EXPECT_EQ(expected.total, actual.total);
    ASSERT_EQ(expected.items.size(), actual.items.size());
    for (size_t i = 0; i < expected.items.size(); ++i) {
        const ResultRow& e = expected.items[i];
        const ResultRow& a = actual.items[i];
        SCOPED_TRACE("result " + std::to_string(i));
        EXPECT_EQ(e.result.transaction_id, a.result.transaction_id);
        EXPECT_EQ(e.result.score, a.result.score);
        EXPECT_EQ(e.result.flagged, a.result.flagged);
        EXPECT_EQ(e.result.rank, a.result.rank);
        ExpectSameJson(e.result.reasons, a.result.reasons);
        EXPECT_EQ(e.transaction.id, a.transaction.id);
        ASSERT_EQ(e.algorithm_scores.size(), a.algorithm_scores.size());
        for (size_t j = 0; j < e.algorithm_scores.size(); ++j) {
            EXPECT_EQ(e.algorithm_scores[j].transaction_id, a.algorithm_scores[j].transaction_id);
            EXPECT_EQ(e.algorithm_scores[j].algorithm, a.algorithm_scores[j].algorithm);
            EXPECT_EQ(e.algorithm_scores[j].score, a.algorithm_scores[j].score);
            EXPECT_EQ(e.algorithm_scores[j].confidence, a.algorithm_scores[j].confidence);
            EXPECT_EQ(e.algorithm_scores[j].reason, a.algorithm_scores[j].reason);
        }
    }
}

// Two algorithms' scores and one result per stored row; rows whose index is in flagged are flagged.
struct RunRows {
    std::vector<AlgorithmScore> scores;
    std::vector<AnalysisResult> results;
};

RunRows RunRowsFor(const std::vector<StoredTransaction>& stored, const std::vector<size_t>& flagged = {}) {
    RunRows out;
    for (size_t i = 0; i < stored.size(); ++i) {
        const double score = 1.0 / static_cast<double>(i + 2);
        out.scores.push_back({.transaction_id = stored[i].id,
                              .algorithm = "zscore",
                              .score = score,
                              .confidence = 0.9,
                              .reason = "z " + std::to_string(i)});
        out.scores.push_back(
            {.transaction_id = stored[i].id, .algorithm = "benford", .score = 1.0 - score, .confidence = 0.5});
        out.results.push_back({.transaction_id = stored[i].id,
                               .score = score,
                               .flagged = std::find(flagged.begin(), flagged.end(), i) != flagged.end(),
                               .rank = static_cast<int64_t>(i + 1),
                               .reasons = R"(["row )" + std::to_string(i) + R"("])"});
    }
    return out;
}

TEST_P(StoreContractTest, RunResultsWrittenInInterleavedChunksMatchCompleteRun) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 6; ++i) rows.push_back(Row(i, i * 1000));
    const std::string upload_id = CommittedUpload(rows);
    const RunRows run_rows = RunRowsFor(ReadAll(workspace_, upload_id), {0, 3, 4});

    const store::Run whole = NewRunFor(upload_id);
    store_->CompleteRun(workspace_, whole.id, run_rows.scores, run_rows.results, R"({"rows": 6})");

    const store::Run chunked = NewRunFor(upload_id);
    {
        const std::span<const AlgorithmScore> scores(run_rows.scores);
        const std::span<const AnalysisResult> results(run_rows.results);
        auto writer = store_->BeginRunResults(workspace_, chunked.id);
        writer->WriteResults(results.subspan(0, 1));
        writer->WriteScores(scores.subspan(0, 5));
        writer->WriteScores({});
        writer->WriteResults(results.subspan(1, 3));
        writer->WriteResults({});
        writer->WriteScores(scores.subspan(5, 4));
        writer->WriteResults(results.subspan(4));
        writer->WriteScores(scores.subspan(9));
        writer->Commit(R"({"rows": 6})");
    }

    ExpectSameResults(store_->ListResults(workspace_, whole.id, {}), store_->ListResults(workspace_, chunked.id, {}));
    const auto expected = store_->GetRun(workspace_, whole.id);
    const auto actual = store_->GetRun(workspace_, chunked.id);
    EXPECT_EQ(actual->status, "completed");
    EXPECT_EQ(actual->progress, expected->progress);
    EXPECT_EQ(actual->stage, expected->stage);
    EXPECT_EQ(actual->flagged_count, 3);
    EXPECT_EQ(actual->flagged_count, expected->flagged_count);
    ExpectSameJson(expected->metadata, actual->metadata);
    EXPECT_TRUE(IsTimestamp(actual->completed_at)) << actual->completed_at;
}

TEST_P(StoreContractTest, DestroyingAnUncommittedRunResultWriterKeepsThePreviousResultsAndStatus) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 4; ++i) rows.push_back(Row(i, i));
    const std::string upload_id = CommittedUpload(rows);
    const auto stored = ReadAll(workspace_, upload_id);
    const store::Run run = NewRunFor(upload_id);
    const RunRows first = RunRowsFor(stored, {1});
    store_->CompleteRun(workspace_, run.id, first.scores, first.results, R"({"attempt": 1})");
    const auto results_before = store_->ListResults(workspace_, run.id, {});
    const auto run_before = store_->GetRun(workspace_, run.id);

    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        const RunRows retry = RunRowsFor({stored[2], stored[3]}, {0, 1});
        writer->WriteScores(retry.scores);
        writer->WriteResults(retry.results);
        // Readers see only committed rows meanwhile.
        ExpectSameResults(results_before, store_->ListResults(workspace_, run.id, {}));
    }

    ExpectSameResults(results_before, store_->ListResults(workspace_, run.id, {}));
    const auto run_after = store_->GetRun(workspace_, run.id);
    EXPECT_EQ(run_after->status, "completed");
    EXPECT_EQ(run_after->flagged_count, 1);
    ExpectSameJson(R"({"attempt": 1})", run_after->metadata);
    EXPECT_EQ(run_after->completed_at, run_before->completed_at);
}

TEST_P(StoreContractTest, DestroyingAnUncommittedRunResultWriterLeavesARunningRunRunning) {
    const std::string upload_id = CommittedUpload({Row(1, 1), Row(2, 2)});
    const store::Run run = NewRunFor(upload_id);
    store_->UpdateRunProgress(workspace_, run.id, "writing", 0.9, "");
    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        const RunRows rows = RunRowsFor(ReadAll(workspace_, upload_id), {0});
        writer->WriteResults(rows.results);
        writer->WriteScores(rows.scores);
    }
    const auto after = store_->GetRun(workspace_, run.id);
    EXPECT_EQ(after->status, "running");
    EXPECT_EQ(after->stage, "writing");
    EXPECT_EQ(after->progress, 0.9);
    EXPECT_EQ(after->flagged_count, 0);
    EXPECT_EQ(after->completed_at, "");
    EXPECT_EQ(store_->ListResults(workspace_, run.id, {}).total, 0);
}

TEST_P(StoreContractTest, TwoRunResultWritersForOneRunTakeTurnsAndLeaveOneSetOfRows) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 4; ++i) rows.push_back(Row(i, i));
    const std::string upload_id = CommittedUpload(rows);
    const auto stored = ReadAll(workspace_, upload_id);
    const store::Run run = NewRunFor(upload_id);

    auto first = store_->BeginRunResults(workspace_, run.id);
    const RunRows first_rows = RunRowsFor(stored, {0, 1, 2, 3});
    first->WriteScores(first_rows.scores);
    first->WriteResults(first_rows.results);
    // The second writer starts while the first is open: it waits for the run, then replaces the first one's rows.
    const RunRows second_rows = RunRowsFor({stored[3], stored[2]}, {0});
    std::string second_error;
    std::thread second_thread([&] {
        try {
            auto second = store_->BeginRunResults(workspace_, run.id);
            second->WriteResults(second_rows.results);
            second->WriteScores(second_rows.scores);
            second->Commit(R"({"attempt": 2})");
        } catch (const std::exception& e) {
            second_error = e.what();
        }
    });
    first->Commit(R"({"attempt": 1})");
    first.reset();
    second_thread.join();
    ASSERT_EQ(second_error, "");

    const auto page = store_->ListResults(workspace_, run.id, {});
    EXPECT_EQ(page.total, 2);
    ASSERT_EQ(page.items.size(), 2u);
    EXPECT_EQ(page.items[0].transaction.id, stored[3].id);
    EXPECT_EQ(page.items[1].transaction.id, stored[2].id);
    for (const ResultRow& row : page.items) EXPECT_EQ(row.algorithm_scores.size(), 2u);
    const auto completed = store_->GetRun(workspace_, run.id);
    EXPECT_EQ(completed->flagged_count, 1);
    ExpectSameJson(R"({"attempt": 2})", completed->metadata);
}

TEST_P(StoreContractTest, RunResultWriterCountsFlaggedResultsAcrossChunks) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 7; ++i) rows.push_back(Row(i, i));
    const std::string upload_id = CommittedUpload(rows);
    const RunRows run_rows = RunRowsFor(ReadAll(workspace_, upload_id), {0, 2, 3, 6});
    const store::Run run = NewRunFor(upload_id);
    {
        const std::span<const AnalysisResult> results(run_rows.results);
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteResults(results.subspan(0, 2));  // 1 flagged
        writer->WriteResults(results.subspan(2, 2));  // 2 flagged
        writer->WriteResults(results.subspan(4, 2));  // none
        writer->WriteResults(results.subspan(6));     // 1 flagged
        writer->Commit("{}");
    }
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->flagged_count, 4);
    EXPECT_EQ(store_->ListResults(workspace_, run.id, {.flagged_only = true}).total, 4);
    EXPECT_EQ(store_->ListResults(workspace_, run.id, {}).total, 7);
}

TEST_P(StoreContractTest, RunResultWriterMisuseIsRejected) {
    const store::Run run = NewRunFor(CommittedUpload({Row(1, 1)}));
    EXPECT_THROW(store_->BeginRunResults(store_->CreateWorkspace("other").id, run.id), std::invalid_argument);
    EXPECT_THROW(store_->BeginRunResults(workspace_, NewUuidV7()), std::invalid_argument);
    EXPECT_THROW(store_->BeginRunResults(workspace_, "not-a-uuid"), std::invalid_argument);

    auto writer = store_->BeginRunResults(workspace_, run.id);
    EXPECT_THROW(writer->WriteResults(std::vector<AnalysisResult>{{.transaction_id = "not-a-uuid", .rank = 1}}),
                 std::invalid_argument);
    writer->Commit("{}");
    EXPECT_THROW(writer->WriteScores({}), std::logic_error);
    EXPECT_THROW(writer->WriteResults({}), std::logic_error);
    EXPECT_THROW(writer->Commit("{}"), std::logic_error);
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->status, "completed");
    EXPECT_EQ(store_->ListResults(workspace_, run.id, {}).total, 0);
}

void ExpectSameFlag(const RuleFlag& expected, const RuleFlag& actual) {
    SCOPED_TRACE(expected.rule_name + " on " + expected.transaction_id);
    EXPECT_EQ(expected.transaction_id, actual.transaction_id);
    EXPECT_EQ(expected.rule_name, actual.rule_name);
    EXPECT_EQ(expected.triggered, actual.triggered);
    EXPECT_EQ(expected.flag_value, actual.flag_value);
    ExpectSameJson(expected.metadata, actual.metadata);
}

TEST_P(StoreContractTest, RuleFlagsWrittenInChunksReadBackInFileOrderThenRuleNameWithEveryField) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 3; ++i) rows.push_back(Row(i, i));
    const std::string upload_id = CommittedUpload(rows);
    const auto stored = ReadAll(workspace_, upload_id);
    const RunRows run_rows = RunRowsFor(stored, {0});
    const store::Run run = NewRunFor(upload_id);
    // Written against file order and rule order, between the scores and results.
    const std::vector<RuleFlag> flags = {
        {.transaction_id = stored[2].id, .rule_name = "timing.weekend", .flag_value = 6},
        {.transaction_id = stored[0].id,
         .rule_name = "timing.late_posting",
         .flag_value = 0.1 + 0.2,  // 0.30000000000000004: only the shortest exact text keeps it
         .metadata = R"({"threshold_days": 30, "matched": null})"},
        {.transaction_id = stored[0].id, .rule_name = "duplicates.exact", .triggered = false, .flag_value = -1e300},
        {.transaction_id = stored[2].id, .rule_name = "Timing.upper", .flag_value = 1234567.89, .metadata = "{}"}};
    {
        const std::span<const RuleFlag> all(flags);
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteFlags(all.subspan(0, 1));
        writer->WriteScores(run_rows.scores);
        writer->WriteFlags(all.subspan(1, 2));
        writer->WriteFlags({});
        writer->WriteResults(run_rows.results);
        writer->WriteFlags(all.subspan(3));
        writer->Commit("{}");
    }

    const Page<RuleFlag> page = store_->ListRuleFlags(workspace_, run.id, 50, 0);
    EXPECT_EQ(page.total, 4);
    // Row 1 before row 3; within a row, rule names by bytes ("T" < "t").
    ASSERT_EQ(page.items.size(), 4u);
    ExpectSameFlag(flags[2], page.items[0]);
    ExpectSameFlag(flags[1], page.items[1]);
    ExpectSameFlag(flags[3], page.items[2]);
    ExpectSameFlag(flags[0], page.items[3]);
    // The scores and results went in with them.
    EXPECT_EQ(store_->ListResults(workspace_, run.id, {}).total, 3);
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->flagged_count, 1);

    const Page<RuleFlag> second = store_->ListRuleFlags(workspace_, run.id, 2, 1);
    EXPECT_EQ(second.total, 4);
    ASSERT_EQ(second.items.size(), 2u);
    ExpectSameFlag(flags[1], second.items[0]);
    ExpectSameFlag(flags[3], second.items[1]);
    EXPECT_TRUE(store_->ListRuleFlags(workspace_, run.id, 50, 4).items.empty());
}

TEST_P(StoreContractTest, RuleFlagsAreInvisibleUntilCommitAndARetryLeavesOnlyItsOwn) {
    const std::string upload_id = CommittedUpload({Row(1, 1), Row(2, 2)});
    const auto stored = ReadAll(workspace_, upload_id);
    const store::Run run = NewRunFor(upload_id);
    const std::vector<RuleFlag> first = {{.transaction_id = stored[0].id, .rule_name = "a.one", .flag_value = 1},
                                         {.transaction_id = stored[1].id, .rule_name = "a.one", .flag_value = 2}};
    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteFlags(first);
        EXPECT_EQ(store_->ListRuleFlags(workspace_, run.id, 50, 0).total, 0);
        writer->Commit("{}");
    }
    EXPECT_EQ(store_->ListRuleFlags(workspace_, run.id, 50, 0).total, 2);

    // An abandoned retry changes nothing.
    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteFlags(std::vector<RuleFlag>{{.transaction_id = stored[0].id, .rule_name = "b.two"}});
    }
    const Page<RuleFlag> kept = store_->ListRuleFlags(workspace_, run.id, 50, 0);
    ASSERT_EQ(kept.items.size(), 2u);
    ExpectSameFlag(first[0], kept.items[0]);
    ExpectSameFlag(first[1], kept.items[1]);

    // A committed retry replaces them, as if the run had happened once.
    const RuleFlag retry{.transaction_id = stored[1].id, .rule_name = "b.two", .flag_value = 3};
    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteFlags(std::span(&retry, 1));
        writer->Commit("{}");
    }
    const Page<RuleFlag> replaced = store_->ListRuleFlags(workspace_, run.id, 50, 0);
    EXPECT_EQ(replaced.total, 1);
    ASSERT_EQ(replaced.items.size(), 1u);
    ExpectSameFlag(retry, replaced.items[0]);
    // CompleteRun (no flags) replaces them too.
    store_->CompleteRun(workspace_, run.id, {}, {}, "{}");
    EXPECT_EQ(store_->ListRuleFlags(workspace_, run.id, 50, 0).total, 0);
}

TEST_P(StoreContractTest, ModelsAreSavedWithTheRunReadBackExactlyAndReplacedOnRetry) {
    const std::string upload_id = CommittedUpload({Row(1, 1)});
    const store::Run run = NewRunFor(upload_id);
    // A document with numbers whose text must survive byte for byte, and a multi-byte character.
    const std::string document = R"({"format":"granska-model","version":1,"w":[0.1,-2.5e-07,3.0000000000000004],"n":"ö"})";
    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteModel({.label = "iforest", .algorithm = "isolation_forest", .version = 1, .document = document});
        EXPECT_FALSE(store_->GetModel(workspace_, run.id, "iforest"));  // invisible until the commit
        writer->Commit("{}");
    }
    const auto saved = store_->GetModel(workspace_, run.id, "iforest");
    ASSERT_TRUE(saved) << saved.error().message;
    EXPECT_EQ(saved->run_id, run.id);
    EXPECT_EQ(saved->label, "iforest");
    EXPECT_EQ(saved->algorithm, "isolation_forest");
    EXPECT_EQ(saved->version, 1);
    EXPECT_EQ(saved->document, document);
    EXPECT_FALSE(saved->created_at.empty());

    const auto missing = store_->GetModel(workspace_, run.id, "autoencoder");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
    const std::string other = store_->CreateWorkspace("other").id;
    EXPECT_FALSE(store_->GetModel(other, run.id, "iforest"));
    EXPECT_FALSE(store_->GetModel(workspace_, "not-a-uuid", "iforest"));

    // A committed retry without models leaves none, as if the run had happened once.
    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->Commit("{}");
    }
    EXPECT_FALSE(store_->GetModel(workspace_, run.id, "iforest"));
}

TEST_P(StoreContractTest, RuleFlagsOfAnotherWorkspaceOrAnUnknownRunAreAnEmptyPage) {
    const std::string upload_id = CommittedUpload({Row(1, 1)});
    const auto stored = ReadAll(workspace_, upload_id);
    const store::Run run = NewRunFor(upload_id);
    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteFlags(std::vector<RuleFlag>{{.transaction_id = stored[0].id, .rule_name = "a.one"}});
        writer->Commit("{}");
    }
    const std::string other = store_->CreateWorkspace("other").id;
    for (const Page<RuleFlag>& page :
         {store_->ListRuleFlags(other, run.id, 50, 0), store_->ListRuleFlags(workspace_, NewUuidV7(), 50, 0),
          store_->ListRuleFlags(workspace_, "not-a-uuid", 50, 0)}) {
        EXPECT_TRUE(page.items.empty());
        EXPECT_EQ(page.total, 0);
    }
    EXPECT_TRUE(store_->ListTransactionFlags(other, stored[0].id).empty());
    EXPECT_TRUE(store_->ListTransactionFlags(workspace_, "not-a-uuid").empty());
    EXPECT_TRUE(store_->ListTransactionFlags(workspace_, NewUuidV7()).empty());
}

TEST_P(StoreContractTest, TransactionFlagsListEveryRunNewestFirstThenRuleName) {
    const std::string upload_id = CommittedUpload({Row(1, 1), Row(2, 2)});
    const auto stored = ReadAll(workspace_, upload_id);
    store::Run older = NewRunFor(upload_id);
    store::Run newer = NewRunFor(upload_id);
    // Runs created within one millisecond count as newer by id.
    if (std::tie(older.created_at, older.id) > std::tie(newer.created_at, newer.id)) std::swap(older, newer);
    auto write = [&](const store::Run& run, const std::vector<RuleFlag>& flags) {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteFlags(flags);
        writer->Commit("{}");
    };
    write(older, {{.transaction_id = stored[0].id, .rule_name = "a.first_but_older", .flag_value = 1},
                  {.transaction_id = stored[1].id, .rule_name = "a.other_row", .flag_value = 9}});
    write(newer,
          {{.transaction_id = stored[0].id, .rule_name = "m.mid", .flag_value = 3},
           {.transaction_id = stored[0].id, .rule_name = "b.first", .flag_value = 2, .metadata = R"({"k": 1})"}});

    const std::vector<TransactionFlag> flags = store_->ListTransactionFlags(workspace_, stored[0].id);
    ASSERT_EQ(flags.size(), 3u);
    EXPECT_EQ(flags[0].run_id, newer.id);
    EXPECT_EQ(flags[0].flag.rule_name, "b.first");
    ExpectSameJson(R"({"k": 1})", flags[0].flag.metadata);
    EXPECT_EQ(flags[1].run_id, newer.id);
    EXPECT_EQ(flags[1].flag.rule_name, "m.mid");
    EXPECT_EQ(flags[1].flag.flag_value, 3.0);
    EXPECT_EQ(flags[2].run_id, older.id);
    EXPECT_EQ(flags[2].flag.rule_name, "a.first_but_older");
    for (const TransactionFlag& flag : flags) {
        EXPECT_EQ(flag.flag.transaction_id, stored[0].id);
        EXPECT_TRUE(IsTimestamp(flag.created_at)) << flag.created_at;
    }
}

TEST_P(StoreContractTest, WriteFlagsMisuseIsRejected) {
    const store::Run run = NewRunFor(CommittedUpload({Row(1, 1)}));
    auto writer = store_->BeginRunResults(workspace_, run.id);
    EXPECT_THROW(writer->WriteFlags(std::vector<RuleFlag>{{.transaction_id = "not-a-uuid", .rule_name = "a.b"}}),
                 std::invalid_argument);
    writer->Commit("{}");
    EXPECT_THROW(writer->WriteFlags({}), std::logic_error);
    EXPECT_EQ(store_->ListRuleFlags(workspace_, run.id, 50, 0).total, 0);
}

TEST_P(StoreContractTest, RunResultWriterOf50000RowsInChunksOf4096KeepsEveryRow) {
    constexpr int64_t kRows = 50'000;
    constexpr int64_t kChunk = 4'096;
    const Upload upload = NewUploadIn(workspace_);
    {
        auto writer = store_->BeginTransactions(workspace_, upload.id);
        std::vector<Transaction> batch;
        for (int64_t i = 1; i <= kRows; ++i) {
            batch.push_back(Row(i, i));
            if (std::ssize(batch) == kChunk || i == kRows) {
                writer->Write(batch);
                batch.clear();
            }
        }
        writer->Commit("{}");
    }
    const auto stored = ReadAll(workspace_, upload.id, 10'000);
    ASSERT_EQ(std::ssize(stored), kRows);

    const store::Run run = NewRunFor(upload.id);
    {
        auto writer = store_->BeginRunResults(workspace_, run.id);
        std::vector<AlgorithmScore> scores;
        std::vector<AnalysisResult> results;
        for (int64_t start = 0; start < kRows; start += kChunk) {
            scores.clear();
            results.clear();
            for (int64_t i = start; i < std::min(start + kChunk, kRows); ++i) {
                const double score = 1.0 - static_cast<double>(i) / kRows;
                scores.push_back({.transaction_id = stored[i].id, .algorithm = "zscore", .score = score});
                results.push_back({.transaction_id = stored[i].id,
                                   .score = score,
                                   .flagged = i % 10 == 0,
                                   .rank = i + 1,
                                   .reasons = "[]"});
            }
            writer->WriteScores(scores);
            writer->WriteResults(results);
        }
        writer->Commit("{}");
    }

    const auto last = store_->ListResults(workspace_, run.id, {.limit = 1, .offset = kRows - 1});
    EXPECT_EQ(last.total, kRows);
    ASSERT_EQ(last.items.size(), 1u);
    EXPECT_EQ(last.items[0].result.rank, kRows);
    EXPECT_EQ(last.items[0].transaction.id, stored.back().id);
    ASSERT_EQ(last.items[0].algorithm_scores.size(), 1u);
    EXPECT_EQ(last.items[0].algorithm_scores[0].score, 1.0 - static_cast<double>(kRows - 1) / kRows);
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->flagged_count, kRows / 10);
    EXPECT_EQ(store_->ListResults(workspace_, run.id, {.flagged_only = true}).total, kRows / 10);
}

TEST_P(StoreContractTest, BulkWriteOf20000RowsKeepsEveryRowAndEveryOre) {
    constexpr int kRows = 20'000;
    const Upload upload = NewUploadIn(workspace_);
    int64_t expected_sum = 0;
    {
        auto writer = store_->BeginTransactions(workspace_, upload.id);
        std::vector<Transaction> batch;
        for (int i = 1; i <= kRows; ++i) {
            // Alternating signs and odd öre: a sum that only exact storage reproduces.
            const int64_t minor = (i % 2 == 0 ? 1 : -1) * (int64_t{i} * 10'007 + i % 100);
            expected_sum += minor;
            batch.push_back(Row(i, minor));
            if (batch.size() == 1000) {
                writer->Write(batch);
                batch.clear();
            }
        }
        writer->Commit("{}");
    }
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->row_count, kRows);

    std::vector<size_t> batch_sizes;
    const auto stored = ReadAll(workspace_, upload.id, 4096, &batch_sizes);
    ASSERT_EQ(stored.size(), static_cast<size_t>(kRows));
    EXPECT_EQ(batch_sizes, (std::vector<size_t>{4096, 4096, 4096, 4096, 3616}));
    int64_t sum = 0;
    for (int i = 0; i < kRows; ++i) {
        ASSERT_EQ(stored[i].transaction.row_number, i + 1);
        sum += stored[i].transaction.amount.minor;
    }
    EXPECT_EQ(sum, expected_sum);
    // 10'000 pairs (-odd, +even) each add 10'007 + 1, except the 200 where the even row ends in 00: 10'007 - 99.
    EXPECT_EQ(expected_sum, 100'060'000);
}

TEST_P(StoreContractTest, ReadsProceedWhileAWriterIsOpenAndWritesFromThreadsAllLand) {
    const Upload pending = NewUploadIn(workspace_, "big.csv");
    auto writer = store_->BeginTransactions(workspace_, pending.id);
    writer->Write(std::vector{Row(1, 1), Row(2, 2)});

    std::atomic<int> failures = 0;
    auto run_threads = [&](const std::function<void(int)>& work) {
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                try {
                    work(t);
                } catch (const std::exception& e) {
                    ADD_FAILURE() << e.what();
                    ++failures;
                }
            });
        }
        for (auto& thread : threads) thread.join();
    };
    // Readers are not blocked by the open writer (which holds SQLite's write lock) and do not see its rows.
    run_threads([&](int) {
        for (int i = 0; i < 25; ++i) {
            if (!store_->GetUpload(workspace_, pending.id)) ++failures;
            if (store_->ListUploads(workspace_, 10, 0).total != 1) ++failures;
            if (!ReadAll(workspace_, pending.id).empty()) ++failures;
        }
    });
    writer->Commit("{}");

    run_threads([&](int t) {
        for (int i = 0; i < 10; ++i) {
            const Upload upload = NewUploadIn(workspace_, fmt::format("t{}-{}.csv", t, i));
            store_->MarkUploadProcessing(workspace_, upload.id);
            if (store_->GetUpload(workspace_, upload.id)->status != "running") ++failures;
        }
    });
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(store_->ListUploads(workspace_, 100, 0).total, 41);
    EXPECT_EQ(ReadAll(workspace_, pending.id).size(), 2u);
}

// Strategies (issue 6)

TEST_P(StoreContractTest, StrategyReadsBackByteForByteAsVersionOneWithItsHistory) {
    const std::string configuration = R"({"name": "audit",   "algorithms": [{"name": "zscore", "weight": 1.0}]})";
    const auto created = store_->CreateStrategy(NewStrategy{
        .workspace_id = workspace_, .name = "audit", .description = "Journal entries", .configuration = configuration});
    ASSERT_TRUE(created.has_value()) << created.error().message;
    EXPECT_EQ(created->version, 1);
    EXPECT_TRUE(created->is_active);

    const auto read = store_->GetStrategy(workspace_, created->id);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->name, "audit");
    EXPECT_EQ(read->description, "Journal entries");
    EXPECT_EQ(read->configuration, configuration);  // byte for byte
    EXPECT_EQ(read->version, 1);
    EXPECT_TRUE(read->is_active);
    EXPECT_EQ(read->created_at, created->created_at);
    EXPECT_EQ(read->updated_at, created->updated_at);
    EXPECT_TRUE(IsTimestamp(read->created_at)) << read->created_at;

    const auto versions = store_->ListStrategyVersions(workspace_, created->id);
    ASSERT_TRUE(versions.has_value());
    ASSERT_EQ(versions->size(), 1u);
    EXPECT_EQ((*versions)[0].strategy_id, created->id);
    EXPECT_EQ((*versions)[0].version, 1);
    EXPECT_EQ((*versions)[0].name, "audit");
    EXPECT_EQ((*versions)[0].description, "Journal entries");
    EXPECT_EQ((*versions)[0].configuration, configuration);
    EXPECT_EQ((*versions)[0].created_at, created->created_at);
    EXPECT_EQ(store_->GetStrategy(store_->CreateWorkspace("other").id, created->id).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContractTest, AnActiveStrategysNameCannotBeTakenTwiceButADeactivatedOnesCan) {
    const auto first =
        store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = "{}"});
    ASSERT_TRUE(first.has_value());
    const auto clash =
        store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = "{}"});
    ASSERT_FALSE(clash.has_value());
    EXPECT_EQ(clash.error().kind, ErrorKind::kConflict);
    EXPECT_EQ(clash.error().code, "strategy_exists");
    // Another workspace has names of its own.
    EXPECT_TRUE(store_
                    ->CreateStrategy(NewStrategy{
                        .workspace_id = store_->CreateWorkspace("other").id, .name = "audit", .configuration = "{}"})
                    .has_value());

    ASSERT_TRUE(store_->DeactivateStrategy(workspace_, first->id).has_value());
    const auto again =
        store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = "{}"});
    ASSERT_TRUE(again.has_value());
    EXPECT_NE(again->id, first->id);
    EXPECT_EQ(again->version, 1);
}

TEST_P(StoreContractTest, UpdateStrategySavesTheNextVersionAndKeepsEveryEarlierOne) {
    const Strategy created = *store_->CreateStrategy(
        NewStrategy{.workspace_id = workspace_, .name = "audit", .description = "v1", .configuration = R"({"v": 1})"});
    const auto second = store_->UpdateStrategy(workspace_, created.id, "audit", "v2", R"({"v": 2})");
    ASSERT_TRUE(second.has_value()) << second.error().message;
    EXPECT_EQ(second->id, created.id);
    EXPECT_EQ(second->version, 2);
    EXPECT_EQ(second->created_at, created.created_at);
    const auto third = store_->UpdateStrategy(workspace_, created.id, "audit renamed", "v3", R"({"v": 3})");
    ASSERT_TRUE(third.has_value());
    EXPECT_EQ(third->version, 3);

    const auto read = store_->GetStrategy(workspace_, created.id);
    EXPECT_EQ(read->version, 3);
    EXPECT_EQ(read->name, "audit renamed");
    EXPECT_EQ(read->description, "v3");
    EXPECT_EQ(read->configuration, R"({"v": 3})");
    EXPECT_EQ(read->created_at, created.created_at);
    EXPECT_TRUE(IsTimestamp(read->updated_at)) << read->updated_at;

    const auto versions = store_->ListStrategyVersions(workspace_, created.id);
    ASSERT_TRUE(versions.has_value());
    ASSERT_EQ(versions->size(), 3u);
    const std::vector<std::tuple<int64_t, std::string, std::string, std::string>> expected = {
        {3, "audit renamed", "v3", R"({"v": 3})"},
        {2, "audit", "v2", R"({"v": 2})"},
        {1, "audit", "v1", R"({"v": 1})"}};
    for (size_t i = 0; i < expected.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ((*versions)[i].version, std::get<0>(expected[i]));
        EXPECT_EQ((*versions)[i].name, std::get<1>(expected[i]));
        EXPECT_EQ((*versions)[i].description, std::get<2>(expected[i]));
        EXPECT_EQ((*versions)[i].configuration, std::get<3>(expected[i]));
    }
    EXPECT_EQ((*versions)[0].created_at, read->updated_at);
}

TEST_P(StoreContractTest, UpdateStrategyRefusesAnotherActiveStrategysNameAndUnknownOrInactiveIds) {
    const Strategy audit =
        *store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = "{}"});
    const Strategy scan =
        *store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = "scan", .configuration = "{}"});
    const auto clash = store_->UpdateStrategy(workspace_, scan.id, "audit", "", "{}");
    ASSERT_FALSE(clash.has_value());
    EXPECT_EQ(clash.error().kind, ErrorKind::kConflict);
    EXPECT_EQ(store_->GetStrategy(workspace_, scan.id)->version, 1);  // nothing of the refused update stays
    EXPECT_EQ(store_->ListStrategyVersions(workspace_, scan.id)->size(), 1u);

    for (const std::string& bad : {NewUuidV7(), std::string("not-a-uuid")}) {
        EXPECT_EQ(store_->UpdateStrategy(workspace_, bad, "x", "", "{}").error().kind, ErrorKind::kNotFound);
        EXPECT_EQ(store_->DeactivateStrategy(workspace_, bad).error().kind, ErrorKind::kNotFound);
        EXPECT_EQ(store_->ListStrategyVersions(workspace_, bad).error().kind, ErrorKind::kNotFound);
    }
    const std::string other = store_->CreateWorkspace("other").id;
    EXPECT_EQ(store_->UpdateStrategy(other, audit.id, "x", "", "{}").error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->DeactivateStrategy(other, audit.id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->ListStrategyVersions(other, audit.id).error().kind, ErrorKind::kNotFound);
    EXPECT_TRUE(store_->GetStrategy(workspace_, audit.id)->is_active);

    ASSERT_TRUE(store_->DeactivateStrategy(workspace_, audit.id).has_value());
    EXPECT_TRUE(store_->DeactivateStrategy(workspace_, audit.id).has_value());  // again: no change
    EXPECT_EQ(store_->UpdateStrategy(workspace_, audit.id, "audit", "", "{}").error().kind, ErrorKind::kNotFound);
    const auto deactivated = store_->GetStrategy(workspace_, audit.id);
    ASSERT_TRUE(deactivated.has_value());
    EXPECT_FALSE(deactivated->is_active);
    EXPECT_EQ(deactivated->version, 1);
    EXPECT_EQ(store_->ListStrategyVersions(workspace_, audit.id)->size(), 1u);  // the history stays
    // The deactivated strategy's name is free for a rename now.
    EXPECT_EQ(store_->UpdateStrategy(workspace_, scan.id, "audit", "", "{}")->version, 2);
}

TEST_P(StoreContractTest, ConcurrentUpdatesOfAStrategyGetConsecutiveVersions) {
    const Strategy created =
        *store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = "{}"});
    constexpr int kThreads = 6;
    std::vector<int64_t> versions(kThreads, 0);
    std::vector<std::string> errors(kThreads);
    std::atomic<int> ready = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            ready.fetch_add(1);
            while (ready.load() < kThreads) std::this_thread::yield();
            const auto updated = store_->UpdateStrategy(workspace_, created.id, "audit", fmt::format("by {}", i),
                                                        fmt::format(R"({{"thread": {}}})", i));
            if (updated) {
                versions[static_cast<size_t>(i)] = updated->version;
            } else {
                errors[static_cast<size_t>(i)] = updated.error().message;
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    for (const std::string& error : errors) EXPECT_EQ(error, "");
    std::sort(versions.begin(), versions.end());
    EXPECT_EQ(versions, (std::vector<int64_t>{2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(store_->GetStrategy(workspace_, created.id)->version, 7);
    const auto history = store_->ListStrategyVersions(workspace_, created.id);
    ASSERT_EQ(history->size(), 7u);
    // Each saved version holds the configuration of the update that wrote it.
    for (const StrategyVersion& version : *history) {
        if (version.version == 1) continue;
        const auto json = nlohmann::json::parse(version.configuration);
        EXPECT_EQ(version.description, fmt::format("by {}", json["thread"].get<int>()));
    }
}

TEST_P(StoreContractTest, ListStrategiesPagesByNameThenIdAndHidesDeactivatedOnesUnlessAsked) {
    std::vector<std::string> ids;
    for (const char* name : {"delta", "Alpha", "charlie", "bravo"}) {
        ids.push_back(
            store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = name, .configuration = "{}"})->id);
    }
    // Another workspace's strategy is never listed.
    ASSERT_TRUE(store_->CreateStrategy(
        NewStrategy{.workspace_id = store_->CreateWorkspace("noise").id, .name = "aaa", .configuration = "{}"}));
    ASSERT_TRUE(store_->DeactivateStrategy(workspace_, ids[2]).has_value());  // charlie

    auto names = [](const Page<Strategy>& page) {
        std::vector<std::string> out;
        for (const Strategy& strategy : page.items) out.push_back(strategy.name);
        return out;
    };
    // Bytewise: uppercase before lowercase.
    const auto active = store_->ListStrategies(workspace_, false, 50, 0);
    EXPECT_EQ(active.total, 3);
    EXPECT_EQ(names(active), (std::vector<std::string>{"Alpha", "bravo", "delta"}));
    const auto all = store_->ListStrategies(workspace_, true, 2, 0);
    EXPECT_EQ(all.total, 4);
    EXPECT_EQ(names(all), (std::vector<std::string>{"Alpha", "bravo"}));
    const auto rest = store_->ListStrategies(workspace_, true, 2, 2);
    EXPECT_EQ(names(rest), (std::vector<std::string>{"charlie", "delta"}));
    EXPECT_FALSE(rest.items[0].is_active);
    EXPECT_TRUE(rest.items[1].is_active);

    // A deactivated strategy's name taken again: both listed, ordered by id (the older first).
    const std::string second_charlie =
        store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = "charlie", .configuration = "{}"})->id;
    const auto both = store_->ListStrategies(workspace_, true, 2, 2);
    ASSERT_EQ(names(both), (std::vector<std::string>{"charlie", "charlie"}));
    EXPECT_EQ(both.items[0].id, ids[2]);
    EXPECT_EQ(both.items[1].id, second_charlie);
    EXPECT_EQ(store_->ListStrategies("not-a-uuid", true, 50, 0).total, 0);
}

TEST_P(StoreContractTest, ARunKeepsTheStrategyVersionAndConfigurationItWasCreatedWith) {
    const std::string upload_id = CommittedUpload({Row(1, 1)});
    const Strategy created = *store_->CreateStrategy(
        NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = R"({"name": "audit", "v": 1})"});
    const store::Run run = store_->CreateRun(NewRun{.workspace_id = workspace_,
                                                    .upload_id = upload_id,
                                                    .strategy_id = created.id,
                                                    .strategy_name = created.name,
                                                    .strategy_version = created.version,
                                                    .configuration = created.configuration});
    EXPECT_EQ(run.strategy_version, 1);
    ASSERT_TRUE(store_->UpdateStrategy(workspace_, created.id, "audit", "", R"({"name": "audit", "v": 2})"));

    const auto read = store_->GetRun(workspace_, run.id);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->strategy_id, created.id);
    EXPECT_EQ(read->strategy_version, 1);
    EXPECT_EQ(read->configuration, R"({"name": "audit", "v": 1})");
    // The version the run names is still in the history, with the same configuration.
    const auto versions = store_->ListStrategyVersions(workspace_, created.id);
    ASSERT_EQ(versions->size(), 2u);
    EXPECT_EQ(versions->back().version, read->strategy_version);
    EXPECT_EQ(versions->back().configuration, read->configuration);

    // A deactivated strategy's runs keep pointing to it.
    ASSERT_TRUE(store_->DeactivateStrategy(workspace_, created.id).has_value());
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->strategy_id, created.id);

    // An ad-hoc run has version 0, whatever the request said.
    const store::Run ad_hoc = store_->CreateRun(
        NewRun{.workspace_id = workspace_, .upload_id = upload_id, .strategy_version = 4, .configuration = "{}"});
    EXPECT_EQ(ad_hoc.strategy_version, 0);
    EXPECT_EQ(store_->GetRun(workspace_, ad_hoc.id)->strategy_version, 0);
}

// Run progress (issue 6)

TEST_P(StoreContractTest, RunProgressDetailIsWrittenAndReadBack) {
    const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
    ExpectSameJson("{}", store_->GetRun(workspace_, run.id)->progress_detail);
    const std::string detail =
        R"({"algorithms": [{"label": "zscore", "name": "zscore", "state": "running", "progress": 0.5, "ms": 12.5}]})";
    store_->UpdateRunProgress(workspace_, run.id, "zscore", 0.4, detail);
    auto read = store_->GetRun(workspace_, run.id);
    ExpectSameJson(detail, read->progress_detail);
    EXPECT_EQ(read->stage, "zscore");
    EXPECT_EQ(read->progress, 0.4);

    // "" keeps the stored detail; the stage and progress still move.
    store_->UpdateRunProgress(workspace_, run.id, "writing", 0.9, "");
    read = store_->GetRun(workspace_, run.id);
    ExpectSameJson(detail, read->progress_detail);
    EXPECT_EQ(read->stage, "writing");

    // A finished run keeps the detail it finished with.
    store_->FailRun(workspace_, run.id, "broken");
    store_->UpdateRunProgress(workspace_, run.id, "late", 0.95, R"({"algorithms": []})");
    ExpectSameJson(detail, store_->GetRun(workspace_, run.id)->progress_detail);
}

// Jobs (issue 7). Tests that call ClaimJob by id run on the shared database; the ones that look at every job
// (ClaimNextJob, ClaimableJobs, ExpireLeases) are in GlobalJobsTest below, on a database of their own.

TEST_P(StoreContractTest, CreatingAJobTwiceReturnsTheOneJobUnchanged) {
    const std::string upload_id = NewUploadIn(workspace_).id;
    const Job first = store_->CreateJob(NewJob{.workspace_id = workspace_,
                                               .kind = std::string(kProcessUploadedFile),
                                               .target_id = upload_id,
                                               .payload = R"({"format": "csv"})"});
    EXPECT_TRUE(IsUuid(first.id));
    EXPECT_EQ(first.workspace_id, workspace_);
    EXPECT_EQ(first.kind, kProcessUploadedFile);
    EXPECT_EQ(first.target_id, upload_id);
    ExpectSameJson(R"({"format": "csv"})", first.payload);
    EXPECT_EQ(first.status, "queued");
    EXPECT_EQ(first.attempts, 0);
    EXPECT_EQ(first.max_attempts, 3);
    EXPECT_EQ(first.worker, "");
    EXPECT_EQ(first.error, "");
    EXPECT_FALSE(first.cancel_requested);
    EXPECT_TRUE(IsTimestamp(first.run_after)) << first.run_after;
    EXPECT_TRUE(IsTimestamp(first.created_at)) << first.created_at;
    EXPECT_EQ(first.lease_until, "");
    EXPECT_EQ(first.started_at, "");
    EXPECT_EQ(first.finished_at, "");

    const Job second = store_->CreateJob(NewJob{.workspace_id = workspace_,
                                                .kind = std::string(kProcessUploadedFile),
                                                .target_id = upload_id,
                                                .payload = R"({"format": "json"})",
                                                .max_attempts = 7});
    EXPECT_EQ(second.id, first.id);
    ExpectSameJson(R"({"format": "csv"})", second.payload);
    EXPECT_EQ(second.max_attempts, 3);
    EXPECT_EQ(store_->ListJobs(workspace_, {}).total, 1);
}

TEST_P(StoreContractTest, CreateJobRejectsAnUnknownKindOrATargetNotInTheWorkspace) {
    const std::string upload_id = NewUploadIn(workspace_).id;
    const std::string other = store_->CreateWorkspace("other").id;
    EXPECT_THROW(store_->CreateJob({.workspace_id = workspace_, .kind = "unknown", .target_id = upload_id}),
                 std::invalid_argument);
    EXPECT_THROW(RunJob(upload_id), std::invalid_argument);  // an upload is not a run
    EXPECT_THROW(UploadJob(NewUuidV7()), std::invalid_argument);
    EXPECT_THROW(UploadJob("not-a-uuid"), std::invalid_argument);
    EXPECT_THROW(
        store_->CreateJob({.workspace_id = other, .kind = std::string(kProcessUploadedFile), .target_id = upload_id}),
        std::invalid_argument);
    EXPECT_THROW(UploadJob(upload_id, 0), std::invalid_argument);
    EXPECT_EQ(store_->ListJobs(workspace_, {}).total, 0);
}

TEST_P(StoreContractTest, AClaimedJobIsRunningWithTheAttemptTheWorkerAndALease) {
    const Job job = UploadJob(NewUploadIn(workspace_).id);
    const auto claimed = store_->ClaimJob(job.id, "worker-a", kLiveLease);
    ASSERT_TRUE(claimed.has_value());
    EXPECT_EQ(claimed->id, job.id);
    EXPECT_EQ(claimed->status, "running");
    EXPECT_EQ(claimed->attempts, 1);
    EXPECT_EQ(claimed->worker, "worker-a");
    EXPECT_TRUE(IsTimestamp(claimed->started_at)) << claimed->started_at;
    EXPECT_TRUE(IsTimestamp(claimed->lease_until)) << claimed->lease_until;
    EXPECT_GT(claimed->lease_until, claimed->started_at);
    EXPECT_EQ(store_->GetJob(workspace_, job.id)->status, "running");
    // The task, not the claim, moves the target.
    EXPECT_EQ(store_->GetUpload(workspace_, job.target_id)->status, "queued");
}

TEST_P(StoreContractTest, AJobUnderALiveLeaseUnknownOrMalformedIsNotClaimable) {
    const Job job = ClaimedUploadJob("worker-a", kLiveLease);
    EXPECT_FALSE(store_->ClaimJob(job.id, "worker-b", kLiveLease).has_value());
    EXPECT_FALSE(store_->ClaimJob(NewUuidV7(), "worker-b", kLiveLease).has_value());
    EXPECT_FALSE(store_->ClaimJob("'; DROP TABLE jobs; --", "worker-b", kLiveLease).has_value());
    const auto held = store_->GetJob(workspace_, job.id);
    EXPECT_EQ(held->worker, "worker-a");
    EXPECT_EQ(held->attempts, 1);
}

TEST_P(StoreContractTest, OfTwoThreadsClaimingOneJobExactlyOneWins) {
    for (int round = 0; round < 50; ++round) {
        const Job job = UploadJob(NewUploadIn(workspace_).id);
        std::optional<Job> a;
        std::optional<Job> b;
        std::thread first([&] { a = store_->ClaimJob(job.id, "worker-a", kLiveLease); });
        std::thread second([&] { b = store_->ClaimJob(job.id, "worker-b", kLiveLease); });
        first.join();
        second.join();
        ASSERT_NE(a.has_value(), b.has_value()) << "round " << round;
        const Job& winner = a ? *a : *b;
        EXPECT_EQ(winner.attempts, 1);
        EXPECT_EQ(store_->GetJob(workspace_, job.id)->worker, winner.worker);
    }
}

TEST_P(StoreContractTest, AnExpiredLeaseIsTakenOverAndTheOldWorkerLosesTheJob) {
    const Job job = ClaimedUploadJob("worker-a", kDeadLease);
    const auto taken = store_->ClaimJob(job.id, "worker-b", kLiveLease);
    ASSERT_TRUE(taken.has_value());
    EXPECT_EQ(taken->attempts, 2);
    EXPECT_EQ(taken->worker, "worker-b");
    EXPECT_EQ(taken->status, "running");

    EXPECT_FALSE(store_->RenewLease(job.id, "worker-a", kLiveLease).has_value());
    EXPECT_FALSE(store_->FinishJob(job.id, "worker-a", {.status = "completed"}).has_value());
    const auto held = store_->GetJob(workspace_, job.id);
    EXPECT_EQ(held->status, "running");
    EXPECT_EQ(held->worker, "worker-b");
    EXPECT_EQ(held->lease_until, taken->lease_until);
}

TEST_P(StoreContractTest, ALeaseThatRanOutInTheLastAttemptFailsTheJobAndItsTarget) {
    const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
    const Job job = RunJob(run.id, 2);
    ASSERT_TRUE(store_->ClaimJob(job.id, "worker-a", kDeadLease).has_value());
    ASSERT_EQ(store_->ClaimJob(job.id, "worker-b", kDeadLease)->attempts, 2);
    store_->UpdateRunProgress(workspace_, run.id, "zscore", 0.5, "");

    EXPECT_FALSE(store_->ClaimJob(job.id, "worker-c", kLiveLease).has_value());
    const auto failed = store_->GetJob(workspace_, job.id);
    EXPECT_EQ(failed->status, "failed");
    EXPECT_EQ(failed->attempts, 2);
    EXPECT_EQ(failed->error, "The worker running it stopped during attempt 2 of 2.");
    EXPECT_TRUE(IsTimestamp(failed->finished_at)) << failed->finished_at;
    const auto target = store_->GetRun(workspace_, run.id);
    EXPECT_EQ(target->status, "failed");
    EXPECT_EQ(target->error_message, "The worker running it stopped during attempt 2 of 2.");
    EXPECT_TRUE(IsTimestamp(target->completed_at)) << target->completed_at;
    EXPECT_FALSE(store_->ClaimJob(job.id, "worker-c", kLiveLease).has_value());
}

TEST_P(StoreContractTest, RenewLeaseExtendsTheHoldersLeaseOnly) {
    const Job job = ClaimedUploadJob("worker-a", kDeadLease);
    const auto renewed = store_->RenewLease(job.id, "worker-a", kLiveLease);
    ASSERT_TRUE(renewed.has_value());
    EXPECT_GT(renewed->lease_until, job.lease_until);
    EXPECT_FALSE(renewed->cancel_requested);
    // Renewed in time, the lease is live again: nobody takes the job over.
    EXPECT_FALSE(store_->ClaimJob(job.id, "worker-b", kLiveLease).has_value());
    EXPECT_FALSE(store_->RenewLease(job.id, "worker-b", kLiveLease).has_value());
    EXPECT_FALSE(store_->RenewLease(NewUuidV7(), "worker-a", kLiveLease).has_value());
    EXPECT_FALSE(store_->RenewLease("not-a-uuid", "worker-a", kLiveLease).has_value());
}

TEST_P(StoreContractTest, FinishJobRetryingMarksTheTargetAndWaitsForRunAfter) {
    const Job job = ClaimedUploadJob("worker-a", kLiveLease);
    store_->MarkUploadProcessing(workspace_, job.target_id);
    const auto retrying =
        store_->FinishJob(job.id, "worker-a", {.status = "retrying", .error = "Disk full", .retry_after = 1h});
    ASSERT_TRUE(retrying.has_value());
    EXPECT_EQ(retrying->status, "retrying");
    EXPECT_EQ(retrying->error, "Disk full");
    EXPECT_EQ(retrying->attempts, 1);
    EXPECT_EQ(retrying->lease_until, "");
    EXPECT_EQ(retrying->finished_at, "");
    EXPECT_GT(retrying->run_after, retrying->updated_at);
    const auto upload = store_->GetUpload(workspace_, job.target_id);
    EXPECT_EQ(upload->status, "retrying");
    EXPECT_EQ(upload->error_message, "Disk full");

    EXPECT_FALSE(store_->ClaimJob(job.id, "worker-b", kLiveLease).has_value());
    EXPECT_EQ(store_->GetJob(workspace_, job.id)->status, "retrying");
}

TEST_P(StoreContractTest, ARetryDueAtOnceIsClaimedAgainWithTheNextAttempt) {
    const Job job = ClaimedUploadJob("worker-a", kLiveLease);
    ASSERT_TRUE(store_->FinishJob(job.id, "worker-a", {.status = "retrying", .error = "Timeout", .retry_after = 0ms}));
    const auto again = store_->ClaimJob(job.id, "worker-b", kLiveLease);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->attempts, 2);
    EXPECT_EQ(again->worker, "worker-b");
    EXPECT_EQ(again->error, "Timeout");  // the last failed attempt's, until another fails
}

TEST_P(StoreContractTest, FinishJobFailedOnAnUploadDeletesItsRowsAndRecordsTheError) {
    const std::string upload_id = CommittedUpload({Row(1, 1), Row(2, 2)});
    store_->MarkUploadProcessing(workspace_, upload_id);  // ingested again
    const Job job = UploadJob(upload_id);
    ASSERT_TRUE(store_->ClaimJob(job.id, "worker-a", kLiveLease));
    const auto failed = store_->FinishJob(job.id, "worker-a", {.status = "failed", .error = "Out of memory"});
    ASSERT_TRUE(failed.has_value());
    EXPECT_EQ(failed->status, "failed");
    EXPECT_EQ(failed->error, "Out of memory");
    EXPECT_TRUE(IsTimestamp(failed->finished_at)) << failed->finished_at;
    const auto upload = store_->GetUpload(workspace_, upload_id);
    EXPECT_EQ(upload->status, "failed");
    EXPECT_EQ(upload->error_message, "Out of memory");
    EXPECT_EQ(upload->row_count, 0);
    EXPECT_TRUE(ReadAll(workspace_, upload_id).empty());
}

TEST_P(StoreContractTest, ATargetTheEngineAlreadyFailedKeepsItsOwnMessage) {
    const Job upload_job = ClaimedUploadJob("worker-a", kLiveLease);
    store_->FailUpload(workspace_, upload_job.target_id, InvalidInput("bad_amount", "Line 3: 'abc' is no amount."),
                       "{}");
    ASSERT_TRUE(store_->FinishJob(upload_job.id, "worker-a", {.status = "failed", .error = "Ingest failed"}));
    EXPECT_EQ(store_->GetUpload(workspace_, upload_job.target_id)->error_message, "Line 3: 'abc' is no amount.");

    const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
    const Job run_job = RunJob(run.id);
    ASSERT_TRUE(store_->ClaimJob(run_job.id, "worker-a", kLiveLease));
    store_->FailRun(workspace_, run.id, "The strategy names no algorithm.");
    const auto ended = store_->FinishJob(run_job.id, "worker-a", {.status = "failed", .error = "Analysis failed"});
    EXPECT_EQ(ended->error, "Analysis failed");
    const auto target = store_->GetRun(workspace_, run.id);
    EXPECT_EQ(target->status, "failed");
    EXPECT_EQ(target->error_message, "The strategy names no algorithm.");
}

TEST_P(StoreContractTest, FinishJobCompletedLeavesTheCompletedTarget) {
    const std::string upload_id = CommittedUpload({Row(1, 1)});
    const Job job = UploadJob(upload_id);
    ASSERT_TRUE(store_->ClaimJob(job.id, "worker-a", kLiveLease));
    const auto done = store_->FinishJob(job.id, "worker-a", {.status = "completed"});
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done->status, "completed");
    EXPECT_TRUE(IsTimestamp(done->finished_at)) << done->finished_at;
    EXPECT_EQ(done->lease_until, "");
    const auto upload = store_->GetUpload(workspace_, upload_id);
    EXPECT_EQ(upload->status, "completed");
    EXPECT_EQ(upload->row_count, 1);
    EXPECT_FALSE(store_->ClaimJob(job.id, "worker-b", kLiveLease).has_value());
}

TEST_P(StoreContractTest, HandingAJobBackUndoesTheAttemptAndQueuesTheTargetAgain) {
    const Job job = ClaimedUploadJob("worker-a", kLiveLease);
    store_->MarkUploadProcessing(workspace_, job.target_id);
    const auto back = store_->FinishJob(job.id, "worker-a", {.status = "queued"});
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->status, "queued");
    EXPECT_EQ(back->attempts, 0);
    EXPECT_EQ(back->worker, "worker-a");
    EXPECT_EQ(back->finished_at, "");
    EXPECT_LE(back->run_after, back->updated_at);
    EXPECT_EQ(store_->GetUpload(workspace_, job.target_id)->status, "queued");
    const auto again = store_->ClaimJob(job.id, "worker-b", kLiveLease);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->attempts, 1);
}

TEST_P(StoreContractTest, FinishJobByAWorkerThatDoesNotHoldTheJobChangesNothing) {
    const Job queued = UploadJob(NewUploadIn(workspace_).id);
    EXPECT_FALSE(store_->FinishJob(queued.id, "worker-a", {.status = "completed"}).has_value());
    const Job held = ClaimedUploadJob("worker-a", kLiveLease);
    EXPECT_FALSE(store_->FinishJob(held.id, "worker-b", {.status = "failed", .error = "x"}).has_value());
    EXPECT_FALSE(store_->FinishJob("not-a-uuid", "worker-a", {.status = "completed"}).has_value());
    EXPECT_THROW(store_->FinishJob(held.id, "worker-a", {.status = "done"}), std::invalid_argument);
    EXPECT_EQ(store_->GetJob(workspace_, queued.id)->status, "queued");
    const auto still = store_->GetJob(workspace_, held.id);
    EXPECT_EQ(still->status, "running");
    EXPECT_EQ(still->error, "");
    EXPECT_EQ(store_->GetUpload(workspace_, held.target_id)->status, "queued");

    ASSERT_TRUE(store_->FinishJob(held.id, "worker-a", {.status = "completed"}));
    EXPECT_FALSE(store_->FinishJob(held.id, "worker-a", {.status = "failed", .error = "late"}).has_value());
    EXPECT_EQ(store_->GetJob(workspace_, held.id)->status, "completed");
}

TEST_P(StoreContractTest, CancellingAQueuedJobCancelsItAndItsTargetAtOnce) {
    const Job job = UploadJob(NewUploadIn(workspace_).id);
    const auto cancelled = store_->CancelJobFor(workspace_, job.target_id);
    ASSERT_TRUE(cancelled.has_value());
    EXPECT_EQ(cancelled->id, job.id);
    EXPECT_EQ(cancelled->status, "cancelled");
    EXPECT_TRUE(IsTimestamp(cancelled->finished_at)) << cancelled->finished_at;
    EXPECT_EQ(store_->GetUpload(workspace_, job.target_id)->status, "cancelled");
    EXPECT_FALSE(store_->ClaimJob(job.id, "worker-a", kLiveLease).has_value());
}

TEST_P(StoreContractTest, CancellingARetryingRunCancelsTheRun) {
    const auto [run, job] = RetryingRunJob();
    EXPECT_EQ(store_->CancelJobFor(workspace_, run.id)->status, "cancelled");
    const auto target = store_->GetRun(workspace_, run.id);
    EXPECT_EQ(target->status, "cancelled");
    EXPECT_TRUE(IsTimestamp(target->completed_at)) << target->completed_at;
    EXPECT_FALSE(store_->ClaimJob(job.id, "worker-b", kLiveLease).has_value());
}

TEST_P(StoreContractTest, CancellingARunningJobAsksItsWorkerWhoSeesItOnRenew) {
    const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
    const Job job = RunJob(run.id);
    ASSERT_TRUE(store_->ClaimJob(job.id, "worker-a", kLiveLease));
    store_->UpdateRunProgress(workspace_, run.id, "zscore", 0.5, "");

    const auto requested = store_->CancelJobFor(workspace_, run.id);
    ASSERT_TRUE(requested.has_value());
    EXPECT_EQ(requested->status, "running");
    EXPECT_TRUE(requested->cancel_requested);
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->status, "running");
    const auto renewed = store_->RenewLease(job.id, "worker-a", kLiveLease);
    ASSERT_TRUE(renewed.has_value());
    EXPECT_TRUE(renewed->cancel_requested);

    const auto ended = store_->FinishJob(job.id, "worker-a", {.status = "cancelled"});
    EXPECT_EQ(ended->status, "cancelled");
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->status, "cancelled");
}

TEST_P(StoreContractTest, AJobWhoseCancelWasRequestedIsNeverClaimedOrQueuedAgain) {
    // Its worker died: the job ends cancelled at the next claim instead.
    const Job dead = ClaimedUploadJob("worker-a", kDeadLease);
    ASSERT_TRUE(store_->CancelJobFor(workspace_, dead.target_id)->cancel_requested);
    EXPECT_FALSE(store_->ClaimJob(dead.id, "worker-b", kLiveLease).has_value());
    EXPECT_EQ(store_->GetJob(workspace_, dead.id)->status, "cancelled");
    EXPECT_EQ(store_->GetUpload(workspace_, dead.target_id)->status, "cancelled");

    // Its worker hands it back or asks for a retry: nobody would claim it, so it ends cancelled.
    for (const std::string status : {"queued", "retrying"}) {
        const Job held = ClaimedUploadJob("worker-a", kLiveLease);
        ASSERT_TRUE(store_->CancelJobFor(workspace_, held.target_id));
        const auto ended = store_->FinishJob(held.id, "worker-a", {.status = status, .error = "Stopping"});
        EXPECT_EQ(ended->status, "cancelled") << status;
        EXPECT_EQ(store_->GetUpload(workspace_, held.target_id)->status, "cancelled") << status;
    }
}

TEST_P(StoreContractTest, CancellingAFinishedJobChangesNothingAndATargetWithoutAJobIsNotFound) {
    const Job job = ClaimedUploadJob("worker-a", kLiveLease);
    const Job done = *store_->FinishJob(job.id, "worker-a", {.status = "failed", .error = "Broken"});
    const auto again = store_->CancelJobFor(workspace_, job.target_id);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->status, "failed");
    EXPECT_EQ(again->updated_at, done.updated_at);
    EXPECT_EQ(store_->GetUpload(workspace_, job.target_id)->status, "failed");

    const std::string jobless = NewUploadIn(workspace_).id;
    EXPECT_EQ(store_->CancelJobFor(workspace_, jobless).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->CancelJobFor(workspace_, "not-a-uuid").error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->GetUpload(workspace_, jobless)->status, "queued");
}

TEST_P(StoreContractTest, GetJobAndGetJobForFindTheJobOfATarget) {
    const store::Run run = NewRunFor(NewUploadIn(workspace_).id);
    const Job job = RunJob(run.id);
    EXPECT_EQ(store_->GetJob(workspace_, job.id)->target_id, run.id);
    EXPECT_EQ(store_->GetJobFor(workspace_, run.id)->id, job.id);
    EXPECT_EQ(store_->GetJobFor(workspace_, run.upload_id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->GetJob(workspace_, NewUuidV7()).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->GetJob(workspace_, "not-a-uuid").error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->GetJobFor(workspace_, "not-a-uuid").error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContractTest, ListJobsPagesNewestFirstFiltersAndCounts) {
    std::vector<std::string> ids;  // in creation order
    for (int i = 0; i < 3; ++i) ids.push_back(UploadJob(NewUploadIn(workspace_).id).id);
    for (int i = 0; i < 2; ++i) ids.push_back(RunJob(NewRunFor(NewUploadIn(workspace_).id).id).id);
    ASSERT_TRUE(store_->ClaimJob(ids[1], "worker-a", kLiveLease));

    const Page<Job> all = store_->ListJobs(workspace_, {});
    EXPECT_EQ(all.total, 5);
    std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
    std::vector<std::string> listed;
    for (const Job& job : all.items) listed.push_back(job.id);
    EXPECT_EQ(listed, newest_first);

    const Page<Job> page = store_->ListJobs(workspace_, {.limit = 2, .offset = 1});
    EXPECT_EQ(page.total, 5);
    ASSERT_EQ(page.items.size(), 2u);
    EXPECT_EQ(page.items[0].id, ids[3]);
    EXPECT_EQ(page.items[1].id, ids[2]);

    const Page<Job> runs = store_->ListJobs(workspace_, {.kind = std::string(kRunAnomalyDetection)});
    EXPECT_EQ(runs.total, 2);
    for (const Job& job : runs.items) EXPECT_EQ(job.kind, kRunAnomalyDetection);
    const Page<Job> running = store_->ListJobs(workspace_, {.status = "running"});
    EXPECT_EQ(running.total, 1);
    ASSERT_EQ(running.items.size(), 1u);
    EXPECT_EQ(running.items[0].id, ids[1]);
    EXPECT_EQ(store_->ListJobs(workspace_, {.status = "running", .kind = std::string(kRunAnomalyDetection)}).total, 0);
    EXPECT_EQ(store_->ListJobs("not-a-uuid", {}).total, 0);
}

TEST_P(StoreContractTest, ProgressMovesARetryingRunToRunningButNotACancelledOne) {
    const store::Run run = RetryingRunJob().first;
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->status, "retrying");
    store_->UpdateRunProgress(workspace_, run.id, "loading", 0.1, "");
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->status, "running");

    const store::Run cancelled = NewRunFor(NewUploadIn(workspace_).id);
    RunJob(cancelled.id);
    ASSERT_TRUE(store_->CancelJobFor(workspace_, cancelled.id));
    store_->UpdateRunProgress(workspace_, cancelled.id, "loading", 0.1, "");
    const auto read = store_->GetRun(workspace_, cancelled.id);
    EXPECT_EQ(read->status, "cancelled");
    EXPECT_EQ(read->stage, "");
}

TEST_P(StoreContractTest, DeleteUploadRemovesItsRowsRunsResultsAndJobs) {
    const std::string upload_id = CommittedUpload({Row(1, 1), Row(2, 2)});
    const store::Run run = NewRunFor(upload_id);
    const auto rows = ReadAll(workspace_, upload_id);
    store_->CompleteRun(workspace_, run.id, {},
                        std::vector<AnalysisResult>{{.transaction_id = rows[0].id, .score = 0.9, .rank = 1},
                                                    {.transaction_id = rows[1].id, .score = 0.1, .rank = 2}},
                        "{}");
    const Job upload_job = UploadJob(upload_id);
    const Job run_job = RunJob(run.id);
    const std::string kept = NewUploadIn(workspace_).id;
    const Job kept_job = UploadJob(kept);

    ASSERT_TRUE(store_->DeleteUpload(workspace_, upload_id).has_value());
    EXPECT_EQ(store_->GetUpload(workspace_, upload_id).error().kind, ErrorKind::kNotFound);
    EXPECT_TRUE(ReadAll(workspace_, upload_id).empty());
    EXPECT_EQ(store_->GetRun(workspace_, run.id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->ListResults(workspace_, run.id, {}).total, 0);
    EXPECT_EQ(store_->GetJob(workspace_, upload_job.id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->GetJob(workspace_, run_job.id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->ListJobs(workspace_, {}).total, 1);
    EXPECT_TRUE(store_->GetJob(workspace_, kept_job.id).has_value());
    EXPECT_TRUE(store_->GetUpload(workspace_, kept).has_value());

    EXPECT_EQ(store_->DeleteUpload(workspace_, upload_id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->DeleteUpload(workspace_, "not-a-uuid").error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContractTest, AnotherWorkspaceSeesNoneOfTheJobsAndCannotCancelOrDelete) {
    const Job job = UploadJob(NewUploadIn(workspace_).id);
    const std::string other = store_->CreateWorkspace("other").id;
    EXPECT_EQ(store_->GetJob(other, job.id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->GetJobFor(other, job.target_id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->ListJobs(other, {}).total, 0);
    EXPECT_EQ(store_->CancelJobFor(other, job.target_id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->DeleteUpload(other, job.target_id).error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(store_->GetJob(workspace_, job.id)->status, "queued");
    EXPECT_EQ(store_->GetUpload(workspace_, job.target_id)->status, "queued");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

// ClaimNextJob, ClaimableJobs and ExpireLeases look at every workspace's jobs: on PostgreSQL these tests get a database
// of their own, so that tests running beside them (ctest -j) neither see nor take their jobs.
class GlobalJobsTest : public StoreContractTest {
protected:
    void SetUp() override {
        StoreContractTest::SetUp();
        if (IsSkipped() || GetParam() != "postgresql") return;
        own_url_ = FreshDatabaseUrl();
        store_ = Open(own_url_);
        ASSERT_EQ(store_->Migrate(), kSchemaVersion);
        workspace_ = store_->CreateWorkspace("jobs").id;
    }

    void TearDown() override {
        store_.reset();
        if (!own_url_.empty()) DropFreshDatabase(own_url_);
        StoreContractTest::TearDown();
    }

    std::string own_url_;
};

TEST_P(GlobalJobsTest, ClaimNextJobTakesTheOldestDueJobFirst) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(UploadJob(NewUploadIn(workspace_).id).id);
    for (const std::string& id : ids) {
        const auto claimed = store_->ClaimNextJob("worker-a", kLiveLease);
        ASSERT_TRUE(claimed.has_value());
        EXPECT_EQ(claimed->id, id);
        EXPECT_EQ(claimed->status, "running");
        EXPECT_EQ(claimed->worker, "worker-a");
    }
    EXPECT_FALSE(store_->ClaimNextJob("worker-a", kLiveLease).has_value());
}

TEST_P(GlobalJobsTest, ClaimNextJobSkipsARetryNotYetDueAndAJobWhoseCancelWasRequested) {
    const Job waiting = ClaimedUploadJob("worker-a", kLiveLease);
    ASSERT_TRUE(store_->FinishJob(waiting.id, "worker-a", {.status = "retrying", .error = "x", .retry_after = 1h}));
    const Job cancelling = ClaimedUploadJob("worker-a", kDeadLease);
    ASSERT_TRUE(store_->CancelJobFor(workspace_, cancelling.target_id)->cancel_requested);
    const Job due = UploadJob(NewUploadIn(workspace_).id);

    const auto claimed = store_->ClaimNextJob("worker-b", kLiveLease);
    ASSERT_TRUE(claimed.has_value());
    EXPECT_EQ(claimed->id, due.id);
    EXPECT_FALSE(store_->ClaimNextJob("worker-b", kLiveLease).has_value());
    EXPECT_EQ(store_->GetJob(workspace_, waiting.id)->status, "retrying");
    EXPECT_EQ(store_->GetJob(workspace_, cancelling.id)->status, "cancelled");
}

TEST_P(GlobalJobsTest, ClaimNextJobTakesOverAnExpiredLease) {
    const Job job = ClaimedUploadJob("worker-a", kDeadLease);
    const auto taken = store_->ClaimNextJob("worker-b", kLiveLease);
    ASSERT_TRUE(taken.has_value());
    EXPECT_EQ(taken->id, job.id);
    EXPECT_EQ(taken->attempts, 2);
    EXPECT_EQ(taken->worker, "worker-b");
}

TEST_P(GlobalJobsTest, ClaimNextJobFailsAJobWhoseLastAttemptsWorkerDied) {
    const Job job = ClaimedUploadJob("worker-a", kDeadLease, 1);
    EXPECT_FALSE(store_->ClaimNextJob("worker-b", kLiveLease).has_value());
    const auto failed = store_->GetJob(workspace_, job.id);
    EXPECT_EQ(failed->status, "failed");
    EXPECT_EQ(failed->error, "The worker running it stopped during attempt 1 of 1.");
    const auto upload = store_->GetUpload(workspace_, job.target_id);
    EXPECT_EQ(upload->status, "failed");
    EXPECT_EQ(upload->error_message, "The worker running it stopped during attempt 1 of 1.");
}

TEST_P(GlobalJobsTest, ClaimableJobsListsWhatAWorkerCouldClaimOldestFirst) {
    const Job queued = UploadJob(NewUploadIn(workspace_).id);
    const Job orphaned = ClaimedUploadJob("worker-a", kDeadLease);  // its worker died before its last attempt ended
    ClaimedUploadJob("worker-a", kLiveLease);                       // held
    const Job not_due = ClaimedUploadJob("worker-a", kLiveLease);
    ASSERT_TRUE(store_->FinishJob(not_due.id, "worker-a", {.status = "retrying", .error = "x", .retry_after = 1h}));
    const Job due = ClaimedUploadJob("worker-a", kLiveLease);
    ASSERT_TRUE(store_->FinishJob(due.id, "worker-a", {.status = "retrying", .error = "x", .retry_after = 0ms}));
    const Job dead = ClaimedUploadJob("worker-a", kDeadLease, 1);  // failed, not listed
    ASSERT_TRUE(store_->CancelJobFor(workspace_, UploadJob(NewUploadIn(workspace_).id).target_id));

    std::vector<std::string> listed;
    for (const Job& job : store_->ClaimableJobs(100)) listed.push_back(job.id);
    EXPECT_EQ(listed, (std::vector<std::string>{queued.id, orphaned.id, due.id}));
    EXPECT_EQ(store_->ClaimableJobs(1).size(), 1u);
    EXPECT_EQ(store_->GetJob(workspace_, dead.id)->status, "failed");
    // Listing claims nothing.
    EXPECT_EQ(store_->GetJob(workspace_, queued.id)->status, "queued");
}

TEST_P(GlobalJobsTest, ExpireLeasesMakesEveryRunningJobClaimableAtOnce) {
    const Job first = ClaimedUploadJob("worker-a", kLiveLease);
    const Job second = ClaimedUploadJob("worker-a", kLiveLease);
    UploadJob(NewUploadIn(workspace_).id);  // queued: no lease to expire
    EXPECT_EQ(store_->ExpireLeases(), 2);
    EXPECT_EQ(store_->ClaimJob(first.id, "worker-b", kLiveLease)->attempts, 2);
    EXPECT_EQ(store_->ClaimJob(second.id, "worker-b", kLiveLease)->worker, "worker-b");
}

INSTANTIATE_TEST_SUITE_P(Backends, GlobalJobsTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

// Read endpoints (issue 6): ListTransactions, GetTransactionDetail, LatestCompletedRun and ListResults' filters.
//
// Workspace rows (external id: date, account, amount in öre, user, description, counterparty):
//   upload A  A1 2024-01-05 1930     10000 anna "Office chairs"   "IKEA"
//             A2 2024-01-10 3001    -25050 bo   "Consulting 50%"  "Acme"
//             A3 2024-02-01 1930    999999 anna "Rent"            "Landlord_AB"
//             A4 2024-02-15 1930      1000 carl "coffee"          "OldXAB"
//             A5 2024-03-01 3001    -25050 bo   "OFFICE supplies" "Staples"
//             A6 2024-03-31 4010     50000 anna "Travel 500 km"   "SJ office"
//   upload B  B1 2024-01-20 1930      7000 bo   "office lamp"     "Clas"
//             B2 2024-04-01 3001      -100 carl "Fee"             "Bank"
// plus A1's twin in another workspace, which no read may show. Runs on A (B has none):
//   older (strategy "custom", by id)  score/rank: A1 .10/6 A2 .90/1 A3 .80/2 A4 .20/5 A5 .30/4 A6 .40/3; flags 1-2
//   newer ("quick-scan", no id)       score/rank: A1 .50/4 A2 .20/5 A3 .95/1 A4 .60/2 A5 .60/3 A6 .10/6; flags 1-3
//                                     zscore: .25 .10 .475 .30 .30 .05; round_amount: 1 0 0 1 0 1
// ("flags 1-2": ranks 1 and 2 are flagged.)
//   a queued "quick-scan" run created last, which no read counts as completed.
using Names = std::vector<std::string>;

class ReadQueriesTest : public StoreContractTest {
protected:
    struct Line {
        const char* id;
        Date date;
        const char* account;
        int64_t amount;
        const char* user;
        const char* text;
        const char* counterparty;
    };

    void SetUp() override {
        StoreContractTest::SetUp();
        if (IsSkipped()) return;
        const std::vector<Line> a = {{"A1", Day(2024, 1, 5), "1930", 10000, "anna", "Office chairs", "IKEA"},
                                     {"A2", Day(2024, 1, 10), "3001", -25050, "bo", "Consulting 50%", "Acme"},
                                     {"A3", Day(2024, 2, 1), "1930", 999999, "anna", "Rent", "Landlord_AB"},
                                     {"A4", Day(2024, 2, 15), "1930", 1000, "carl", "coffee", "OldXAB"},
                                     {"A5", Day(2024, 3, 1), "3001", -25050, "bo", "OFFICE supplies", "Staples"},
                                     {"A6", Day(2024, 3, 31), "4010", 50000, "anna", "Travel 500 km", "SJ office"}};
        const std::vector<Line> b = {{"B1", Day(2024, 1, 20), "1930", 7000, "bo", "office lamp", "Clas"},
                                     {"B2", Day(2024, 4, 1), "3001", -100, "carl", "Fee", "Bank"}};
        upload_a_ = CommittedUpload(Lines(a));
        upload_b_ = CommittedUpload(Lines(b));
        a_ = ReadAll(workspace_, upload_a_);
        const std::string other = store_->CreateWorkspace("other").id;
        const Upload foreign = NewUploadIn(other);
        auto writer = store_->BeginTransactions(other, foreign.id);
        writer->Write(Lines({a[0]}));
        writer->Commit("{}");

        strategy_ = *store_->CreateStrategy(
            {.workspace_id = workspace_, .name = "custom", .configuration = R"({"name": "custom"})"});
        store::Run first = store_->CreateRun({.workspace_id = workspace_,
                                              .upload_id = upload_a_,
                                              .strategy_id = strategy_.id,
                                              .strategy_name = "custom",
                                              .configuration = "{}"});
        // Runs created within one millisecond are ordered by their random ids: create the second until the store
        // counts it newer (the extra queued runs change nothing, as the queued run below shows).
        store::Run second;
        do {
            second = store_->CreateRun({.workspace_id = workspace_,
                                        .upload_id = upload_a_,
                                        .strategy_name = "quick-scan",
                                        .configuration = "{}"});
        } while (std::tie(second.created_at, second.id) < std::tie(first.created_at, first.id));
        older_ = first;
        newer_ = second;
        Complete(older_, {0.10, 0.90, 0.80, 0.20, 0.30, 0.40}, {6, 1, 2, 5, 4, 3}, 2, {}, {});
        Complete(newer_, {0.50, 0.20, 0.95, 0.60, 0.60, 0.10}, {4, 5, 1, 2, 3, 6}, 3,
                 {0.25, 0.10, 0.475, 0.30, 0.30, 0.05}, {1, 0, 0, 1, 0, 1});
        pending_ = store_->CreateRun(
            {.workspace_id = workspace_, .upload_id = upload_a_, .strategy_name = "quick-scan", .configuration = "{}"});
    }

    std::vector<Transaction> Lines(const std::vector<Line>& lines) {
        std::vector<Transaction> rows;
        for (const Line& line : lines) {
            Transaction t = Row(std::ssize(rows) + 1, line.amount);
            t.external_id = line.id;
            t.date = line.date;
            t.account = line.account;
            t.user = line.user;
            t.text = line.text;
            t.counterparty = line.counterparty;
            t.processed_data = R"({"log_amount": 1.5})";
            rows.push_back(t);
        }
        return rows;
    }

    // Writes the run's results on upload A; zscore and round_amount scores when given, zscore = score otherwise.
    void Complete(const store::Run& run, const std::vector<double>& score, const std::vector<int64_t>& rank,
                  int64_t flagged, const std::vector<double>& zscore, const std::vector<double>& round_amount) {
        std::vector<AlgorithmScore> scores;
        std::vector<AnalysisResult> results;
        for (size_t i = 0; i < a_.size(); ++i) {
            const std::string& id = a_[i].id;
            scores.push_back({.transaction_id = id,
                              .algorithm = "zscore",
                              .score = zscore.empty() ? score[i] : zscore[i],
                              .confidence = 0.9,
                              .reason = "z of " + a_[i].transaction.external_id});
            if (!round_amount.empty()) {
                scores.push_back({.transaction_id = id, .algorithm = "round_amount", .score = round_amount[i]});
            }
            results.push_back({.transaction_id = id,
                               .score = score[i],
                               .flagged = rank[i] <= flagged,
                               .rank = rank[i],
                               .reasons = R"(["because )" + a_[i].transaction.external_id + R"("])"});
        }
        auto writer = store_->BeginRunResults(workspace_, run.id);
        writer->WriteScores(scores);
        writer->WriteResults(results);
        if (run.id == older_.id) {
            writer->WriteFlags(std::vector<RuleFlag>{{.transaction_id = a_[2].id, .rule_name = "x.old"}});
        } else {
            writer->WriteFlags(std::vector<RuleFlag>{
                {.transaction_id = a_[2].id, .rule_name = "zscore.big", .flag_value = 4.5},
                {.transaction_id = a_[2].id, .rule_name = "account.rare", .metadata = R"({"seen": 1})"},
                {.transaction_id = a_[0].id, .rule_name = "zscore.big", .triggered = false}});
        }
        writer->Commit("{}");
    }

    Page<TransactionRow> List(TransactionQuery query) {
        if (query.sort == TransactionSort::kRow && query.run_id.empty()) query.sort = TransactionSort::kDate;
        return store_->ListTransactions(workspace_, query);
    }

    static std::vector<std::string> Ids(const Page<TransactionRow>& page) {
        std::vector<std::string> ids;
        for (const TransactionRow& row : page.items) ids.push_back(row.transaction.transaction.external_id);
        return ids;
    }

    static std::vector<std::string> Ids(const Page<ResultRow>& page) {
        std::vector<std::string> ids;
        for (const ResultRow& row : page.items) ids.push_back(row.transaction.transaction.external_id);
        return ids;
    }

    std::string upload_a_;
    std::string upload_b_;
    std::vector<StoredTransaction> a_;
    Strategy strategy_;
    store::Run older_;
    store::Run newer_;
    store::Run pending_;
};

TEST_P(ReadQueriesTest, TransactionFiltersNarrowToTheMatchingRowsAndTheTotalCountsThem) {
    // List sorts by date when no sort is given: the dates are all different.
    const auto all = List({});
    EXPECT_EQ(all.total, 8);  // not the other workspace's row
    EXPECT_EQ(Ids(all), (Names{"A1", "A2", "B1", "A3", "A4", "A5", "A6", "B2"}));
    EXPECT_EQ(Ids(List({.upload_id = upload_b_})), (Names{"B1", "B2"}));
    const auto account = List({.account = "1930"});
    EXPECT_EQ(account.total, 4);
    EXPECT_EQ(Ids(account), (Names{"A1", "B1", "A3", "A4"}));
    EXPECT_EQ(Ids(List({.user = "bo"})), (Names{"A2", "B1", "A5"}));
    const auto dates = List({.date_from = Day(2024, 2, 1), .date_to = Day(2024, 3, 1)});  // both ends included
    EXPECT_EQ(dates.total, 3);
    EXPECT_EQ(Ids(dates), (Names{"A3", "A4", "A5"}));
    const auto amounts = List({.amount_min = -25050, .amount_max = 1000});  // both ends included
    EXPECT_EQ(amounts.total, 4);
    EXPECT_EQ(Ids(amounts), (Names{"A2", "A4", "A5", "B2"}));
    EXPECT_EQ(Ids(List({.account = "1930", .user = "anna"})), (Names{"A1", "A3"}));
    EXPECT_EQ(Ids(List({.upload_id = upload_b_, .account = "3001"})), (Names{"B2"}));
    const auto none = List({.account = "9999"});
    EXPECT_EQ(none.total, 0);
    EXPECT_TRUE(none.items.empty());
    // Ids that name nothing in the workspace: an empty page.
    EXPECT_EQ(List({.upload_id = NewUuidV7()}).total, 0);
    EXPECT_EQ(List({.upload_id = "not-a-uuid"}).total, 0);
    EXPECT_EQ(store_->ListTransactions(store_->CreateWorkspace("empty").id, {}).total, 0);
}

TEST_P(ReadQueriesTest, TextMatchesDescriptionOrCounterpartyIgnoringCaseAndWildcardsAreLiteral) {
    const auto office = List({.text = "office"});
    EXPECT_EQ(office.total, 4);
    EXPECT_EQ(Ids(office), (Names{"A1", "B1", "A5", "A6"}));  // "Office", "office", "OFFICE", counterparty "SJ office"
    // As LIKE wildcards, "50%" would also match "Travel 500 km" and "d_A" "OldXAB".
    EXPECT_EQ(Ids(List({.text = "50%"})), (Names{"A2"}));
    EXPECT_EQ(Ids(List({.text = "d_A"})), (Names{"A3"}));
    EXPECT_EQ(List({.text = "\\"}).total, 0);
    EXPECT_EQ(Ids(List({.account = "3001", .text = "o"})), (Names{"A2", "A5"}));  // "Consulting", "OFFICE"
}

TEST_P(ReadQueriesTest, TransactionsSortByAmountAndDateEitherWayWithTiesInFileOrder) {
    const auto amount = List({.sort = TransactionSort::kAmount});
    EXPECT_EQ(Ids(amount), (Names{"A2", "A5", "B2", "A4", "B1", "A1", "A6", "A3"}));  // A2 and A5 tie: file order
    const auto amount_desc = List({.sort = TransactionSort::kAmount, .order = SortOrder::kDescending});
    EXPECT_EQ(Ids(amount_desc), (Names{"A3", "A6", "A1", "B1", "A4", "B2", "A5", "A2"}));
    const auto date_desc = List({.sort = TransactionSort::kDate, .order = SortOrder::kDescending});
    EXPECT_EQ(Ids(date_desc), (Names{"B2", "A6", "A5", "A4", "A3", "B1", "A2", "A1"}));
    // Without a run, a score sort has no score to sort by: file order.
    const auto score = store_->ListTransactions(workspace_, {.upload_id = upload_a_, .sort = TransactionSort::kScore});
    EXPECT_EQ(Ids(score), (Names{"A1", "A2", "A3", "A4", "A5", "A6"}));
}

TEST_P(ReadQueriesTest, PagesInFileOrderCoverEveryRowOnceAndKeepTheTotal) {
    // File order: the upload with the smaller id first (UUIDv7: the older), then row number.
    const Names a = {"A1", "A2", "A3", "A4", "A5", "A6"};
    const Names b = {"B1", "B2"};
    Names expected = upload_a_ < upload_b_ ? a : b;
    const Names& second = upload_a_ < upload_b_ ? b : a;
    expected.insert(expected.end(), second.begin(), second.end());
    EXPECT_EQ(Ids(store_->ListTransactions(workspace_, {})), expected);
    Names paged;
    for (int64_t offset = 0; offset < 10; offset += 3) {
        const auto page = store_->ListTransactions(workspace_, {.limit = 3, .offset = offset});
        EXPECT_EQ(page.total, 8);
        EXPECT_LE(page.items.size(), 3u);
        const Names ids = Ids(page);
        paged.insert(paged.end(), ids.begin(), ids.end());
    }
    EXPECT_EQ(paged, expected);
    Names reversed(expected.rbegin(), expected.rend());
    EXPECT_EQ(Ids(store_->ListTransactions(workspace_, {.order = SortOrder::kDescending})), reversed);
}

TEST_P(ReadQueriesTest, EachRowCarriesTheNewestCompletedRunsScoresOrNoneWithoutARun) {
    const auto page = store_->ListTransactions(workspace_, {.sort = TransactionSort::kDate});
    ASSERT_EQ(page.items.size(), 8u);
    for (const TransactionRow& row : page.items) {
        const bool in_a = row.transaction.transaction.external_id[0] == 'A';
        ASSERT_EQ(row.latest.has_value(), in_a) << row.transaction.transaction.external_id;
        if (in_a) {
            EXPECT_EQ(row.latest->run_id, newer_.id);  // not the queued run created after it
        }
    }
    const TransactionRow& a3 = page.items[3];
    ASSERT_EQ(a3.transaction.transaction.external_id, "A3");
    EXPECT_EQ(a3.latest->result.transaction_id, a3.transaction.id);
    EXPECT_EQ(a3.latest->result.score, 0.95);
    EXPECT_EQ(a3.latest->result.rank, 1);
    EXPECT_TRUE(a3.latest->result.flagged);
    ExpectSameJson(R"(["because A3"])", a3.latest->result.reasons);
    ASSERT_EQ(a3.latest->algorithm_scores.size(), 2u);
    EXPECT_EQ(a3.latest->algorithm_scores[0].algorithm, "round_amount");
    EXPECT_EQ(a3.latest->algorithm_scores[0].score, 0.0);
    EXPECT_EQ(a3.latest->algorithm_scores[1].algorithm, "zscore");
    EXPECT_EQ(a3.latest->algorithm_scores[1].score, 0.475);
    EXPECT_EQ(a3.latest->algorithm_scores[1].reason, "z of A3");
    const TransactionRow& a6 = page.items[6];
    ASSERT_EQ(a6.transaction.transaction.external_id, "A6");
    EXPECT_EQ(a6.latest->result.rank, 6);
    EXPECT_FALSE(a6.latest->result.flagged);
    EXPECT_EQ(a6.transaction.id, a_[5].id);
    ExpectSameTransaction(a_[5].transaction, a6.transaction.transaction);
}

TEST_P(ReadQueriesTest, ARunNarrowsToItsRowsWithItsScoresAndSortsByScoreWithTiesByRank) {
    const auto all = store_->ListTransactions(
        workspace_, {.run_id = older_.id, .sort = TransactionSort::kScore, .order = SortOrder::kDescending});
    EXPECT_EQ(all.total, 6);
    EXPECT_EQ(Ids(all), (Names{"A2", "A3", "A6", "A5", "A4", "A1"}));
    for (const TransactionRow& row : all.items) {
        ASSERT_TRUE(row.latest.has_value());
        EXPECT_EQ(row.latest->run_id, older_.id);  // the run asked for, not the newest
        ASSERT_EQ(row.latest->algorithm_scores.size(), 1u);
        EXPECT_EQ(row.latest->algorithm_scores[0].score, row.latest->result.score);
    }
    EXPECT_EQ(all.items[0].latest->result.rank, 1);
    EXPECT_TRUE(all.items[0].latest->result.flagged);
    const auto at_least =
        store_->ListTransactions(workspace_, {.run_id = older_.id, .min_score = 0.4, .sort = TransactionSort::kScore});
    EXPECT_EQ(at_least.total, 3);  // .90, .80 and .40 itself
    EXPECT_EQ(Ids(at_least), (Names{"A6", "A3", "A2"}));
    // A4 and A5 tie at .60; rank (2, 3) breaks it, and ascending is the exact reverse.
    const auto newer = store_->ListTransactions(
        workspace_, {.run_id = newer_.id, .sort = TransactionSort::kScore, .order = SortOrder::kDescending});
    EXPECT_EQ(Ids(newer), (Names{"A3", "A4", "A5", "A1", "A2", "A6"}));
    const auto newer_asc = store_->ListTransactions(workspace_, {.run_id = newer_.id, .sort = TransactionSort::kScore});
    EXPECT_EQ(Ids(newer_asc), (Names{"A6", "A2", "A1", "A5", "A4", "A3"}));
    EXPECT_EQ(Ids(store_->ListTransactions(workspace_, {.account = "1930", .run_id = older_.id, .min_score = 0.15})),
              (Names{"A3", "A4"}));
    // The run scored none of upload B's rows; a queued run none at all; an unknown run names nothing.
    EXPECT_EQ(store_->ListTransactions(workspace_, {.upload_id = upload_b_, .run_id = older_.id}).total, 0);
    EXPECT_EQ(store_->ListTransactions(workspace_, {.run_id = pending_.id}).total, 0);
    EXPECT_EQ(store_->ListTransactions(workspace_, {.run_id = NewUuidV7()}).total, 0);
    EXPECT_EQ(store_->ListTransactions(store_->CreateWorkspace("x").id, {.run_id = older_.id}).total, 0);
}

TEST_P(ReadQueriesTest, DetailListsEveryCompletedRunNewestFirstWithScoresAndFlags) {
    const auto detail = store_->GetTransactionDetail(workspace_, a_[2].id);
    ASSERT_TRUE(detail.has_value()) << detail.error().message;
    EXPECT_EQ(detail->transaction.id, a_[2].id);
    EXPECT_EQ(detail->upload_id, upload_a_);
    ExpectSameTransaction(a_[2].transaction, detail->transaction.transaction);
    ExpectSameJson(R"({"log_amount": 1.5})", detail->transaction.transaction.processed_data);
    ASSERT_EQ(detail->runs.size(), 2u);  // not the queued run

    const TransactionRunDetail& newer = detail->runs[0];
    EXPECT_EQ(newer.run_id, newer_.id);
    EXPECT_EQ(newer.strategy_name, "quick-scan");
    EXPECT_EQ(newer.created_at, newer_.created_at);
    ASSERT_TRUE(newer.result.has_value());
    EXPECT_EQ(newer.result->score, 0.95);
    EXPECT_EQ(newer.result->rank, 1);
    EXPECT_TRUE(newer.result->flagged);
    ExpectSameJson(R"(["because A3"])", newer.result->reasons);
    ASSERT_EQ(newer.algorithm_scores.size(), 2u);
    EXPECT_EQ(newer.algorithm_scores[0].algorithm, "round_amount");
    EXPECT_EQ(newer.algorithm_scores[1].algorithm, "zscore");
    EXPECT_EQ(newer.algorithm_scores[1].score, 0.475);
    EXPECT_EQ(newer.algorithm_scores[1].confidence, 0.9);
    EXPECT_EQ(newer.algorithm_scores[1].reason, "z of A3");
    ASSERT_EQ(newer.flags.size(), 2u);  // A1's flag is not A3's
    EXPECT_EQ(newer.flags[0].rule_name, "account.rare");
    ExpectSameJson(R"({"seen": 1})", newer.flags[0].metadata);
    EXPECT_EQ(newer.flags[1].rule_name, "zscore.big");
    EXPECT_EQ(newer.flags[1].flag_value, 4.5);
    EXPECT_TRUE(newer.flags[1].triggered);

    const TransactionRunDetail& older = detail->runs[1];
    EXPECT_EQ(older.run_id, older_.id);
    EXPECT_EQ(older.strategy_name, "custom");
    EXPECT_EQ(older.result->score, 0.80);
    EXPECT_EQ(older.result->rank, 2);
    EXPECT_TRUE(older.result->flagged);
    ASSERT_EQ(older.algorithm_scores.size(), 1u);
    EXPECT_EQ(older.algorithm_scores[0].score, 0.80);
    ASSERT_EQ(older.flags.size(), 1u);
    EXPECT_EQ(older.flags[0].rule_name, "x.old");

    const auto a1 = store_->GetTransactionDetail(workspace_, a_[0].id);
    ASSERT_TRUE(a1.has_value());
    ASSERT_EQ(a1->runs.size(), 2u);
    ASSERT_EQ(a1->runs[0].flags.size(), 1u);
    EXPECT_FALSE(a1->runs[0].flags[0].triggered);
    EXPECT_TRUE(a1->runs[1].flags.empty());
    // Upload B has no completed run.
    const auto b1 = store_->GetTransactionDetail(workspace_, ReadAll(workspace_, upload_b_)[0].id);
    ASSERT_TRUE(b1.has_value());
    EXPECT_TRUE(b1->runs.empty());
}

TEST_P(ReadQueriesTest, DetailOfAnUnknownOrForeignTransactionIsNotFound) {
    for (const std::string& id : {NewUuidV7(), std::string("T42"), std::string()}) {
        const auto detail = store_->GetTransactionDetail(workspace_, id);
        ASSERT_FALSE(detail.has_value()) << id;
        EXPECT_EQ(detail.error().kind, ErrorKind::kNotFound);
    }
    const auto foreign = store_->GetTransactionDetail(store_->CreateWorkspace("other").id, a_[0].id);
    ASSERT_FALSE(foreign.has_value());
    EXPECT_EQ(foreign.error().kind, ErrorKind::kNotFound);
}

TEST_P(ReadQueriesTest, LatestCompletedRunOfAStrategyByIdOrByName) {
    const auto by_id = store_->LatestCompletedRun(workspace_, strategy_.id);
    ASSERT_TRUE(by_id.has_value());
    EXPECT_EQ(by_id->id, older_.id);
    EXPECT_EQ(by_id->status, "completed");
    EXPECT_EQ(by_id->flagged_count, 2);
    EXPECT_EQ(store_->LatestCompletedRun(workspace_, "custom")->id, older_.id);
    // The queued quick-scan run is newer but not completed.
    EXPECT_EQ(store_->LatestCompletedRun(workspace_, "quick-scan")->id, newer_.id);
    for (const std::string& strategy : {std::string("ml-ensemble"), NewUuidV7()}) {
        const auto none = store_->LatestCompletedRun(workspace_, strategy);
        ASSERT_FALSE(none.has_value()) << strategy;
        EXPECT_EQ(none.error().kind, ErrorKind::kNotFound);
    }
    EXPECT_FALSE(store_->LatestCompletedRun(store_->CreateWorkspace("other").id, "quick-scan").has_value());
}

TEST_P(ReadQueriesTest, ResultsFilterByAlgorithmAccountAndDatesAndSortByScoreOrDate) {
    auto list = [&](const ResultQuery& query) { return store_->ListResults(workspace_, newer_.id, query); };
    // round_amount scored A1, A4 and A6 above 0; by rank 4, 2, 6.
    const auto round = list({.algorithm = "round_amount"});
    EXPECT_EQ(round.total, 3);
    EXPECT_EQ(Ids(round), (Names{"A4", "A1", "A6"}));
    // min_score applies to the algorithm's score (zscore .30 and up) rather than the combined one (.30 and up: A1 too).
    const auto zscore = list({.min_score = 0.3, .algorithm = "zscore"});
    EXPECT_EQ(zscore.total, 3);
    EXPECT_EQ(Ids(zscore), (Names{"A3", "A4", "A5"}));
    EXPECT_EQ(list({.min_score = 0.3}).total, 4);
    EXPECT_EQ(list({.algorithm = "benford"}).total, 0);
    const auto account = list({.account = "1930"});
    EXPECT_EQ(account.total, 3);
    EXPECT_EQ(Ids(account), (Names{"A3", "A4", "A1"}));
    const auto dates = list({.date_from = Day(2024, 2, 1), .date_to = Day(2024, 3, 1)});
    EXPECT_EQ(dates.total, 3);
    EXPECT_EQ(Ids(dates), (Names{"A3", "A4", "A5"}));
    const auto flagged = list({.flagged_only = true});
    EXPECT_EQ(flagged.total, 3);
    EXPECT_EQ(Ids(flagged), (Names{"A3", "A4", "A5"}));
    const auto flagged_account = list({.flagged_only = true, .account = "1930", .limit = 1});
    EXPECT_EQ(flagged_account.total, 2);
    EXPECT_EQ(Ids(flagged_account), (Names{"A3"}));

    EXPECT_EQ(Ids(list({.sort = ResultSort::kScore, .order = SortOrder::kDescending})),
              (Names{"A3", "A4", "A5", "A1", "A2", "A6"}));
    EXPECT_EQ(Ids(list({.sort = ResultSort::kScore})), (Names{"A6", "A2", "A1", "A5", "A4", "A3"}));
    EXPECT_EQ(Ids(list({.sort = ResultSort::kRank, .order = SortOrder::kDescending})),
              (Names{"A6", "A2", "A1", "A5", "A4", "A3"}));
    EXPECT_EQ(Ids(list({.sort = ResultSort::kDate})), (Names{"A1", "A2", "A3", "A4", "A5", "A6"}));
    const auto date_page = list({.sort = ResultSort::kDate, .order = SortOrder::kDescending, .limit = 2, .offset = 2});
    EXPECT_EQ(date_page.total, 6);
    EXPECT_EQ(Ids(date_page), (Names{"A4", "A3"}));
    for (const ResultRow& row : date_page.items) EXPECT_EQ(row.algorithm_scores.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadQueriesTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
}  // namespace granska::store
