// Transactions: /api/v1/transactions, /api/v1/transactions/anomalies, /api/v1/transactions/{id}.
#include <fmt/format.h>

#include <string>
#include <utility>

#include "api/detail/json_views.h"
#include "api/detail/request_parsing.h"
#include "api/detail/routes.h"
#include "core/uuid.h"

namespace granska::api::detail {

namespace {

using nlohmann::json;

// The run the anomalies are of: run_id, or the newest completed run of strategy_id (a strategy's id or a run's
// strategy name; strategy_name is the same).
Expected<store::Run> AnomalyRun(store::Store& store, const std::string& workspace, const QueryParams& params) {
    const auto run_id = Param(params, "run_id");
    auto strategy = Param(params, "strategy_id");
    if (!strategy) strategy = Param(params, "strategy_name");
    if (run_id.has_value() == strategy.has_value()) {
        return Unexpected(BadParameter(run_id ? "strategy_id" : "run_id",
                                       "Name the analysis with either 'run_id' or 'strategy_id' (the latest completed "
                                       "run of that strategy, by id or name), not both or neither."));
    }
    if (run_id) {
        auto id = CheckedId("analysis run", *run_id);
        if (!id) return Unexpected(std::move(id).error());
        return store.GetRun(workspace, *id);
    }
    if (IsUuid(*strategy)) {
        if (auto known = store.GetStrategy(workspace, *strategy); !known) return Unexpected(std::move(known).error());
    }
    auto run = store.LatestCompletedRun(workspace, *strategy);
    if (!run) {
        return Unexpected(Error{.kind = ErrorKind::kNotFound,
                                .code = "no_completed_run",
                                .message = fmt::format("Strategy '{}' has no completed analysis yet: run it first "
                                                       "(POST /api/v1/analysis/run) or name a run with 'run_id'.",
                                                       *strategy),
                                .column = "strategy_id"});
    }
    return run;
}

json PageJson(json items, int64_t total, int64_t limit, int64_t offset) {
    return {{"items", std::move(items)}, {"total", total}, {"limit", limit}, {"offset", offset}};
}

}  // namespace

void RouteTransactions(httplib::Server& http, ApiContext& context) {
    store::Store& store = context.store;

    AddRoute(http, context, "GET", "/api/v1/transactions",
             [&store](const httplib::Request& req, httplib::Response& res) {
                 auto workspace = RequestWorkspace(store, req);
                 if (!workspace) return SendError(res, workspace.error());
                 auto query = ParseTransactionQuery(req.params);
                 if (!query) return SendError(res, query.error());
                 if (!query->upload_id.empty()) {
                     auto id = CheckedId("upload", query->upload_id);
                     if (!id) return SendError(res, id.error());
                     if (auto upload = store.GetUpload(*workspace, *id); !upload) return SendError(res, upload.error());
                 }
                 if (!query->run_id.empty()) {
                     auto id = CheckedId("analysis run", query->run_id);
                     if (!id) return SendError(res, id.error());
                     auto run = store.GetRun(*workspace, *id);
                     if (!run) return SendError(res, run.error());
                     if (run->status != "completed") return SendJson(res, 409, RunNotReadyJson(*run));
                 }
                 const store::Page<store::TransactionRow> page = store.ListTransactions(*workspace, *query);
                 json items = json::array();
                 for (const store::TransactionRow& row : page.items) items.push_back(TransactionRowJson(row));
                 SendJson(res, 200, PageJson(std::move(items), page.total, query->limit, query->offset));
             });

    // Before /transactions/{id}, which would take "anomalies" for an id.
    AddRoute(http, context, "GET", "/api/v1/transactions/anomalies",
             [&store](const httplib::Request& req, httplib::Response& res) {
                 auto workspace = RequestWorkspace(store, req);
                 if (!workspace) return SendError(res, workspace.error());
                 auto paging = ParsePaging(req.params);
                 if (!paging) return SendError(res, paging.error());
                 auto run = AnomalyRun(store, *workspace, req.params);
                 if (!run) return SendError(res, run.error());
                 if (run->status != "completed") return SendJson(res, 409, RunNotReadyJson(*run));
                 const store::Page<store::ResultRow> page = store.ListResults(
                     *workspace, run->id, {.flagged_only = true, .limit = paging->limit, .offset = paging->offset});
                 json items = json::array();
                 for (const store::ResultRow& row : page.items) items.push_back(ResultRowJson(row));
                 json body = PageJson(std::move(items), page.total, paging->limit, paging->offset);
                 body["run"] = RunJson(*run);
                 SendJson(res, 200, body);
             });

    AddRoute(http, context, "GET", "/api/v1/transactions/{id}",
             [&store](const httplib::Request& req, httplib::Response& res) {
                 auto workspace = RequestWorkspace(store, req);
                 if (!workspace) return SendError(res, workspace.error());
                 auto id = CheckedId("transaction", req.matches[1]);
                 if (!id) return SendError(res, id.error());
                 auto detail = store.GetTransactionDetail(*workspace, *id);
                 if (!detail) return SendError(res, detail.error());
                 SendJson(res, 200, TransactionDetailJson(*detail));
             });
}

}  // namespace granska::api::detail
