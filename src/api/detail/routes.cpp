#include "api/detail/routes.h"

#include "api/detail/json_views.h"
#include "api/detail/request_parsing.h"
#include "core/uuid.h"

#include <fmt/format.h>

#include <cctype>
#include <stdexcept>

namespace granska::api::detail {

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

void SendError(httplib::Response& res, const Error& error) { SendJson(res, HttpStatus(error.kind), ErrorJson(error)); }

std::string PathPattern(std::string_view path) {
    std::string pattern;
    for (size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '{') {
            const size_t end = path.find('}', i);
            if (end == std::string_view::npos) throw std::logic_error("unterminated parameter in " + std::string(path));
            pattern += "([^/]+)";
            i = end;
        } else {
            if (std::string_view(".+*?()[]^$|\\").find(path[i]) != std::string_view::npos) pattern += '\\';
            pattern += path[i];
        }
    }
    return pattern;
}

void AddRoute(httplib::Server& http, ApiContext& context, std::string_view method, std::string_view path,
              Handler handler) {
    const std::string pattern = PathPattern(path);
    if (method == "GET") {
        http.Get(pattern, std::move(handler));
    } else if (method == "POST") {
        http.Post(pattern, std::move(handler));
    } else if (method == "PUT") {
        http.Put(pattern, std::move(handler));
    } else if (method == "DELETE") {
        http.Delete(pattern, std::move(handler));
    } else {
        throw std::logic_error("unsupported method " + std::string(method));
    }
    context.routes.push_back({std::string(method), std::string(path)});
}

Expected<void> RequireJsonBody(const httplib::Request& req) {
    if (!req.has_header("Content-Type")) return {};
    std::string type = req.get_header_value("Content-Type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (type == "application/json") return {};
    return Unexpected(UnsupportedMedia(
        fmt::format("The body must be JSON sent as Content-Type: application/json, not '{}'; with curl add "
                    "-H 'Content-Type: application/json' (or use --json).",
                    req.get_header_value("Content-Type"))));
}

Expected<std::string> CheckedId(std::string_view what, const std::string& id) {
    if (!IsUuid(id)) return Unexpected(NotFound(std::string(what), id));
    return id;
}

Expected<std::string> RequestWorkspace(store::Store& store, const httplib::Request& req) {
    const auto id = Param(req.params, "workspace_id");
    if (!id || *id == store::kDefaultWorkspaceId) return std::string(store::kDefaultWorkspaceId);
    if (!IsUuid(*id)) return Unexpected(NotFound("workspace", *id));
    auto workspace = store.GetWorkspace(*id);
    if (!workspace) return Unexpected(std::move(workspace).error());
    return *id;
}

Expected<store::Run> RequestedRun(store::Store& store, const httplib::Request& req) {
    auto workspace = RequestWorkspace(store, req);
    if (!workspace) return Unexpected(std::move(workspace).error());
    auto id = CheckedId("analysis run", req.matches[1]);
    if (!id) return Unexpected(std::move(id).error());
    return store.GetRun(*workspace, *id);
}

}  // namespace granska::api::detail

namespace granska::api::detail {

bool Finished(std::string_view status) { return status == "completed" || status == "failed" || status == "cancelled"; }

bool WantsWait(const httplib::Request& req) {
    const std::string wait = req.get_param_value("wait");
    return wait == "true" || wait == "1";
}

nlohmann::json JobOf(store::Store& store, std::string_view workspace_id, std::string_view target_id) {
    auto job = store.GetJobFor(workspace_id, target_id);
    return job ? JobJson(*job) : nlohmann::json(nullptr);
}

}  // namespace granska::api::detail
