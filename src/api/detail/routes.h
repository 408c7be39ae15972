#pragma once
// What the API's route files share: the server's parts, the response helpers every handler uses, and one Route…
// function per file. Included only by the api module's .cpp files (it pulls in httplib).

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/server.h"
#include "core/error.h"
#include "core/expected.h"
#include "detect/registry.h"
#include "store/store.h"

namespace granska::api::detail {

// A registered route, its path in OpenAPI form ("/api/v1/strategies/{id}"); the OpenAPI document must describe
// every one (openapi_test.cpp).
struct RouteInfo {
    std::string method;  // "GET", "POST", "PUT", "DELETE"
    std::string path;
};

struct ApiContext {
    store::Store& store;
    const detect::Registry& registry;
    const ServerOptions& options;
    // Creates the run (Store::CreateRun) and queues it for a worker; a run the queue refuses (the server is
    // stopping) is marked failed. Returns the run as created.
    std::function<store::Run(const store::NewRun&)> queue_run;
    std::vector<RouteInfo> routes;  // filled by AddRoute
};

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
// Registers a route and records it: each "{name}" of path matches one path segment, req.matches[1], [2], … in order.
void AddRoute(httplib::Server& http, ApiContext& context, std::string_view method, std::string_view path,
              Handler handler);
// The regular expression httplib matches for an OpenAPI path.
std::string PathPattern(std::string_view path);

void SendJson(httplib::Response& res, int status, const nlohmann::json& body);
// The error body (ErrorJson) with the status of its kind.
void SendError(httplib::Response& res, const Error& error);

// Ids go to the store only when they are well-formed: anything else is simply not found.
Expected<std::string> CheckedId(std::string_view what, const std::string& id);

// The workspace_id query parameter, default the default workspace; an unknown one is not found.
Expected<std::string> RequestWorkspace(store::Store& store, const httplib::Request& req);

// The run the path names (its first match), in the request's workspace.
Expected<store::Run> RequestedRun(store::Store& store, const httplib::Request& req);

// A JSON request body: a Content-Type other than application/json (with parameters such as charset) is 415
// (curl -d sends application/x-www-form-urlencoded: the message says to add the header); none at all is taken as JSON.
Expected<void> RequireJsonBody(const httplib::Request& req);

// True for the end states of uploads, runs and jobs: completed, failed, cancelled.
bool Finished(std::string_view status);

// ?wait=true (or 1): the client wants the answer once the work is done, not at once.
bool WantsWait(const httplib::Request& req);

// The "job" of an upload's or a run's status: its job (JobJson), or null when it has none.
nlohmann::json JobOf(store::Store& store, std::string_view workspace_id, std::string_view target_id);

// The OpenAPI 3 document (src/api/openapi.json, embedded at build time); "@VERSION@" stands for the version.
std::string_view OpenApiDocument();

// One per route file: registers that file's routes.
void RouteStrategies(httplib::Server& http, ApiContext& context);    // strategy_routes.cpp
void RouteTransactions(httplib::Server& http, ApiContext& context);  // transaction_routes.cpp
void RouteRuns(httplib::Server& http, ApiContext& context);          // run_routes.cpp
void RouteJobs(httplib::Server& http, ApiContext& context);          // job_routes.cpp

}  // namespace granska::api::detail
