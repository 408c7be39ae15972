#pragma once
// The storage contract. SqliteStore (embedded default) and PostgresStore implement it; one contract test
// suite (store_contract_test.cpp) runs unchanged against both. Every read and write names its workspace:
// an id from another workspace is "not found". Bulk paths: TransactionWriter and RunResultWriter (COPY / prepared
// statements in one transaction, fed in chunks); CompleteRun is RunResultWriter in one call.
//
// Expected failures (unknown ids) are Expected errors; a lost connection or a broken database throws
// std::runtime_error, caught at the process boundary.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/error.h"
#include "core/expected.h"
#include "core/transaction.h"

namespace granska::store {

// The workspace every installation has; uploads and strategies without an explicit one belong to it.
inline constexpr std::string_view kDefaultWorkspaceId = "00000000-0000-7000-8000-000000000001";

struct Workspace {
    std::string id;
    std::string name;
    std::string created_at;
};

// Timestamps are ISO 8601 UTC text with milliseconds: "2026-11-24T20:17:03.123Z"; "" when unset.
struct Upload {
    std::string id;
    std::string workspace_id;
    std::string filename;
    std::string file_type;  // "csv", ...
    int64_t file_size = 0;
    std::string status;  // as a job's: "queued" | "running" | "retrying" | "completed" | "failed" | "cancelled"
    int64_t row_count = 0;
    std::string mapping;  // JSON object: the explicit column mapping, "{}" when none
    std::string error_message;
    std::string error_details;  // JSON object {"error","message","line","column"} of a failed upload, "" otherwise
    std::string metadata;       // JSON object: the validation report of the parse (ingest::ReportToJson); "{}" before
    std::string created_at;
    std::string completed_at;
};

// Background work (table jobs). The database is the truth about every job; a queue (local, Redis) only says which
// job to look at. A job works on one target, an upload (process_uploaded_file) or a run (run_anomaly_detection), and
// there is at most one job per (kind, target). Statuses, of jobs and of their targets alike: "queued", "running",
// "retrying" (an attempt failed; the next waits for run_after), "completed", "failed", "cancelled".
inline constexpr std::string_view kProcessUploadedFile = "process_uploaded_file";
inline constexpr std::string_view kRunAnomalyDetection = "run_anomaly_detection";

struct Job {
    std::string id;
    std::string workspace_id;
    std::string kind;            // kProcessUploadedFile | kRunAnomalyDetection
    std::string target_id;       // the upload's or the run's id
    std::string payload = "{}";  // JSON object: what the task needs beyond its target (parse options, a run to chain)
    std::string status;
    int attempts = 0;      // attempts started
    int max_attempts = 3;  // after this many failed attempts the job is failed for good
    std::string worker;    // the worker that holds (or last held) the job; "" before the first attempt
    std::string error;     // the last failed attempt's error; "" when none failed
    bool cancel_requested = false;
    std::string run_after;    // the earliest start of the next attempt
    std::string lease_until;  // while running: the holder must renew its lease before this, or lose the job
    std::string created_at;
    std::string started_at;   // the latest attempt's start
    std::string finished_at;  // when it reached completed, failed or cancelled
    std::string updated_at;
};

struct NewJob {
    std::string workspace_id;
    std::string kind;
    std::string target_id;
    std::string payload = "{}";
    int max_attempts = 3;
};

// How an attempt ended (Store::FinishJob).
struct JobEnd {
    // "completed" | "retrying" | "failed" | "cancelled", or "queued": handed back unfinished by a worker that is
    // stopping (the attempt does not count: attempts − 1, run_after = now, the target "queued" again).
    std::string status;
    std::string error;                         // the attempt's error; "" for completed and queued
    std::chrono::milliseconds retry_after{0};  // retrying: run_after = now + this
};

struct JobQuery {
    std::string status;  // "" for any
    std::string kind;    // "" for any
    int64_t limit = 50;
    int64_t offset = 0;
};

struct NewUpload {
    std::string workspace_id;
    std::string filename;
    std::string file_type;
    int64_t file_size = 0;
    std::string mapping = "{}";
};

struct StoredTransaction {
    std::string id;  // the store's UUID for the row
    Transaction transaction;
};

struct Strategy {
    std::string id;
    std::string workspace_id;
    std::string name;
    std::string description;
    std::string configuration;  // the strategy JSON
    int64_t version = 1;
    bool is_active = true;
    std::string created_at;
    std::string updated_at;
};

struct NewStrategy {
    std::string workspace_id;
    std::string name;
    std::string description;
    std::string configuration;
};

// One version of a strategy as it was saved (table strategy_versions); version 1 is the one created.
struct StrategyVersion {
    std::string strategy_id;
    int64_t version = 1;
    std::string name;
    std::string description;
    std::string configuration;
    std::string created_at;
};

struct Run {
    std::string id;
    std::string workspace_id;
    std::string upload_id;
    std::string strategy_id;  // "" for an ad-hoc strategy (e.g. --strategy-file)
    std::string strategy_name;
    int64_t strategy_version = 0;  // the version of strategy_id the run used; 0 for an ad-hoc strategy
    std::string configuration;     // the exact strategy JSON the run used
    std::string status;            // "queued" | "running" | "retrying" | "completed" | "failed" | "cancelled"
    double progress = 0.0;         // 0..1
    std::string stage;             // what the run is doing now, e.g. "loading", "zscore", "writing"
    // JSON object: per-algorithm state of the run (docs/progress.md), {"algorithms": [{"label", "name", "state",
    // "progress", "ms"}]}; "{}" before the run starts.
    std::string progress_detail = "{}";
    std::string error_message;
    std::string metadata;  // JSON object: timings, counts, version; "{}" until completed
    int64_t flagged_count = 0;
    std::string created_at;
    std::string started_at;
    std::string completed_at;
};

struct NewRun {
    std::string workspace_id;
    std::string upload_id;
    std::string strategy_id;
    std::string strategy_name;
    int64_t strategy_version = 0;
    std::string configuration;
};

// One algorithm's verdict on one transaction (table anomaly_scores).
struct AlgorithmScore {
    std::string transaction_id;
    std::string algorithm;
    double score = 0.0;       // 0..1, higher is more anomalous
    double confidence = 0.0;  // 0..1
    std::string reason;       // plain-language sentence; "" when the algorithm has nothing to say
};

// The strategy's combined verdict (table analysis_results).
struct AnalysisResult {
    std::string transaction_id;
    double score = 0.0;
    bool flagged = false;
    int64_t rank = 0;     // 1 = most anomalous; ties broken by file order
    std::string reasons;  // JSON array of strings, most important first
};

// One rule's finding on one transaction (table rule_flags). Sparse: only the rows a rule-based algorithm had
// something to say about get one.
struct RuleFlag {
    std::string transaction_id;
    std::string rule_name;        // "<algorithm label>.<rule>", e.g. "timing.late_posting"
    bool triggered = true;        // the rule's condition holds
    double flag_value = 0.0;      // the quantity the rule measured; stored as its shortest exact decimal text
    std::string metadata = "{}";  // JSON object: thresholds, the matched row, ...
};

// A fitted ML model saved with the run that fitted it (table models; the document format is docs/models.md).
struct SavedModel {
    std::string run_id;
    std::string label;      // the algorithm's label in that run's strategy
    std::string algorithm;  // its registry name
    int version = 0;        // the document's format version
    std::string document;
    std::string created_at;
};

// A flag read back for one transaction, with the run that raised it.
struct TransactionFlag {
    std::string run_id;
    RuleFlag flag;
    std::string created_at;
};

// Sort keys and directions of the read queries: each maps to fixed SQL text, never to text from a request.
enum class SortOrder { kAscending, kDescending };
enum class ResultSort {
    kRank,   // rank (1 = most anomalous first when ascending)
    kScore,  // combined score, ties by rank (descending: highest score, then rank 1 first)
    kDate,   // transaction date, ties by file order
};

struct ResultQuery {
    // Without algorithm: the combined score ≥ min_score. With algorithm: that algorithm's score ≥ min_score, or
    // > 0 when min_score is not given.
    std::optional<double> min_score;
    bool flagged_only = false;
    std::string algorithm;          // an algorithm's label in the run's strategy; "" for none
    std::string account;            // exact account; "" for any
    std::optional<Date> date_from;  // inclusive
    std::optional<Date> date_to;    // inclusive
    ResultSort sort = ResultSort::kRank;
    SortOrder order = SortOrder::kAscending;
    int64_t limit = 50;
    int64_t offset = 0;
};

enum class TransactionSort {
    kRow,     // upload id (UUIDv7: the older upload first, within a millisecond either), then file order
    kDate,    // transaction date, ties by upload and file order
    kAmount,  // amount, ties by upload and file order
    kScore,   // the combined score in TransactionQuery::run_id, ties by rank; needs run_id
};

// Filters of ListTransactions; every one given must hold. Empty text and nullopt mean "any".
struct TransactionQuery {
    std::string upload_id;
    std::string account;                // exact
    std::string user;                   // exact
    std::optional<Date> date_from;      // inclusive
    std::optional<Date> date_to;        // inclusive
    std::optional<int64_t> amount_min;  // minor units, inclusive
    std::optional<int64_t> amount_max;  // minor units, inclusive
    // Contained in the description or the counterparty, ignoring case (SQLite: ASCII letters only); % and _ are
    // plain characters.
    std::string text;
    // Only the rows this run scored, with its scores; "" for every row with the scores of the newest completed run
    // on its upload.
    std::string run_id;
    std::optional<double> min_score;               // the combined score in run_id; ignored without run_id
    TransactionSort sort = TransactionSort::kRow;  // kScore without run_id sorts as kRow
    SortOrder order = SortOrder::kAscending;
    int64_t limit = 50;
    int64_t offset = 0;
};

// A row of a run's results, joined with its transaction; ordered by rank.
struct ResultRow {
    AnalysisResult result;
    StoredTransaction transaction;
    std::vector<AlgorithmScore> algorithm_scores;  // every algorithm's score for this transaction, by name
};

// One run's verdict on one transaction: the combined result and every algorithm's score, by label.
struct TransactionScores {
    std::string run_id;
    AnalysisResult result;
    std::vector<AlgorithmScore> algorithm_scores;
};

// A row of ListTransactions: the transaction and the scores of the run asked for, or of the newest completed run
// on its upload; nullopt when that run did not score it (or there is none).
struct TransactionRow {
    StoredTransaction transaction;
    std::optional<TransactionScores> latest;
};

// What one completed run found on one transaction (GetTransactionDetail).
struct TransactionRunDetail {
    std::string run_id;
    std::string strategy_name;
    std::string created_at;
    std::optional<AnalysisResult> result;          // nullopt when the run wrote no combined result for the row
    std::vector<AlgorithmScore> algorithm_scores;  // by label, bytewise
    std::vector<RuleFlag> flags;                   // by rule name, bytewise
};

struct TransactionDetail {
    StoredTransaction transaction;  // with raw_data and processed_data
    std::string upload_id;
    std::vector<TransactionRunDetail> runs;  // every completed run on its upload, newest first (created_at, then id)
};

template <typename T>
struct Page {
    std::vector<T> items;
    int64_t total = 0;  // rows matching the query, ignoring limit and offset
};

// Writes one upload's rows. Nothing is visible until Commit(), which also marks the upload completed
// with its row count; destroying an uncommitted writer rolls everything back.
class TransactionWriter {
public:
    virtual ~TransactionWriter() = default;
    // Assigns each row a new UUID and appends it.
    virtual void Write(std::span<const Transaction> rows) = 0;
    // Marks the upload completed with its row count and metadata (the validation report), with the rows, in one
    // transaction.
    virtual void Commit(std::string_view metadata) = 0;
};

// Writes one run's scores, results and rule flags in chunks. Nothing is visible until Commit(metadata), which
// replaces any earlier scores, results and flags of the run and marks it completed (flagged_count = results written
// with flagged), all in one transaction; destroying an uncommitted writer rolls back and leaves the run as it was.
// WriteScores, WriteResults and WriteFlags may be called any number of times, in any order. Writing or committing after
// Commit throws std::logic_error. An open writer holds a write lock on the run (PostgreSQL) or the whole database
// (SQLite): a second writer for the run waits for it, so commit or destroy it before writing anything else from
// the same thread (UpdateRunProgress included).
class RunResultWriter {
public:
    virtual ~RunResultWriter() = default;
    virtual void WriteScores(std::span<const AlgorithmScore> scores) = 0;
    virtual void WriteResults(std::span<const AnalysisResult> results) = 0;
    virtual void WriteFlags(std::span<const RuleFlag> flags) = 0;
    // run_id and created_at of the model are the writer's.
    virtual void WriteModel(const SavedModel& model) = 0;
    virtual void Commit(std::string_view metadata) = 0;
};

class Store {
public:
    virtual ~Store() = default;

    virtual std::string_view Backend() const = 0;  // "sqlite" | "postgresql"
    // Applies every embedded migration not yet applied; safe to call again. Returns the schema version.
    virtual int Migrate() = 0;

    virtual Workspace CreateWorkspace(std::string_view name) = 0;
    virtual Expected<Workspace> GetWorkspace(std::string_view id) = 0;

    virtual Upload CreateUpload(const NewUpload& upload) = 0;  // status "queued"
    virtual Expected<Upload> GetUpload(std::string_view workspace_id, std::string_view id) = 0;
    virtual Page<Upload> ListUploads(std::string_view workspace_id, int64_t limit, int64_t offset) = 0;  // newest first
    virtual void MarkUploadProcessing(std::string_view workspace_id, std::string_view id) = 0;
    // Marks the upload failed, keeping the error and the metadata (the validation report, "{}" when there is none),
    // and deletes any rows it has, in one transaction.
    virtual void FailUpload(std::string_view workspace_id, std::string_view id, const Error& error,
                            std::string_view metadata) = 0;
    virtual std::unique_ptr<TransactionWriter> BeginTransactions(std::string_view workspace_id,
                                                                 std::string_view upload_id) = 0;
    // Calls visit with batches of at most batch_size rows, in file order.
    virtual void ForEachTransaction(std::string_view workspace_id, std::string_view upload_id, size_t batch_size,
                                    const std::function<void(std::span<const StoredTransaction>)>& visit) = 0;

    // Version 1 of a new strategy, with its first strategy_versions row, in one transaction. Conflict
    // ("strategy_exists") when an active strategy of the workspace has the name; an unknown workspace throws
    // std::invalid_argument.
    virtual Expected<Strategy> CreateStrategy(const NewStrategy& strategy) = 0;
    // Active or not (is_active says which).
    virtual Expected<Strategy> GetStrategy(std::string_view workspace_id, std::string_view id) = 0;

    // Strategies (issue 6). The workspace's strategies ordered by name (bytewise), then id; deactivated ones only
    // with include_inactive.
    virtual Page<Strategy> ListStrategies(std::string_view workspace_id, bool include_inactive, int64_t limit,
                                          int64_t offset) = 0;
    // Saves the next version: the row takes the new name, description and configuration, version + 1, and a
    // strategy_versions row is added, in one transaction; concurrent updates get consecutive versions. NotFound for an
    // unknown or deactivated strategy; Conflict ("strategy_exists") when another active strategy has the name.
    virtual Expected<Strategy> UpdateStrategy(std::string_view workspace_id, std::string_view id, std::string_view name,
                                              std::string_view description, std::string_view configuration) = 0;
    // Marks the strategy inactive (again: no change); its versions and the runs that used it stay. NotFound for an
    // unknown strategy.
    virtual Expected<void> DeactivateStrategy(std::string_view workspace_id, std::string_view id) = 0;
    // Every saved version, newest first; NotFound for an unknown strategy (a deactivated one keeps its history).
    virtual Expected<std::vector<StrategyVersion>> ListStrategyVersions(std::string_view workspace_id,
                                                                        std::string_view id) = 0;

    virtual Run CreateRun(const NewRun& run) = 0;  // status "queued"
    virtual Expected<Run> GetRun(std::string_view workspace_id, std::string_view id) = 0;
    // Also sets status "running" and started_at once. progress_detail is the JSON object Run::progress_detail holds;
    // "" keeps the stored one. A finished run ignores it.
    virtual void UpdateRunProgress(std::string_view workspace_id, std::string_view id, std::string_view stage,
                                   double progress, std::string_view progress_detail) = 0;
    virtual void FailRun(std::string_view workspace_id, std::string_view id, std::string_view message) = 0;
    // Opens a writer for the run's scores and results (see RunResultWriter); an unknown run throws
    // std::invalid_argument.
    virtual std::unique_ptr<RunResultWriter> BeginRunResults(std::string_view workspace_id,
                                                             std::string_view run_id) = 0;
    // Replaces the run's scores and results and marks it completed, in one transaction: a retried run
    // leaves exactly one set of rows. BeginRunResults, one WriteScores, one WriteResults, Commit.
    void CompleteRun(std::string_view workspace_id, std::string_view id, std::span<const AlgorithmScore> scores,
                     std::span<const AnalysisResult> results, std::string_view metadata);
    virtual Page<ResultRow> ListResults(std::string_view workspace_id, std::string_view run_id,
                                        const ResultQuery& query) = 0;
    // A run's rule flags, ordered by their transaction's file order, then rule name (bytewise); total counts them
    // all. An unknown run (or one of another workspace) is an empty page.
    virtual Page<RuleFlag> ListRuleFlags(std::string_view workspace_id, std::string_view run_id, int64_t limit,
                                         int64_t offset) = 0;
    // Every stored flag on one transaction, across runs: newest run first (by created_at, then id), then rule name.
    // Empty for an unknown transaction (or one of another workspace).
    virtual std::vector<TransactionFlag> ListTransactionFlags(std::string_view workspace_id,
                                                              std::string_view transaction_id) = 0;
    // The model a run of the workspace saved under the label; NotFound when there is none.
    virtual Expected<SavedModel> GetModel(std::string_view workspace_id, std::string_view run_id,
                                          std::string_view label) = 0;

    // Read endpoints (issue 6). Each reads one snapshot; total counts the rows matching the filters.
    // The workspace's transactions matching the query, each with its scores (see TransactionQuery::run_id). An
    // unknown upload or run (or one of another workspace) is an empty page.
    virtual Page<TransactionRow> ListTransactions(std::string_view workspace_id, const TransactionQuery& query) = 0;
    // One transaction with what every completed run on its upload found; NotFound for an unknown id.
    virtual Expected<TransactionDetail> GetTransactionDetail(std::string_view workspace_id,
                                                             std::string_view transaction_id) = 0;
    // The newest completed run (created_at, then id) of a strategy named by its id (a UUID) or by the name runs
    // record (a preset's or a custom strategy's); NotFound when it has none.
    virtual Expected<Run> LatestCompletedRun(std::string_view workspace_id, std::string_view strategy) = 0;

    // Jobs (issue 7). Times are the database's clock (PostgreSQL: now(); SQLite: the process's UTC clock).
    // Enqueues the job "queued" (run_after = now), or returns the existing job of the same kind and target unchanged:
    // enqueuing twice is one job. std::invalid_argument for an unknown kind, a target that is not an upload (run) of
    // the workspace, or max_attempts < 1.
    virtual Job CreateJob(const NewJob& job) = 0;
    // NotFound for an unknown or malformed id (or one of another workspace).
    virtual Expected<Job> GetJob(std::string_view workspace_id, std::string_view id) = 0;
    // The job working on an upload or a run; NotFound when it has none.
    virtual Expected<Job> GetJobFor(std::string_view workspace_id, std::string_view target_id) = 0;
    // The workspace's jobs, newest first (created_at, then id).
    virtual Page<Job> ListJobs(std::string_view workspace_id, const JobQuery& query) = 0;
    // Claims the job for worker when it may run now: "queued" or "retrying" with run_after <= now and no cancel
    // requested, or "running" with its lease expired (its worker died). The job becomes "running" with attempts + 1,
    // worker, started_at = now and lease_until = now + lease. nullopt when it is not claimable (unknown, finished,
    // held under a live lease, not yet due). Atomic: of two workers claiming one job, one gets it. A running job whose
    // lease expired after its last allowed attempt (attempts >= max_attempts) is not claimed but ends "failed", with
    // its target, error "The worker running it stopped during attempt N of M." (never stuck "running"); one whose
    // cancel was requested ends "cancelled" with its target the same way.
    virtual std::optional<Job> ClaimJob(std::string_view id, std::string_view worker,
                                        std::chrono::milliseconds lease) = 0;
    // Claims the oldest claimable job (run_after, then created_at, then id) of any workspace, as ClaimJob. (SQLite's
    // timestamps have milliseconds: within one, jobs go in insertion order.)
    virtual std::optional<Job> ClaimNextJob(std::string_view worker, std::chrono::milliseconds lease) = 0;
    // Extends the lease of a job the worker holds (running, worker matches) to now + lease and returns the job
    // (cancel_requested tells the worker to stop); nullopt when the worker no longer holds it.
    virtual std::optional<Job> RenewLease(std::string_view id, std::string_view worker,
                                          std::chrono::milliseconds lease) = 0;
    // Ends the worker's attempt, in one transaction with its target: "completed" (the target was completed by the
    // task's own writer; unchanged); "retrying" (run_after = now + retry_after, error kept; the target becomes
    // "retrying" with the error as its error_message); "failed" and "cancelled" (finished_at = now; the target takes
    // the status, a failed one the error unless it already failed with its own; an upload's rows are deleted).
    // A target already completed, failed or cancelled keeps its status. Returns the job; nullopt (and no change) when
    // the worker no longer holds it. "queued" or "retrying" for a job whose cancel was requested ends it "cancelled"
    // (nobody would claim it again).
    virtual std::optional<Job> FinishJob(std::string_view id, std::string_view worker, const JobEnd& end) = 0;
    // Cancels the job of a target: a queued or retrying job and its target become "cancelled" at once, in one
    // transaction; a running job gets cancel_requested (its worker stops it and ends it "cancelled"); a finished job
    // is returned unchanged. NotFound when the target has no job.
    virtual Expected<Job> CancelJobFor(std::string_view workspace_id, std::string_view target_id) = 0;
    // Jobs that a worker could claim now (ClaimJob's conditions), oldest first: the Redis queue announces them again
    // (a lost message, a retry that became due, the job of a dead worker). A dead worker's job that may not run again
    // is ended here as ClaimJob ends it (failed, or cancelled), not listed.
    virtual std::vector<Job> ClaimableJobs(size_t limit) = 0;
    // Ends the lease of every running job now, so that they can be claimed again at once; returns how many. Only for
    // a process that knows their workers are gone: the embedded server at start-up (SQLite has one server process).
    virtual int ExpireLeases() = 0;
    // Deletes an upload and everything of it (rows, runs, results, jobs); NotFound for an unknown upload.
    virtual Expected<void> DeleteUpload(std::string_view workspace_id, std::string_view id) = 0;
};

}  // namespace granska::store
