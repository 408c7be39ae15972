#include "store/postgres/postgres_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <span>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/date.h"
#include "core/uuid.h"
#include "store/detail/read_queries.h"
#include "store/detail/store_util.h"

namespace granska::store::detail {
std::span<const Migration> PostgresMigrations();  // generated from migrations/*.sql
}  // namespace granska::store::detail

namespace granska::store {

namespace {

using detail::CanonicalId;
using detail::NowTimestamp;
using detail::RequireId;
using detail::RequireIds;
using detail::ThrowUnknownId;

// Serializes Migrate() across processes (pg_advisory_xact_lock); "GRANSKA" in ASCII.
constexpr int64_t kMigrationLockKey = 0x4752414E534B41;

// Connections are opened on demand and never waited for, so a thread may hold several (a writer and a read)
// without deadlocking; up to kMaxIdle are kept. A broken connection is dropped, not returned.
class ConnectionPool {
public:
    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<pqxx::connection> connection)
            : pool_(&pool), connection_(std::move(connection)) {}
        ~Lease() {
            if (connection_) pool_->Release(std::move(connection_));
        }
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        pqxx::connection& operator*() const { return *connection_; }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<pqxx::connection> connection_;
    };

    explicit ConnectionPool(std::string url) : url_(std::move(url)) {}

    Lease Acquire() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                auto connection = std::move(idle_.back());
                idle_.pop_back();
                return Lease(*this, std::move(connection));
            }
        }
        return Lease(*this, std::make_unique<pqxx::connection>(url_));
    }

private:
    static constexpr size_t kMaxIdle = 8;

    void Release(std::unique_ptr<pqxx::connection> connection) {
        if (!connection->is_open()) return;
        std::lock_guard lock(mutex_);
        if (idle_.size() < kMaxIdle) idle_.push_back(std::move(connection));
    }

    std::string url_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

// The text form of every timestamp the store returns: "2026-11-24T20:17:03.123Z".
std::string Ts(std::string_view column) {
    return fmt::format("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')", column);
}

std::string Text(const pqxx::field& field) {
    return field.is_null() ? std::string() : std::string(field.c_str(), field.size());
}

int64_t Int(const pqxx::field& field) {
    int64_t value = 0;
    if (!field.is_null()) std::from_chars(field.c_str(), field.c_str() + field.size(), value);
    return value;
}

double Double(const pqxx::field& field) {
    double value = 0.0;
    if (field.is_null()) return value;
    const std::string_view text(field.c_str(), field.size());
    // from_chars does not read PostgreSQL's spellings of the special values.
    if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (text == "Infinity") return std::numeric_limits<double>::infinity();
    if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

bool Bool(const pqxx::field& field) { return !field.is_null() && field.c_str()[0] == 't'; }

// Shortest text that reads back as the same double (PostgreSQL parses "nan" and "inf" too).
std::string DoubleText(double value) { return fmt::format("{}", value); }

// JSON columns hold NULL for "" (not valid JSON) and give "" back.
std::optional<std::string> JsonOrNull(const std::string& json) {
    if (json.empty()) return std::nullopt;
    return json;
}

std::string JsonOr(std::string_view json, std::string_view fallback) {
    return std::string(json.empty() ? fallback : json);
}

std::optional<std::string> OptionalDate(const std::optional<Date>& date) {
    if (!date) return std::nullopt;
    return date->ToString();
}

std::optional<std::string> OptionalTime(const std::optional<int32_t>& seconds) {
    if (!seconds) return std::nullopt;
    return FormatTimeOfDay(*seconds);
}

std::string UploadColumns() {
    return fmt::format(
        "id, workspace_id, filename, file_type, file_size, status, row_count, mapping::text, error_message, "
        "error_details::text, {}, {}, metadata::text",
        Ts("created_at"), Ts("completed_at"));
}

std::string RunColumns() {
    return fmt::format(
        "id, workspace_id, upload_id, strategy_id, strategy_name, configuration::text, status, progress, stage, "
        "error_message, metadata::text, flagged_count, {}, {}, {}, strategy_version, progress_detail::text",
        Ts("created_at"), Ts("started_at"), Ts("completed_at"));
}

std::string StrategyColumns() {
    return fmt::format("id, workspace_id, name, description, configuration::text, version, is_active, {}, {}",
                       Ts("created_at"), Ts("updated_at"));
}

std::string JobColumns() {
    return fmt::format(
        "id, workspace_id, kind, target_id, payload::text, status, attempts, max_attempts, worker, error, "
        "cancel_requested, {}, {}, {}, {}, {}, {}",
        Ts("run_after"), Ts("lease_until"), Ts("created_at"), Ts("started_at"), Ts("finished_at"), Ts("updated_at"));
}

// Claimable now: due and not cancelled, or running under a lease that ran out before the last attempt (a lease of
// 0 ms has run out at once).
constexpr std::string_view kClaimable =
    "NOT cancel_requested AND ((status IN ('queued', 'retrying') AND run_after <= now()) OR "
    "(status = 'running' AND lease_until <= now() AND attempts < max_attempts))";

Job ReadJob(const pqxx::row& r) {
    return Job{.id = Text(r[0]),
               .workspace_id = Text(r[1]),
               .kind = Text(r[2]),
               .target_id = Text(r[3]),
               .payload = Text(r[4]),
               .status = Text(r[5]),
               .attempts = static_cast<int>(Int(r[6])),
               .max_attempts = static_cast<int>(Int(r[7])),
               .worker = Text(r[8]),
               .error = Text(r[9]),
               .cancel_requested = Bool(r[10]),
               .run_after = Text(r[11]),
               .lease_until = Text(r[12]),
               .created_at = Text(r[13]),
               .started_at = Text(r[14]),
               .finished_at = Text(r[15]),
               .updated_at = Text(r[16])};
}

// Milliseconds as a parameter of "now() + $n::bigint * interval '1 millisecond'"; never negative.
int64_t Millis(std::chrono::milliseconds duration) { return std::max<int64_t>(duration.count(), 0); }

// An upload that ends failed or cancelled keeps no rows.
void DeleteUploadRows(pqxx::work& work, const std::string& workspace_id, const std::string& upload_id) {
    work.exec_params("DELETE FROM transactions WHERE upload_id = $1 AND workspace_id = $2", upload_id, workspace_id);
}

struct JobTarget {
    std::string kind;
    std::string workspace_id;
    std::string target_id;
};

// What a job's end does to its target, inside the caller's transaction; a finished target is left as it is.
void EndTarget(pqxx::work& work, const JobTarget& target, const std::string& status, const std::string& error) {
    if (status == "completed") return;  // the task's own writer completed it
    const bool upload = detail::JobTargetTable(target.kind) == "file_uploads";
    const auto r = work.exec_params(
        upload ? "UPDATE file_uploads SET status = $1::text, "
                 "error_message = CASE WHEN $1::text IN ('failed', 'retrying') THEN $2::text ELSE error_message END, "
                 "row_count = CASE WHEN $1::text IN ('failed', 'cancelled') THEN 0 ELSE row_count END "
                 "WHERE id = $3 AND workspace_id = $4 AND status NOT IN ('completed', 'failed', 'cancelled')"
               : "UPDATE analysis_runs SET status = $1::text, "
                 "error_message = CASE WHEN $1::text IN ('failed', 'retrying') THEN $2::text ELSE error_message END, "
                 "completed_at = CASE WHEN $1::text IN ('failed', 'cancelled') THEN now() ELSE completed_at END "
                 "WHERE id = $3 AND workspace_id = $4 AND status NOT IN ('completed', 'failed', 'cancelled')",
        status, error, target.target_id, target.workspace_id);
    if (upload && r.affected_rows() > 0 && (status == "failed" || status == "cancelled")) {
        DeleteUploadRows(work, target.workspace_id, target.target_id);
    }
}

// Ends the running jobs whose lease ran out and that may not be claimed again (the last attempt's, or cancel
// requested), with their targets; only the job `id` when it is given. SKIP LOCKED: concurrent callers never wait
// for each other's rows (and so never deadlock), and each job ends once.
void EndDeadJobs(pqxx::work& work, const std::optional<std::string>& id) {
    const auto rows = work.exec_params(
        "UPDATE jobs SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END, "
        "error = CASE WHEN cancel_requested THEN error "
        "ELSE format('The worker running it stopped during attempt %s of %s.', attempts, max_attempts) END, "
        "finished_at = now(), updated_at = now() "
        "WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND lease_until <= now() "
        "AND (attempts >= max_attempts OR cancel_requested) AND ($1::uuid IS NULL OR id = $1::uuid) "
        "FOR UPDATE SKIP LOCKED) RETURNING kind, workspace_id, target_id, status, error",
        id);
    for (const auto& row : rows) {
        EndTarget(work, JobTarget{.kind = Text(row[0]), .workspace_id = Text(row[1]), .target_id = Text(row[2])},
                  Text(row[3]), Text(row[4]));
    }
}

// Dates as days since 1970-01-01 and times as seconds since midnight: the forms core/date.h holds.
constexpr std::string_view kTransactionColumns =
    "t.id, t.row_number, t.source_line, t.external_id, t.transaction_date - DATE '1970-01-01', "
    "t.registration_date - DATE '1970-01-01', EXTRACT(EPOCH FROM t.transaction_time)::integer, t.account, "
    "t.amount_minor, t.currency, t.description, t.user_id, t.counterparty, t.voucher_series, t.voucher_number, "
    "t.raw_data::text, t.processed_data::text";

Upload ReadUpload(const pqxx::row& r) {
    return Upload{.id = Text(r[0]),
                  .workspace_id = Text(r[1]),
                  .filename = Text(r[2]),
                  .file_type = Text(r[3]),
                  .file_size = Int(r[4]),
                  .status = Text(r[5]),
                  .row_count = Int(r[6]),
                  .mapping = Text(r[7]),
                  .error_message = Text(r[8]),
                  .error_details = Text(r[9]),
                  .metadata = Text(r[12]),
                  .created_at = Text(r[10]),
                  .completed_at = Text(r[11])};
}

Run ReadRun(const pqxx::row& r) {
    return Run{.id = Text(r[0]),
               .workspace_id = Text(r[1]),
               .upload_id = Text(r[2]),
               .strategy_id = Text(r[3]),
               .strategy_name = Text(r[4]),
               .strategy_version = Int(r[15]),
               .configuration = Text(r[5]),
               .status = Text(r[6]),
               .progress = Double(r[7]),
               .stage = Text(r[8]),
               .progress_detail = Text(r[16]),
               .error_message = Text(r[9]),
               .metadata = Text(r[10]),
               .flagged_count = Int(r[11]),
               .created_at = Text(r[12]),
               .started_at = Text(r[13]),
               .completed_at = Text(r[14])};
}

Strategy ReadStrategy(const pqxx::row& r) {
    return Strategy{.id = Text(r[0]),
                    .workspace_id = Text(r[1]),
                    .name = Text(r[2]),
                    .description = Text(r[3]),
                    .configuration = Text(r[4]),
                    .version = Int(r[5]),
                    .is_active = Bool(r[6]),
                    .created_at = Text(r[7]),
                    .updated_at = Text(r[8])};
}

StoredTransaction ReadTransaction(const pqxx::row& r, pqxx::row::size_type first) {
    StoredTransaction out;
    out.id = Text(r[first]);
    Transaction& t = out.transaction;
    t.row_number = Int(r[first + 1]);
    t.source_line = Int(r[first + 2]);
    t.external_id = Text(r[first + 3]);
    t.date = Date{.days = static_cast<int32_t>(Int(r[first + 4]))};
    if (!r[first + 5].is_null()) t.registration_date = Date{.days = static_cast<int32_t>(Int(r[first + 5]))};
    if (!r[first + 6].is_null()) t.time_seconds = static_cast<int32_t>(Int(r[first + 6]));
    t.account = Text(r[first + 7]);
    t.amount = Money{.minor = Int(r[first + 8])};
    t.currency = Text(r[first + 9]);
    t.text = Text(r[first + 10]);
    t.user = Text(r[first + 11]);
    t.counterparty = Text(r[first + 12]);
    t.voucher_series = Text(r[first + 13]);
    t.voucher_number = Text(r[first + 14]);
    t.raw_data = Text(r[first + 15]);
    t.processed_data = Text(r[first + 16]);
    return out;
}

RuleFlag ReadFlag(const pqxx::row& r, pqxx::row::size_type first) {
    return RuleFlag{.transaction_id = Text(r[first]),
                    .rule_name = Text(r[first + 1]),
                    .triggered = Bool(r[first + 2]),
                    .flag_value = detail::FlagValueFromText(Text(r[first + 3])),
                    .metadata = Text(r[first + 4])};
}

// The read queries' view of a PostgreSQL transaction (store/detail/read_queries.h).
class PostgresReadRows final : public detail::ReadRows {
public:
    explicit PostgresReadRows(pqxx::result result) : result_(std::move(result)) {}
    bool Next() override { return ++next_ <= result_.size(); }
    bool IsNull(int column) const override { return Field(column).is_null(); }
    std::string Text(int column) const override { return granska::store::Text(Field(column)); }
    int64_t Int(int column) const override { return granska::store::Int(Field(column)); }
    double Double(int column) const override { return granska::store::Double(Field(column)); }
    bool Bool(int column) const override { return granska::store::Bool(Field(column)); }
    StoredTransaction Transaction(int first) const override {
        return ReadTransaction(Row(), static_cast<pqxx::row::size_type>(first));
    }
    Run RunRow() const override { return ReadRun(Row()); }

private:
    pqxx::row Row() const { return result_[static_cast<pqxx::result::size_type>(next_ - 1)]; }
    pqxx::field Field(int column) const { return Row()[static_cast<pqxx::row::size_type>(column)]; }

    pqxx::result result_;
    pqxx::result::size_type next_ = 0;
};

class PostgresReadSession final : public detail::ReadSession {
public:
    explicit PostgresReadSession(pqxx::transaction_base& work) : work_(work) {}
    detail::Dialect dialect() const override { return detail::Dialect::kPostgres; }
    std::string TransactionColumns() const override { return std::string(kTransactionColumns); }
    std::string RunColumns() const override { return granska::store::RunColumns(); }
    std::string Timestamp(std::string_view column) const override { return Ts(column); }
    std::unique_ptr<detail::ReadRows> Query(const std::string& sql, std::span<const detail::SqlValue> params) override {
        std::vector<std::string> texts;
        texts.reserve(params.size());
        for (const detail::SqlValue& value : params) {
            texts.push_back(std::visit(
                [](const auto& v) -> std::string {
                    using T = std::decay_t<decltype(v)>;
                    if constexpr (std::is_same_v<T, std::string>) {
                        return v;
                    } else if constexpr (std::is_same_v<T, double>) {
                        return DoubleText(v);
                    } else {
                        return std::to_string(v);
                    }
                },
                value));
        }
        return std::make_unique<PostgresReadRows>(work_.exec_params(sql, pqxx::prepare::make_dynamic_params(texts)));
    }

private:
    pqxx::transaction_base& work_;
};

const std::vector<std::string>& TransactionCopyColumns() {
    static const std::vector<std::string> kColumns = {"id",
                                                      "workspace_id",
                                                      "upload_id",
                                                      "row_number",
                                                      "source_line",
                                                      "external_id",
                                                      "transaction_date",
                                                      "registration_date",
                                                      "transaction_time",
                                                      "account",
                                                      "amount_minor",
                                                      "currency",
                                                      "description",
                                                      "user_id",
                                                      "counterparty",
                                                      "voucher_series",
                                                      "voucher_number",
                                                      "raw_data",
                                                      "processed_data",
                                                      "created_at"};
    return kColumns;
}

// Holds its own connection, one transaction and one COPY (opened at the first Write) until Commit or destruction.
// After a bulk load the planner's statistics still describe the table before it: with them it sorts a whole upload
// for every page it reads (76 s to read 1M rows instead of 2 s). ANALYZE samples a fixed number of rows, so it
// costs the same however large the table; autovacuum would get there too, but only later.
void RefreshStatistics(pqxx::connection& connection, std::string_view tables) {
    pqxx::nontransaction work(connection);
    work.exec(fmt::format("ANALYZE {}", tables));
}

class PostgresTransactionWriter final : public TransactionWriter {
public:
    PostgresTransactionWriter(ConnectionPool::Lease lease, std::string workspace_id, std::string upload_id)
        : lease_(std::move(lease)),
          workspace_id_(std::move(workspace_id)),
          upload_id_(std::move(upload_id)),
          created_at_(NowTimestamp()) {}

    ~PostgresTransactionWriter() override {
        // Members would go in this order anyway; spelled out because the COPY must end before the rollback.
        copy_.reset();
        work_.reset();
    }

    void Write(std::span<const Transaction> rows) override {
        if (committed_) throw std::logic_error("TransactionWriter::Write after Commit");
        if (!work_) work_.emplace(*lease_);
        if (!copy_) copy_.emplace(*work_, "transactions", TransactionCopyColumns());
        for (const Transaction& t : rows) {
            *copy_ << std::forward_as_tuple(NewUuidV7(), workspace_id_, upload_id_, t.row_number, t.source_line,
                                            t.external_id, t.date.ToString(), OptionalDate(t.registration_date),
                                            OptionalTime(t.time_seconds), t.account, t.amount.minor, t.currency, t.text,
                                            t.user, t.counterparty, t.voucher_series, t.voucher_number,
                                            JsonOrNull(t.raw_data), JsonOrNull(t.processed_data), created_at_);
        }
        rows_ += std::ssize(rows);
    }

    void Commit(std::string_view metadata) override {
        if (committed_) throw std::logic_error("TransactionWriter::Commit called twice");
        if (!work_) work_.emplace(*lease_);
        if (copy_) {
            copy_->complete();
            copy_.reset();
        }
        work_->exec_params(
            "UPDATE file_uploads SET status = 'completed', row_count = $1, completed_at = $2::timestamptz, "
            "metadata = $5::jsonb WHERE id = $3 AND workspace_id = $4",
            rows_, NowTimestamp(), upload_id_, workspace_id_, std::string(metadata.empty() ? "{}" : metadata));
        work_->commit();
        committed_ = true;
        RefreshStatistics(*lease_, "transactions");
    }

private:
    ConnectionPool::Lease lease_;
    std::string workspace_id_;
    std::string upload_id_;
    std::string created_at_;
    int64_t rows_ = 0;
    bool committed_ = false;
    std::optional<pqxx::work> work_;
    std::optional<pqxx::stream_to> copy_;
};

// Holds its own connection and one transaction until Commit or destruction. The run's row stays locked (FOR UPDATE)
// all that time, so a second writer for the run waits and then replaces this one's rows. A connection carries one
// COPY at a time: the open one is completed when the caller switches between scores and results.
class PostgresRunResultWriter final : public RunResultWriter {
public:
    // Throws std::invalid_argument (rolling back) when the run is not in the workspace.
    PostgresRunResultWriter(ConnectionPool::Lease lease, const std::string& workspace_id, std::string run_id)
        : lease_(std::move(lease)), run_id_(std::move(run_id)) {
        work_.emplace(*lease_);
        if (work_
                ->exec_params("SELECT 1 FROM analysis_runs WHERE id = $1 AND workspace_id = $2 FOR UPDATE", run_id_,
                              workspace_id)
                .empty()) {
            ThrowUnknownId("run", run_id_);
        }
        work_->exec_params("DELETE FROM anomaly_scores WHERE run_id = $1", run_id_);
        work_->exec_params("DELETE FROM analysis_results WHERE run_id = $1", run_id_);
        work_->exec_params("DELETE FROM rule_flags WHERE run_id = $1", run_id_);
        work_->exec_params("DELETE FROM models WHERE run_id = $1", run_id_);
    }

    ~PostgresRunResultWriter() override {
        // The COPY must end before the rollback.
        copy_.reset();
        work_.reset();
    }

    void WriteScores(std::span<const AlgorithmScore> scores) override {
        if (committed_) throw std::logic_error("RunResultWriter::WriteScores after Commit");
        if (scores.empty()) return;
        pqxx::stream_to& copy = Copy(Table::kScores);
        for (const AlgorithmScore& score : scores) {
            copy << std::forward_as_tuple(run_id_, RequireId("transaction", score.transaction_id), score.algorithm,
                                          DoubleText(score.score), DoubleText(score.confidence), score.reason);
        }
    }

    void WriteResults(std::span<const AnalysisResult> results) override {
        if (committed_) throw std::logic_error("RunResultWriter::WriteResults after Commit");
        if (results.empty()) return;
        pqxx::stream_to& copy = Copy(Table::kResults);
        for (const AnalysisResult& result : results) {
            copy << std::forward_as_tuple(run_id_, RequireId("transaction", result.transaction_id),
                                          DoubleText(result.score), std::string(result.flagged ? "t" : "f"),
                                          result.rank, JsonOr(result.reasons, "[]"));
            flagged_ += result.flagged ? 1 : 0;
        }
    }

    void WriteFlags(std::span<const RuleFlag> flags) override {
        if (committed_) throw std::logic_error("RunResultWriter::WriteFlags after Commit");
        if (flags.empty()) return;
        pqxx::stream_to& copy = Copy(Table::kFlags);
        for (const RuleFlag& flag : flags) {
            copy << std::forward_as_tuple(NewUuidV7(), run_id_, RequireId("transaction", flag.transaction_id),
                                          flag.rule_name, std::string(flag.triggered ? "t" : "f"),
                                          detail::FlagValueText(flag.flag_value), JsonOr(flag.metadata, "{}"),
                                          created_at_);
        }
    }

    void WriteModel(const SavedModel& model) override {
        if (committed_) throw std::logic_error("RunResultWriter::WriteModel after Commit");
        EndCopy();
        work_->exec_params(
            "INSERT INTO models (run_id, label, algorithm, version, document, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6::timestamptz)",
            run_id_, model.label, model.algorithm, model.version, model.document, NowTimestamp());
    }

    void Commit(std::string_view metadata) override {
        if (committed_) throw std::logic_error("RunResultWriter::Commit called twice");
        EndCopy();
        work_->exec_params(
            "UPDATE analysis_runs SET status = 'completed', progress = 1, stage = 'completed', error_message = NULL, "
            "metadata = $1::jsonb, flagged_count = $2, started_at = COALESCE(started_at, $3::timestamptz), "
            "completed_at = $3::timestamptz WHERE id = $4",
            JsonOr(metadata, "{}"), flagged_, NowTimestamp(), run_id_);
        work_->commit();
        committed_ = true;
        RefreshStatistics(*lease_, "anomaly_scores, analysis_results, rule_flags");
    }

private:
    enum class Table { kNone, kScores, kResults, kFlags };

    // The COPY into table, ending the one into another table first.
    pqxx::stream_to& Copy(Table table) {
        if (copy_table_ == table) return *copy_;
        EndCopy();
        static const std::vector<std::string> kScoreColumns = {"run_id", "transaction_id", "algorithm",
                                                               "score",  "confidence",     "reason"};
        static const std::vector<std::string> kResultColumns = {"run_id",  "transaction_id", "score",
                                                                "flagged", "rank",           "reasons"};
        static const std::vector<std::string> kFlagColumns = {
            "id", "run_id", "transaction_id", "rule_name", "triggered", "flag_value", "metadata", "created_at"};
        if (table == Table::kScores) {
            copy_.emplace(*work_, "anomaly_scores", kScoreColumns);
        } else if (table == Table::kResults) {
            copy_.emplace(*work_, "analysis_results", kResultColumns);
        } else {
            copy_.emplace(*work_, "rule_flags", kFlagColumns);
        }
        copy_table_ = table;
        return *copy_;
    }

    void EndCopy() {
        if (!copy_) return;
        copy_table_ = Table::kNone;
        copy_->complete();
        copy_.reset();
    }

    ConnectionPool::Lease lease_;
    std::string run_id_;
    std::string created_at_ = NowTimestamp();
    int64_t flagged_ = 0;
    bool committed_ = false;
    Table copy_table_ = Table::kNone;
    std::optional<pqxx::work> work_;
    std::optional<pqxx::stream_to> copy_;
};

class PostgresStore final : public detail::ReadQueriesStore {
public:
    explicit PostgresStore(const std::string& url) : pool_(url) {
        pool_.Acquire();  // connects now, so a bad URL fails here and not at the first request
    }

    std::string_view Backend() const override { return "postgresql"; }

    int Migrate() override {
        auto db = pool_.Acquire();
        for (const detail::Migration& migration : detail::PostgresMigrations()) {
            pqxx::work work(*db);
            // Taken before anything else, so concurrent migrators apply each file once and never race on DDL.
            work.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
            work.exec(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
            if (!work.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", migration.version).empty()) {
                continue;  // rolled back: nothing was changed
            }
            work.exec(std::string(migration.sql));
            work.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", migration.version,
                             std::string(migration.name));
            work.commit();
        }
        pqxx::nontransaction work(*db);
        return static_cast<int>(Int(work.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0]));
    }

    Workspace CreateWorkspace(std::string_view name) override {
        Workspace workspace{.id = NewUuidV7(), .name = std::string(name), .created_at = NowTimestamp()};
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        work.exec_params("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3::timestamptz)", workspace.id,
                         workspace.name, workspace.created_at);
        return workspace;
    }

    Expected<Workspace> GetWorkspace(std::string_view id) override {
        const auto workspace_id = CanonicalId(id);
        if (!workspace_id) return Unexpected(NotFound("workspace", id));
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            fmt::format("SELECT id, name, {} FROM workspaces WHERE id = $1", Ts("created_at")), *workspace_id);
        if (r.empty()) return Unexpected(NotFound("workspace", id));
        return Workspace{.id = Text(r[0][0]), .name = Text(r[0][1]), .created_at = Text(r[0][2])};
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
                   .mapping = JsonOr(upload.mapping, "{}"),
                   .created_at = NowTimestamp()};
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        // RETURNING: JSONB keeps its own normal form of the mapping; return what GetUpload will.
        const auto r = work.exec_params(
            "INSERT INTO file_uploads (id, workspace_id, filename, file_type, file_size, status, row_count, mapping, "
            "created_at) "
            "SELECT $1, $2, $3, $4, $5, 'queued', 0, $6::jsonb, $7::timestamptz "
            "WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = $2) RETURNING mapping::text",
            out.id, out.workspace_id, out.filename, out.file_type, out.file_size, out.mapping, out.created_at);
        if (r.empty()) ThrowUnknownId("workspace", workspace_id);
        out.mapping = Text(r[0][0]);
        return out;
    }

    Expected<Upload> GetUpload(std::string_view workspace_id, std::string_view id) override {
        const auto ws = CanonicalId(workspace_id);
        const auto upload_id = CanonicalId(id);
        if (!ws || !upload_id) return Unexpected(NotFound("upload", id));
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            fmt::format("SELECT {} FROM file_uploads WHERE id = $1 AND workspace_id = $2", UploadColumns()), *upload_id,
            *ws);
        if (r.empty()) return Unexpected(NotFound("upload", id));
        return ReadUpload(r[0]);
    }

    Page<Upload> ListUploads(std::string_view workspace_id, int64_t limit, int64_t offset) override {
        Page<Upload> page;
        const auto ws = CanonicalId(workspace_id);
        if (!ws) return page;
        auto db = pool_.Acquire();
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> work(*db);
        page.total = Int(work.exec_params("SELECT COUNT(*) FROM file_uploads WHERE workspace_id = $1", *ws)[0][0]);
        const auto r = work.exec_params(
            fmt::format("SELECT {} FROM file_uploads WHERE workspace_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3",
                        UploadColumns()),
            *ws, detail::PageLimit(limit), detail::PageOffset(offset));
        for (const auto& row : r) page.items.push_back(ReadUpload(row));
        return page;
    }

    void MarkUploadProcessing(std::string_view workspace_id, std::string_view id) override {
        const auto [ws, upload_id] = RequireIds("upload", workspace_id, id);
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            "UPDATE file_uploads SET status = 'running' WHERE id = $1 AND workspace_id = $2", upload_id, ws);
        if (r.affected_rows() == 0) ThrowUnknownId("upload", id);
    }

    void FailUpload(std::string_view workspace_id, std::string_view id, const Error& error,
                    std::string_view metadata) override {
        const auto [ws, upload_id] = RequireIds("upload", workspace_id, id);
        auto db = pool_.Acquire();
        pqxx::work work(*db);
        const auto r = work.exec_params(
            "UPDATE file_uploads SET status = 'failed', row_count = 0, error_message = $1, error_details = $2::jsonb, "
            "completed_at = NULL, metadata = $5::jsonb WHERE id = $3 AND workspace_id = $4",
            error.message, detail::ErrorDetailsJson(error), upload_id, ws,
            std::string(metadata.empty() ? "{}" : metadata));
        if (r.affected_rows() == 0) ThrowUnknownId("upload", id);
        DeleteUploadRows(work, ws, upload_id);
        work.commit();
    }

    std::unique_ptr<TransactionWriter> BeginTransactions(std::string_view workspace_id,
                                                         std::string_view upload_id) override {
        auto [ws, id] = RequireIds("upload", workspace_id, upload_id);
        auto db = pool_.Acquire();
        {
            pqxx::nontransaction work(*db);
            if (work.exec_params("SELECT 1 FROM file_uploads WHERE id = $1 AND workspace_id = $2", id, ws).empty()) {
                ThrowUnknownId("upload", upload_id);
            }
        }
        return std::make_unique<PostgresTransactionWriter>(std::move(db), std::move(ws), std::move(id));
    }

    void ForEachTransaction(std::string_view workspace_id, std::string_view upload_id, size_t batch_size,
                            const std::function<void(std::span<const StoredTransaction>)>& visit) override {
        const auto ws = CanonicalId(workspace_id);
        const auto id = CanonicalId(upload_id);
        if (!ws || !id) return;
        const auto limit = static_cast<int64_t>(std::clamp<size_t>(batch_size, 1, 1'000'000));
        // The workspace is checked once; each page then follows the (upload_id, row_number) index in order.
        {
            auto db = pool_.Acquire();
            pqxx::nontransaction work(*db);
            if (work.exec_params("SELECT 1 FROM file_uploads WHERE id = $1 AND workspace_id = $2", *id, *ws).empty()) {
                return;
            }
        }
        const std::string sql = fmt::format(
            "SELECT {} FROM transactions t WHERE t.upload_id = $1 AND t.row_number > $2 "
            "ORDER BY t.upload_id, t.row_number LIMIT $3",
            kTransactionColumns);
        std::vector<StoredTransaction> batch;
        int64_t after = std::numeric_limits<int64_t>::min();
        // Keyset pages, each on a connection given back before visit runs: visit may call the store itself.
        while (true) {
            batch.clear();
            {
                auto db = pool_.Acquire();
                pqxx::nontransaction work(*db);
                for (const auto& row : work.exec_params(sql, *id, after, limit)) {
                    batch.push_back(ReadTransaction(row, 0));
                }
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
                     .configuration = JsonOr(strategy.configuration, "{}"),
                     .created_at = now,
                     .updated_at = now};
        auto db = pool_.Acquire();
        try {
            pqxx::work work(*db);
            if (work.exec_params("SELECT 1 FROM workspaces WHERE id = $1", workspace_id).empty()) {
                ThrowUnknownId("workspace", workspace_id);
            }
            // The unique index on active names decides, also between two concurrent creators.
            work.exec_params(
                "INSERT INTO strategies (id, workspace_id, name, description, configuration, version, is_active, "
                "created_at, updated_at) VALUES ($1, $2, $3, $4, $5::json, 1, TRUE, $6::timestamptz, $6::timestamptz)",
                out.id, out.workspace_id, out.name, out.description, out.configuration, now);
            InsertStrategyVersion(work, out.id);
            work.commit();
        } catch (const pqxx::unique_violation&) {
            return Unexpected(detail::StrategyExists(out.name));
        }
        return out;
    }

    Expected<Strategy> GetStrategy(std::string_view workspace_id, std::string_view id) override {
        const auto ws = CanonicalId(workspace_id);
        const auto strategy_id = CanonicalId(id);
        if (!ws || !strategy_id) return Unexpected(NotFound("strategy", id));
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            fmt::format("SELECT {} FROM strategies WHERE id = $1 AND workspace_id = $2", StrategyColumns()),
            *strategy_id, *ws);
        if (r.empty()) return Unexpected(NotFound("strategy", id));
        return ReadStrategy(r[0]);
    }

    Page<Strategy> ListStrategies(std::string_view workspace_id, bool include_inactive, int64_t limit,
                                  int64_t offset) override {
        Page<Strategy> page;
        const auto ws = CanonicalId(workspace_id);
        if (!ws) return page;
        auto db = pool_.Acquire();
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> work(*db);
        constexpr std::string_view kFilter = "workspace_id = $1 AND ($2::boolean OR is_active)";
        page.total = Int(work.exec_params(fmt::format("SELECT COUNT(*) FROM strategies WHERE {}", kFilter), *ws,
                                          include_inactive)[0][0]);
        // COLLATE "C": names sort by bytes, as on SQLite, whatever the database's locale.
        const auto rows = work.exec_params(
            fmt::format("SELECT {} FROM strategies WHERE {} ORDER BY name COLLATE \"C\", id LIMIT $3 OFFSET $4",
                        StrategyColumns(), kFilter),
            *ws, include_inactive, detail::PageLimit(limit), detail::PageOffset(offset));
        for (const auto& row : rows) page.items.push_back(ReadStrategy(row));
        return page;
    }

    Expected<Strategy> UpdateStrategy(std::string_view workspace_id, std::string_view id, std::string_view name,
                                      std::string_view description, std::string_view configuration) override {
        const auto ids = detail::FoundIds("strategy", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, strategy_id] = *ids;
        auto db = pool_.Acquire();
        try {
            pqxx::work work(*db);
            // The UPDATE locks the row: a concurrent update waits, then adds 1 to the version this one wrote.
            const auto r = work.exec_params(
                fmt::format("UPDATE strategies SET name = $3, description = $4, configuration = $5::json, "
                            "version = version + 1, updated_at = $6::timestamptz "
                            "WHERE id = $1 AND workspace_id = $2 AND is_active RETURNING {}",
                            StrategyColumns()),
                strategy_id, ws, std::string(name), std::string(description), JsonOr(configuration, "{}"),
                NowTimestamp());
            if (r.empty()) return Unexpected(NotFound("strategy", id));
            Strategy out = ReadStrategy(r[0]);
            InsertStrategyVersion(work, out.id);
            work.commit();
            return out;
        } catch (const pqxx::unique_violation&) {
            return Unexpected(detail::StrategyExists(name));
        }
    }

    Expected<void> DeactivateStrategy(std::string_view workspace_id, std::string_view id) override {
        const auto ids = detail::FoundIds("strategy", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, strategy_id] = *ids;
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params("UPDATE strategies SET is_active = FALSE WHERE id = $1 AND workspace_id = $2",
                                        strategy_id, ws);
        if (r.affected_rows() == 0) return Unexpected(NotFound("strategy", id));
        return {};
    }

    Expected<std::vector<StrategyVersion>> ListStrategyVersions(std::string_view workspace_id,
                                                                std::string_view id) override {
        const auto ids = detail::FoundIds("strategy", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, strategy_id] = *ids;
        auto db = pool_.Acquire();
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> work(*db);
        if (work.exec_params("SELECT 1 FROM strategies WHERE id = $1 AND workspace_id = $2", strategy_id, ws).empty()) {
            return Unexpected(NotFound("strategy", id));
        }
        std::vector<StrategyVersion> versions;
        const auto rows =
            work.exec_params(fmt::format("SELECT strategy_id, version, name, description, configuration::text, {} "
                                         "FROM strategy_versions WHERE strategy_id = $1 ORDER BY version DESC",
                                         Ts("created_at")),
                             strategy_id);
        for (const auto& row : rows) {
            versions.push_back(StrategyVersion{.strategy_id = Text(row[0]),
                                               .version = Int(row[1]),
                                               .name = Text(row[2]),
                                               .description = Text(row[3]),
                                               .configuration = Text(row[4]),
                                               .created_at = Text(row[5])});
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
                .configuration = JsonOr(run.configuration, "{}"),
                .status = "queued",
                .metadata = "{}",
                .created_at = NowTimestamp()};
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            "INSERT INTO analysis_runs (id, workspace_id, upload_id, strategy_id, strategy_name, configuration, "
            "status, metadata, created_at, strategy_version) "
            "SELECT $1, $2, $3, $4::uuid, $5, $6::json, 'queued', '{}', $7::timestamptz, $8::bigint "
            "WHERE EXISTS (SELECT 1 FROM file_uploads WHERE id = $3 AND workspace_id = $2) "
            "AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM strategies WHERE id = $4::uuid AND workspace_id = $2))",
            out.id, ws, upload_id, strategy_id, out.strategy_name, out.configuration, out.created_at,
            out.strategy_version > 0 ? std::optional<int64_t>(out.strategy_version) : std::nullopt);
        if (r.affected_rows() == 0) ThrowUnknownId("upload or strategy", upload_id + " / " + out.strategy_id);
        return out;
    }

    Expected<Run> GetRun(std::string_view workspace_id, std::string_view id) override {
        const auto ws = CanonicalId(workspace_id);
        const auto run_id = CanonicalId(id);
        if (!ws || !run_id) return Unexpected(NotFound("run", id));
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            fmt::format("SELECT {} FROM analysis_runs WHERE id = $1 AND workspace_id = $2", RunColumns()), *run_id,
            *ws);
        if (r.empty()) return Unexpected(NotFound("run", id));
        return ReadRun(r[0]);
    }

    void UpdateRunProgress(std::string_view workspace_id, std::string_view id, std::string_view stage,
                           double progress, std::string_view progress_detail) override {
        const auto [ws, run_id] = RequireIds("run", workspace_id, id);
        std::optional<std::string> detail_json;
        if (!progress_detail.empty()) detail_json = std::string(progress_detail);
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        // A finished run stays finished: a late progress report is ignored.
        const auto r = work.exec_params(
            "UPDATE analysis_runs SET status = 'running', stage = $1, progress = $2::float8, "
            "started_at = COALESCE(started_at, $3::timestamptz), "
            "progress_detail = COALESCE($6::jsonb, progress_detail) "
            "WHERE id = $4 AND workspace_id = $5 AND status IN ('queued', 'running', 'retrying')",
            std::string(stage), DoubleText(detail::Fraction(progress)), NowTimestamp(), run_id, ws, detail_json);
        if (r.affected_rows() > 0) return;
        if (work.exec_params("SELECT 1 FROM analysis_runs WHERE id = $1 AND workspace_id = $2", run_id, ws).empty()) {
            ThrowUnknownId("run", id);
        }
    }

    void FailRun(std::string_view workspace_id, std::string_view id, std::string_view message) override {
        const auto [ws, run_id] = RequireIds("run", workspace_id, id);
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            "UPDATE analysis_runs SET status = 'failed', error_message = $1, completed_at = $2::timestamptz "
            "WHERE id = $3 AND workspace_id = $4",
            std::string(message), NowTimestamp(), run_id, ws);
        if (r.affected_rows() == 0) ThrowUnknownId("run", id);
    }

    std::unique_ptr<RunResultWriter> BeginRunResults(std::string_view workspace_id, std::string_view run_id) override {
        auto [ws, id] = RequireIds("run", workspace_id, run_id);
        return std::make_unique<PostgresRunResultWriter>(pool_.Acquire(), ws, std::move(id));
    }

    Page<ResultRow> ListResults(std::string_view workspace_id, std::string_view run_id,
                                const ResultQuery& query) override {
        Page<ResultRow> page;
        InRunSnapshot(workspace_id, run_id,
                      [&](pqxx::transaction_base& work, const std::string& id, const std::string& /*ws*/) {
                          PostgresReadSession session(work);
                          page = detail::ListResults(session, id, query);
                      });
        return page;
    }

    Page<RuleFlag> ListRuleFlags(std::string_view workspace_id, std::string_view run_id, int64_t limit,
                                 int64_t offset) override {
        Page<RuleFlag> page;
        InRunSnapshot(workspace_id, run_id,
                      [&](pqxx::transaction_base& work, const std::string& id, const std::string& /*workspace*/) {
                          page.total =
                              Int(work.exec_params("SELECT COUNT(*) FROM rule_flags WHERE run_id = $1", id)[0][0]);
                          // COLLATE "C": rule names sort by bytes, as on SQLite, whatever the database's locale.
                          const auto rows = work.exec_params(
                              "SELECT f.transaction_id, f.rule_name, f.triggered, f.flag_value, f.metadata::text FROM "
                              "rule_flags f "
                              "JOIN transactions t ON t.id = f.transaction_id WHERE f.run_id = $1 "
                              "ORDER BY t.row_number, f.rule_name COLLATE \"C\", f.id LIMIT $2 OFFSET $3",
                              id, detail::PageLimit(limit), detail::PageOffset(offset));
                          for (const auto& row : rows) page.items.push_back(ReadFlag(row, 0));
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
        pqxx::nontransaction work(*db);
        const auto rows = work.exec_params(
            fmt::format("SELECT f.transaction_id, f.rule_name, f.triggered, f.flag_value, f.metadata::text, "
                        "f.run_id, {} FROM rule_flags f "
                        "JOIN transactions t ON t.id = f.transaction_id AND t.workspace_id = $2 "
                        "JOIN analysis_runs r ON r.id = f.run_id WHERE f.transaction_id = $1 "
                        "ORDER BY r.created_at DESC, r.id DESC, f.rule_name COLLATE \"C\", f.id",
                        Ts("f.created_at")),
            id, ws);
        for (const auto& row : rows) {
            flags.push_back({.run_id = Text(row[5]), .flag = ReadFlag(row, 0), .created_at = Text(row[6])});
        }
        return flags;
    }

    Expected<SavedModel> GetModel(std::string_view workspace_id, std::string_view run_id,
                                  std::string_view label) override {
        const auto ids = detail::CanonicalIds(workspace_id, run_id);
        if (ids) {
            const auto& [ws, id] = *ids;
            auto db = pool_.Acquire();
            pqxx::nontransaction work(*db);
            const auto rows = work.exec_params(
                fmt::format("SELECT m.algorithm, m.version, m.document, {} FROM models m "
                            "JOIN analysis_runs r ON r.id = m.run_id AND r.workspace_id = $2 "
                            "WHERE m.run_id = $1 AND m.label = $3",
                            Ts("m.created_at")),
                id, ws, std::string(label));
            if (!rows.empty()) {
                return SavedModel{.run_id = id,
                                  .label = std::string(label),
                                  .algorithm = Text(rows[0][0]),
                                  .version = rows[0][1].as<int>(),
                                  .document = Text(rows[0][2]),
                                  .created_at = Text(rows[0][3])};
            }
        }
        return Unexpected(NotFound("model", fmt::format("{}/{}", run_id, label)));
    }

    Job CreateJob(const NewJob& job) override {
        const auto [ws, target_id] = RequireIds("job target", job.workspace_id, job.target_id);
        const std::string_view table = detail::JobTargetTable(job.kind);
        if (job.max_attempts < 1) throw std::invalid_argument("A job needs max_attempts >= 1.");
        auto db = pool_.Acquire();
        pqxx::work work(*db);
        // ON CONFLICT waits for a concurrent insert of the same job; the SELECT (a new snapshot) then sees it.
        work.exec_params(fmt::format("INSERT INTO jobs (id, workspace_id, kind, target_id, payload, status, attempts, "
                                     "max_attempts) SELECT $1, $2, $3, $4, $5::jsonb, 'queued', 0, $6 "
                                     "WHERE EXISTS (SELECT 1 FROM {} WHERE id = $4 AND workspace_id = $2) "
                                     "ON CONFLICT (kind, target_id) DO NOTHING",
                                     table),
                         NewUuidV7(), ws, job.kind, target_id, JsonOr(job.payload, "{}"), job.max_attempts);
        const auto r = work.exec_params(
            fmt::format("SELECT {} FROM jobs WHERE kind = $1 AND target_id = $2 AND workspace_id = $3", JobColumns()),
            job.kind, target_id, ws);
        if (r.empty()) ThrowUnknownId("job target", target_id);
        Job out = ReadJob(r[0]);
        work.commit();
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
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> work(*db);
        constexpr std::string_view kFilter =
            "workspace_id = $1 AND ($2::text = '' OR status = $2::text) AND ($3::text = '' OR kind = $3::text)";
        page.total = Int(work.exec_params(fmt::format("SELECT COUNT(*) FROM jobs WHERE {}", kFilter), *ws, query.status,
                                          query.kind)[0][0]);
        const auto rows = work.exec_params(
            fmt::format("SELECT {} FROM jobs WHERE {} ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5",
                        JobColumns(), kFilter),
            *ws, query.status, query.kind, detail::PageLimit(query.limit), detail::PageOffset(query.offset));
        for (const auto& row : rows) page.items.push_back(ReadJob(row));
        return page;
    }

    std::optional<Job> ClaimJob(std::string_view id, std::string_view worker,
                                std::chrono::milliseconds lease) override {
        auto job_id = CanonicalId(id);
        if (!job_id) return std::nullopt;
        return Claim(std::move(job_id), worker, lease);
    }

    std::optional<Job> ClaimNextJob(std::string_view worker, std::chrono::milliseconds lease) override {
        return Claim(std::nullopt, worker, lease);
    }

    std::optional<Job> RenewLease(std::string_view id, std::string_view worker,
                                  std::chrono::milliseconds lease) override {
        const auto job_id = CanonicalId(id);
        if (!job_id) return std::nullopt;
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            fmt::format("UPDATE jobs SET lease_until = now() + $1::bigint * interval '1 millisecond', "
                        "updated_at = now() WHERE id = $2 AND status = 'running' AND worker = $3 RETURNING {}",
                        JobColumns()),
            Millis(lease), *job_id, std::string(worker));
        if (r.empty()) return std::nullopt;
        return ReadJob(r[0]);
    }

    std::optional<Job> FinishJob(std::string_view id, std::string_view worker, const JobEnd& end) override {
        detail::CheckJobEndStatus(end.status);
        const auto job_id = CanonicalId(id);
        if (!job_id) return std::nullopt;
        auto db = pool_.Acquire();
        pqxx::work work(*db);
        const auto held = work.exec_params(
            "SELECT kind, workspace_id, target_id, cancel_requested FROM jobs "
            "WHERE id = $1 AND status = 'running' AND worker = $2 FOR UPDATE",
            *job_id, std::string(worker));
        if (held.empty()) return std::nullopt;
        const JobTarget target{
            .kind = Text(held[0][0]), .workspace_id = Text(held[0][1]), .target_id = Text(held[0][2])};
        std::string status = end.status;
        // A job whose cancel was requested never waits for another attempt: nobody would claim it.
        if (Bool(held[0][3]) && (status == "queued" || status == "retrying")) status = "cancelled";
        const auto r = work.exec_params(
            fmt::format("UPDATE jobs SET status = $1::text, "
                        "attempts = CASE WHEN $1::text = 'queued' THEN GREATEST(attempts - 1, 0) ELSE attempts END, "
                        "run_after = CASE $1::text WHEN 'retrying' THEN now() + $3::bigint * interval '1 millisecond' "
                        "WHEN 'queued' THEN now() ELSE run_after END, "
                        "error = CASE WHEN $1::text IN ('completed', 'queued') OR $2::text = '' THEN error "
                        "ELSE $2::text END, "
                        "lease_until = NULL, "
                        "finished_at = CASE WHEN $1::text IN ('completed', 'failed', 'cancelled') THEN now() END, "
                        "updated_at = now() WHERE id = $4 RETURNING {}",
                        JobColumns()),
            status, end.error, Millis(end.retry_after), *job_id);
        Job out = ReadJob(r[0]);
        EndTarget(work, target, status, out.error);
        work.commit();
        return out;
    }

    Expected<Job> CancelJobFor(std::string_view workspace_id, std::string_view target_id) override {
        const auto ids = detail::FoundIds("job", workspace_id, target_id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, target] = *ids;
        auto db = pool_.Acquire();
        pqxx::work work(*db);
        const auto found = work.exec_params(
            fmt::format("SELECT {} FROM jobs WHERE workspace_id = $1 AND target_id = $2 ORDER BY created_at, id "
                        "LIMIT 1 FOR UPDATE",
                        JobColumns()),
            ws, target);
        if (found.empty()) return Unexpected(NotFound("job", target_id));
        Job job = ReadJob(found[0]);
        if (job.status != "queued" && job.status != "retrying" && job.status != "running") return job;
        const bool at_once = job.status != "running";
        const auto r =
            work.exec_params(fmt::format("UPDATE jobs SET status = $1, cancel_requested = $2::boolean, "
                                         "finished_at = CASE WHEN $1 = 'cancelled' THEN now() END, updated_at = now() "
                                         "WHERE id = $3 RETURNING {}",
                                         JobColumns()),
                             std::string(at_once ? "cancelled" : "running"), !at_once, job.id);
        job = ReadJob(r[0]);
        if (at_once)
            EndTarget(work, JobTarget{.kind = job.kind, .workspace_id = ws, .target_id = target}, "cancelled", "");
        work.commit();
        return job;
    }

    std::vector<Job> ClaimableJobs(size_t limit) override {
        std::vector<Job> jobs;
        auto db = pool_.Acquire();
        pqxx::work work(*db);
        EndDeadJobs(work, std::nullopt);
        const auto rows =
            work.exec_params(fmt::format("SELECT {} FROM jobs WHERE {} ORDER BY run_after, created_at, id LIMIT $1",
                                         JobColumns(), kClaimable),
                             static_cast<int64_t>(std::min<size_t>(limit, detail::kMaxPageSize)));
        for (const auto& row : rows) jobs.push_back(ReadJob(row));
        work.commit();
        return jobs;
    }

    int ExpireLeases() override {
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec("UPDATE jobs SET lease_until = now(), updated_at = now() WHERE status = 'running'");
        return static_cast<int>(r.affected_rows());
    }

    Expected<void> DeleteUpload(std::string_view workspace_id, std::string_view id) override {
        const auto ids = detail::FoundIds("upload", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, upload_id] = *ids;
        auto db = pool_.Acquire();
        pqxx::work work(*db);
        // Jobs name their targets without a foreign key: deleted here; the rest goes by ON DELETE CASCADE.
        work.exec_params(
            "DELETE FROM jobs WHERE workspace_id = $1 AND (target_id = $2 OR target_id IN "
            "(SELECT id FROM analysis_runs WHERE upload_id = $2 AND workspace_id = $1))",
            ws, upload_id);
        const auto r = work.exec_params("DELETE FROM file_uploads WHERE id = $1 AND workspace_id = $2", upload_id, ws);
        if (r.affected_rows() == 0) return Unexpected(NotFound("upload", id));
        work.commit();
        return {};
    }

private:
    // The workspace's job with the id, or with the target id (column "target_id").
    Expected<Job> FindJob(std::string_view workspace_id, std::string_view id, std::string_view column) {
        const auto ids = detail::FoundIds("job", workspace_id, id);
        if (!ids) return Unexpected(ids.error());
        const auto& [ws, key] = *ids;
        auto db = pool_.Acquire();
        pqxx::nontransaction work(*db);
        const auto r = work.exec_params(
            fmt::format("SELECT {} FROM jobs WHERE {} = $1 AND workspace_id = $2 ORDER BY created_at, id LIMIT 1",
                        JobColumns(), column),
            key, ws);
        if (r.empty()) return Unexpected(NotFound("job", id));
        return ReadJob(r[0]);
    }

    // ClaimJob (id) or ClaimNextJob (nullopt). The conditional UPDATE decides between two claimers of one job: the
    // second waits for the first's row lock, then finds the job no longer claimable.
    std::optional<Job> Claim(std::optional<std::string> id, std::string_view worker, std::chrono::milliseconds lease) {
        auto db = pool_.Acquire();
        pqxx::work work(*db);
        EndDeadJobs(work, id);
        const std::string which = id ? "$3::uuid"
                                     : fmt::format(
                                           "(SELECT id FROM jobs WHERE {} ORDER BY run_after, created_at, id LIMIT 1 "
                                           "FOR UPDATE SKIP LOCKED)",
                                           kClaimable);
        const std::string sql = fmt::format(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = $1, started_at = now(), "
            "lease_until = now() + $2::bigint * interval '1 millisecond', updated_at = now() "
            "WHERE id = {} AND {} RETURNING {}",
            which, kClaimable, JobColumns());
        const auto r = id ? work.exec_params(sql, std::string(worker), Millis(lease), *id)
                          : work.exec_params(sql, std::string(worker), Millis(lease));
        std::optional<Job> out;
        if (!r.empty()) out = ReadJob(r[0]);
        work.commit();
        return out;
    }

    void InReadSnapshot(const std::function<void(detail::ReadSession&)>& read) override {
        auto db = pool_.Acquire();
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> work(*db);
        PostgresReadSession session(work);
        read(session);
    }

    // Calls read(work, run id, workspace id) in one read-only snapshot, so that every read sees the same rows, when
    // the run is in the workspace; otherwise reads nothing.
    template <typename Read>
    void InRunSnapshot(std::string_view workspace_id, std::string_view run_id, const Read& read) {
        const auto ids = detail::CanonicalIds(workspace_id, run_id);
        if (!ids) return;
        const auto& [ws, id] = *ids;
        auto db = pool_.Acquire();
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> work(*db);
        if (work.exec_params("SELECT 1 FROM analysis_runs WHERE id = $1 AND workspace_id = $2", id, ws).empty()) {
            return;
        }
        read(work, id, ws);
    }

    // The version row of a strategy: a copy of its row as this transaction wrote it.
    static void InsertStrategyVersion(pqxx::work& work, const std::string& strategy_id) {
        work.exec_params(
            "INSERT INTO strategy_versions (strategy_id, version, name, description, configuration, created_at) "
            "SELECT id, version, name, description, configuration, updated_at FROM strategies WHERE id = $1",
            strategy_id);
    }

    ConnectionPool pool_;
};

}  // namespace

std::unique_ptr<Store> OpenPostgresStore(const std::string& url) { return std::make_unique<PostgresStore>(url); }

}  // namespace granska::store
