#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <variant>

#include "core/date.h"
#include "core/uuid.h"
#include "store/detail/read_queries.h"
#include "store/detail/store_util.h"
#include "store/sqlite/detail/sqlite_connection.h"

namespace granska::store::detail {
std::span<const Migration> SqliteMigrations();  // generated from migrations/*.sql
}  // namespace granska::store::detail

namespace granska::store {

namespace {

using detail::CanonicalId;
using detail::NowTimestamp;
using detail::RequireId;
using detail::RequireIds;
using detail::ThrowUnknownId;
using sqlite_detail::Connection;
using sqlite_detail::Pool;
using sqlite_detail::Statement;
using sqlite_detail::WriteTransaction;

constexpr std::string_view kUploadColumns =
    "id, workspace_id, filename, file_type, file_size, status, row_count, mapping, error_message, error_details, "
    "created_at, completed_at, metadata";
constexpr std::string_view kRunColumns =
    "id, workspace_id, upload_id, strategy_id, strategy_name, configuration, status, progress, stage, "
    "error_message, metadata, flagged_count, created_at, started_at, completed_at, strategy_version, progress_detail";
constexpr std::string_view kStrategyColumns =
    "id, workspace_id, name, description, configuration, version, is_active, created_at, updated_at";
// Jobs created or due within one millisecond (SQLite's timestamps) are ordered by rowid, their insertion order.
constexpr std::string_view kJobColumns =
    "id, workspace_id, kind, target_id, payload, status, attempts, max_attempts, worker, error, cancel_requested, "
    "run_after, lease_until, created_at, started_at, finished_at, updated_at";
// Claimable at ?1 (now, a timestamp): due and not cancelled, or running under a lease that ran out before the last
// attempt (a lease of 0 ms has run out at once).
constexpr std::string_view kClaimable =
    "cancel_requested = 0 AND ((status IN ('queued', 'retrying') AND run_after <= ?1) OR "
    "(status = 'running' AND lease_until <= ?1 AND attempts < max_attempts))";
// Prefixed with "t." so the list works in joins too; ReadTransaction reads them in this order.
constexpr std::string_view kTransactionColumns =
    "t.id, t.row_number, t.source_line, t.external_id, t.transaction_date, t.registration_date, "
    "t.transaction_time, t.account, t.amount_minor, t.currency, t.description, t.user_id, t.counterparty, "
    "t.voucher_series, t.voucher_number, t.raw_data, t.processed_data";
constexpr int kTransactionColumnCount = 17;

// JSON columns hold NULL for "" (not valid JSON) and give "" back.
std::optional<std::string_view> JsonOrNull(std::string_view json) {
    if (json.empty()) return std::nullopt;
    return json;
}

std::string_view JsonOr(std::string_view json, std::string_view fallback) { return json.empty() ? fallback : json; }

Upload ReadUpload(const Statement& s) {
    return Upload{.id = s.Text(0),
                  .workspace_id = s.Text(1),
                  .filename = s.Text(2),
                  .file_type = s.Text(3),
                  .file_size = s.Int(4),
                  .status = s.Text(5),
                  .row_count = s.Int(6),
                  .mapping = s.Text(7),
                  .error_message = s.Text(8),
                  .error_details = s.Text(9),
                  .metadata = s.Text(12),
                  .created_at = s.Text(10),
                  .completed_at = s.Text(11)};
}

Run ReadRun(const Statement& s) {
    return Run{.id = s.Text(0),
               .workspace_id = s.Text(1),
               .upload_id = s.Text(2),
               .strategy_id = s.Text(3),
               .strategy_name = s.Text(4),
               .strategy_version = s.Int(15),
               .configuration = s.Text(5),
               .status = s.Text(6),
               .progress = s.Double(7),
               .stage = s.Text(8),
               .progress_detail = s.Text(16),
               .error_message = s.Text(9),
               .metadata = s.Text(10),
               .flagged_count = s.Int(11),
               .created_at = s.Text(12),
               .started_at = s.Text(13),
               .completed_at = s.Text(14)};
}

Strategy ReadStrategy(const Statement& s) {
    return Strategy{.id = s.Text(0),
                    .workspace_id = s.Text(1),
                    .name = s.Text(2),
                    .description = s.Text(3),
                    .configuration = s.Text(4),
                    .version = s.Int(5),
                    .is_active = s.Int(6) != 0,
                    .created_at = s.Text(7),
                    .updated_at = s.Text(8)};
}

Job ReadJob(const Statement& s) {
    return Job{.id = s.Text(0),
               .workspace_id = s.Text(1),
               .kind = s.Text(2),
               .target_id = s.Text(3),
               .payload = s.Text(4),
               .status = s.Text(5),
               .attempts = static_cast<int>(s.Int(6)),
               .max_attempts = static_cast<int>(s.Int(7)),
               .worker = s.Text(8),
               .error = s.Text(9),
               .cancel_requested = s.Int(10) != 0,
               .run_after = s.Text(11),
               .lease_until = s.Text(12),
               .created_at = s.Text(13),
               .started_at = s.Text(14),
               .finished_at = s.Text(15),
               .updated_at = s.Text(16)};
}

// Jobs read SQLite's time as the process's UTC clock, in milliseconds like every stored timestamp.
using Millis = std::chrono::sys_time<std::chrono::milliseconds>;
Millis NowMillis() { return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()); }
std::string After(Millis now, std::chrono::milliseconds offset) {
    return detail::FormatTimestamp(now + std::max(offset, std::chrono::milliseconds(0)));
}

// An upload that ends failed or cancelled keeps no rows.
void DeleteUploadRows(Connection& db, const std::string& workspace_id, const std::string& upload_id) {
    db.Prepare("DELETE FROM transactions WHERE upload_id = ?1 AND workspace_id = ?2")
        .Bind(1, upload_id)
        .Bind(2, workspace_id)
        .Run();
}

// What a job's end does to its target, inside the caller's write transaction; a finished target is left as it is.
struct JobTarget {
    std::string kind;
    std::string workspace_id;
    std::string target_id;
};

void EndTarget(Connection& db, const JobTarget& target, std::string_view status, std::string_view error,
               const std::string& now) {
    if (status == "completed") return;  // the task's own writer completed it
    const bool upload = detail::JobTargetTable(target.kind) == "file_uploads";
    Statement update = db.Prepare(
        upload ? "UPDATE file_uploads SET status = ?1, "
                 "error_message = CASE WHEN ?1 IN ('failed', 'retrying') THEN ?2 ELSE error_message END, "
                 "row_count = CASE WHEN ?1 IN ('failed', 'cancelled') THEN 0 ELSE row_count END "
                 "WHERE id = ?3 AND workspace_id = ?4 AND status NOT IN ('completed', 'failed', 'cancelled')"
               : "UPDATE analysis_runs SET status = ?1, "
                 "error_message = CASE WHEN ?1 IN ('failed', 'retrying') THEN ?2 ELSE error_message END, "
                 "completed_at = CASE WHEN ?1 IN ('failed', 'cancelled') THEN ?5 ELSE completed_at END "
                 "WHERE id = ?3 AND workspace_id = ?4 AND status NOT IN ('completed', 'failed', 'cancelled')");
    update.Bind(1, status).Bind(2, error).Bind(3, target.target_id).Bind(4, target.workspace_id);
    if (!upload) update.Bind(5, now);
    update.Run();
    if (upload && db.Changes() > 0 && (status == "failed" || status == "cancelled")) {
        DeleteUploadRows(db, target.workspace_id, target.target_id);
    }
}

// Ends the running jobs whose lease ran out and that may not be claimed again (the last attempt's, or cancel
// requested), with their targets; only the job `id` when it is given. Inside the caller's write transaction.
int EndDeadJobs(Connection& db, const std::string& now, std::optional<std::string_view> id) {
    std::vector<std::pair<JobTarget, std::pair<std::string, std::string>>> ended;
    {
        Statement s = db.Prepare(
            "UPDATE jobs SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END, "
            "error = CASE WHEN cancel_requested = 1 THEN error "
            "ELSE printf('The worker running it stopped during attempt %d of %d.', attempts, max_attempts) END, "
            "finished_at = ?1, updated_at = ?1 "
            "WHERE status = 'running' AND lease_until <= ?1 AND (attempts >= max_attempts OR cancel_requested = 1) "
            "AND (?2 IS NULL OR id = ?2) RETURNING kind, workspace_id, target_id, status, error");
        s.Bind(1, now).BindOptional(2, id);
        while (s.Step()) {
            ended.push_back({JobTarget{.kind = s.Text(0), .workspace_id = s.Text(1), .target_id = s.Text(2)},
                             {s.Text(3), s.Text(4)}});
        }
    }
    for (const auto& [target, end] : ended) EndTarget(db, target, end.first, end.second, now);
    return static_cast<int>(ended.size());
}

Date ReadDate(const Statement& s, int column) {
    const auto date = detail::ParseDate(s.View(column));
    if (!date) throw std::runtime_error(fmt::format("SQLite: bad date '{}' in transactions", s.View(column)));
    return *date;
}

StoredTransaction ReadTransaction(const Statement& s, int first) {
    StoredTransaction out;
    out.id = s.Text(first);
    Transaction& t = out.transaction;
    t.row_number = s.Int(first + 1);
    t.source_line = s.Int(first + 2);
    t.external_id = s.Text(first + 3);
    t.date = ReadDate(s, first + 4);
    if (!s.IsNull(first + 5)) t.registration_date = ReadDate(s, first + 5);
    if (!s.IsNull(first + 6)) t.time_seconds = detail::ParseTimeOfDay(s.View(first + 6));
    t.account = s.Text(first + 7);
    t.amount = Money{.minor = s.Int(first + 8)};
    t.currency = s.Text(first + 9);
    t.text = s.Text(first + 10);
    t.user = s.Text(first + 11);
    t.counterparty = s.Text(first + 12);
    t.voucher_series = s.Text(first + 13);
    t.voucher_number = s.Text(first + 14);
    t.raw_data = s.Text(first + 15);
    t.processed_data = s.Text(first + 16);
    return out;
}

RuleFlag ReadFlag(const Statement& s, int first) {
    return RuleFlag{.transaction_id = s.Text(first),
                    .rule_name = s.Text(first + 1),
                    .triggered = s.Int(first + 2) != 0,
                    .flag_value = detail::FlagValueFromText(s.View(first + 3)),
                    .metadata = s.Text(first + 4)};
}

// One read transaction for the scope: every read in it sees the same snapshot.
class ReadSnapshot {
public:
    explicit ReadSnapshot(Connection& db) : db_(db) { db_.Exec("BEGIN"); }
    ~ReadSnapshot() {
        try {
            db_.Exec("COMMIT");
        } catch (const std::exception&) {
            // A read-only transaction has nothing to lose; the pool rolls back a connection left open.
        }
    }
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

private:
    Connection& db_;
};

// The read queries' view of a SQLite connection (store/detail/read_queries.h); the caller holds the snapshot.
class SqliteReadRows final : public detail::ReadRows {
public:
    SqliteReadRows(Connection& db, const std::string& sql, std::span<const detail::SqlValue> params)
        : statement_(db.Prepare(sql)) {
        int index = 1;
        for (const detail::SqlValue& value : params) {
            std::visit([&](const auto& v) { statement_.Bind(index, v); }, value);
            ++index;
        }
    }
    bool Next() override { return statement_.Step(); }
    bool IsNull(int column) const override { return statement_.IsNull(column); }
    std::string Text(int column) const override { return statement_.Text(column); }
    int64_t Int(int column) const override { return statement_.Int(column); }
    double Double(int column) const override { return statement_.Double(column); }
    bool Bool(int column) const override { return statement_.Int(column) != 0; }
    StoredTransaction Transaction(int first) const override { return ReadTransaction(statement_, first); }
    Run RunRow() const override { return ReadRun(statement_); }

private:
    Statement statement_;
};

class SqliteReadSession final : public detail::ReadSession {
public:
    explicit SqliteReadSession(Connection& db) : db_(db) {}
    detail::Dialect dialect() const override { return detail::Dialect::kSqlite; }
    std::string TransactionColumns() const override { return std::string(kTransactionColumns); }
    std::string RunColumns() const override { return std::string(kRunColumns); }
    std::string Timestamp(std::string_view column) const override { return std::string(column); }
    std::unique_ptr<detail::ReadRows> Query(const std::string& sql, std::span<const detail::SqlValue> params) override {
        return std::make_unique<SqliteReadRows>(db_, sql, params);
    }

private:
    Connection& db_;
};

// Binds one row to the transactions INSERT (parameters 1..21, see kInsertTransaction).
void BindTransaction(Statement& s, const std::string& id, const std::string& workspace_id, const std::string& upload_id,
                     const std::string& created_at, const Transaction& t) {
    s.Bind(1, id).Bind(2, workspace_id).Bind(3, upload_id).Bind(4, t.row_number).Bind(5, t.source_line);
    s.Bind(6, t.external_id).Bind(7, t.date.ToString());
    if (t.registration_date) {
        s.Bind(8, t.registration_date->ToString());
    } else {
        s.BindNull(8);
    }
    if (t.time_seconds) {
        s.Bind(9, FormatTimeOfDay(*t.time_seconds));
    } else {
        s.BindNull(9);
    }
    s.Bind(10, t.account).Bind(11, t.amount.minor).Bind(12, t.currency).Bind(13, t.text).Bind(14, t.user);
    s.Bind(15, t.counterparty).Bind(16, t.voucher_series).Bind(17, t.voucher_number);
    s.BindOptional(18, JsonOrNull(t.raw_data)).BindOptional(19, JsonOrNull(t.processed_data));
    s.Bind(20, created_at);
}

constexpr std::string_view kInsertTransaction =
    "INSERT INTO transactions (id, workspace_id, upload_id, row_number, source_line, external_id, transaction_date, "
    "registration_date, transaction_time, account, amount_minor, currency, description, user_id, counterparty, "
    "voucher_series, voucher_number, raw_data, processed_data, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

// Holds its connection for its whole life; BEGIN IMMEDIATE at the first Write takes the write lock until Commit.
class SqliteTransactionWriter final : public TransactionWriter {
public:
    SqliteTransactionWriter(Pool::Lease lease, std::string workspace_id, std::string upload_id)
        : lease_(std::move(lease)),
          workspace_id_(std::move(workspace_id)),
          upload_id_(std::move(upload_id)),
          created_at_(NowTimestamp()) {}

    void Write(std::span<const Transaction> rows) override {
        if (committed_) throw std::logic_error("TransactionWriter::Write after Commit");
        if (!transaction_) transaction_.emplace(*lease_);
        Statement insert = lease_->Prepare(kInsertTransaction);
        for (const Transaction& row : rows) {
            BindTransaction(insert, NewUuidV7(), workspace_id_, upload_id_, created_at_, row);
            insert.Run();
            insert.Reset();
        }
        rows_ += std::ssize(rows);
    }

    void Commit(std::string_view metadata) override {
        if (committed_) throw std::logic_error("TransactionWriter::Commit called twice");
        if (!transaction_) transaction_.emplace(*lease_);
        Statement update = lease_->Prepare(
            "UPDATE file_uploads SET status = 'completed', row_count = ?1, completed_at = ?2, metadata = ?5 "
            "WHERE id = ?3 AND workspace_id = ?4");
        update.Bind(1, rows_)
            .Bind(2, NowTimestamp())
            .Bind(3, upload_id_)
            .Bind(4, workspace_id_)
            .Bind(5, JsonOr(metadata, "{}"))
            .Run();
        transaction_->Commit();
        committed_ = true;
    }

private:
    Pool::Lease lease_;
    std::string workspace_id_;
    std::string upload_id_;
    std::string created_at_;
    int64_t rows_ = 0;
    bool committed_ = false;
    std::optional<WriteTransaction> transaction_;  // declared last: rolls back before the lease goes back
};

// Holds its connection and SQLite's write lock (BEGIN IMMEDIATE) from construction until Commit or destruction.
class SqliteRunResultWriter final : public RunResultWriter {
public:
    // Throws std::invalid_argument (rolling back) when the run is not in the workspace.
    SqliteRunResultWriter(Pool::Lease lease, const std::string& workspace_id, std::string run_id)
        : lease_(std::move(lease)),
          run_id_(std::move(run_id)),
          transaction_(*lease_),
          insert_score_(lease_->Prepare(
              "INSERT INTO anomaly_scores (run_id, transaction_id, algorithm, score, confidence, reason) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
          insert_result_(
              lease_->Prepare("INSERT INTO analysis_results (run_id, transaction_id, score, flagged, rank, reasons) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")),
          insert_flag_(lease_->Prepare(
              "INSERT INTO rule_flags (run_id, created_at, id, transaction_id, rule_name, triggered, flag_value, "
              "metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")) {
        {
            Statement exists = lease_->Prepare("SELECT 1 FROM analysis_runs WHERE id = ?1 AND workspace_id = ?2");
            if (!exists.Bind(1, run_id_).Bind(2, workspace_id).Step()) ThrowUnknownId("run", run_id_);
        }
        lease_->Prepare("DELETE FROM anomaly_scores WHERE run_id = ?1").Bind(1, run_id_).Run();
        lease_->Prepare("DELETE FROM analysis_results WHERE run_id = ?1").Bind(1, run_id_).Run();
        lease_->Prepare("DELETE FROM rule_flags WHERE run_id = ?1").Bind(1, run_id_).Run();
        lease_->Prepare("DELETE FROM models WHERE run_id = ?1").Bind(1, run_id_).Run();
        insert_score_.Bind(1, run_id_);
        insert_result_.Bind(1, run_id_);
        insert_flag_.Bind(1, run_id_).Bind(2, NowTimestamp());
    }

    void WriteScores(std::span<const AlgorithmScore> scores) override {
        if (committed_) throw std::logic_error("RunResultWriter::WriteScores after Commit");
        Statement& insert = insert_score_;
        for (const AlgorithmScore& score : scores) {
            insert.Bind(2, RequireId("transaction", score.transaction_id)).Bind(3, score.algorithm);
            insert.Bind(4, score.score).Bind(5, score.confidence).Bind(6, score.reason);
            insert.Run();
            insert.Reset();
        }
    }

    void WriteResults(std::span<const AnalysisResult> results) override {
        if (committed_) throw std::logic_error("RunResultWriter::WriteResults after Commit");
        Statement& insert = insert_result_;
        for (const AnalysisResult& result : results) {
            insert.Bind(2, RequireId("transaction", result.transaction_id)).Bind(3, result.score);
            insert.Bind(4, int64_t{result.flagged}).Bind(5, result.rank).Bind(6, JsonOr(result.reasons, "[]"));
            insert.Run();
            insert.Reset();
            flagged_ += result.flagged ? 1 : 0;
        }
    }

    void WriteFlags(std::span<const RuleFlag> flags) override {
        if (committed_) throw std::logic_error("RunResultWriter::WriteFlags after Commit");
        Statement& insert = insert_flag_;
        for (const RuleFlag& flag : flags) {
            insert.Bind(3, NewUuidV7()).Bind(4, RequireId("transaction", flag.transaction_id)).Bind(5, flag.rule_name);
            insert.Bind(6, int64_t{flag.triggered}).Bind(7, detail::FlagValueText(flag.flag_value));
            insert.Bind(8, JsonOr(flag.metadata, "{}"));
            insert.Run();
            insert.Reset();
        }
    }

    void WriteModel(const SavedModel& model) override {
        if (committed_) throw std::logic_error("RunResultWriter::WriteModel after Commit");
        lease_
            ->Prepare(
                "INSERT INTO models (run_id, label, algorithm, version, document, created_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .Bind(1, run_id_)
            .Bind(2, model.label)
            .Bind(3, model.algorithm)
            .Bind(4, int64_t{model.version})
            .Bind(5, model.document)
            .Bind(6, NowTimestamp())
            .Run();
    }

    void Commit(std::string_view metadata) override {
        if (committed_) throw std::logic_error("RunResultWriter::Commit called twice");
        lease_
            ->Prepare(
                "UPDATE analysis_runs SET status = 'completed', progress = 1, stage = 'completed', "
                "error_message = NULL, metadata = ?1, flagged_count = ?2, started_at = IFNULL(started_at, ?3), "
                "completed_at = ?3 WHERE id = ?4")
            .Bind(1, JsonOr(metadata, "{}"))
            .Bind(2, flagged_)
            .Bind(3, NowTimestamp())
            .Bind(4, run_id_)
            .Run();
        transaction_.Commit();
        committed_ = true;
    }

private:
    Pool::Lease lease_;
    std::string run_id_;
    int64_t flagged_ = 0;
    bool committed_ = false;
    WriteTransaction transaction_;  // after the lease: rolls back before the lease goes back
    // Reused for every row; declared last, so they are reset before the transaction ends.
    Statement insert_score_;
    Statement insert_result_;
    Statement insert_flag_;
};

// Removes the temporary file behind ":memory:" (and its WAL files) once every connection is closed.
class TemporaryFile {
public:
    explicit TemporaryFile(std::filesystem::path path) : path_(std::move(path)) {}
    ~TemporaryFile() {
        if (path_.empty()) return;
        std::error_code ignored;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            std::filesystem::remove(path_.string() + suffix, ignored);
        }
    }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;

private:
    std::filesystem::path path_;
};

class SqliteStore final : public detail::ReadQueriesStore {
public:
    SqliteStore(const std::string& path, std::filesystem::path temporary)
        : temporary_(std::move(temporary)), pool_(path) {
        pool_.Acquire();  // opens the file now, so a bad path fails here and not at the first request
    }

    std::string_view Backend() const override { return "sqlite"; }

    int Migrate() override {
        auto db = pool_.Acquire();
        db->Exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        // Foreign keys are off while migrating (a no-op inside a transaction, so it is set here): rebuilding a table
        // to change its constraints must not fire ON DELETE actions. Each migration is checked before it commits.
        db->Exec("PRAGMA foreign_keys = OFF");
        struct ForeignKeysBackOn {
            Connection& db;
            ~ForeignKeysBackOn() {
                try {
                    db.Exec("PRAGMA foreign_keys = ON");
                } catch (...) {  // NOLINT(bugprone-empty-catch): the connection is broken; the next use says so
                }
            }
        } back_on{*db};
        for (const detail::Migration& migration : detail::SqliteMigrations()) {
            // Checked inside the write transaction, so two processes migrating at once apply each file once.
            WriteTransaction transaction(*db);
            Statement applied = db->Prepare("SELECT 1 FROM schema_migrations WHERE version = ?1");
            if (applied.Bind(1, int64_t{migration.version}).Step()) continue;
            db->Exec(std::string(migration.sql));
            if (db->Prepare("PRAGMA foreign_key_check").Step()) {
                throw std::runtime_error(fmt::format("migration {} ({}) leaves rows that break a foreign key",
                                                     migration.version, migration.name));
            }
            db->Prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)")
                .Bind(1, int64_t{migration.version})
                .Bind(2, migration.name)
                .Bind(3, NowTimestamp())
                .Run();
            transaction.Commit();
        }
        Statement version = db->Prepare("SELECT IFNULL(MAX(version), 0) FROM schema_migrations");
        version.Step();
        return static_cast<int>(version.Int(0));
    }

    Workspace CreateWorkspace(std::string_view name) override {
        Workspace workspace{.id = NewUuidV7(), .name = std::string(name), .created_at = NowTimestamp()};
        auto db = pool_.Acquire();
        db->Prepare("INSERT INTO workspaces (id, name, created_at) VALUES (?1, ?2, ?3)")
            .Bind(1, workspace.id)
            .Bind(2, workspace.name)
            .Bind(3, workspace.created_at)
            .Run();
        return workspace;
    }

    Expected<Workspace> GetWorkspace(std::string_view id) override {
        const auto workspace_id = CanonicalId(id);
        if (!workspace_id) return Unexpected(NotFound("workspace", id));
        auto db = pool_.Acquire();
        Statement s = db->Prepare("SELECT id, name, created_at FROM workspaces WHERE id = ?1");
        if (!s.Bind(1, *workspace_id).Step()) return Unexpected(NotFound("workspace", id));
        return Workspace{.id = s.Text(0), .name = s.Text(1), .created_at = s.Text(2)};
    }

    Upload CreateUpload(const NewUpload& upload) override {
        const std::string workspace_id = RequireId("workspace", upload.workspace_id);
        Upload out{.id = NewUuidV7(),
                   .workspace_id = workspace_id,
                   .filename = upload.filename,
                   .file_type = upload.file_type,
                   .file_size = upload.file_size,
                   .status = "queued",
                   .row_count = 0,
                   .mapping = std::string(JsonOr(upload.mapping, "{}")),
                   .created_at = NowTimestamp()};
        auto db = pool_.Acquire();
        // seq is computed under SQLite's write lock (one writer at a time), so it is unique and increasing.
        db->Prepare(
              "INSERT INTO file_uploads (id, workspace_id, seq, filename, file_type, file_size, status, row_count, "
              "mapping, created_at) "
              "SELECT ?1, ?2, (SELECT IFNULL(MAX(seq), 0) + 1 FROM file_uploads), ?3, ?4, ?5, 'queued', 0, ?6, ?7 "
              "WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = ?2)")
            .Bind(1, out.id)
            .Bind(2, out.workspace_id)
            .Bind(3, out.filename)
            .Bind(4, out.file_type)
            .Bind(5, out.file_size)
            .Bind(6, out.mapping)
            .Bind(7, out.created_at)
            .Run();
        if (db->Changes() == 0) ThrowUnknownId("workspace", workspace_id);
        return out;
    }

    Expected<Upload> GetUpload(std::string_view workspace_id, std::string_view id) override {
        const auto ws = CanonicalId(workspace_id);
        const auto upload_id = CanonicalId(id);
        if (!ws || !upload_id) return Unexpected(NotFound("upload", id));
        auto db = pool_.Acquire();
        Statement s =
            db->Prepare(fmt::format("SELECT {} FROM file_uploads WHERE id = ?1 AND workspace_id = ?2", kUploadColumns));
        if (!s.Bind(1, *upload_id).Bind(2, *ws).Step()) return Unexpected(NotFound("upload", id));
        return ReadUpload(s);
    }

    Page<Upload> ListUploads(std::string_view workspace_id, int64_t limit, int64_t offset) override {
        Page<Upload> page;
        const auto ws = CanonicalId(workspace_id);
        if (!ws) return page;
        auto db = pool_.Acquire();
        Statement count = db->Prepare("SELECT COUNT(*) FROM file_uploads WHERE workspace_id = ?1");
        count.Bind(1, *ws).Step();
        page.total = count.Int(0);
        Statement s = db->Prepare(
            fmt::format("SELECT {} FROM file_uploads WHERE workspace_id = ?1 ORDER BY seq DESC LIMIT ?2 OFFSET ?3",
                        kUploadColumns));
        s.Bind(1, *ws).Bind(2, detail::PageLimit(limit)).Bind(3, detail::PageOffset(offset));
        while (s.Step()) page.items.push_back(ReadUpload(s));
        return page;
    }

    void MarkUploadProcessing(std::string_view workspace_id, std::string_view id) override {
        const auto [ws, upload_id] = RequireIds("upload", workspace_id, id);
        auto db = pool_.Acquire();
        db->Prepare("UPDATE file_uploads SET status = 'running' WHERE id = ?1 AND workspace_id = ?2")
            .Bind(1, upload_id)
            .Bind(2, ws)
            .Run();
        if (db->Changes() == 0) ThrowUnknownId("upload", id);
    }

    void FailUpload(std::string_view workspace_id, std::string_view id, const Error& error,
                    std::string_view metadata) override {
        const auto [ws, upload_id] = RequireIds("upload", workspace_id, id);
        auto db = pool_.Acquire();
        WriteTransaction transaction(*db);
        db->Prepare(
              "UPDATE file_uploads SET status = 'failed', row_count = 0, error_message = ?1, error_details = ?2, "
              "completed_at = NULL, metadata = ?5 WHERE id = ?3 AND workspace_id = ?4")
            .Bind(1, error.message)
            .Bind(2, detail::ErrorDetailsJson(error))
            .Bind(3, upload_id)
            .Bind(4, ws)
            .Bind(5, JsonOr(metadata, "{}"))
            .Run();
        if (db->Changes() == 0) ThrowUnknownId("upload", id);
        DeleteUploadRows(*db, ws, upload_id);
        transaction.Commit();
    }

    std::unique_ptr<TransactionWriter> BeginTransactions(std::string_view workspace_id,
                                                         std::string_view upload_id) override {
        auto [ws, id] = RequireIds("upload", workspace_id, upload_id);
        auto db = pool_.Acquire();
        {
            Statement exists = db->Prepare("SELECT 1 FROM file_uploads WHERE id = ?1 AND workspace_id = ?2");
            if (!exists.Bind(1, id).Bind(2, ws).Step()) ThrowUnknownId("upload", upload_id);
        }
        return std::make_unique<SqliteTransactionWriter>(std::move(db), std::move(ws), std::move(id));
    }

    void ForEachTransaction(std::string_view workspace_id, std::string_view upload_id, size_t batch_size,
                            const std::function<void(std::span<const StoredTransaction>)>& visit) override {
        const auto ws = CanonicalId(workspace_id);
        const auto id = CanonicalId(upload_id);
        if (!ws || !id) return;
        const auto limit = static_cast<int64_t>(std::clamp<size_t>(batch_size, 1, 1'000'000));
        const std::string sql = fmt::format(
            "SELECT {} FROM transactions t WHERE t.upload_id = ?1 AND t.workspace_id = ?2 AND t.row_number > ?3 "
            "ORDER BY t.row_number LIMIT ?4",
            kTransactionColumns);
        std::vector<StoredTransaction> batch;
        int64_t after = std::numeric_limits<int64_t>::min();
        // Keyset pages, each on a connection given back before visit runs: visit may call the store itself.
        while (true) {
            batch.clear();
            {
                auto db = pool_.Acquire();
                Statement s = db->Prepare(sql);
                s.Bind(1, *id).Bind(2, *ws).Bind(3, after).Bind(4, limit);
                while (s.Step()) batch.push_back(ReadTransaction(s, 0));
            }
            if (batch.empty()) return;
            after = batch.back().transaction.row_number;
            visit(batch);
            if (std::ssize(batch) < limit) return;
        }
    }

    Expected<Strategy> CreateStrategy(const NewStrategy& strategy) override {
        const std::string workspace_id = RequireId("workspace", strategy.workspace_id);
        const std::string now = NowTimestamp();
        Strategy out{.id = NewUuidV7(),
                     .workspace_id = workspace_id,
                     .name = strategy.name,
                     .description = strategy.description,
                     .configuration = std::string(JsonOr(strategy.configuration, "{}")),
                     .created_at = now,
                     .updated_at = now};
        auto db = pool_.Acquire();
        WriteTransaction transaction(*db);
        {
            Statement exists = db->Prepare("SELECT 1 FROM workspaces WHERE id = ?1");
            if (!exists.Bind(1, workspace_id).Step()) ThrowUnknownId("workspace", workspace_id);
        }
        if (ActiveNameTaken(*db, workspace_id, out.name, "")) return Unexpected(detail::StrategyExists(out.name));
        SaveStrategy(*db, out);
        transaction.Commit();
        return out;
    }

    Expected<Strategy> GetStrategy(std::string_view workspace_id, std::string_view id) override {
        const auto ws = CanonicalId(workspace_id);
        const auto strategy_id = CanonicalId(id);
        if (!ws || !strategy_id) return Unexpected(NotFound("strategy", id));
        auto db = pool_.Acquire();
        Statement s =
            db->Prepare(fmt::format("SELECT {} FROM strategies WHERE id = ?1 AND workspace_id = ?2", kStrategyColumns));
        if (!s.Bind(1, *strategy_id).Bind(2, *ws).Step()) return Unexpected(NotFound("strategy", id));
        return ReadStrategy(s);
    }

    Page<Strategy> ListStrategies(std::string_view workspace_id, bool include_inactive, int64_t limit,
                                  int64_t offset) override {
        Page<Strategy> page;
        const auto ws = CanonicalId(workspace_id);
        if (!ws) return page;
        auto db = pool_.Acquire();
        ReadSnapshot snapshot(*db);
        constexpr std::string_view kFilter = "workspace_id = ?1 AND (?2 = 1 OR is_active = 1)";
        {
            Statement count = db->Prepare(fmt::format("SELECT COUNT(*) FROM strategies WHERE {}", kFilter));
            count.Bind(1, *ws).Bind(2, int64_t{include_inactive}).Step();
            page.total = count.Int(0);
        }
        Statement s = db->Prepare(fmt::format("SELECT {} FROM strategies WHERE {} ORDER BY name, id LIMIT ?3 OFFSET ?4",
                                              kStrategyColumns, kFilter));
        s.Bind(1, *ws).Bind(2, int64_t{include_inactive});
        s.Bind(3, detail::PageLimit(limit)).Bind(4, detail::PageOffset(offset));
        while (s.Step()) page.items.push_back(ReadStrategy(s));
        return page;
    }

    Expected<Strategy> UpdateStrategy(std::string_view workspace_id, std::string_view id, std::string_view name,
                                      std::string_view description, std::string_view configuration) override {
        const auto ids = detail::FoundIds("strategy", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, strategy_id] = *ids;
        auto db = pool_.Acquire();
        // BEGIN IMMEDIATE holds the one write lock: the version read here is still the latest at the update.
        WriteTransaction transaction(*db);
        Strategy out;
        {
            Statement s = db->Prepare(fmt::format(
                "SELECT {} FROM strategies WHERE id = ?1 AND workspace_id = ?2 AND is_active = 1", kStrategyColumns));
            if (!s.Bind(1, strategy_id).Bind(2, ws).Step()) return Unexpected(NotFound("strategy", id));
            out = ReadStrategy(s);
        }
        if (ActiveNameTaken(*db, ws, name, strategy_id)) return Unexpected(detail::StrategyExists(name));
        out.name = std::string(name);
        out.description = std::string(description);
        out.configuration = std::string(JsonOr(configuration, "{}"));
        out.version += 1;
        out.updated_at = NowTimestamp();
        SaveStrategy(*db, out);
        transaction.Commit();
        return out;
    }

    Expected<void> DeactivateStrategy(std::string_view workspace_id, std::string_view id) override {
        const auto ids = detail::FoundIds("strategy", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, strategy_id] = *ids;
        auto db = pool_.Acquire();
        db->Prepare("UPDATE strategies SET is_active = 0 WHERE id = ?1 AND workspace_id = ?2")
            .Bind(1, strategy_id)
            .Bind(2, ws)
            .Run();
        if (db->Changes() == 0) return Unexpected(NotFound("strategy", id));
        return {};
    }

    Expected<std::vector<StrategyVersion>> ListStrategyVersions(std::string_view workspace_id,
                                                                std::string_view id) override {
        const auto ids = detail::FoundIds("strategy", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, strategy_id] = *ids;
        auto db = pool_.Acquire();
        ReadSnapshot snapshot(*db);
        {
            Statement exists = db->Prepare("SELECT 1 FROM strategies WHERE id = ?1 AND workspace_id = ?2");
            if (!exists.Bind(1, strategy_id).Bind(2, ws).Step()) return Unexpected(NotFound("strategy", id));
        }
        std::vector<StrategyVersion> versions;
        Statement s = db->Prepare(
            "SELECT strategy_id, version, name, description, configuration, created_at FROM strategy_versions "
            "WHERE strategy_id = ?1 ORDER BY version DESC");
        s.Bind(1, strategy_id);
        while (s.Step()) {
            versions.push_back(StrategyVersion{.strategy_id = s.Text(0),
                                               .version = s.Int(1),
                                               .name = s.Text(2),
                                               .description = s.Text(3),
                                               .configuration = s.Text(4),
                                               .created_at = s.Text(5)});
        }
        return versions;
    }

    Run CreateRun(const NewRun& run) override {
        const auto [ws, upload_id] = RequireIds("upload", run.workspace_id, run.upload_id);
        std::optional<std::string> strategy_id;
        if (!run.strategy_id.empty()) strategy_id = RequireId("strategy", run.strategy_id);
        Run out{.id = NewUuidV7(),
                .workspace_id = ws,
                .upload_id = upload_id,
                .strategy_id = strategy_id.value_or(""),
                .strategy_name = run.strategy_name,
                .strategy_version = strategy_id ? run.strategy_version : 0,
                .configuration = std::string(JsonOr(run.configuration, "{}")),
                .status = "queued",
                .metadata = "{}",
                .created_at = NowTimestamp()};
        auto db = pool_.Acquire();
        Statement insert = db->Prepare(
            "INSERT INTO analysis_runs (id, workspace_id, upload_id, strategy_id, strategy_name, configuration, "
            "status, metadata, created_at, strategy_version) "
            "SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'queued', '{}', ?7, ?8 "
            "WHERE EXISTS (SELECT 1 FROM file_uploads WHERE id = ?3 AND workspace_id = ?2) "
            "AND (?4 IS NULL OR EXISTS (SELECT 1 FROM strategies WHERE id = ?4 AND workspace_id = ?2))");
        insert.Bind(1, out.id)
            .Bind(2, ws)
            .Bind(3, upload_id)
            .BindOptional(4, strategy_id)
            .Bind(5, out.strategy_name)
            .Bind(6, out.configuration)
            .Bind(7, out.created_at);
        if (out.strategy_version > 0) {
            insert.Bind(8, out.strategy_version);
        } else {
            insert.BindNull(8);
        }
        insert.Run();
        if (db->Changes() == 0) ThrowUnknownId("upload or strategy", upload_id + " / " + out.strategy_id);
        return out;
    }

    Expected<Run> GetRun(std::string_view workspace_id, std::string_view id) override {
        const auto ws = CanonicalId(workspace_id);
        const auto run_id = CanonicalId(id);
        if (!ws || !run_id) return Unexpected(NotFound("run", id));
        auto db = pool_.Acquire();
        Statement s =
            db->Prepare(fmt::format("SELECT {} FROM analysis_runs WHERE id = ?1 AND workspace_id = ?2", kRunColumns));
        if (!s.Bind(1, *run_id).Bind(2, *ws).Step()) return Unexpected(NotFound("run", id));
        return ReadRun(s);
    }

    void UpdateRunProgress(std::string_view workspace_id, std::string_view id, std::string_view stage,
                           double progress, std::string_view progress_detail) override {
        const auto [ws, run_id] = RequireIds("run", workspace_id, id);
        auto db = pool_.Acquire();
        // A finished run stays finished: a late progress report is ignored.
        db->Prepare(
              "UPDATE analysis_runs SET status = 'running', stage = ?1, progress = ?2, "
              "started_at = IFNULL(started_at, ?3), progress_detail = IFNULL(?6, progress_detail) "
              "WHERE id = ?4 AND workspace_id = ?5 AND status IN ('queued', 'running', 'retrying')")
            .Bind(1, stage)
            .Bind(2, detail::Fraction(progress))
            .Bind(3, NowTimestamp())
            .Bind(4, run_id)
            .Bind(5, ws)
            .BindOptional(6, JsonOrNull(progress_detail))
            .Run();
        if (db->Changes() > 0) return;
        Statement exists = db->Prepare("SELECT 1 FROM analysis_runs WHERE id = ?1 AND workspace_id = ?2");
        if (!exists.Bind(1, run_id).Bind(2, ws).Step()) ThrowUnknownId("run", id);
    }

    void FailRun(std::string_view workspace_id, std::string_view id, std::string_view message) override {
        const auto [ws, run_id] = RequireIds("run", workspace_id, id);
        auto db = pool_.Acquire();
        db->Prepare(
              "UPDATE analysis_runs SET status = 'failed', error_message = ?1, completed_at = ?2 "
              "WHERE id = ?3 AND workspace_id = ?4")
            .Bind(1, message)
            .Bind(2, NowTimestamp())
            .Bind(3, run_id)
            .Bind(4, ws)
            .Run();
        if (db->Changes() == 0) ThrowUnknownId("run", id);
    }

    std::unique_ptr<RunResultWriter> BeginRunResults(std::string_view workspace_id, std::string_view run_id) override {
        auto [ws, id] = RequireIds("run", workspace_id, run_id);
        return std::make_unique<SqliteRunResultWriter>(pool_.Acquire(), ws, std::move(id));
    }

    Page<ResultRow> ListResults(std::string_view workspace_id, std::string_view run_id,
                                const ResultQuery& query) override {
        Page<ResultRow> page;
        InRunSnapshot(workspace_id, run_id, [&](Connection& db, const std::string& id, const std::string& /*ws*/) {
            SqliteReadSession session(db);
            page = detail::ListResults(session, id, query);
        });
        return page;
    }

    Page<RuleFlag> ListRuleFlags(std::string_view workspace_id, std::string_view run_id, int64_t limit,
                                 int64_t offset) override {
        Page<RuleFlag> page;
        InRunSnapshot(
            workspace_id, run_id, [&](Connection& db, const std::string& id, const std::string& /*workspace*/) {
                {
                    Statement count = db.Prepare("SELECT COUNT(*) FROM rule_flags WHERE run_id = ?1");
                    count.Bind(1, id).Step();
                    page.total = count.Int(0);
                }
                Statement s = db.Prepare(
                    "SELECT f.transaction_id, f.rule_name, f.triggered, f.flag_value, f.metadata FROM rule_flags f "
                    "JOIN transactions t ON t.id = f.transaction_id "
                    "WHERE f.run_id = ?1 ORDER BY t.row_number, f.rule_name, f.id LIMIT ?2 OFFSET ?3");
                s.Bind(1, id).Bind(2, detail::PageLimit(limit)).Bind(3, detail::PageOffset(offset));
                while (s.Step()) page.items.push_back(ReadFlag(s, 0));
            });
        return page;
    }

    std::vector<TransactionFlag> ListTransactionFlags(std::string_view workspace_id,
                                                      std::string_view transaction_id) override {
        std::vector<TransactionFlag> flags;
        const auto ids = detail::CanonicalIds(workspace_id, transaction_id);
        if (!ids) return flags;
        const auto& [ws, id] = *ids;
        auto db = pool_.Acquire();
        Statement s = db->Prepare(
            "SELECT f.transaction_id, f.rule_name, f.triggered, f.flag_value, f.metadata, f.run_id, f.created_at "
            "FROM rule_flags f JOIN transactions t ON t.id = f.transaction_id AND t.workspace_id = ?2 "
            "JOIN analysis_runs r ON r.id = f.run_id "
            "WHERE f.transaction_id = ?1 ORDER BY r.created_at DESC, r.id DESC, f.rule_name, f.id");
        s.Bind(1, id).Bind(2, ws);
        while (s.Step()) flags.push_back({.run_id = s.Text(5), .flag = ReadFlag(s, 0), .created_at = s.Text(6)});
        return flags;
    }

    Expected<SavedModel> GetModel(std::string_view workspace_id, std::string_view run_id,
                                  std::string_view label) override {
        const auto ids = detail::CanonicalIds(workspace_id, run_id);
        if (ids) {
            const auto& [ws, id] = *ids;
            auto db = pool_.Acquire();
            Statement s = db->Prepare(
                "SELECT m.algorithm, m.version, m.document, m.created_at FROM models m "
                "JOIN analysis_runs r ON r.id = m.run_id AND r.workspace_id = ?2 WHERE m.run_id = ?1 AND m.label = ?3");
            s.Bind(1, id).Bind(2, ws).Bind(3, label);
            if (s.Step()) {
                return SavedModel{.run_id = id,
                                  .label = std::string(label),
                                  .algorithm = s.Text(0),
                                  .version = static_cast<int>(s.Int(1)),
                                  .document = s.Text(2),
                                  .created_at = s.Text(3)};
            }
        }
        return Unexpected(NotFound("model", fmt::format("{}/{}", run_id, label)));
    }

    Job CreateJob(const NewJob& job) override {
        const auto [ws, target_id] = RequireIds("job target", job.workspace_id, job.target_id);
        const std::string_view table = detail::JobTargetTable(job.kind);
        if (job.max_attempts < 1) throw std::invalid_argument("A job needs max_attempts >= 1.");
        const std::string now = NowTimestamp();
        auto db = pool_.Acquire();
        WriteTransaction transaction(*db);
        db->Prepare(fmt::format(
                        "INSERT INTO jobs (id, workspace_id, kind, target_id, payload, status, attempts, max_attempts, "
                        "run_after, created_at, updated_at) SELECT ?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?7, ?7, ?7 "
                        "WHERE EXISTS (SELECT 1 FROM {} WHERE id = ?4 AND workspace_id = ?2) "
                        "ON CONFLICT (kind, target_id) DO NOTHING",
                        table))
            .Bind(1, NewUuidV7())
            .Bind(2, ws)
            .Bind(3, job.kind)
            .Bind(4, target_id)
            .Bind(5, JsonOr(job.payload, "{}"))
            .Bind(6, int64_t{job.max_attempts})
            .Bind(7, now)
            .Run();
        Job out;
        {
            Statement s = db->Prepare(fmt::format(
                "SELECT {} FROM jobs WHERE kind = ?1 AND target_id = ?2 AND workspace_id = ?3", kJobColumns));
            if (!s.Bind(1, job.kind).Bind(2, target_id).Bind(3, ws).Step()) ThrowUnknownId("job target", target_id);
            out = ReadJob(s);
        }
        transaction.Commit();
        return out;
    }

    Expected<Job> GetJob(std::string_view workspace_id, std::string_view id) override {
        return FindJob(workspace_id, id, "id");
    }

    Expected<Job> GetJobFor(std::string_view workspace_id, std::string_view target_id) override {
        return FindJob(workspace_id, target_id, "target_id");
    }

    Page<Job> ListJobs(std::string_view workspace_id, const JobQuery& query) override {
        Page<Job> page;
        const auto ws = CanonicalId(workspace_id);
        if (!ws) return page;
        auto db = pool_.Acquire();
        ReadSnapshot snapshot(*db);
        constexpr std::string_view kFilter =
            "workspace_id = ?1 AND (?2 = '' OR status = ?2) AND (?3 = '' OR kind = ?3)";
        {
            Statement count = db->Prepare(fmt::format("SELECT COUNT(*) FROM jobs WHERE {}", kFilter));
            count.Bind(1, *ws).Bind(2, query.status).Bind(3, query.kind).Step();
            page.total = count.Int(0);
        }
        Statement s = db->Prepare(
            fmt::format("SELECT {} FROM jobs WHERE {} ORDER BY created_at DESC, rowid DESC LIMIT ?4 OFFSET ?5",
                        kJobColumns, kFilter));
        s.Bind(1, *ws).Bind(2, query.status).Bind(3, query.kind);
        s.Bind(4, detail::PageLimit(query.limit)).Bind(5, detail::PageOffset(query.offset));
        while (s.Step()) page.items.push_back(ReadJob(s));
        return page;
    }

    std::optional<Job> ClaimJob(std::string_view id, std::string_view worker,
                                std::chrono::milliseconds lease) override {
        const auto job_id = CanonicalId(id);
        if (!job_id) return std::nullopt;
        return Claim(*job_id, worker, lease);
    }

    std::optional<Job> ClaimNextJob(std::string_view worker, std::chrono::milliseconds lease) override {
        return Claim(std::nullopt, worker, lease);
    }

    std::optional<Job> RenewLease(std::string_view id, std::string_view worker,
                                  std::chrono::milliseconds lease) override {
        const auto job_id = CanonicalId(id);
        if (!job_id) return std::nullopt;
        const Millis now = NowMillis();
        auto db = pool_.Acquire();
        Statement s = db->Prepare(fmt::format(
            "UPDATE jobs SET lease_until = ?1, updated_at = ?2 WHERE id = ?3 AND status = 'running' AND worker = ?4 "
            "RETURNING {}",
            kJobColumns));
        s.Bind(1, After(now, lease)).Bind(2, detail::FormatTimestamp(now)).Bind(3, *job_id).Bind(4, worker);
        if (!s.Step()) return std::nullopt;
        Job out = ReadJob(s);
        return out;
    }

    std::optional<Job> FinishJob(std::string_view id, std::string_view worker, const JobEnd& end) override {
        detail::CheckJobEndStatus(end.status);
        const auto job_id = CanonicalId(id);
        if (!job_id) return std::nullopt;
        const Millis now = NowMillis();
        const std::string now_text = detail::FormatTimestamp(now);
        auto db = pool_.Acquire();
        WriteTransaction transaction(*db);
        JobTarget target;
        std::string status = end.status;
        {
            Statement held = db->Prepare(
                "SELECT kind, workspace_id, target_id, cancel_requested FROM jobs "
                "WHERE id = ?1 AND status = 'running' AND worker = ?2");
            if (!held.Bind(1, *job_id).Bind(2, worker).Step()) return std::nullopt;
            target = JobTarget{.kind = held.Text(0), .workspace_id = held.Text(1), .target_id = held.Text(2)};
            // A job whose cancel was requested never waits for another attempt: nobody would claim it.
            if (held.Int(3) != 0 && (status == "queued" || status == "retrying")) status = "cancelled";
        }
        Job out;
        {
            Statement s = db->Prepare(
                fmt::format("UPDATE jobs SET status = ?1, attempts = CASE WHEN ?1 = 'queued' THEN MAX(attempts - 1, 0) "
                            "ELSE attempts END, "
                            "run_after = CASE ?1 WHEN 'retrying' THEN ?3 WHEN 'queued' THEN ?2 ELSE run_after END, "
                            "error = CASE WHEN ?1 IN ('completed', 'queued') OR ?4 = '' THEN error ELSE ?4 END, "
                            "lease_until = NULL, "
                            "finished_at = CASE WHEN ?1 IN ('completed', 'failed', 'cancelled') THEN ?2 ELSE NULL END, "
                            "updated_at = ?2 WHERE id = ?5 RETURNING {}",
                            kJobColumns));
            s.Bind(1, status).Bind(2, now_text).Bind(3, After(now, end.retry_after)).Bind(4, end.error);
            s.Bind(5, *job_id);
            if (!s.Step()) throw std::logic_error("FinishJob: the job held a moment ago is gone");
            out = ReadJob(s);
        }
        EndTarget(*db, target, status, out.error, now_text);
        transaction.Commit();
        return out;
    }

    Expected<Job> CancelJobFor(std::string_view workspace_id, std::string_view target_id) override {
        const auto ids = detail::FoundIds("job", workspace_id, target_id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, target] = *ids;
        const std::string now = NowTimestamp();
        auto db = pool_.Acquire();
        WriteTransaction transaction(*db);
        Job job;
        {
            Statement s = db->Prepare(
                fmt::format("SELECT {} FROM jobs WHERE workspace_id = ?1 AND target_id = ?2 ORDER BY created_at, id "
                            "LIMIT 1",
                            kJobColumns));
            if (!s.Bind(1, ws).Bind(2, target).Step()) return Unexpected(NotFound("job", target_id));
            job = ReadJob(s);
        }
        if (job.status != "queued" && job.status != "retrying" && job.status != "running") return job;
        const bool at_once = job.status != "running";
        {
            Statement s = db->Prepare(
                fmt::format("UPDATE jobs SET status = ?1, cancel_requested = ?2, finished_at = ?3, updated_at = ?4 "
                            "WHERE id = ?5 RETURNING {}",
                            kJobColumns));
            s.Bind(1, at_once ? "cancelled" : "running").Bind(2, int64_t{at_once ? 0 : 1});
            if (at_once) {
                s.Bind(3, now);
            } else {
                s.BindNull(3);
            }
            s.Bind(4, now).Bind(5, job.id);
            s.Step();
            job = ReadJob(s);
        }
        if (at_once) {
            EndTarget(*db, JobTarget{.kind = job.kind, .workspace_id = ws, .target_id = target}, "cancelled", "", now);
        }
        transaction.Commit();
        return job;
    }

    std::vector<Job> ClaimableJobs(size_t limit) override {
        std::vector<Job> jobs;
        const std::string now = NowTimestamp();
        auto db = pool_.Acquire();
        WriteTransaction transaction(*db);
        EndDeadJobs(*db, now, std::nullopt);
        {
            Statement s =
                db->Prepare(fmt::format("SELECT {} FROM jobs WHERE {} ORDER BY run_after, created_at, rowid LIMIT ?2",
                                        kJobColumns, kClaimable));
            s.Bind(1, now).Bind(2, static_cast<int64_t>(std::min<size_t>(limit, detail::kMaxPageSize)));
            while (s.Step()) jobs.push_back(ReadJob(s));
        }
        transaction.Commit();
        return jobs;
    }

    int ExpireLeases() override {
        const std::string now = NowTimestamp();
        auto db = pool_.Acquire();
        db->Prepare("UPDATE jobs SET lease_until = ?1, updated_at = ?1 WHERE status = 'running'").Bind(1, now).Run();
        return static_cast<int>(db->Changes());
    }

    Expected<void> DeleteUpload(std::string_view workspace_id, std::string_view id) override {
        const auto ids = detail::FoundIds("upload", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, upload_id] = *ids;
        auto db = pool_.Acquire();
        WriteTransaction transaction(*db);
        // Jobs name their targets without a foreign key: deleted here; the rest goes by ON DELETE CASCADE.
        db->Prepare(
              "DELETE FROM jobs WHERE workspace_id = ?1 AND (target_id = ?2 OR target_id IN "
              "(SELECT id FROM analysis_runs WHERE upload_id = ?2 AND workspace_id = ?1))")
            .Bind(1, ws)
            .Bind(2, upload_id)
            .Run();
        db->Prepare("DELETE FROM file_uploads WHERE id = ?1 AND workspace_id = ?2")
            .Bind(1, upload_id)
            .Bind(2, ws)
            .Run();
        if (db->Changes() == 0) return Unexpected(NotFound("upload", id));
        transaction.Commit();
        return {};
    }

private:
    // The workspace's job with the id, or with the target id (column "target_id").
    Expected<Job> FindJob(std::string_view workspace_id, std::string_view id, std::string_view column) {
        const auto ids = detail::FoundIds("job", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, key] = *ids;
        auto db = pool_.Acquire();
        Statement s = db->Prepare(
            fmt::format("SELECT {} FROM jobs WHERE {} = ?1 AND workspace_id = ?2 ORDER BY created_at, id LIMIT 1",
                        kJobColumns, column));
        if (!s.Bind(1, key).Bind(2, ws).Step()) return Unexpected(NotFound("job", id));
        return ReadJob(s);
    }

    // ClaimJob (id) or ClaimNextJob (nullopt): one write transaction, so of two claimers one wins.
    std::optional<Job> Claim(std::optional<std::string> id, std::string_view worker, std::chrono::milliseconds lease) {
        const Millis now = NowMillis();
        const std::string now_text = detail::FormatTimestamp(now);
        auto db = pool_.Acquire();
        WriteTransaction transaction(*db);
        EndDeadJobs(*db, now_text, id);
        std::optional<Job> out;
        {
            const std::string which =
                id ? "?4"
                   : fmt::format("(SELECT id FROM jobs WHERE {} ORDER BY run_after, created_at, rowid LIMIT 1)",
                                 kClaimable);
            Statement s = db->Prepare(fmt::format(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = ?2, started_at = ?1, "
                "lease_until = ?3, updated_at = ?1 WHERE id = {} AND {} RETURNING {}",
                which, kClaimable, kJobColumns));
            s.Bind(1, now_text).Bind(2, worker).Bind(3, After(now, lease));
            if (id) s.Bind(4, *id);
            if (s.Step()) out = ReadJob(s);
        }
        transaction.Commit();
        return out;
    }

    // True when an active strategy of the workspace other than except_id has the name.
    static bool ActiveNameTaken(Connection& db, const std::string& workspace_id, std::string_view name,
                                const std::string& except_id) {
        Statement s =
            db.Prepare("SELECT 1 FROM strategies WHERE workspace_id = ?1 AND name = ?2 AND is_active = 1 AND id <> ?3");
        return s.Bind(1, workspace_id).Bind(2, name).Bind(3, except_id).Step();
    }

    // Writes the strategy's row (new, or its next version) and that version's strategy_versions row.
    static void SaveStrategy(Connection& db, const Strategy& strategy) {
        db.Prepare(
              "INSERT INTO strategies (id, workspace_id, name, description, configuration, version, is_active, "
              "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8) "
              "ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, "
              "configuration = excluded.configuration, version = excluded.version, updated_at = excluded.updated_at")
            .Bind(1, strategy.id)
            .Bind(2, strategy.workspace_id)
            .Bind(3, strategy.name)
            .Bind(4, strategy.description)
            .Bind(5, strategy.configuration)
            .Bind(6, strategy.version)
            .Bind(7, strategy.created_at)
            .Bind(8, strategy.updated_at)
            .Run();
        // The version row is a copy of the row just written.
        db.Prepare(
              "INSERT INTO strategy_versions (strategy_id, version, name, description, configuration, created_at) "
              "SELECT id, version, name, description, configuration, updated_at FROM strategies WHERE id = ?1")
            .Bind(1, strategy.id)
            .Run();
    }

    void InReadSnapshot(const std::function<void(detail::ReadSession&)>& read) override {
        auto db = pool_.Acquire();
        ReadSnapshot snapshot(*db);
        SqliteReadSession session(*db);
        read(session);
    }

    // Calls read(db, run id, workspace id) in one read transaction, so that every read sees the same snapshot, when
    // the run is in the workspace; otherwise reads nothing.
    template <typename Read>
    void InRunSnapshot(std::string_view workspace_id, std::string_view run_id, const Read& read) {
        const auto ids = detail::CanonicalIds(workspace_id, run_id);
        if (!ids) return;
        const auto& [ws, id] = *ids;
        auto db = pool_.Acquire();
        ReadSnapshot snapshot(*db);
        {
            Statement exists = db->Prepare("SELECT 1 FROM analysis_runs WHERE id = ?1 AND workspace_id = ?2");
            if (!exists.Bind(1, id).Bind(2, ws).Step()) return;
        }
        read(*db, id, ws);
    }

    TemporaryFile temporary_;  // declared before the pool: removed after every connection has closed
    Pool pool_;
};

}  // namespace

std::unique_ptr<Store> OpenSqliteStore(const std::string& path) {
    if (path == ":memory:") {
        const auto file = std::filesystem::temp_directory_path() / fmt::format("granska-memory-{}.db", NewUuidV7());
        auto store = std::make_unique<SqliteStore>(file.string(), file);
        store->Migrate();  // nobody else can reach this database, so it may as well come ready to use
        return store;
    }
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code error;
        std::filesystem::create_directories(parent, error);
        if (error) {
            throw std::runtime_error(
                fmt::format("Cannot create the directory '{}' for the database: {}", parent.string(), error.message()));
        }
    }
    return std::make_unique<SqliteStore>(path, std::filesystem::path());
}

}  // namespace granska::store
