// The storage contract (store.h), one suite run unchanged against SQLite (a temporary file) and PostgreSQL (the
// server named by GRANSKA_TEST_POSTGRES_URL, which scripts/test.sh starts). Every test works in a workspace of its
// own, so tests never see each other's rows on the shared PostgreSQL database.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace granska::store {
namespace {

// The number of embedded migrations; bump it with each new migrations/NNNN_*.sql.
constexpr int kSchemaVersion = 4;

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

    std::string url_;
    std::filesystem::path dir_;
    std::unique_ptr<Store> store_;
    std::string workspace_;
};

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

TEST_P(StoreContractTest, NewUploadIsPending) {
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
    EXPECT_EQ(read->status, "pending");
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

TEST_P(StoreContractTest, UploadGoesFromPendingThroughProcessingToCompleted) {
    const Upload upload = NewUploadIn(workspace_);
    store_->MarkUploadProcessing(workspace_, upload.id);
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "processing");

    auto writer = store_->BeginTransactions(workspace_, upload.id);
    writer->Write(std::vector{Row(1, 100), Row(2, 200)});
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "processing");
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
    EXPECT_EQ(after->status, "processing");
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
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "pending");
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
    EXPECT_EQ(store_->GetUpload(workspace_, upload.id)->status, "pending");
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
                       "column": "amount"})",
                   upload->error_details);
    EXPECT_TRUE(ReadAll(workspace_, upload_id).empty());
}

TEST_P(StoreContractTest, FailUploadWithoutALocationHasNullLineAndColumn) {
    const Upload upload = NewUploadIn(workspace_);
    store_->FailUpload(workspace_, upload.id, Internal("disk full"), "{}");
    ExpectSameJson(R"({"error": "internal", "message": "disk full", "line": null, "column": null})",
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

TEST_P(StoreContractTest, StrategiesReadBackAndANameReusedGetsTheNextVersion) {
    const std::string configuration = R"({"name": "audit",   "algorithms": [{"name": "zscore", "weight": 1.0}]})";
    const Strategy first = store_->CreateStrategy(NewStrategy{
        .workspace_id = workspace_, .name = "audit", .description = "Journal entries", .configuration = configuration});
    const Strategy second = store_->CreateStrategy(
        NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = configuration});
    const Strategy other =
        store_->CreateStrategy(NewStrategy{.workspace_id = workspace_, .name = "benford only", .configuration = "{}"});
    EXPECT_EQ(first.version, 1);
    EXPECT_EQ(second.version, 2);
    EXPECT_EQ(other.version, 1);

    const auto read = store_->GetStrategy(workspace_, first.id);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->name, "audit");
    EXPECT_EQ(read->description, "Journal entries");
    EXPECT_EQ(read->configuration, configuration);  // byte for byte
    EXPECT_EQ(read->version, 1);
    EXPECT_TRUE(read->is_active);
    EXPECT_EQ(read->created_at, first.created_at);
    EXPECT_EQ(read->updated_at, first.updated_at);
    EXPECT_TRUE(IsTimestamp(read->created_at)) << read->created_at;
    EXPECT_EQ(store_->GetStrategy(store_->CreateWorkspace("other").id, first.id).error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContractTest, RunGoesFromPendingThroughRunningToCompleted) {
    const std::string upload_id = CommittedUpload({Row(1, 1), Row(2, 2), Row(3, 3)});
    const Strategy strategy = store_->CreateStrategy(
        NewStrategy{.workspace_id = workspace_, .name = "audit", .configuration = R"({"name": "audit"})"});
    const store::Run created = store_->CreateRun(NewRun{.workspace_id = workspace_,
                                                        .upload_id = upload_id,
                                                        .strategy_id = strategy.id,
                                                        .strategy_name = "audit",
                                                        .configuration = R"({"name":  "audit"})"});
    auto run = store_->GetRun(workspace_, created.id);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run->status, "pending");
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
    EXPECT_EQ(store_->GetRun(workspace_, run.id)->status, "pending");
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
            if (store_->GetUpload(workspace_, upload.id)->status != "processing") ++failures;
        }
    });
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(store_->ListUploads(workspace_, 100, 0).total, 41);
    EXPECT_EQ(ReadAll(workspace_, pending.id).size(), 2u);
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

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
}  // namespace granska::store
