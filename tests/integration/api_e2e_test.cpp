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

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
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
        const auto uploaded = client.Post("/api/v1/upload", parts);
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

    fs::path root_ = fs::temp_directory_path() /
                     ("granska-e2e-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}()));
};

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
