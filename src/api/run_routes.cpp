// A run's progress as Server-Sent Events, /api/v1/analysis/{id}/events, and the strategy preview,
// /api/v1/strategies/{id}/preview and /api/v1/strategies/preview (docs/progress.md).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/detail/json_views.h"
#include "api/detail/request_parsing.h"
#include "api/detail/routes.h"
#include "core/uuid.h"
#include "engine/preview.h"
#include "strategy/strategy.h"

namespace granska::api::detail {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr auto kPollInterval = std::chrono::milliseconds(200);
constexpr auto kHeartbeatInterval = std::chrono::seconds(10);
// A provider call waits in slices this long, so a closed connection or a stopping server ends it soon.
constexpr auto kWaitSlice = std::chrono::milliseconds(50);

// One client's stream. httplib calls Next until it returns false, the sink is done, or the server stops.
class EventStream {
public:
    EventStream(store::Store& store, store::Run run) : store_(store), run_(std::move(run)) {}

    bool Next(httplib::DataSink& sink) {
        if (!sink.is_writable()) return false;
        if (!started_) {
            started_ = true;
            return Send(sink, run_);
        }
        const auto deadline = Clock::now() + kPollInterval;
        while (Clock::now() < deadline) {
            std::this_thread::sleep_for(kWaitSlice);
            if (!sink.is_writable()) return false;
        }
        try {
            auto run = store_.GetRun(run_.workspace_id, run_.id);
            if (!run) return Write(sink, "event: failed\ndata: " + ErrorJson(run.error()).dump() + "\n\n", true);
            return Send(sink, *run);
        } catch (const std::exception& e) {
            spdlog::error("events of run {}: {}", run_.id, e.what());
            const json error = {{"error", "internal"}, {"message", "The server lost the run's state; see its log."}};
            return Write(sink, "event: error\ndata: " + error.dump() + "\n\n", true);
        }
    }

private:
    // A progress event when the status changed, the final event once the run has finished, else a heartbeat when
    // the client has heard nothing for a while.
    bool Send(httplib::DataSink& sink, const store::Run& run) {
        const std::string data = RunJson(run).dump();
        if (Finished(run.status)) {
            return Write(sink, fmt::format("event: {}\ndata: {}\n\n", run.status, data), /*last=*/true);
        }
        if (data != last_data_) {
            last_data_ = data;
            return Write(sink, fmt::format("event: progress\ndata: {}\n\n", data), /*last=*/false);
        }
        if (Clock::now() - last_write_ >= kHeartbeatInterval) return Write(sink, ": keep-alive\n\n", false);
        return true;
    }

    bool Write(httplib::DataSink& sink, const std::string& text, bool last) {
        if (!sink.write(text.data(), text.size())) return false;
        last_write_ = Clock::now();
        if (last) sink.done();
        return true;
    }

    store::Store& store_;
    store::Run run_;
    bool started_ = false;
    std::string last_data_;
    Clock::time_point last_write_ = Clock::now();
};

void Events(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto run = RequestedRun(context.store, req);
    if (!run) return SendError(res, run.error());
    res.set_header("Cache-Control", "no-cache");
    // httplib copies the provider: the stream's state is shared by the copies.
    auto stream = std::make_shared<EventStream>(context.store, std::move(*run));
    res.set_chunked_content_provider("text/event-stream",
                                     [stream](size_t, httplib::DataSink& sink) { return stream->Next(sink); });
}

json PreviewJson(const engine::PreviewReport& report) {
    json histogram = json::array();
    for (size_t b = 0; b < report.histogram.size(); ++b) {
        const double width = 1.0 / static_cast<double>(report.histogram.size());
        histogram.push_back(
            {{"from", static_cast<double>(b) * width}, {"to", static_cast<double>(b + 1) * width}, {"count", report.histogram[b]}});
    }
    json algorithms = json::array();
    for (const engine::PreviewAlgorithm& algorithm : report.algorithms) {
        algorithms.push_back({{"label", algorithm.label},
                              {"name", algorithm.name},
                              {"weight", algorithm.weight},
                              {"score_share", algorithm.score_share},
                              {"top_reason_count", algorithm.top_reason_count},
                              {"quantiles", {{"p50", algorithm.p50}, {"p90", algorithm.p90}, {"p99", algorithm.p99}}},
                              {"sample_ms", algorithm.sample_ms},
                              {"estimated_ms", algorithm.estimated_ms}});
    }
    json top = json::array();
    for (const engine::PreviewExample& example : report.top) {
        json scores = json::object();
        for (const auto& [label, score] : example.algorithm_scores) scores[label] = score;
        top.push_back({{"row_number", example.row_number},
                       {"external_id", example.external_id},
                       {"date", example.date},
                       {"account", example.account},
                       {"amount", example.amount},
                       {"score", example.score},
                       {"reasons", example.reasons},
                       {"algorithms", std::move(scores)}});
    }
    const engine::PreviewEstimate& estimate = report.estimate;
    return {
        {"upload_rows", report.upload_rows},
        {"sample_rows", report.sample_rows},
        {"sampled", report.sample_rows < report.upload_rows},
        {"flagged_in_sample", report.flagged_in_sample},
        {"flagged_share", report.flagged_share},
        {"expected_flagged", report.expected_flagged},
        {"histogram", std::move(histogram)},
        {"algorithms", std::move(algorithms)},
        {"top", std::move(top)},
        {"estimate",
         {{"load_ms", estimate.load_ms},
          {"algorithms_ms", estimate.algorithms_ms},
          {"combine_ms", estimate.combine_ms},
          {"write_ms", estimate.write_ms},
          {"total_ms", estimate.total_ms},
          {"scaling", "n log n"}}},
        {"preview_ms", report.sample_ms},
    };
}

void SendPreview(ApiContext& context, httplib::Response& res, const std::string& workspace,
                 const std::string& upload_id, const strategy::Strategy& chosen) {
    auto id = CheckedId("upload", upload_id);
    if (!id) return SendError(res, id.error());
    auto report = engine::PreviewStrategy(context.store, workspace, *id, chosen);
    if (!report) return SendError(res, report.error());
    json body = PreviewJson(*report);
    body["strategy"] = chosen.name;
    body["upload_id"] = *id;
    SendJson(res, 200, body);
}

// {id}: a saved strategy's id, or a preset's name.
void PreviewSaved(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    const auto upload_id = Param(req.params, "upload_id");
    if (!upload_id || upload_id->empty()) {
        Error error = BadRequest("missing_upload_id", "Name the upload to preview on: ?upload_id=<id>.");
        error.column = "upload_id";
        return SendError(res, error);
    }
    const std::string name = req.matches[1].str();
    std::string configuration;
    if (IsUuid(name)) {
        auto saved = context.store.GetStrategy(*workspace, name);
        if (!saved) return SendError(res, saved.error());
        configuration = saved->configuration;
    } else if (const strategy::Preset* preset = strategy::FindPreset(name)) {
        configuration = preset->json;
    } else {
        return SendError(res, NotFound("strategy", name));
    }
    auto parsed = strategy::ParseStrategy(configuration, context.registry);
    if (!parsed) return SendError(res, parsed.error());
    SendPreview(context, res, *workspace, *upload_id, *parsed);
}

// {"upload_id", "strategy": preset name | strategy object}: a strategy not saved yet.
void PreviewUnsaved(ApiContext& context, const httplib::Request& req, httplib::Response& res) {
    auto workspace = RequestWorkspace(context.store, req);
    if (!workspace) return SendError(res, workspace.error());
    auto request = ParseRunRequest(req.body, context.registry);
    if (!request) return SendError(res, request.error());
    if (!request->strategy) {
        Error error = BadRequest("missing_strategy", "The body needs \"strategy\": a preset name or a strategy object.");
        error.column = "strategy";
        return SendError(res, error);
    }
    SendPreview(context, res, *workspace, request->upload_id, *request->strategy);
}

}  // namespace

void RouteRuns(httplib::Server& http, ApiContext& context) {
    AddRoute(http, context, "GET", "/api/v1/analysis/{id}/events",
             [&context](const httplib::Request& req, httplib::Response& res) { Events(context, req, res); });
    AddRoute(http, context, "GET", "/api/v1/strategies/{id}/preview",
             [&context](const httplib::Request& req, httplib::Response& res) { PreviewSaved(context, req, res); });
    AddRoute(http, context, "POST", "/api/v1/strategies/preview",
             [&context](const httplib::Request& req, httplib::Response& res) { PreviewUnsaved(context, req, res); });
}

}  // namespace granska::api::detail
