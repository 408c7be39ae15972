// Strategies and algorithms: /api/v1/strategies…, /api/v1/algorithms (docs/strategies.md).
#include <fmt/format.h>

#include <algorithm>

#include "api/detail/request_parsing.h"
#include "api/detail/routes.h"
#include "api/detail/strategy_requests.h"
#include "core/uuid.h"

namespace granska::api::detail {

namespace {

using nlohmann::json;

Error ReadOnly(std::string_view name) {
    return Conflict("read_only", fmt::format("'{}' is a built-in strategy and cannot be changed or deleted; save a "
                                             "copy under another name with POST /api/v1/strategies.",
                                             name));
}

// include_inactive = true|false|1|0, default false.
Expected<bool> IncludeInactive(const httplib::Request& req) {
    const auto value = Param(req.params, "include_inactive");
    if (!value || *value == "false" || *value == "0") return false;
    if (*value == "true" || *value == "1") return true;
    Error error =
        BadRequest("bad_parameter", fmt::format("'include_inactive' must be true or false, not '{}'.", *value));
    error.column = "include_inactive";
    return Unexpected(std::move(error));
}

// The saved strategy the path names, in the request's workspace; presets are the caller's to handle first.
Expected<store::Strategy> SavedStrategy(store::Store& store, const std::string& workspace_id, const std::string& id) {
    auto checked = CheckedId("strategy", id);
    if (!checked) return Unexpected(std::move(checked).error());
    return store.GetStrategy(workspace_id, *checked);
}

void ListStrategies(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    auto paging = ParsePaging(req.params);
    if (!paging) return SendError(res, paging.error());
    auto include_inactive = IncludeInactive(req);
    if (!include_inactive) return SendError(res, include_inactive.error());

    // Presets first, then the saved ones: one list, paged as one.
    const auto presets = strategy::Presets();
    const auto preset_count = static_cast<int64_t>(presets.size());
    json items = json::array();
    for (int64_t i = paging->offset; i < preset_count && std::ssize(items) < paging->limit; ++i) {
        items.push_back(PresetJson(presets[static_cast<size_t>(i)], context.registry));
    }
    const int64_t room = paging->limit - std::ssize(items);
    const store::Page<store::Strategy> saved = context.store.ListStrategies(
        *workspace, *include_inactive, std::max<int64_t>(room, 1), std::max<int64_t>(paging->offset - preset_count, 0));
    for (const store::Strategy& strategy : saved.items) {
        if (std::ssize(items) >= paging->limit) break;
        items.push_back(StrategyJson(strategy));
    }
    SendJson(res, 200,
             {{"items", std::move(items)},
              {"total", preset_count + saved.total},
              {"limit", paging->limit},
              {"offset", paging->offset}});
}

void CreateStrategy(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    auto request = ParseStrategyRequest(req.body, context.registry);
    if (!request) return SendError(res, request.error());
    auto created = context.store.CreateStrategy({.workspace_id = *workspace,
                                                 .name = request->name,
                                                 .description = request->description,
                                                 .configuration = request->configuration});
    if (!created) return SendError(res, created.error());
    json body = StrategyJson(*created);
    body["warnings"] = WarningsJson(request->warnings);
    res.set_header("Location", "/api/v1/strategies/" + created->id);
    SendJson(res, 201, body);
}

void GetStrategy(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    const std::string id = req.matches[1];
    if (const strategy::Preset* preset = strategy::FindPreset(id)) {
        return SendJson(res, 200, PresetJson(*preset, context.registry));
    }
    auto saved = SavedStrategy(context.store, *workspace, id);
    if (!saved) return SendError(res, saved.error());
    SendJson(res, 200, StrategyJson(*saved));
}

void UpdateStrategy(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    const std::string id = req.matches[1];
    if (strategy::FindPreset(id) != nullptr) return SendError(res, ReadOnly(id));
    auto saved = SavedStrategy(context.store, *workspace, id);
    if (!saved) return SendError(res, saved.error());
    if (!saved->is_active) {
        return SendError(
            res, Conflict("strategy_inactive",
                          fmt::format("The strategy '{}' was deleted; create a new one instead.", saved->name)));
    }
    auto request = ParseStrategyRequest(req.body, context.registry);
    if (!request) return SendError(res, request.error());
    auto updated = context.store.UpdateStrategy(*workspace, saved->id, request->name, request->description,
                                                request->configuration);
    if (!updated) return SendError(res, updated.error());
    json body = StrategyJson(*updated);
    body["warnings"] = WarningsJson(request->warnings);
    SendJson(res, 200, body);
}

void DeleteStrategy(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    const std::string id = req.matches[1];
    if (strategy::FindPreset(id) != nullptr) return SendError(res, ReadOnly(id));
    auto checked = CheckedId("strategy", id);
    if (!checked) return SendError(res, checked.error());
    if (auto done = context.store.DeactivateStrategy(*workspace, *checked); !done) {
        return SendError(res, done.error());
    }
    res.status = 204;
}

void ListVersions(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    const std::string id = req.matches[1];
    json items = json::array();
    if (const strategy::Preset* preset = strategy::FindPreset(id)) {
        json version = PresetJson(*preset, context.registry);
        items.push_back({{"version", 1},
                         {"name", version["name"]},
                         {"description", version["description"]},
                         {"configuration", version["configuration"]},
                         {"created_at", nullptr}});
    } else {
        auto checked = CheckedId("strategy", id);
        if (!checked) return SendError(res, checked.error());
        auto versions = context.store.ListStrategyVersions(*workspace, *checked);
        if (!versions) return SendError(res, versions.error());
        for (const store::StrategyVersion& version : *versions) items.push_back(StrategyVersionJson(version));
    }
    const auto total = std::ssize(items);
    SendJson(res, 200, {{"items", std::move(items)}, {"total", total}});
}

void ListAlgorithms(ApiContext& context, const httplib::Request&, httplib::Response& res) {
    json items = json::array();
    for (const detect::AlgorithmInfo* info : context.registry.List()) items.push_back(AlgorithmJson(*info));
    const auto total = std::ssize(items);
    SendJson(res, 200, {{"items", std::move(items)}, {"total", total}});
}

}  // namespace

void RouteStrategies(httplib::Server& http, ApiContext& context) {
    // The context lives as long as the server.
    auto add = [&](std::string_view method, std::string_view path,
                   void (*handler)(ApiContext&, const httplib::Request&, httplib::Response&)) {
        AddRoute(http, context, method, path, [&context, handler](const httplib::Request& req, httplib::Response& res) {
            handler(context, req, res);
        });
    };
    add("GET", "/api/v1/strategies", &ListStrategies);
    add("POST", "/api/v1/strategies", &CreateStrategy);
    add("GET", "/api/v1/strategies/{id}", &GetStrategy);
    add("PUT", "/api/v1/strategies/{id}", &UpdateStrategy);
    add("DELETE", "/api/v1/strategies/{id}", &DeleteStrategy);
    add("GET", "/api/v1/strategies/{id}/versions", &ListVersions);
    add("GET", "/api/v1/algorithms", &ListAlgorithms);
}

}  // namespace granska::api::detail
