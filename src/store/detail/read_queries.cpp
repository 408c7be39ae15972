#include "store/detail/read_queries.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/detail/store_util.h"

namespace granska::store::detail {

namespace {

// The values of one statement, in order; Add binds one more and returns its placeholder ("?3" or "$3"). Placeholders
// are numbered, so the order in which Adds are evaluated within one expression does not matter.
class Params {
public:
    explicit Params(Dialect dialect) : dialect_(dialect) {}

    std::string Add(SqlValue value) {
        values_.push_back(std::move(value));
        return fmt::format("{}{}", dialect_ == Dialect::kSqlite ? '?' : '$', values_.size());
    }
    std::string Add(Date date) { return Add(date.ToString()); }

    // column is one of the ids (canonical UUIDs), bound as one value.
    std::string IdIn(std::string_view column, const std::vector<std::string>& ids) {
        std::string list;
        for (const std::string& id : ids) {
            if (dialect_ == Dialect::kSqlite) {
                list += fmt::format("{}\"{}\"", list.empty() ? "" : ",", id);
            } else {
                list += fmt::format("{}{}", list.empty() ? "" : ",", id);
            }
        }
        if (dialect_ == Dialect::kSqlite) {
            return fmt::format("{} IN (SELECT value FROM json_each({}))", column, Add("[" + list + "]"));
        }
        return fmt::format("{} = ANY({}::uuid[])", column, Add("{" + list + "}"));
    }

    // (a contains text OR b contains text), ignoring case.
    std::string Contains(std::string_view a, std::string_view b, std::string_view text) {
        const std::string_view like = dialect_ == Dialect::kSqlite ? "LIKE" : "ILIKE";
        const std::string pattern = ContainsPattern(text);
        const std::string first = Add(pattern);
        return fmt::format("({0} {1} {2} ESCAPE '\\' OR {3} {1} {4} ESCAPE '\\')", a, like, first, b, Add(pattern));
    }

    std::span<const SqlValue> values() const { return values_; }
    std::span<const SqlValue> first(size_t count) const { return values().first(count); }
    size_t size() const { return values_.size(); }

private:
    Dialect dialect_;
    std::vector<SqlValue> values_;
};

// Text compared by bytes on both backends, whatever PostgreSQL's locale.
std::string_view Bytewise(const ReadSession& db) { return db.dialect() == Dialect::kPostgres ? " COLLATE \"C\"" : ""; }

std::string_view Direction(SortOrder order) { return order == SortOrder::kAscending ? "ASC" : "DESC"; }
std::string_view Reverse(SortOrder order) { return order == SortOrder::kAscending ? "DESC" : "ASC"; }

// Ascending and descending are exact reverses of each other; every order ends with a key unique in its rows.
std::string ResultOrder(const ResultQuery& query) {
    const std::string_view dir = Direction(query.order);
    switch (query.sort) {
        case ResultSort::kRank:
            return fmt::format("r.rank {0}, t.row_number {0}", dir);
        case ResultSort::kScore:  // a higher score has a lower rank
            return fmt::format("r.score {0}, r.rank {1}, t.row_number {1}", dir, Reverse(query.order));
        case ResultSort::kDate:
            return fmt::format("t.transaction_date {0}, t.row_number {0}", dir);
    }
    return "r.rank, t.row_number";
}

std::string TransactionOrder(const TransactionQuery& query, bool scored) {
    const std::string_view dir = Direction(query.order);
    switch (query.sort) {
        case TransactionSort::kRow:
            break;
        case TransactionSort::kDate:
            return fmt::format("t.transaction_date {0}, t.upload_id {0}, t.row_number {0}", dir);
        case TransactionSort::kAmount:
            return fmt::format("t.amount_minor {0}, t.upload_id {0}, t.row_number {0}", dir);
        case TransactionSort::kScore:
            if (!scored) break;
            return fmt::format("r.score {0}, r.rank {1}, t.row_number {1}", dir, Reverse(query.order));
    }
    return fmt::format("t.upload_id {0}, t.row_number {0}", dir);
}

int64_t Count(ReadSession& db, const std::string& sql, std::span<const SqlValue> params) {
    auto rows = db.Query(sql, params);
    return rows->Next() ? rows->Int(0) : 0;
}

using ScoresByTransaction = std::unordered_map<std::string, std::vector<AlgorithmScore>>;

// Every algorithm's score of the run on the given transactions, each transaction's by label (bytewise).
ScoresByTransaction ScoresOf(ReadSession& db, const std::string& run_id, const std::vector<std::string>& ids) {
    ScoresByTransaction scores;
    if (ids.empty()) return scores;
    Params params(db.dialect());
    const std::string sql = fmt::format(
        "SELECT transaction_id, algorithm, score, confidence, reason FROM anomaly_scores WHERE run_id = {} AND {} "
        "ORDER BY transaction_id, algorithm{}",
        params.Add(run_id), params.IdIn("transaction_id", ids), Bytewise(db));
    auto rows = db.Query(sql, params.values());
    while (rows->Next()) {
        AlgorithmScore score{.transaction_id = rows->Text(0),
                             .algorithm = rows->Text(1),
                             .score = rows->Double(2),
                             .confidence = rows->Double(3),
                             .reason = rows->Text(4)};
        scores[score.transaction_id].push_back(std::move(score));
    }
    return scores;
}

// Columns first..first+3 of "r.score, r.flagged, r.rank, r.reasons".
AnalysisResult ReadResult(const ReadRows& rows, std::string transaction_id, int first) {
    return AnalysisResult{.transaction_id = std::move(transaction_id),
                          .score = rows.Double(first),
                          .flagged = rows.Bool(first + 1),
                          .rank = rows.Int(first + 2),
                          .reasons = rows.Text(first + 3)};
}

std::vector<AlgorithmScore> Take(ScoresByTransaction& scores, const std::string& transaction_id) {
    const auto found = scores.find(transaction_id);
    if (found == scores.end()) return {};
    return std::move(found->second);
}

// The newest completed run on the upload, or nullopt.
std::optional<std::string> NewestCompletedRun(ReadSession& db, const std::string& workspace_id,
                                              const std::string& upload_id) {
    Params params(db.dialect());
    const std::string sql = fmt::format(
        "SELECT id FROM analysis_runs WHERE upload_id = {} AND workspace_id = {} AND status = 'completed' "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        params.Add(upload_id), params.Add(workspace_id));
    auto rows = db.Query(sql, params.values());
    if (!rows->Next()) return std::nullopt;
    return rows->Text(0);
}

// The upload of a run in the workspace, or nullopt.
std::optional<std::string> UploadOfRun(ReadSession& db, const std::string& workspace_id, const std::string& run_id) {
    Params params(db.dialect());
    const std::string sql = fmt::format("SELECT upload_id FROM analysis_runs WHERE id = {} AND workspace_id = {}",
                                        params.Add(run_id), params.Add(workspace_id));
    auto rows = db.Query(sql, params.values());
    if (!rows->Next()) return std::nullopt;
    return rows->Text(0);
}

// Fills each row's latest scores from the newest completed run on its upload. uploads[i] is rows[i]'s upload.
void AddLatestScores(ReadSession& db, const std::string& workspace_id, const std::vector<std::string>& uploads,
                     std::vector<TransactionRow>& rows) {
    std::map<std::string, std::vector<size_t>> by_upload;
    for (size_t i = 0; i < rows.size(); ++i) by_upload[uploads[i]].push_back(i);
    for (const auto& [upload_id, indexes] : by_upload) {
        const auto run_id = NewestCompletedRun(db, workspace_id, upload_id);
        if (!run_id) continue;
        std::vector<std::string> ids;
        std::unordered_map<std::string, size_t> index;
        for (const size_t i : indexes) {
            ids.push_back(rows[i].transaction.id);
            index.emplace(rows[i].transaction.id, i);
        }
        Params params(db.dialect());
        const std::string sql = fmt::format(
            "SELECT transaction_id, score, flagged, rank, reasons FROM analysis_results WHERE run_id = {} AND {}",
            params.Add(*run_id), params.IdIn("transaction_id", ids));
        auto results = db.Query(sql, params.values());
        ScoresByTransaction scores = ScoresOf(db, *run_id, ids);
        while (results->Next()) {
            const auto found = index.find(results->Text(0));
            if (found == index.end()) continue;
            TransactionRow& row = rows[found->second];
            row.latest = TransactionScores{.run_id = *run_id,
                                           .result = ReadResult(*results, row.transaction.id, 1),
                                           .algorithm_scores = Take(scores, row.transaction.id)};
        }
    }
}

}  // namespace

std::string ContainsPattern(std::string_view text) {
    std::string pattern = "%";
    for (const char c : text) {
        if (c == '\\' || c == '%' || c == '_') pattern += '\\';
        pattern += c;
    }
    pattern += '%';
    return pattern;
}

Page<ResultRow> ListResults(ReadSession& db, const std::string& run_id, const ResultQuery& query) {
    Params params(db.dialect());
    std::string where = "r.run_id = " + params.Add(run_id);
    if (!query.algorithm.empty()) {
        where += fmt::format(
            " AND EXISTS (SELECT 1 FROM anomaly_scores s WHERE s.run_id = r.run_id AND s.transaction_id = "
            "r.transaction_id AND s.algorithm = {} AND s.score {})",
            params.Add(query.algorithm), query.min_score ? ">= " + params.Add(*query.min_score) : "> 0");
    } else if (query.min_score) {
        where += " AND r.score >= " + params.Add(*query.min_score);
    }
    if (query.flagged_only) where += " AND r.flagged";
    const bool by_transaction = !query.account.empty() || query.date_from || query.date_to;
    if (!query.account.empty()) where += " AND t.account = " + params.Add(query.account);
    if (query.date_from) where += " AND t.transaction_date >= " + params.Add(*query.date_from);
    if (query.date_to) where += " AND t.transaction_date <= " + params.Add(*query.date_to);
    const size_t filter_params = params.size();

    Page<ResultRow> page;
    if (query.flagged_only && filter_params == 1) {
        // The run counted its flagged rows when it committed them; counting them again reads every result.
        Params run(db.dialect());
        const std::string sql = "SELECT flagged_count FROM analysis_runs WHERE id = " + run.Add(run_id);
        page.total = Count(db, sql, run.values());
    } else {
        page.total = Count(db,
                           fmt::format("SELECT COUNT(*) FROM analysis_results r{} WHERE {}",
                                       by_transaction ? " JOIN transactions t ON t.id = r.transaction_id" : "", where),
                           params.first(filter_params));
    }
    const std::string sql = fmt::format(
        "SELECT r.transaction_id, r.score, r.flagged, r.rank, r.reasons, {} FROM analysis_results r "
        "JOIN transactions t ON t.id = r.transaction_id WHERE {} ORDER BY {} LIMIT {} OFFSET {}",
        db.TransactionColumns(), where, ResultOrder(query), params.Add(PageLimit(query.limit)),
        params.Add(PageOffset(query.offset)));
    std::vector<std::string> ids;
    {
        auto rows = db.Query(sql, params.values());
        while (rows->Next()) {
            ResultRow row;
            row.result = ReadResult(*rows, rows->Text(0), 1);
            row.transaction = rows->Transaction(5);
            ids.push_back(row.result.transaction_id);
            page.items.push_back(std::move(row));
        }
    }
    ScoresByTransaction scores = ScoresOf(db, run_id, ids);
    for (ResultRow& row : page.items) row.algorithm_scores = Take(scores, row.result.transaction_id);
    return page;
}

Page<TransactionRow> ListTransactions(ReadSession& db, const std::string& workspace_id, const TransactionQuery& query) {
    Page<TransactionRow> page;
    Params params(db.dialect());
    std::string from = "transactions t";
    std::string where = "t.workspace_id = " + params.Add(workspace_id);
    std::optional<std::string> run_id;
    if (!query.run_id.empty()) {
        run_id = CanonicalId(query.run_id);
        if (!run_id) return page;
        const auto run_upload = UploadOfRun(db, workspace_id, *run_id);
        if (!run_upload) return page;
        from += " JOIN analysis_results r ON r.transaction_id = t.id AND r.run_id = " + params.Add(*run_id);
        // Implied by the join, but it lets the planner use the upload's indexes.
        where += " AND t.upload_id = " + params.Add(*run_upload);
        if (query.min_score) where += " AND r.score >= " + params.Add(*query.min_score);
    }
    if (!query.upload_id.empty()) {
        const auto upload_id = CanonicalId(query.upload_id);
        if (!upload_id) return page;
        where += " AND t.upload_id = " + params.Add(*upload_id);
    }
    if (!query.account.empty()) where += " AND t.account = " + params.Add(query.account);
    if (!query.user.empty()) where += " AND t.user_id = " + params.Add(query.user);
    if (query.date_from) where += " AND t.transaction_date >= " + params.Add(*query.date_from);
    if (query.date_to) where += " AND t.transaction_date <= " + params.Add(*query.date_to);
    if (query.amount_min) where += " AND t.amount_minor >= " + params.Add(*query.amount_min);
    if (query.amount_max) where += " AND t.amount_minor <= " + params.Add(*query.amount_max);
    if (!query.text.empty()) where += " AND " + params.Contains("t.description", "t.counterparty", query.text);
    const size_t filter_params = params.size();

    page.total = Count(db, fmt::format("SELECT COUNT(*) FROM {} WHERE {}", from, where), params.first(filter_params));
    const std::string sql =
        fmt::format("SELECT {}, t.upload_id{} FROM {} WHERE {} ORDER BY {} LIMIT {} OFFSET {}", db.TransactionColumns(),
                    run_id ? ", r.score, r.flagged, r.rank, r.reasons" : "", from, where,
                    TransactionOrder(query, run_id.has_value()), params.Add(PageLimit(query.limit)),
                    params.Add(PageOffset(query.offset)));
    constexpr int kUploadColumn = 17;  // after the 17 transaction columns
    std::vector<std::string> uploads;
    std::vector<std::string> ids;
    {
        auto rows = db.Query(sql, params.values());
        while (rows->Next()) {
            TransactionRow row{.transaction = rows->Transaction(0)};
            if (run_id) {
                row.latest = TransactionScores{.run_id = *run_id,
                                               .result = ReadResult(*rows, row.transaction.id, kUploadColumn + 1)};
            }
            uploads.push_back(rows->Text(kUploadColumn));
            ids.push_back(row.transaction.id);
            page.items.push_back(std::move(row));
        }
    }
    if (!run_id) {
        AddLatestScores(db, workspace_id, uploads, page.items);
        return page;
    }
    ScoresByTransaction scores = ScoresOf(db, *run_id, ids);
    for (TransactionRow& row : page.items) row.latest->algorithm_scores = Take(scores, row.transaction.id);
    return page;
}

Expected<TransactionDetail> GetTransactionDetail(ReadSession& db, const std::string& workspace_id,
                                                 std::string_view transaction_id) {
    const auto id = CanonicalId(transaction_id);
    if (!id) return Unexpected(NotFound("transaction", transaction_id));
    TransactionDetail detail;
    {
        Params params(db.dialect());
        const std::string sql = fmt::format(
            "SELECT {}, t.upload_id FROM transactions t WHERE t.id = {} AND "
            "t.workspace_id = {}",
            db.TransactionColumns(), params.Add(*id), params.Add(workspace_id));
        auto rows = db.Query(sql, params.values());
        if (!rows->Next()) return Unexpected(NotFound("transaction", transaction_id));
        detail.transaction = rows->Transaction(0);
        detail.upload_id = rows->Text(17);
    }
    std::unordered_map<std::string, size_t> index;
    {
        Params params(db.dialect());
        const std::string sql = fmt::format(
            "SELECT a.id, a.strategy_name, {}, r.score, r.flagged, r.rank, r.reasons FROM analysis_runs a "
            "LEFT JOIN analysis_results r ON r.run_id = a.id AND r.transaction_id = {} "
            "WHERE a.upload_id = {} AND a.workspace_id = {} AND a.status = 'completed' "
            "ORDER BY a.created_at DESC, a.id DESC",
            db.Timestamp("a.created_at"), params.Add(*id), params.Add(detail.upload_id), params.Add(workspace_id));
        auto rows = db.Query(sql, params.values());
        while (rows->Next()) {
            TransactionRunDetail run{
                .run_id = rows->Text(0), .strategy_name = rows->Text(1), .created_at = rows->Text(2)};
            if (!rows->IsNull(3)) run.result = ReadResult(*rows, *id, 3);
            index.emplace(run.run_id, detail.runs.size());
            detail.runs.push_back(std::move(run));
        }
    }
    if (detail.runs.empty()) return detail;
    {
        Params params(db.dialect());
        const std::string sql = fmt::format(
            "SELECT run_id, algorithm, score, confidence, reason FROM anomaly_scores WHERE transaction_id = {} "
            "ORDER BY algorithm{}",
            params.Add(*id), Bytewise(db));
        auto rows = db.Query(sql, params.values());
        while (rows->Next()) {
            const auto run = index.find(rows->Text(0));
            if (run == index.end()) continue;
            detail.runs[run->second].algorithm_scores.push_back(AlgorithmScore{.transaction_id = *id,
                                                                               .algorithm = rows->Text(1),
                                                                               .score = rows->Double(2),
                                                                               .confidence = rows->Double(3),
                                                                               .reason = rows->Text(4)});
        }
    }
    Params params(db.dialect());
    const std::string sql = fmt::format(
        "SELECT run_id, rule_name, triggered, flag_value, metadata FROM rule_flags WHERE transaction_id = {} "
        "ORDER BY rule_name{}, id",
        params.Add(*id), Bytewise(db));
    auto rows = db.Query(sql, params.values());
    while (rows->Next()) {
        const auto run = index.find(rows->Text(0));
        if (run == index.end()) continue;
        detail.runs[run->second].flags.push_back(RuleFlag{.transaction_id = *id,
                                                          .rule_name = rows->Text(1),
                                                          .triggered = rows->Bool(2),
                                                          .flag_value = FlagValueFromText(rows->Text(3)),
                                                          .metadata = rows->Text(4)});
    }
    return detail;
}

Expected<Run> LatestCompletedRun(ReadSession& db, const std::string& workspace_id, std::string_view strategy) {
    Params params(db.dialect());
    const auto strategy_id = CanonicalId(strategy);
    const std::string sql = fmt::format(
        "SELECT {} FROM analysis_runs WHERE workspace_id = {} AND {} = {} AND status = 'completed' "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        db.RunColumns(), params.Add(workspace_id), strategy_id ? "strategy_id" : "strategy_name",
        params.Add(strategy_id.value_or(std::string(strategy))));
    auto rows = db.Query(sql, params.values());
    if (!rows->Next()) return Unexpected(NotFound("completed run of the strategy", strategy));
    return rows->RunRow();
}

Page<TransactionRow> ReadQueriesStore::ListTransactions(std::string_view workspace_id, const TransactionQuery& query) {
    Page<TransactionRow> page;
    const auto ws = CanonicalId(workspace_id);
    if (ws) InReadSnapshot([&](ReadSession& db) { page = detail::ListTransactions(db, *ws, query); });
    return page;
}

Expected<TransactionDetail> ReadQueriesStore::GetTransactionDetail(std::string_view workspace_id,
                                                                   std::string_view transaction_id) {
    Expected<TransactionDetail> found = Unexpected(NotFound("transaction", transaction_id));
    const auto ws = CanonicalId(workspace_id);
    if (ws) InReadSnapshot([&](ReadSession& db) { found = detail::GetTransactionDetail(db, *ws, transaction_id); });
    return found;
}

Expected<Run> ReadQueriesStore::LatestCompletedRun(std::string_view workspace_id, std::string_view strategy) {
    Expected<Run> run = Unexpected(NotFound("completed run of the strategy", strategy));
    const auto ws = CanonicalId(workspace_id);
    if (ws) InReadSnapshot([&](ReadSession& db) { run = detail::LatestCompletedRun(db, *ws, strategy); });
    return run;
}

}  // namespace granska::store::detail
