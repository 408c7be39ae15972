#include "jobs/tasks.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/uuid.h"
#include "store/sqlite/sqlite_store.h"

namespace granska::jobs {
namespace {

using Outcome = TaskResult::Outcome;

constexpr std::string_view kWorkspace = store::kDefaultWorkspaceId;

// Ten vouchers of two lines; voucher 10 is a hundred times the others.
std::string Ledger() {
    std::string csv = "transaction_id,voucher_series,voucher_number,date,account,amount,text\n";
    for (int v = 1; v <= 10; ++v) {
        const std::string amount = v == 10 ? "50000.00" : std::to_string(400 + v) + ".00";
        csv += std::to_string(2 * v - 1) + ",A," + std::to_string(v) + ",2024-03-0" + std::to_string(1 + v % 9) +
               ",5460," + amount + ",Inköp\n";
        csv += std::to_string(2 * v) + ",A," + std::to_string(v) + ",2024-03-0" + std::to_string(1 + v % 9) +
               ",1930,-" + amount + ",Inköp\n";
    }
    return csv;
}

class TasksTest : public ::testing::Test {
protected:
    TasksTest() {
        std::filesystem::create_directories(root_);
        store_ = store::OpenSqliteStore((root_ / "granska.db").string());
        store_->Migrate();
        detect::RegisterBuiltinAlgorithms(registry_);
        auto queue = OpenQueue("local", *store_, {});
        queue_ = std::move(*queue);
        tasks_ = BuiltinTasks(*store_, registry_, *queue_);
    }
    ~TasksTest() override {
        store_.reset();
        std::filesystem::remove_all(root_);
    }

    // An upload of `content` (upload_id_) with its process_uploaded_file job, as the API stores them.
    store::Job QueueUpload(const std::string& content, const std::string& run_id = "",
                           std::map<std::string, std::string, std::less<>> fields = {}) {
        const std::string path = (root_ / (NewUuidV7() + ".csv")).string();
        std::ofstream(path, std::ios::binary) << content;
        if (run_id.empty()) {
            upload_id_ = store_->CreateUpload({.workspace_id = std::string(kWorkspace), .filename = "ledger.csv"}).id;
        }
        return store_->CreateJob(
            {.workspace_id = std::string(kWorkspace),
             .kind = std::string(store::kProcessUploadedFile),
             .target_id = upload_id_,
             .payload = UploadTaskJson(
                 {.path = path, .file_name = "ledger.csv", .fields = std::move(fields), .run_id = run_id})});
    }

    // An upload of the ledger that asked for a run of the strategy, as the API stores them: its job and the run's id.
    std::pair<store::Job, std::string> QueueUploadWithRun(const std::string& strategy_json) {
        upload_id_ = store_->CreateUpload({.workspace_id = std::string(kWorkspace), .filename = "ledger.csv"}).id;
        const std::string run_id = CreateRun(upload_id_, strategy_json);
        return {QueueUpload(Ledger(), run_id), run_id};
    }

    std::string CreateRun(const std::string& upload_id, const std::string& strategy_json) {
        return store_
            ->CreateRun({.workspace_id = std::string(kWorkspace),
                         .upload_id = upload_id,
                         .strategy_name = "t",
                         .configuration = strategy_json})
            .id;
    }

    TaskResult Run(const store::Job& job, bool cancelled = false) {
        const std::atomic<bool> flag = cancelled;
        return tasks_.at(job.kind)(job, flag);
    }

    int64_t RowCount(const std::string& upload_id) {
        int64_t rows = 0;
        store_->ForEachTransaction(kWorkspace, upload_id, 1000,
                                   [&](std::span<const store::StoredTransaction> batch) { rows += std::ssize(batch); });
        return rows;
    }

    std::filesystem::path root_ = std::filesystem::temp_directory_path() / ("granska-tasks-test-" + NewUuidV7());
    std::unique_ptr<store::Store> store_;
    detect::Registry registry_;
    std::unique_ptr<JobQueue> queue_;
    std::map<std::string, Task, std::less<>> tasks_;
    std::string upload_id_;
};

constexpr std::string_view kZscore =
    R"({"name": "t", "algorithms": [{"name": "zscore", "params": {"min_group_size": 5}}],
        "threshold": {"type": "top_k", "value": 2}})";

TEST_F(TasksTest, ProcessingAnUploadLoadsItsRows) {
    const store::Job job = QueueUpload(Ledger());
    const TaskResult result = Run(job);
    EXPECT_EQ(result.outcome, Outcome::kCompleted) << result.error;
    const auto upload = store_->GetUpload(kWorkspace, upload_id_);
    ASSERT_TRUE(upload);
    EXPECT_EQ(upload->status, "completed");
    EXPECT_EQ(upload->row_count, 20);
    EXPECT_EQ(RowCount(upload_id_), 20);
}

TEST_F(TasksTest, ASecondAttemptAfterTheRowsCommittedDoesNotLoadThemAgain) {
    const store::Job job = QueueUpload(Ledger());
    ASSERT_EQ(Run(job).outcome, Outcome::kCompleted);
    ASSERT_EQ(Run(job).outcome, Outcome::kCompleted);
    EXPECT_EQ(RowCount(upload_id_), 20);
}

TEST_F(TasksTest, ABadFileFailsForGoodNamingTheLine) {
    const store::Job job = QueueUpload("id,date,account,amount\n1,2024-01-01,1930,12.00\n2,2024-01-02,1930,1x\n", "",
                                       {{"bad_rows", "reject_file"}});
    const TaskResult result = Run(job);
    EXPECT_EQ(result.outcome, Outcome::kFailed);
    EXPECT_NE(result.error.find(":3"), std::string::npos) << result.error;
    const auto upload = store_->GetUpload(kWorkspace, upload_id_);
    ASSERT_TRUE(upload);
    EXPECT_EQ(upload->status, "failed");
    EXPECT_EQ(RowCount(upload_id_), 0);
}

TEST_F(TasksTest, AStoredFileTheWorkerCannotReadIsAnInfrastructureFailureToRetry) {
    store::Job job = QueueUpload(Ledger());
    std::filesystem::remove(nlohmann::json::parse(job.payload).at("path").get<std::string>());
    try {
        Run(job);
        ADD_FAILURE() << "a missing stored file must throw (the attempt is retried)";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("upload directory shared"), std::string::npos) << e.what();
    }
    const auto upload = store_->GetUpload(kWorkspace, upload_id_);
    ASSERT_TRUE(upload);
    EXPECT_NE(upload->status, "failed");  // the job decides: retrying, or failed after the last attempt
}

TEST_F(TasksTest, AnUploadThatAskedForARunQueuesItsJobOnceTheFileIsIn) {
    const auto [job, run_id] = QueueUploadWithRun(std::string(kZscore));
    ASSERT_EQ(Run(job).outcome, Outcome::kCompleted);
    ASSERT_EQ(Run(job).outcome, Outcome::kCompleted);  // a retried attempt chains the same one job

    const auto run_job = store_->GetJobFor(kWorkspace, run_id);
    ASSERT_TRUE(run_job) << "the run's job was queued";
    EXPECT_EQ(run_job->kind, store::kRunAnomalyDetection);
    EXPECT_EQ(store_->ListJobs(kWorkspace, {.kind = std::string(store::kRunAnomalyDetection)}).total, 1);

    const TaskResult analysed = Run(*run_job);
    EXPECT_EQ(analysed.outcome, Outcome::kCompleted) << analysed.error;
    const auto run = store_->GetRun(kWorkspace, run_id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, "completed");
    EXPECT_EQ(run->flagged_count, 2);
}

TEST_F(TasksTest, ARunWhoseStrategyNeedsAMissingColumnIsRefusedNamingItAndGetsNoJob) {
    const auto [job, run_id] = QueueUploadWithRun(R"({"name": "t", "algorithms": [{"name": "isolation_forest",
                                                     "params": {"features": ["log_amount", "Kostnadsställe"]}}]})");
    ASSERT_EQ(Run(job).outcome, Outcome::kCompleted);
    const auto run = store_->GetRun(kWorkspace, run_id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, "failed");
    EXPECT_NE(run->error_message.find("Kostnadsställe"), std::string::npos) << run->error_message;
    EXPECT_FALSE(store_->GetJobFor(kWorkspace, run_id));
}

TEST_F(TasksTest, ACancelledAnalysisWritesNothingAndLeavesTheRunToTheJob) {
    ASSERT_EQ(Run(QueueUpload(Ledger())).outcome, Outcome::kCompleted);
    const std::string run_id = CreateRun(upload_id_, std::string(kZscore));
    const store::Run run = *store_->GetRun(kWorkspace, run_id);
    const store::Job job = QueueRunJob(*store_, *queue_, run);
    const TaskResult result = Run(job, /*cancelled=*/true);
    EXPECT_EQ(result.outcome, Outcome::kCancelled) << result.error;
    const auto after = store_->GetRun(kWorkspace, run_id);
    ASSERT_TRUE(after);
    EXPECT_NE(after->status, "failed");
    EXPECT_NE(after->status, "completed");
    EXPECT_EQ(store_->ListResults(kWorkspace, run_id, {}).total, 0);
}

TEST_F(TasksTest, ACompletedRunIsNotAnalysedAgain) {
    ASSERT_EQ(Run(QueueUpload(Ledger())).outcome, Outcome::kCompleted);
    const std::string run_id = CreateRun(upload_id_, std::string(kZscore));
    const store::Job job = QueueRunJob(*store_, *queue_, *store_->GetRun(kWorkspace, run_id));
    ASSERT_EQ(Run(job).outcome, Outcome::kCompleted);
    const std::string completed_at = store_->GetRun(kWorkspace, run_id)->completed_at;
    ASSERT_EQ(Run(job).outcome, Outcome::kCompleted);
    EXPECT_EQ(store_->GetRun(kWorkspace, run_id)->completed_at, completed_at);
    EXPECT_EQ(store_->ListResults(kWorkspace, run_id, {}).total, 20);
}

}  // namespace
}  // namespace granska::jobs
