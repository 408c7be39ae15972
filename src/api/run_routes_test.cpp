// The run events stream (SSE) and the strategy preview over HTTP: a real Server on a free port over a temporary
// SQLite database, driven by an httplib client.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "api/detail/test_server.h"
#include "core/uuid.h"

namespace granska::api {
namespace {

using detail::Body;
using nlohmann::json;

// 300 lines on account 1930 of 100.00 … 130.99 and one of 11 500.00 (T42).
std::string Ledger() {
    std::string csv = "id,date,account,amount,text\n";
    for (int i = 1; i <= 300; ++i) {
        const std::string amount = i == 42 ? "11500.00" : fmt::format("{}.{:02}", 100 + (i * 7) % 31, (i * 13) % 100);
        csv += fmt::format("T{},2024-{:02}-{:02},1930,{},line {}\n", i, 1 + i % 12, 1 + i % 28, amount, i);
    }
    return csv;
}

constexpr std::string_view kZscoreOnly =
    R"({"name": "z", "algorithms": [{"name": "zscore", "params": {"group_by": "none"}}],
        "threshold": {"type": "top_k", "value": 3}})";

struct Event {
    std::string name;
    json data;
};

// Splits an event stream into its events; comments (": keep-alive") are skipped.
std::vector<Event> ParseEvents(const std::string& stream) {
    std::vector<Event> events;
    size_t begin = 0;
    while (begin < stream.size()) {
        size_t end = stream.find("\n\n", begin);
        if (end == std::string::npos) end = stream.size();
        Event event;
        size_t line_begin = begin;
        while (line_begin < end) {
            size_t line_end = stream.find('\n', line_begin);
            if (line_end == std::string::npos || line_end > end) line_end = end;
            const std::string line = stream.substr(line_begin, line_end - line_begin);
            if (line.starts_with("event: ")) event.name = line.substr(7);
            if (line.starts_with("data: ")) event.data = json::parse(line.substr(6), nullptr, false);
            line_begin = line_end + 1;
        }
        if (!event.name.empty()) events.push_back(std::move(event));
        begin = end + 2;
    }
    return events;
}

class RunRoutesTest : public detail::ApiServerTest {
protected:
    std::string UploadLedger() { return UploadCsv(Ledger()); }

    // Starts a run of kZscoreOnly; its id.
    std::string StartZscoreRun(const std::string& upload_id) {
        return QueueRun({{"upload_id", upload_id}, {"strategy", json::parse(kZscoreOnly)}});
    }

    // The whole stream of a run's events, read to its end.
    std::vector<Event> ReadEvents(const std::string& run_id, int* status = nullptr) {
        std::string stream;
        const auto result = client_->Get("/api/v1/analysis/" + run_id + "/events", [&](const char* data, size_t size) {
            stream.append(data, size);
            return true;
        });
        EXPECT_TRUE(result);
        if (result && status != nullptr) *status = result->status;
        if (result) {
            EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
        }
        return ParseEvents(stream);
    }
};

TEST_F(RunRoutesTest, EventsFollowARunToCompletion) {
    const std::string run_id = StartZscoreRun(UploadLedger());
    const std::vector<Event> events = ReadEvents(run_id);
    ASSERT_FALSE(events.empty());
    double progress = 0.0;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
        EXPECT_EQ(events[i].name, "progress");
        EXPECT_GE(events[i].data["progress"].get<double>(), progress);
        progress = events[i].data["progress"].get<double>();
    }
    const Event& last = events.back();
    EXPECT_EQ(last.name, "completed");
    EXPECT_EQ(last.data["status"], "completed");
    EXPECT_EQ(last.data["progress"], 1.0);
    EXPECT_EQ(last.data["progress_detail"]["algorithms"][0]["state"], "done");
    EXPECT_TRUE(last.data["timings"]["load_ms"].is_number());
    // top_k 3: three flagged, as the results say.
    EXPECT_EQ(last.data["flagged_count"], 3);
    const json flagged = Body(client_->Get("/api/v1/analysis/" + run_id + "/results?flagged=true"));
    EXPECT_EQ(flagged["total"], last.data["flagged_count"]);
}

TEST_F(RunRoutesTest, EventsOfAFinishedRunAreOneFinalEvent) {
    const std::string upload_id = UploadLedger();
    const store::Run run = store_->CreateRun(
        {.workspace_id = std::string(store::kDefaultWorkspaceId), .upload_id = upload_id, .configuration = "{}"});
    store_->FailRun(store::kDefaultWorkspaceId, run.id, "broken");
    const std::vector<Event> events = ReadEvents(run.id);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].name, "failed");
    EXPECT_EQ(events[0].data["error"], "broken");
}

TEST_F(RunRoutesTest, EventsOfAnUnknownRunAreAJson404) {
    detail::ExpectErrorBody(client_->Get("/api/v1/analysis/" + NewUuidV7() + "/events"), 404, "not_found");
}

TEST_F(RunRoutesTest, StopEndsAnOpenStream) {
    // A run no worker takes stays queued: its stream would never end by itself.
    const store::Run run = store_->CreateRun(
        {.workspace_id = std::string(store::kDefaultWorkspaceId), .upload_id = UploadLedger(), .configuration = "{}"});
    std::promise<void> first_event;
    std::string stream;
    std::thread reader([&] {
        auto client = NewClient();
        bool signalled = false;
        client->Get("/api/v1/analysis/" + run.id + "/events", [&](const char* data, size_t size) {
            stream.append(data, size);
            if (!signalled) first_event.set_value();
            signalled = true;
            return true;
        });
        if (!signalled) first_event.set_value();
    });
    first_event.get_future().wait();
    server_->Stop();  // returns only once every handler has: the stream has ended
    reader.join();
    const std::vector<Event> events = ParseEvents(stream);
    ASSERT_GE(events.size(), 1u);
    EXPECT_EQ(events[0].name, "progress");
    EXPECT_EQ(events[0].data["status"], "queued");
}

TEST_F(RunRoutesTest, PreviewOfAPresetAndOfASavedStrategy) {
    const std::string upload_id = UploadLedger();
    auto result = client_->Get("/api/v1/strategies/quick-scan/preview?upload_id=" + upload_id);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    json body = Body(result);
    EXPECT_EQ(body["strategy"], "quick-scan");
    EXPECT_EQ(body["upload_rows"], 300);
    EXPECT_EQ(body["sample_rows"], 300);
    EXPECT_EQ(body["sampled"], false);
    int64_t counted = 0;
    for (const json& bin : body["histogram"]) counted += bin["count"].get<int64_t>();
    EXPECT_EQ(body["histogram"].size(), 20u);
    EXPECT_EQ(counted, 300);
    EXPECT_EQ(body["estimate"]["scaling"], "n log n");

    const store::Strategy saved = *store_->CreateStrategy({.workspace_id = std::string(store::kDefaultWorkspaceId),
                                                           .name = "z",
                                                           .configuration = std::string(kZscoreOnly)});
    result = client_->Get("/api/v1/strategies/" + saved.id + "/preview?upload_id=" + upload_id);
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    body = Body(result);
    EXPECT_EQ(body["flagged_in_sample"], 3);
    EXPECT_EQ(body["expected_flagged"], 3);
    EXPECT_EQ(body["top"][0]["external_id"], "T42");
    EXPECT_EQ(body["top"][0]["amount"], "11500.00");
    EXPECT_EQ(body["algorithms"][0]["top_reason_count"], 3);
}

TEST_F(RunRoutesTest, PreviewOfAnUnsavedStrategy) {
    const json request = {{"upload_id", UploadLedger()}, {"strategy", json::parse(kZscoreOnly)}};
    const auto result = client_->Post("/api/v1/strategies/preview", request.dump(), "application/json");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 200) << result->body;
    const json body = Body(result);
    EXPECT_EQ(body["strategy"], "z");
    EXPECT_EQ(body["top"][0]["external_id"], "T42");
    EXPECT_EQ(body["top"][0]["row_number"], 42);
    EXPECT_DOUBLE_EQ(body["flagged_share"].get<double>(), 0.01);  // 3 of 300
}

TEST_F(RunRoutesTest, PreviewRejectsWhatItCannotRun) {
    const std::string upload_id = UploadLedger();
    auto status = [&](const httplib::Result& result) { return result ? result->status : -1; };
    EXPECT_EQ(status(client_->Get("/api/v1/strategies/no-such-preset/preview?upload_id=" + upload_id)), 404);
    EXPECT_EQ(status(client_->Get("/api/v1/strategies/" + NewUuidV7() + "/preview?upload_id=" + upload_id)), 404);
    EXPECT_EQ(status(client_->Get("/api/v1/strategies/quick-scan/preview")), 400);
    EXPECT_EQ(status(client_->Get("/api/v1/strategies/quick-scan/preview?upload_id=" + NewUuidV7())), 404);
    EXPECT_EQ(status(client_->Get("/api/v1/strategies/quick-scan/preview?upload_id=not-an-id")), 404);
    const std::string pending =
        store_->CreateUpload({.workspace_id = std::string(store::kDefaultWorkspaceId), .filename = "p.csv"}).id;
    EXPECT_EQ(status(client_->Get("/api/v1/strategies/quick-scan/preview?upload_id=" + pending)), 409);

    const json bad = {{"upload_id", upload_id}, {"strategy", {{"name", "x"}, {"algorithms", {{{"name", "nope"}}}}}}};
    const auto invalid = client_->Post("/api/v1/strategies/preview", bad.dump(), "application/json");
    ASSERT_TRUE(invalid);
    EXPECT_EQ(invalid->status, 422) << invalid->body;
    EXPECT_EQ(
        status(client_->Post("/api/v1/strategies/preview", json{{"upload_id", upload_id}}.dump(), "application/json")),
        400);
}

}  // namespace
}  // namespace granska::api
