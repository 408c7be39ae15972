#pragma once
// The read queries of the API's read endpoints (ListResults, ListTransactions, GetTransactionDetail,
// LatestCompletedRun), written once over a ReadSession that each backend provides: one read snapshot running SQL
// with bound values. Every filter and sort maps to fixed SQL text; a value from a request is only ever bound.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/expected.h"
#include "store/store.h"

namespace granska::store::detail {

enum class Dialect { kSqlite, kPostgres };

// A bound value. PostgreSQL receives its text and infers the type from the column it is compared with.
using SqlValue = std::variant<int64_t, double, std::string>;

// The rows of one query, read by 0-based column, each backend reading its own column forms.
class ReadRows {
public:
    virtual ~ReadRows() = default;
    virtual bool Next() = 0;  // true while a row is ready
    virtual bool IsNull(int column) const = 0;
    virtual std::string Text(int column) const = 0;
    virtual int64_t Int(int column) const = 0;
    virtual double Double(int column) const = 0;
    virtual bool Bool(int column) const = 0;
    // The columns of ReadSession::TransactionColumns, starting at first.
    virtual StoredTransaction Transaction(int first) const = 0;
    // The columns of ReadSession::RunColumns, starting at column 0.
    virtual Run RunRow() const = 0;
};

// One read snapshot of a backend; every Query in it sees the same rows.
class ReadSession {
public:
    virtual ~ReadSession() = default;
    virtual Dialect dialect() const = 0;
    virtual std::string TransactionColumns() const = 0;  // of "transactions t"
    virtual std::string RunColumns() const = 0;          // of "analysis_runs", unprefixed
    // A timestamp column as the store returns timestamps ("2026-11-24T20:17:03.123Z").
    virtual std::string Timestamp(std::string_view column) const = 0;
    virtual std::unique_ptr<ReadRows> Query(const std::string& sql, std::span<const SqlValue> params) = 0;
};

// A Store whose read endpoints' methods are these queries, run in the read snapshots its backend opens.
class ReadQueriesStore : public Store {
public:
    Page<TransactionRow> ListTransactions(std::string_view workspace_id, const TransactionQuery& query) final;
    Expected<TransactionDetail> GetTransactionDetail(std::string_view workspace_id,
                                                     std::string_view transaction_id) final;
    Expected<Run> LatestCompletedRun(std::string_view workspace_id, std::string_view strategy) final;

protected:
    // Calls read with a session over one read snapshot.
    virtual void InReadSnapshot(const std::function<void(ReadSession&)>& read) = 0;
};

// The run (canonical run_id) must be in the workspace; the caller checks it in the same session.
Page<ResultRow> ListResults(ReadSession& db, const std::string& run_id, const ResultQuery& query);
// workspace_id is canonical.
Page<TransactionRow> ListTransactions(ReadSession& db, const std::string& workspace_id, const TransactionQuery& query);
Expected<TransactionDetail> GetTransactionDetail(ReadSession& db, const std::string& workspace_id,
                                                 std::string_view transaction_id);
Expected<Run> LatestCompletedRun(ReadSession& db, const std::string& workspace_id, std::string_view strategy);

// "%text%" for LIKE ... ESCAPE '\', with \, % and _ of text escaped so they match themselves.
std::string ContainsPattern(std::string_view text);

}  // namespace granska::store::detail
