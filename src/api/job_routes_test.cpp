// Uploads and analyses as jobs over HTTP: the asynchronous upload, deleting and cancelling, and GET /jobs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "api/detail/test_server.h"

namespace granska::api::detail {
namespace {

using nlohmann::json;

// tests/fixtures/api/small_ledger.csv: 48 rows of 24 vouchers.
std::string Ledger() {
    const char* source_dir = std::getenv("GRANSKA_SOURCE_DIR");
    std::ifstream in(std::filesystem::path(source_dir == nullptr ? GRANSKA_DEFAULT_SOURCE_DIR : source_dir) /
                         "tests/fixtures/api/small_ledger.csv",
                     std::ios::binary);
    EXPECT_TRUE(in) << "tests/fixtures/api/small_ledger.csv is missing";
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

using JobsTest = ApiServerTest;

TEST_F(JobsTest, AnUploadIsAnsweredAtOnceAndProcessedByItsJob) {
    const auto result = UploadWithoutWaiting(Ledger());
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 202) << result->body;
    const json accepted = Body(result);
    EXPECT_EQ(accepted.value("status", ""), "queued");
    EXPECT_EQ(accepted["job"].value("kind", ""), "process_uploaded_file");
    EXPECT_EQ(accepted["job"].value("max_attempts", 0), 3);
    const std::string id = accepted.value("id", "");

    json status = json::object();
    for (int i = 0; i < 600 && status.value("status", "") != "completed"; ++i) {
        status = GetJson("/api/v1/upload/" + id + "/status");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(status.value("status", ""), "completed") << status.dump();
    EXPECT_EQ(status.value("row_count", 0), 48);
    EXPECT_EQ(status["job"].value("status", ""), "completed");
    EXPECT_EQ(status["job"].value("attempts", 0), 1);
}

TEST_F(JobsTest, DeletingAFinishedUploadIs409) {
    const std::string id = UploadCsv(Ledger());
    ExpectErrorBody(client_->Delete("/api/v1/upload/" + id), 409, "upload_finished");
    EXPECT_EQ(GetJson("/api/v1/upload/" + id + "/status").value("status", ""), "completed");
}

TEST_F(JobsTest, DeletingAnUploadTheCliStoredIs409NotAMissingJob) {
    const std::string id =
        store_->CreateUpload({.workspace_id = std::string(store::kDefaultWorkspaceId), .filename = "a.csv"}).id;
    store_->BeginTransactions(store::kDefaultWorkspaceId, id)->Commit("{}");
    ExpectErrorBody(client_->Delete("/api/v1/upload/" + id), 409, "upload_finished");
    ExpectErrorBody(client_->Delete("/api/v1/upload/00000000-0000-7000-8000-00000000abcd"), 404, "not_found");
}

TEST_F(JobsTest, CancellingAFinishedRunIs409AndAnUnknownOne404) {
    const std::string upload_id = UploadCsv(Ledger());
    const std::string run_id = QueueRun({{"upload_id", upload_id}, {"strategy", "quick-scan"}});
    EXPECT_EQ(WaitForRun(run_id).value("status", ""), "completed");
    ExpectErrorBody(client_->Post("/api/v1/analysis/" + run_id + "/cancel"), 409, "run_finished");
    ExpectErrorBody(client_->Post("/api/v1/analysis/00000000-0000-7000-8000-00000000abcd/cancel"), 404, "not_found");
}

TEST_F(JobsTest, JobsAreListedNewestFirstAndFilteredByKindAndStatus) {
    const std::string upload_id = UploadCsv(Ledger());
    const std::string run_id = QueueRun({{"upload_id", upload_id}, {"strategy", "quick-scan"}});
    WaitForRun(run_id);
    const json all = GetJson("/api/v1/jobs");
    ASSERT_EQ(all.value("total", 0), 2) << all.dump();
    EXPECT_EQ(all["items"][0].value("target_id", ""), run_id);
    EXPECT_EQ(all["items"][1].value("target_id", ""), upload_id);
    const json runs = GetJson("/api/v1/jobs?kind=run_anomaly_detection&status=completed");
    ASSERT_EQ(runs.value("total", 0), 1);
    EXPECT_EQ(runs["items"][0].value("kind", ""), "run_anomaly_detection");
    EXPECT_EQ(GetJson("/api/v1/jobs?status=failed").value("total", -1), 0);
    const std::string job_id = runs["items"][0].value("id", "");
    EXPECT_EQ(GetJson("/api/v1/jobs/" + job_id).value("target_id", ""), run_id);
    ExpectErrorBody(client_->Get("/api/v1/jobs?status=stuck"), 400, "bad_parameter");
    ExpectErrorBody(client_->Get("/api/v1/jobs?kind=backup"), 400, "bad_parameter");
    ExpectErrorBody(client_->Get("/api/v1/jobs/not-a-uuid"), 404, "not_found");
}

// No workers: every job stays queued until the test acts on it.
class QueuedJobsTest : public ApiServerTest {
protected:
    void SetUp() override {
        OpenStore();
        Serve(*store_, {.workers = 0});
    }
};

TEST_F(QueuedJobsTest, AQueuedUploadIsDeletedWithItsJob) {
    const json accepted = Body(UploadWithoutWaiting(Ledger()));
    const std::string id = accepted.value("id", "");
    ASSERT_FALSE(id.empty()) << accepted.dump();
    const auto deleted = client_->Delete("/api/v1/upload/" + id);
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->status, 204) << deleted->body;
    ExpectErrorBody(client_->Get("/api/v1/upload/" + id + "/status"), 404, "not_found");
    EXPECT_EQ(GetJson("/api/v1/jobs").value("total", -1), 0);
}

TEST_F(QueuedJobsTest, AQueuedRunIsCancelledAtOnce) {
    // The upload's rows are written straight to the store: nothing else would process it here.
    const std::string upload_id =
        store_->CreateUpload({.workspace_id = std::string(store::kDefaultWorkspaceId), .filename = "a.csv"}).id;
    auto writer = store_->BeginTransactions(store::kDefaultWorkspaceId, upload_id);
    writer->Commit("{}");
    const std::string run_id = QueueRun({{"upload_id", upload_id}, {"strategy", "quick-scan"}});
    EXPECT_EQ(GetJson("/api/v1/analysis/" + run_id + "/status").value("status", ""), "queued");

    const auto cancelled = client_->Post("/api/v1/analysis/" + run_id + "/cancel");
    ASSERT_TRUE(cancelled);
    EXPECT_EQ(cancelled->status, 202) << cancelled->body;
    const json status = GetJson("/api/v1/analysis/" + run_id + "/status");
    EXPECT_EQ(status.value("status", ""), "cancelled");
    EXPECT_EQ(status["job"].value("status", ""), "cancelled");
    EXPECT_EQ(status["job"].value("attempts", -1), 0);
}

TEST_F(QueuedJobsTest, ARunWaitingForItsUploadCanBeCancelled) {
    const json accepted = Body(UploadWithoutWaiting(Ledger(), {{.name = "strategy", .content = "quick-scan"}}));
    const std::string run_id = accepted.value("run_id", "");
    ASSERT_FALSE(run_id.empty()) << accepted.dump();
    EXPECT_TRUE(accepted["job"].is_object());
    EXPECT_TRUE(GetJson("/api/v1/analysis/" + run_id + "/status")["job"].is_null()) << "no job before the file is in";

    const auto cancelled = client_->Post("/api/v1/analysis/" + run_id + "/cancel");
    ASSERT_TRUE(cancelled);
    EXPECT_EQ(cancelled->status, 202) << cancelled->body;
    EXPECT_EQ(GetJson("/api/v1/analysis/" + run_id + "/status").value("status", ""), "cancelled");
    EXPECT_EQ(GetJson("/api/v1/upload/" + accepted.value("id", "") + "/status").value("status", ""), "queued");
}

}  // namespace
}  // namespace granska::api::detail
