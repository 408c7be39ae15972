// The real `granska serve` binary as a child process, driven over HTTP: upload, analyse, poll, read results,
// then SIGTERM and a clean exit. Runs against a temporary SQLite database always, and against PostgreSQL when
// GRANSKA_TEST_POSTGRES_URL is set (scripts/test.sh starts a throw-away server and sets it).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace granska {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kLedgerRows = 50'080;
constexpr int64_t kFixtureRows = 48;

fs::path SourceDir() {
    const char* dir = std::getenv("GRANSKA_SOURCE_DIR");
    return dir != nullptr ? fs::path(dir) : fs::path(GRANSKA_DEFAULT_SOURCE_DIR);
}

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A port that was free a moment ago (the kernel hands out ephemeral ports in sequence, so a reuse is unlikely).
int FreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        port = ntohs(address.sin_port);
    }
    close(fd);
    return port;
}

// `granska serve` in a child process; killed if the test ends without Terminate().
class ServeProcess {
public:
    ServeProcess(const std::string& db_url, const fs::path& upload_dir, const fs::path& log) : log_(log) {
        port_ = FreePort();
        const std::vector<std::string> args = {
            GRANSKA_BINARY, "serve", "--listen",     "127.0.0.1:" + std::to_string(port_),
            "--db",         db_url,  "--upload-dir", upload_dir.string()};
        std::vector<char*> argv;
        for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&actions);
    }

    ~ServeProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }

    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    int Port() const { return port_; }
    std::string Log() const { return ReadFile(log_); }

    // True once /api/v1/health answers 200; false if the child died or 60 s passed.
    bool WaitUntilHealthy() {
        httplib::Client client("127.0.0.1", port_);
        client.set_tcp_nodelay(true);
        client.set_connection_timeout(std::chrono::seconds(1));
        for (int attempt = 0; attempt < 600 && pid_ > 0; ++attempt) {
            if (const auto result = client.Get("/api/v1/health"); result && result->status == 200) return true;
            if (waitpid(pid_, &status_, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

    // SIGTERM, then waits (bounded) for the exit; returns the exit code, or -1 if it did not exit normally.
    int Terminate() {
        if (pid_ <= 0) return -1;
        kill(pid_, SIGTERM);
        for (int attempt = 0; attempt < 1200; ++attempt) {
            if (waitpid(pid_, &status_, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return -1;
    }

private:
    fs::path log_;
    int port_ = 0;
    pid_t pid_ = -1;
    int status_ = 0;
};

class ApiEndToEndTest : public ::testing::Test {
protected:
    void SetUp() override { fs::create_directories(root_); }
    void TearDown() override { fs::remove_all(root_); }

    static std::optional<std::string> PostgresUrl() {
        const char* url = std::getenv("GRANSKA_TEST_POSTGRES_URL");
        if (url == nullptr || *url == '\0') return std::nullopt;
        return std::string(url);
    }

    static fs::path Ledger() { return SourceDir() / ".." / "shared" / "data" / "ledger" / "ledger.csv"; }
    static fs::path Fixture() { return SourceDir() / "tests" / "fixtures" / "api" / "small_ledger.csv"; }
    std::string SqliteUrl() const { return "sqlite://" + (root_ / "granska.db").string(); }

    // Serve, upload the file, run the default strategy, check the first page of results, stop with SIGTERM.
    void UploadAnalyseAndStop(const std::string& db_url, const fs::path& csv, int64_t expected_rows) {
        ServeProcess server(db_url, root_ / "uploads", root_ / "serve.log");
        ASSERT_TRUE(server.WaitUntilHealthy()) << "granska serve did not become healthy; its output:\n" << server.Log();
        httplib::Client client("127.0.0.1", server.Port());
        client.set_tcp_nodelay(true);
        client.set_read_timeout(std::chrono::seconds(300));
        client.set_write_timeout(std::chrono::seconds(60));

        const auto health = client.Get("/api/v1/health");
        ASSERT_TRUE(health);
        const json health_body = json::parse(health->body);
        EXPECT_EQ(health_body["status"], "ok");
        EXPECT_EQ(health_body["database"], db_url.starts_with("sqlite") ? "sqlite" : "postgresql");

        const httplib::MultipartFormDataItems parts = {{.name = "file",
                                                        .content = ReadFile(csv),
                                                        .filename = csv.filename().string(),
                                                        .content_type = "text/csv"}};
        const auto uploaded = client.Post("/api/v1/upload?wait=true", parts);
        ASSERT_TRUE(uploaded) << httplib::to_string(uploaded.error());
        ASSERT_EQ(uploaded->status, 201) << uploaded->body;
        const json upload = json::parse(uploaded->body);
        EXPECT_EQ(upload["status"], "completed");
        EXPECT_EQ(upload["row_count"], expected_rows);

        const json request = {{"upload_id", upload["id"]}};
        const auto started = client.Post("/api/v1/analysis/run", request.dump(), "application/json");
        ASSERT_TRUE(started);
        ASSERT_EQ(started->status, 202) << started->body;
        const std::string run_id = json::parse(started->body)["run_id"];

        if (expected_rows == kLedgerRows) {
            // The sample ledger takes seconds to analyse: the events on the way carry each algorithm's state.
            const auto events = ReadEvents(client, run_id);
            ASSERT_FALSE(events.empty());
            EXPECT_EQ(events.back().first, "completed") << events.back().second.dump();
            size_t with_states = 0;
            for (const auto& [event, data] : events) {
                if (event == "progress" && data.contains("progress_detail") &&
                    !data["progress_detail"].value("algorithms", json::array()).empty()) {
                    ++with_states;
                }
            }
            EXPECT_GT(with_states, 0U) << "no progress event carried the algorithms' states of " << events.size();
        }
        json status;
        for (int attempt = 0; attempt < 3000; ++attempt) {  // bounded: 5 minutes of 100 ms polls
            const auto polled = client.Get("/api/v1/analysis/" + run_id + "/status");
            ASSERT_TRUE(polled);
            ASSERT_EQ(polled->status, 200) << polled->body;
            status = json::parse(polled->body);
            if (status["status"] == "completed" || status["status"] == "failed") break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ASSERT_EQ(status["status"], "completed") << status.dump();

        const auto results = client.Get("/api/v1/analysis/" + run_id + "/results?limit=50");
        ASSERT_TRUE(results);
        ASSERT_EQ(results->status, 200) << results->body;
        const json page = json::parse(results->body);
        EXPECT_EQ(page["total"], expected_rows);
        const json& items = page["items"];
        ASSERT_EQ(items.size(), static_cast<size_t>(std::min<int64_t>(50, expected_rows)));
        for (size_t i = 0; i < items.size(); ++i) {
            EXPECT_EQ(items[i]["rank"], i + 1);
            if (i > 0) {
                EXPECT_LE(items[i]["score"].get<double>(), items[i - 1]["score"].get<double>());
            }
        }
        EXPECT_TRUE(items[0]["flagged"].get<bool>());

        EXPECT_EQ(server.Terminate(), 0) << "granska serve did not exit cleanly on SIGTERM; its output:\n"
                                         << server.Log();
    }

    // Server-Sent Events of a run, read to the end of the stream: (event name, data JSON) in order.
    static std::vector<std::pair<std::string, json>> ReadEvents(httplib::Client& client, const std::string& run_id) {
        std::vector<std::pair<std::string, json>> events;
        std::string buffer;
        const auto result = client.Get("/api/v1/analysis/" + run_id + "/events", [&](const char* data, size_t size) {
            buffer.append(data, size);
            for (size_t end = buffer.find("\n\n"); end != std::string::npos; end = buffer.find("\n\n")) {
                std::string name = "message";
                std::string payload;
                std::istringstream lines(buffer.substr(0, end));
                for (std::string line; std::getline(lines, line);) {
                    if (line.starts_with("event: ")) name = line.substr(7);
                    if (line.starts_with("data: ")) payload += line.substr(6);
                }
                if (!payload.empty()) events.emplace_back(name, json::parse(payload, nullptr, false));
                buffer.erase(0, end + 2);
            }
            return true;
        });
        EXPECT_TRUE(result) << httplib::to_string(result.error());
        if (result) {
            EXPECT_EQ(result->status, 200) << result->body;
        }
        return events;
    }

    static json Json(const httplib::Result& result, int status) {
        EXPECT_TRUE(result) << httplib::to_string(result.error());
        if (!result) return json();
        EXPECT_EQ(result->status, status) << result->body;
        return json::parse(result->body, nullptr, false);
    }

    // The flow a front end or a script drives: create a strategy, preview it, run it, follow its events to the end,
    // page through results and anomalies, open a transaction, update the strategy and see the first run keep the
    // configuration it used.
    void StrategyFlow(const std::string& db_url) {
        ServeProcess server(db_url, root_ / "uploads", root_ / "serve.log");
        ASSERT_TRUE(server.WaitUntilHealthy()) << "granska serve did not become healthy; its output:\n" << server.Log();
        httplib::Client client("127.0.0.1", server.Port());
        client.set_tcp_nodelay(true);
        client.set_read_timeout(std::chrono::seconds(300));

        const httplib::MultipartFormDataItems parts = {{.name = "file",
                                                        .content = ReadFile(Fixture()),
                                                        .filename = "small_ledger.csv",
                                                        .content_type = "text/csv"}};
        json upload = Json(client.Post("/api/v1/upload?wait=true", parts), 201);
        const std::string upload_id = upload["id"];

        // Three flagged rows of 48: the robust z-score of amounts per account, top_k 3.
        json configuration = {{"algorithms", {{{"name", "zscore"}, {"params", {{"group_by", "account"}}}}}},
                                    {"threshold", {{"type", "top_k"}, {"value", 3}}}};
        json bad = {{"name", "broken"}, {"configuration", configuration}};
        bad["configuration"]["algorithms"][0]["weight"] = -1;
        json rejected = Json(client.Post("/api/v1/strategies", bad.dump(), "application/json"), 422);
        ASSERT_FALSE(rejected["details"].empty()) << rejected.dump();
        EXPECT_EQ(rejected["details"][0]["field"], "configuration.algorithms[0].weight");

        // Unique: a PostgreSQL database outlives the test.
        const std::string name = "e2e audit " + root_.filename().string();
        json created_request = {
            {"name", name}, {"description", "z-score, top 3"}, {"configuration", configuration}};
        json created = Json(client.Post("/api/v1/strategies", created_request.dump(), "application/json"), 201);
        const std::string strategy_id = created["id"];
        EXPECT_EQ(created["version"], 1);

        json listed = Json(client.Get("/api/v1/strategies"), 200);
        std::vector<std::string> names;
        for (const json& item : listed["items"]) names.push_back(item["name"]);
        for (const char* expected :
             {"journal-entry-audit", "bank-transactions", "ml-ensemble", "quick-scan", name.c_str()}) {
            EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected << " is not listed";
        }

        json preview =
            Json(client.Get("/api/v1/strategies/" + strategy_id + "/preview?upload_id=" + upload_id), 200);
        EXPECT_EQ(preview["sample_rows"], kFixtureRows);
        EXPECT_EQ(preview["expected_flagged"], 3);
        EXPECT_EQ(preview["flagged_in_sample"], 3);
        ASSERT_GE(preview["top"].size(), 3U);
        EXPECT_FALSE(preview["top"][0]["reasons"].empty());
        EXPECT_NEAR(preview["flagged_share"].get<double>(), 3.0 / kFixtureRows, 1e-9);

        json run_request = {{"upload_id", upload_id}, {"strategy_id", strategy_id}};
        const std::string run_id =
            Json(client.Post("/api/v1/analysis/run", run_request.dump(), "application/json"), 202)["run_id"];
        const auto events = ReadEvents(client, run_id);
        ASSERT_FALSE(events.empty());
        double progress = 0;
        for (const auto& [event, data] : events) {
            EXPECT_GE(data["progress"].get<double>(), progress) << event;
            progress = data["progress"].get<double>();
        }
        ASSERT_EQ(events.back().first, "completed") << events.back().second.dump();
        EXPECT_EQ(events.back().second["flagged_count"], 3);
        EXPECT_EQ(events.back().second["strategy_version"], 1);

        // Pages of 20 cover every row once, in rank order.
        std::set<std::string> seen;
        for (int offset = 0; offset < kFixtureRows; offset += 20) {
            json page =
                Json(client.Get(fmt::format("/api/v1/analysis/{}/results?limit=20&offset={}", run_id, offset)), 200);
            EXPECT_EQ(page["total"], kFixtureRows);
            for (size_t i = 0; i < page["items"].size(); ++i) {
                EXPECT_EQ(page["items"][i]["rank"], offset + static_cast<int>(i) + 1);
                seen.insert(page["items"][i]["transaction"]["id"].get<std::string>());
            }
        }
        EXPECT_EQ(seen.size(), static_cast<size_t>(kFixtureRows));

        json anomalies = Json(client.Get("/api/v1/transactions/anomalies?run_id=" + run_id), 200);
        ASSERT_EQ(anomalies["total"], 3);
        json by_strategy = Json(client.Get("/api/v1/transactions/anomalies?strategy_id=" + strategy_id), 200);
        EXPECT_EQ(by_strategy["items"], anomalies["items"]);
        const std::string top_id = anomalies["items"][0]["transaction"]["id"];
        json detail = Json(client.Get("/api/v1/transactions/" + top_id), 200);
        ASSERT_EQ(detail["runs"].size(), 1U);
        EXPECT_EQ(detail["runs"][0]["run_id"], run_id);
        EXPECT_EQ(detail["runs"][0]["rank"], 1);
        ASSERT_EQ(detail["runs"][0]["algorithms"].size(), 1U);
        EXPECT_FALSE(detail["runs"][0]["algorithms"][0]["reason"].get<std::string>().empty());

        // Version 2 flags five; the first run still says version 1, top 3.
        json updated_request = created_request;
        updated_request["configuration"]["threshold"]["value"] = 5;
        json updated =
            Json(client.Put("/api/v1/strategies/" + strategy_id, updated_request.dump(), "application/json"), 200);
        EXPECT_EQ(updated["version"], 2);
        const std::string second_id =
            Json(client.Post("/api/v1/analysis/run", run_request.dump(), "application/json"), 202)["run_id"];
        ASSERT_EQ(ReadEvents(client, second_id).back().first, "completed");
        json second = Json(client.Get("/api/v1/analysis/" + second_id + "/status"), 200);
        EXPECT_EQ(second["strategy_version"], 2);
        EXPECT_EQ(second["flagged_count"], 5);
        json first = Json(client.Get("/api/v1/analysis/" + run_id + "/status"), 200);
        EXPECT_EQ(first["strategy_version"], 1);
        EXPECT_EQ(first["flagged_count"], 3);
        EXPECT_EQ(first["configuration"]["threshold"]["value"], 3);
        EXPECT_EQ(Json(client.Get("/api/v1/strategies/" + strategy_id + "/versions"), 200)["items"].size(), 2U);
        EXPECT_EQ(Json(client.Get("/api/v1/transactions/" + top_id), 200)["runs"].size(), 2U);

        ASSERT_TRUE(client.Delete("/api/v1/strategies/" + strategy_id));
        EXPECT_EQ(
            Json(client.Post("/api/v1/analysis/run", run_request.dump(), "application/json"), 409)["error"].is_string(),
            true);

        EXPECT_EQ(server.Terminate(), 0) << server.Log();
    }

    fs::path root_ = fs::temp_directory_path() /
                     ("granska-e2e-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}()));
};

TEST_F(ApiEndToEndTest, SqliteStrategyFlow) { StrategyFlow(SqliteUrl()); }

TEST_F(ApiEndToEndTest, PostgresStrategyFlow) {
    const auto url = PostgresUrl();
    if (!url) GTEST_SKIP() << "GRANSKA_TEST_POSTGRES_URL is not set; run scripts/test.sh, which starts PostgreSQL";
    StrategyFlow(*url);
}

TEST_F(ApiEndToEndTest, SqliteServesTheFixture) { UploadAnalyseAndStop(SqliteUrl(), Fixture(), kFixtureRows); }

TEST_F(ApiEndToEndTest, SqliteServesTheSampleLedger) {
    if (!fs::exists(Ledger())) GTEST_SKIP() << "no sample ledger at " << Ledger();
    UploadAnalyseAndStop(SqliteUrl(), Ledger(), kLedgerRows);
}

TEST_F(ApiEndToEndTest, PostgresServesTheFixture) {
    const auto url = PostgresUrl();
    if (!url) GTEST_SKIP() << "GRANSKA_TEST_POSTGRES_URL is not set; run scripts/test.sh, which starts PostgreSQL";
    UploadAnalyseAndStop(*url, Fixture(), kFixtureRows);
}

TEST_F(ApiEndToEndTest, PostgresServesTheSampleLedger) {
    const auto url = PostgresUrl();
    if (!url) GTEST_SKIP() << "GRANSKA_TEST_POSTGRES_URL is not set; run scripts/test.sh, which starts PostgreSQL";
    if (!fs::exists(Ledger())) GTEST_SKIP() << "no sample ledger at " << Ledger();
    UploadAnalyseAndStop(*url, Ledger(), kLedgerRows);
}

}  // namespace
}  // namespace granska
