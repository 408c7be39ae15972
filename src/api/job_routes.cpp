// Jobs: the admin view of the background work (GET /api/v1/jobs, /api/v1/jobs/{id}) and cancelling an analysis
// (POST /api/v1/analysis/{id}/cancel). The store's jobs table is the truth; nothing here talks to the queue.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <nlohmann/json.hpp>
#include <string_view>

#include "api/detail/json_views.h"
#include "api/detail/request_parsing.h"
#include "api/detail/routes.h"

namespace granska::api::detail {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 6> kStatuses = {"queued",    "running", "retrying",
                                                       "completed", "failed",  "cancelled"};
constexpr std::array<std::string_view, 2> kKinds = {store::kProcessUploadedFile, store::kRunAnomalyDetection};

// A filter value from a fixed list; "" when absent.
template <size_t N>
Expected<std::string> OneOf(const httplib::Request& req, std::string_view name,
                            const std::array<std::string_view, N>& allowed) {
    const std::string value = req.get_param_value(std::string(name).c_str());
    if (value.empty()) return value;
    for (std::string_view candidate : allowed) {
        if (candidate == value) return value;
    }
    return Unexpected(
        BadParameter(name, fmt::format("'{}' must be one of {}, not '{}'.", name, fmt::join(allowed, ", "), value)));
}

void ListJobs(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    auto paging = ParsePaging(req.params);
    if (!paging) return SendError(res, paging.error());
    auto status = OneOf(req, "status", kStatuses);
    if (!status) return SendError(res, status.error());
    auto kind = OneOf(req, "kind", kKinds);
    if (!kind) return SendError(res, kind.error());
    const store::Page<store::Job> page = context.store.ListJobs(
        *workspace, {.status = *status, .kind = *kind, .limit = paging->limit, .offset = paging->offset});
    json items = json::array();
    for (const store::Job& job : page.items) items.push_back(JobJson(job));
    SendJson(
        res, 200,
        {{"items", std::move(items)}, {"total", page.total}, {"limit", paging->limit}, {"offset", paging->offset}});
}

void GetJob(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    auto id = CheckedId("job", req.matches[1]);
    if (!id) return SendError(res, id.error());
    auto job = context.store.GetJob(*workspace, *id);
    if (!job) return SendError(res, job.error());
    SendJson(res, 200, JobJson(*job));
}

// A queued run ends "cancelled" at once; a running one is asked to stop and ends "cancelled" within a second (202
// either way, with the run as it is now); a finished run cannot be cancelled (409).
void CancelRun(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto run = RequestedRun(context.store, req);
    if (!run) return SendError(res, run.error());
    if (Finished(run->status)) {
        return SendError(res, Conflict("run_finished", fmt::format("The analysis is already {}; only a queued or "
                                                                   "running analysis can be cancelled.",
                                                                   run->status)));
    }
    // A run still waiting for its upload has no job yet: give it one, unannounced, to cancel it the same way.
    if (!context.store.GetJobFor(run->workspace_id, run->id)) {
        context.store.CreateJob({.workspace_id = run->workspace_id,
                                 .kind = std::string(store::kRunAnomalyDetection),
                                 .target_id = run->id});
    }
    auto job = context.store.CancelJobFor(run->workspace_id, run->id);
    if (!job) return SendError(res, job.error());
    auto now = context.store.GetRun(run->workspace_id, run->id);
    if (!now) return SendError(res, now.error());
    json body = RunJson(*now);
    body["job"] = JobJson(*job);
    SendJson(res, 202, body);
}

}  // namespace

void RouteJobs(httplib::Server& http, ApiContext& context) {
    AddRoute(http, context, "GET", "/api/v1/jobs",
             [&context](const httplib::Request& req, httplib::Response& res) { ListJobs(context, req, res); });
    AddRoute(http, context, "GET", "/api/v1/jobs/{id}",
             [&context](const httplib::Request& req, httplib::Response& res) { GetJob(context, req, res); });
    AddRoute(http, context, "POST", "/api/v1/analysis/{id}/cancel",
             [&context](const httplib::Request& req, httplib::Response& res) { CancelRun(context, req, res); });
}

}  // namespace granska::api::detail
