#include "api/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "api/detail/json_views.h"
#include "api/detail/request_parsing.h"
#include "api/detail/routes.h"
#include "api/detail/strategy_requests.h"
#include "api/detail/upload_receiver.h"
#include "core/uuid.h"
#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "ingest/parse_options.h"
#include "jobs/tasks.h"
#include "jobs/worker_pool.h"
#include "strategy/strategy.h"

namespace granska::api {

namespace {

using detail::CheckedId;
using detail::SendError;
using detail::SendJson;
using nlohmann::json;

// Room for the multipart framing and the text parts around the file.
constexpr size_t kMultipartOverheadBytes = size_t{2} << 20;


// An answer sent before the request body was read to its end: the rest of the body is still on the connection,
// so the client must not reuse it.
void SendUnread(httplib::Response& res, const Error& error) {
    res.set_header("Connection", "close");
    SendError(res, error);
}

Error TooLarge(uint64_t limit) {
    return Error{.kind = ErrorKind::kTooLarge,
                 .code = "too_large",
                 .message = fmt::format("The upload is larger than the limit of {} bytes.", limit)};
}

// The JSON body of a 4xx/5xx response that no handler wrote (unknown route, httplib's own rejections).
json FallbackError(const httplib::Request& req, int status) {
    json body;
    switch (status) {
        case 404:
            body = {{"error", "not_found"}, {"message", fmt::format("No route for {} {}.", req.method, req.path)}};
            break;
        case 413:
            body = {{"error", "too_large"}, {"message", "The request body is larger than the server accepts."}};
            break;
        case 400:
            body = {{"error", "bad_request"}, {"message", "The request is malformed."}};
            // httplib refuses a body-less POST or PUT without the header; curl -X POST sends none.
            if ((req.method == "POST" || req.method == "PUT") && !req.has_header("Content-Length") &&
                !req.has_header("Transfer-Encoding")) {
                body["message"] = "A POST or PUT needs a Content-Length header, even for an empty body (curl: -d '').";
            }
            break;
        default:
            body = {{"error", status >= 500 ? "internal" : "http_error"},
                    {"message", fmt::format("The request failed with HTTP status {}.", status)}};
    }
    body["details"] = json::array();
    return body;
}

}  // namespace

class Server::Impl {
public:
    // queue: the caller's, or nullptr for a local queue of the server's own.
    Impl(store::Store& store, const detect::Registry& registry, jobs::JobQueue* queue, ServerOptions options)
        : store_(store),
          registry_(registry),
          options_(std::move(options)),
          own_queue_(queue == nullptr ? OpenLocalQueue(store) : nullptr),
          queue_(queue == nullptr ? *own_queue_ : *queue) {
        Configure();
        Route();
        if (options_.workers > 0) {
            pool_ = std::make_unique<jobs::WorkerPool>(
                store_, queue_, jobs::BuiltinTasks(store_, registry_, queue_),
                jobs::WorkerOptions{
                    .name = jobs::ProcessWorkerName(), .concurrency = options_.workers, .lease = options_.job_lease});
            pool_->Start();
        }
    }

    Expected<void> Bind() {
        const int port = options_.port == 0 ? http_.bind_to_any_port(options_.host)
                                            : (http_.bind_to_port(options_.host, options_.port) ? options_.port : -1);
        if (port < 0) {
            return Unexpected(Conflict("cannot_listen", fmt::format("Cannot listen on {}:{}: the address is in use or "
                                                                    "not available here.",
                                                                    options_.host, options_.port)));
        }
        port_ = port;
        return {};
    }

    int Port() const { return port_; }

    std::vector<std::string> Routes() const {
        std::vector<std::string> routes;
        for (const detail::RouteInfo& route : context_.routes) routes.push_back(route.method + " " + route.path);
        return routes;
    }

    void Run() {
        {
            std::lock_guard lock(state_mutex_);
            if (stop_requested_) return;
            running_ = true;
        }
        http_.listen_after_bind();
        {
            std::lock_guard lock(state_mutex_);
            running_ = false;
        }
        run_ended_.notify_all();
    }

    void Stop() {
        std::lock_guard stop_lock(stop_mutex_);
        std::unique_lock lock(state_mutex_);
        stop_requested_ = true;
        // Run() may not have entered httplib's accept loop yet; httplib's stop() acts only once it has, and
        // must be called once (it asserts on a second call while the loop winds down).
        while (running_ && !http_.is_running()) {
            lock.unlock();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            lock.lock();
        }
        if (running_) {
            http_.stop();
            // httplib answers the requests in flight before listen returns; they may still queue runs.
            run_ended_.wait(lock, [this] { return !running_; });
        }
        lock.unlock();
        // The server's own queue closes first, so idle workers stop waiting for jobs at once.
        if (own_queue_) own_queue_->Close();
        if (pool_) pool_->Stop(options_.stop_grace);
    }

private:
    static std::unique_ptr<jobs::JobQueue> OpenLocalQueue(store::Store& store) {
        auto queue = jobs::OpenQueue("local", store, {});
        if (!queue) throw std::logic_error("the local queue cannot fail to open: " + queue.error().message);
        return std::move(*queue);
    }

    void Configure() {
        http_.set_tcp_nodelay(true);
        const uint64_t max_payload = options_.max_upload_bytes + kMultipartOverheadBytes;
        http_.set_payload_max_length(static_cast<size_t>(max_payload));
        const size_t threads = static_cast<size_t>(std::max(1, options_.http_threads));
        // httplib owns the queue it gets and deletes it when listening ends.
        http_.new_task_queue = [threads] { return std::make_unique<httplib::ThreadPool>(threads).release(); };
        http_.set_error_handler(
            httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
                if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
                SendJson(res, res.status, FallbackError(req, res.status));
                return httplib::Server::HandlerResponse::Handled;
            }));
        // The one boundary for exceptions: a lost database, a bug. Bad input never gets here.
        http_.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown exception";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {  // NOLINT(bugprone-empty-catch): logged below
            }
            spdlog::error("{} {} failed: {}", req.method, req.path, what);
            SendJson(res, 500,
                     {{"error", "internal"},
                      {"message", "The server failed to handle the request; see its log."},
                      {"details", json::array()}});
        });
        http_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
            spdlog::debug("{} {} {}", req.method, req.path, res.status);
        });
    }

    void Route() {
        auto get = [this](std::string_view path, void (Impl::*handler)(const httplib::Request&, httplib::Response&)) {
            detail::AddRoute(http_, context_, "GET", path,
                             [this, handler](const httplib::Request& req, httplib::Response& res) {
                                 (this->*handler)(req, res);
                             });
        };
        get("/api/v1/health", &Impl::Health);
        get("/api/v1/openapi.json", &Impl::OpenApi);
        // The one streamed route: the file goes to disk as it arrives.
        http_.Post("/api/v1/upload",
                   [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                       Upload(req, res, reader);
                   });
        context_.routes.push_back({"POST", "/api/v1/upload"});
        get("/api/v1/upload/history", &Impl::UploadHistory);
        get("/api/v1/upload/{id}/status", &Impl::UploadStatus);
        detail::AddRoute(http_, context_, "DELETE", "/api/v1/upload/{id}",
                         [this](const httplib::Request& req, httplib::Response& res) { DeleteUpload(req, res); });
        detail::AddRoute(http_, context_, "POST", "/api/v1/analysis/run",
                         [this](const httplib::Request& req, httplib::Response& res) { StartRun(req, res); });
        get("/api/v1/analysis/{id}/status", &Impl::RunStatus);
        get("/api/v1/analysis/{id}/results", &Impl::RunResults);
        get("/api/v1/analysis/{id}/models/{label}", &Impl::RunModel);
        detail::RouteStrategies(http_, context_);
        detail::RouteTransactions(http_, context_);
        detail::RouteRuns(http_, context_);
        detail::RouteJobs(http_, context_);
    }

    Expected<std::string> Workspace(const httplib::Request& req) { return detail::RequestWorkspace(store_, req); }

    void Health(const httplib::Request&, httplib::Response& res) {
        json body = {{"version", GRANSKA_VERSION}, {"database", store_.Backend()}};
        try {
            auto workspace = store_.GetWorkspace(store::kDefaultWorkspaceId);
            if (!workspace) throw std::runtime_error(workspace.error().message);
        } catch (const std::exception& e) {
            spdlog::warn("health check: the database is unavailable: {}", e.what());
            body["status"] = "unavailable";
            body["message"] = "The database does not answer.";
            SendJson(res, 503, body);
            return;
        }
        body["status"] = "ok";
        SendJson(res, 200, body);
    }

    void OpenApi(const httplib::Request&, httplib::Response& res) {
        static const std::string document = [] {
            std::string text(detail::OpenApiDocument());
            constexpr std::string_view kVersion = "@VERSION@";
            if (const size_t at = text.find(kVersion); at != std::string::npos) {
                text.replace(at, kVersion.size(), GRANSKA_VERSION);
            }
            return text;
        }();
        res.set_content(document, "application/json");
    }

    void Upload(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
        auto workspace = Workspace(req);
        if (!workspace) return SendUnread(res, workspace.error());
        if (!req.is_multipart_form_data()) {
            Error error = UnsupportedMedia("Send the file as multipart/form-data with a part named 'file', e.g. "
                                           "curl -F file=@ledger.csv.");
            error.code = "not_multipart";
            return SendUnread(res, error);
        }

        detail::UploadReceiver receiver(options_.upload_dir / NewUuidV7(), options_.max_upload_bytes);
        const bool complete =
            reader([&](const httplib::MultipartFormData& part) { return receiver.BeginPart(part.name, part.filename); },
                   [&](const char* data, size_t size) { return receiver.Append(data, size); });
        if (!complete) {
            if (receiver.error()) return SendUnread(res, *receiver.error());
            if (res.status == 413) return SendUnread(res, TooLarge(options_.max_upload_bytes));
            return SendUnread(res, BadRequest("bad_multipart", "The request body is not valid multipart/form-data."));
        }
        if (auto finished = receiver.Finish(); !finished) return SendError(res, finished.error());

        // Everything the client chose is checked before the upload exists: a rejected request leaves no row.
        const ingest::OptionLookup fields = [&](std::string_view name) { return receiver.Text(name); };
        auto parse = ingest::ParseOptionsFromFields(fields);
        if (!parse) return SendError(res, parse.error());
        auto calendar = engine::CalendarFromFields(fields);
        if (!calendar) return SendError(res, calendar.error());
        // The run to start once the file is in: "strategy" (a preset name or strategy JSON) or "strategy_id" (a
        // saved strategy, whose version the run records, or a preset).
        std::optional<strategy::Strategy> chosen;
        store::NewRun run_request{.workspace_id = *workspace};
        const auto strategy_text = receiver.Text("strategy");
        const auto strategy_id = receiver.Text("strategy_id");
        if (strategy_text && strategy_id) {
            Error error = BadRequest("ambiguous_strategy", "Give either 'strategy' or 'strategy_id', not both.");
            error.column = "strategy_id";
            return SendError(res, error);
        }
        if (strategy_text) {
            auto parsed = detail::ParseStrategyText(*strategy_text, registry_);
            if (!parsed) return SendError(res, parsed.error());
            run_request.strategy_name = parsed->name;
            run_request.configuration = parsed->json;
            chosen = std::move(*parsed);
        } else if (strategy_id) {
            auto saved = detail::ChooseStrategy(store_, registry_, *workspace, *strategy_id);
            if (!saved) return SendError(res, saved.error());
            run_request.strategy_id = saved->strategy_id;
            run_request.strategy_name = saved->strategy.name;
            run_request.strategy_version = saved->version;
            run_request.configuration = std::move(saved->configuration);
            chosen = std::move(saved->strategy);
        }
        parse->file_name = receiver.FileName();
        parse->limits.max_rows = std::min(parse->limits.max_rows, options_.max_rows);

        const ingest::Format format =
            parse->format.value_or(ingest::DetectFileFormat(receiver.FilePath()).value_or(ingest::Format::kCsv));
        const store::Upload created = store_.CreateUpload({.workspace_id = *workspace,
                                                           .filename = receiver.FileName(),
                                                           .file_type = std::string(ingest::FormatName(format)),
                                                           .file_size = static_cast<int64_t>(receiver.FileSize()),
                                                           .mapping = ingest::MappingJson(parse->mapping)});
        receiver.Keep();
        // The run is created now, so its id can be answered; its job is queued once the file is in.
        std::string run_id;
        if (chosen) {
            run_request.upload_id = created.id;
            run_id = store_.CreateRun(run_request).id;
        }
        jobs::UploadTask task{.path = receiver.FilePath().string(),
                              .file_name = receiver.FileName(),
                              .max_rows = parse->limits.max_rows,
                              .run_id = run_id};
        for (const auto& [name, value] : receiver.Texts()) {
            if (name != "strategy" && name != "strategy_id") task.fields.emplace(name, value);
        }
        const store::Job job = store_.CreateJob({.workspace_id = *workspace,
                                                 .kind = std::string(store::kProcessUploadedFile),
                                                 .target_id = created.id,
                                                 .payload = jobs::UploadTaskJson(task)});
        queue_.Publish(job);
        spdlog::info("upload {} '{}' ({}, {} bytes) queued", created.id, receiver.FileName(),
                     ingest::FormatName(format), receiver.FileSize());
        if (!detail::WantsWait(req)) {
            json body = detail::UploadJson(created);
            body["job"] = detail::JobJson(job);
            if (!run_id.empty()) body["run_id"] = run_id;
            return SendJson(res, 202, body);
        }
        AnswerWhenProcessed(res, *workspace, created.id, run_id, chosen ? &*chosen : nullptr);
    }

    // ?wait=true: the answer once the file is in, as if it had been processed in the request: 201 with the upload
    // (and run_id), the upload's error with its status (e.g. 422 naming line and column), or — the run refused because
    // the strategy names a column the file lacks — that error with the upload's id. Still processing after
    // upload_wait: 202 with the upload as it is.
    void AnswerWhenProcessed(httplib::Response& res, const std::string& workspace, const std::string& upload_id,
                             const std::string& run_id, const strategy::Strategy* chosen) {
        const auto deadline = std::chrono::steady_clock::now() + options_.upload_wait;
        auto upload = store_.GetUpload(workspace, upload_id);
        while (upload && !detail::Finished(upload->status) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            upload = store_.GetUpload(workspace, upload_id);
        }
        if (!upload) return SendError(res, upload.error());
        if (upload->status == "failed") {
            const auto [status, body] = detail::FailedUploadAnswer(*upload);
            return SendJson(res, status, body);
        }
        json body = detail::UploadJson(*upload);
        if (!run_id.empty()) {
            // The upload stays; the run was refused, naming the feature.
            if (upload->status == "completed" && chosen != nullptr) {
                if (auto features = strategy::CheckUploadFeatures(*chosen, upload->metadata); !features) {
                    json refused = detail::ErrorJson(features.error());
                    refused["upload_id"] = upload->id;
                    return SendJson(res, HttpStatus(features.error().kind), refused);
                }
            }
            body["run_id"] = run_id;
        }
        SendJson(res, upload->status == "completed" ? 201 : 202, body);
    }

    void UploadHistory(const httplib::Request& req, httplib::Response& res) {
        auto workspace = Workspace(req);
        if (!workspace) return SendError(res, workspace.error());
        auto paging = detail::ParsePaging(req.params);
        if (!paging) return SendError(res, paging.error());
        const store::Page<store::Upload> page = store_.ListUploads(*workspace, paging->limit, paging->offset);
        json items = json::array();
        for (const store::Upload& upload : page.items) items.push_back(detail::UploadJson(upload));
        SendJson(
            res, 200,
            {{"items", std::move(items)}, {"total", page.total}, {"limit", paging->limit}, {"offset", paging->offset}});
    }

    // The upload the path names, in the request's workspace.
    Expected<store::Upload> RequestedUpload(const httplib::Request& req) {
        auto workspace = Workspace(req);
        if (!workspace) return Unexpected(workspace.error());
        auto id = CheckedId("upload", req.matches[1]);
        if (!id) return Unexpected(id.error());
        return store_.GetUpload(*workspace, *id);
    }

    void UploadStatus(const httplib::Request& req, httplib::Response& res) {
        auto upload = RequestedUpload(req);
        if (!upload) return SendError(res, upload.error());
        json body = detail::UploadJson(*upload);
        body["job"] = detail::JobOf(store_, upload->workspace_id, upload->id);
        SendJson(res, 200, body);
    }

    // A queued upload is deleted with its file; a running one is asked to stop (it ends "cancelled"); a finished one
    // stays (409): its rows and runs are someone's evidence.
    void DeleteUpload(const httplib::Request& req, httplib::Response& res) {
        auto upload = RequestedUpload(req);
        if (!upload) return SendError(res, upload.error());
        auto job = store_.CancelJobFor(upload->workspace_id, upload->id);
        if (!job && job.error().kind != ErrorKind::kNotFound) return SendError(res, job.error());
        if (job && job->status == "cancelled") {
            if (auto deleted = store_.DeleteUpload(upload->workspace_id, upload->id); !deleted) {
                return SendError(res, deleted.error());
            }
            std::error_code ignored;
            std::filesystem::remove_all(std::filesystem::path(ParsedUploadPath(*job)).parent_path(), ignored);
            res.status = 204;
            return;
        }
        if (job && job->status == "running") {
            json body = detail::UploadJson(*upload);
            body["job"] = detail::JobJson(*job);
            return SendJson(res, 202, body);
        }
        SendError(res, Conflict("upload_finished",
                                fmt::format("The upload is {}; only a queued or running upload can be deleted or "
                                            "cancelled.",
                                            upload->status)));
    }

    static std::string ParsedUploadPath(const store::Job& job) {
        const json payload = json::parse(job.payload, nullptr, /*allow_exceptions=*/false);
        return payload.is_object() ? payload.value("path", "") : "";
    }

    void StartRun(const httplib::Request& req, httplib::Response& res) {
        auto workspace = Workspace(req);
        if (!workspace) return SendError(res, workspace.error());
        if (auto json_body = detail::RequireJsonBody(req); !json_body) return SendError(res, json_body.error());
        auto request = detail::ParseRunRequest(req.body, registry_);
        if (!request) return SendError(res, request.error());
        auto id = CheckedId("upload", request->upload_id);
        if (!id) return SendError(res, id.error());
        auto upload = store_.GetUpload(*workspace, *id);
        if (!upload) return SendError(res, upload.error());
        if (upload->status != "completed") {
            return SendError(res, Conflict("upload_not_ready",
                                           fmt::format("The upload is {}; only a completed upload can be analysed.",
                                                       upload->status)));
        }
        store::NewRun run{.workspace_id = *workspace, .upload_id = upload->id};
        if (!request->strategy_id.empty()) {
            auto chosen = detail::ChooseStrategy(store_, registry_, *workspace, request->strategy_id);
            if (!chosen) return SendError(res, chosen.error());
            run.strategy_id = chosen->strategy_id;
            run.strategy_version = chosen->version;
            request->strategy = std::move(chosen->strategy);
            run.configuration = std::move(chosen->configuration);
        } else if (!request->strategy) {
            auto preset = detail::ParseStrategyText(strategy::DefaultPresetFor(upload->metadata), registry_);
            if (!preset) return SendError(res, preset.error());
            request->strategy = std::move(*preset);
        }
        if (auto features = strategy::CheckUploadFeatures(*request->strategy, upload->metadata); !features) {
            return SendError(res, features.error());
        }
        run.strategy_name = request->strategy->name;
        if (run.configuration.empty()) run.configuration = request->strategy->json;
        const store::Run queued = QueueRun(run);
        json body = {{"run_id", queued.id}, {"status", queued.status}, {"strategy", queued.strategy_name}};
        if (!queued.strategy_id.empty()) {
            body["strategy_id"] = queued.strategy_id;
            body["strategy_version"] = queued.strategy_version;
        }
        SendJson(res, 202, body);
    }

    Expected<store::Run> RequestedRun(const httplib::Request& req) { return detail::RequestedRun(store_, req); }

    void RunStatus(const httplib::Request& req, httplib::Response& res) {
        auto run = RequestedRun(req);
        if (!run) return SendError(res, run.error());
        json body = detail::RunJson(*run);
        body["job"] = detail::JobOf(store_, run->workspace_id, run->id);
        SendJson(res, 200, body);
    }

    // The model an ML algorithm of the run fitted (docs/models.md), as the document itself: save it, or name the run
    // as "model_run" in a later strategy.
    void RunModel(const httplib::Request& req, httplib::Response& res) {
        auto run = RequestedRun(req);
        if (!run) return SendError(res, run.error());
        auto model = store_.GetModel(run->workspace_id, run->id, req.matches[2].str());
        if (!model) {
            return SendError(res, Error{.kind = ErrorKind::kNotFound,
                                        .code = "not_found",
                                        .message = fmt::format("Run {} saved no model under '{}': only ML algorithms "
                                                               "(isolation_forest, autoencoder, clustering) of a "
                                                               "completed run save one, under their label.",
                                                               run->id, req.matches[2].str())});
        }
        res.set_header("Content-Disposition", fmt::format("attachment; filename=\"{}.model.json\"", model->label));
        res.set_content(model->document, "application/json");
    }

    void RunResults(const httplib::Request& req, httplib::Response& res) {
        auto workspace = Workspace(req);
        if (!workspace) return SendError(res, workspace.error());
        auto id = CheckedId("analysis run", req.matches[1]);
        if (!id) return SendError(res, id.error());
        auto query = detail::ParseResultQuery(req.params);
        if (!query) return SendError(res, query.error());
        auto run = store_.GetRun(*workspace, *id);
        if (!run) return SendError(res, run.error());
        if (run->status != "completed") return SendJson(res, 409, detail::RunNotReadyJson(*run));
        if (!query->algorithm.empty()) {
            auto known = detail::CheckAlgorithmLabel(run->configuration, query->algorithm);
            if (!known) return SendError(res, known.error());
        }
        const store::Page<store::ResultRow> page = store_.ListResults(*workspace, *id, *query);
        json items = json::array();
        for (const store::ResultRow& row : page.items) items.push_back(detail::ResultRowJson(row));
        SendJson(res, 200,
                 {{"items", std::move(items)},
                  {"total", page.total},
                  {"limit", query->limit},
                  {"offset", query->offset},
                  {"run_status", run->status}});
    }

    store::Run QueueRun(const store::NewRun& request) {
        store::Run run = store_.CreateRun(request);
        jobs::QueueRunJob(store_, queue_, run);
        return run;
    }

    store::Store& store_;
    const detect::Registry& registry_;
    const ServerOptions options_;
    httplib::Server http_;
    int port_ = 0;
    std::mutex stop_mutex_;
    std::mutex state_mutex_;
    bool stop_requested_ = false;
    bool running_ = false;
    std::condition_variable run_ended_;
    detail::ApiContext context_{.store = store_,
                                .registry = registry_,
                                .options = options_,
                                .queue_run = [this](const store::NewRun& run) { return QueueRun(run); }};
    std::unique_ptr<jobs::JobQueue> own_queue_;
    jobs::JobQueue& queue_;
    // Last: its workers use everything above, so it stops first.
    std::unique_ptr<jobs::WorkerPool> pool_;
};

Server::Server(store::Store& store, const detect::Registry& registry, jobs::JobQueue& queue, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, registry, &queue, std::move(options))) {}

Server::Server(store::Store& store, const detect::Registry& registry, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, registry, nullptr, std::move(options))) {}

Server::~Server() { impl_->Stop(); }

Expected<void> Server::Bind() { return impl_->Bind(); }
int Server::Port() const { return impl_->Port(); }
void Server::Run() { impl_->Run(); }
void Server::Stop() { impl_->Stop(); }
std::vector<std::string> Server::Routes() const { return impl_->Routes(); }

}  // namespace granska::api
