// Test code only (the API's *_test.cpp files): a real Server on a free port over a temporary SQLite database with the
// builtin algorithms, driven by an httplib client, and the helpers those tests share.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "api/server.h"
#include "core/uuid.h"
#include "detect/registry.h"
#include "store/sqlite/sqlite_store.h"

namespace granska::api::detail {

// The body as JSON; null when there was no answer or it is not JSON.
inline nlohmann::json Body(const httplib::Result& result) {
    if (!result) return nlohmann::json();
    return nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
}

// An error answer in the API's one shape: the status, a JSON body with the code, a message and details.
inline void ExpectErrorBody(const httplib::Result& result, int status, std::string_view code) {
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, status) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    const nlohmann::json body = Body(result);
    ASSERT_TRUE(body.is_object()) << result->body;
    EXPECT_EQ(body.value("error", ""), code) << result->body;
    EXPECT_FALSE(body.value("message", "").empty()) << result->body;
    EXPECT_TRUE(body.contains("details") && body["details"].is_array()) << result->body;
}

// SetUp opens the store and starts serving it; a fixture that serves something else (a store wrapping store_) or
// with other options overrides SetUp and calls OpenStore() and Serve() itself.
class ApiServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        OpenStore();
        Serve(*store_);
    }

    void TearDown() override {
        StopServing();
        store_.reset();
        std::filesystem::remove_all(root_);
    }

    void OpenStore() {
        std::filesystem::create_directories(root_);
        store_ = store::OpenSqliteStore((root_ / "granska.db").string());
        store_->Migrate();
        detect::RegisterBuiltinAlgorithms(registry_);
    }

    // Serves `store` on a free loopback port and connects client_.
    void Serve(store::Store& store, ServerOptions options = {}) {
        options.host = "127.0.0.1";
        options.port = 0;
        options.upload_dir = root_ / "uploads";
        options.http_threads = 4;
        server_ = std::make_unique<Server>(store, registry_, options);
        const auto bound = server_->Bind();
        ASSERT_TRUE(bound) << bound.error().message;
        serving_ = std::thread([this] { server_->Run(); });
        client_ = NewClient();
    }

    void StopServing() {
        client_.reset();  // an idle keep-alive connection would hold Stop() for httplib's keep-alive timeout
        if (server_) server_->Stop();
        if (serving_.joinable()) serving_.join();
        server_.reset();
    }

    std::unique_ptr<httplib::Client> NewClient() const {
        auto client = std::make_unique<httplib::Client>("127.0.0.1", server_->Port());
        client->set_tcp_nodelay(true);
        client->set_read_timeout(std::chrono::seconds(60));
        return client;
    }

    httplib::Result PostJson(const std::string& path, const nlohmann::json& body) {
        return client_->Post(path, body.dump(), "application/json");
    }
    httplib::Result PutJson(const std::string& path, const nlohmann::json& body) {
        return client_->Put(path, body.dump(), "application/json");
    }

    // GET `path`, expecting `status`; the body as JSON.
    nlohmann::json GetJson(const std::string& path, int status = 200) {
        const auto result = client_->Get(path);
        EXPECT_TRUE(result) << path;
        if (!result) return nlohmann::json();
        EXPECT_EQ(result->status, status) << path << ": " << result->body;
        return Body(result);
    }

    // Uploads `csv` and answers once it is processed (?wait=true).
    httplib::Result Upload(const std::string& csv, httplib::MultipartFormDataItems extra = {},
                           const std::string& filename = "ledger.csv") {
        return PostUpload("/api/v1/upload?wait=true", csv, std::move(extra), filename);
    }
    // Uploads `csv` and answers at once (202, the upload queued).
    httplib::Result UploadWithoutWaiting(const std::string& csv, httplib::MultipartFormDataItems extra = {}) {
        return PostUpload("/api/v1/upload", csv, std::move(extra), "ledger.csv");
    }
    httplib::Result PostUpload(const std::string& path, const std::string& csv, httplib::MultipartFormDataItems extra,
                               const std::string& filename) {
        extra.push_back({.name = "file", .content = csv, .filename = filename, .content_type = "text/csv"});
        return client_->Post(path, extra);
    }

    // Uploads `csv`, expecting 201; the upload's id.
    std::string UploadCsv(const std::string& csv, const std::string& filename = "ledger.csv") {
        const auto result = Upload(csv, {}, filename);
        EXPECT_TRUE(result);
        if (!result) return "";
        EXPECT_EQ(result->status, 201) << result->body;
        return Body(result).value("id", "");
    }

    httplib::Result StartRun(const nlohmann::json& body) { return PostJson("/api/v1/analysis/run", body); }

    // Starts a run, expecting 202; its id.
    std::string QueueRun(const nlohmann::json& body) {
        const auto result = StartRun(body);
        EXPECT_TRUE(result);
        if (!result) return "";
        EXPECT_EQ(result->status, 202) << result->body;
        return Body(result).value("run_id", "");
    }

    // Polls the status endpoint until the run ends: a bounded number of short waits, never one long sleep.
    nlohmann::json WaitForRun(const std::string& run_id) {
        nlohmann::json status;
        for (int attempt = 0; attempt < 600; ++attempt) {
            status = Body(client_->Get("/api/v1/analysis/" + run_id + "/status"));
            const std::string state = status.value("status", "");
            if (state == "completed" || state == "failed" || state == "cancelled") return status;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ADD_FAILURE() << "run " << run_id << " did not finish: " << status.dump();
        return status;
    }

    std::filesystem::path root_ = std::filesystem::temp_directory_path() / ("granska-api-test-" + NewUuidV7());
    std::unique_ptr<store::Store> store_;
    detect::Registry registry_;
    std::unique_ptr<Server> server_;
    std::thread serving_;
    std::unique_ptr<httplib::Client> client_;
};

}  // namespace granska::api::detail
