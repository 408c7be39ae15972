#include "jobs/tasks.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "ingest/parse_options.h"
#include "strategy/strategy.h"

namespace granska::jobs {

namespace {

using nlohmann::json;

UploadTask ParseUploadTask(const std::string& payload) {
    const json document = json::parse(payload);
    UploadTask task;
    task.path = document.value("path", "");
    task.file_name = document.value("file_name", "");
    task.max_rows = document.value("max_rows", uint64_t{0});
    task.run_id = document.value("run_id", "");
    if (const auto fields = document.find("fields"); fields != document.end() && fields->is_object()) {
        for (const auto& [name, value] : fields->items()) {
            if (value.is_string()) task.fields.emplace(name, value.get<std::string>());
        }
    }
    return task;
}

// The run the upload asked for, once its file is in: refused (failed, naming the feature) when the strategy needs a
// column the file lacks, else queued.
void ChainRun(store::Store& store, const detect::Registry& registry, JobQueue& queue, const store::Job& job,
              const std::string& run_id) {
    auto run = store.GetRun(job.workspace_id, run_id);
    if (!run || run->status != "queued") return;  // deleted, or chained by an earlier attempt
    auto upload = store.GetUpload(job.workspace_id, job.target_id);
    auto strategy = strategy::ParseStrategy(run->configuration, registry);
    if (upload && strategy) {
        if (auto checked = strategy::CheckUploadFeatures(*strategy, upload->metadata); !checked) {
            store.FailRun(job.workspace_id, run_id, checked.error().message);
            return;
        }
    }
    QueueRunJob(store, queue, *run);
}

TaskResult ProcessUploadedFile(store::Store& store, const detect::Registry& registry, JobQueue& queue,
                               const store::Job& job, const std::atomic<bool>& cancelled) {
    auto upload = store.GetUpload(job.workspace_id, job.target_id);
    if (!upload) return {TaskResult::Outcome::kFailed, "The upload no longer exists."};
    const UploadTask task = ParseUploadTask(job.payload);
    if (upload->status != "completed") {
        // Another worker may see it: an upload directory is shared by mounting it on every worker.
        std::error_code missing;
        if (!std::filesystem::is_regular_file(task.path, missing)) {
            throw std::runtime_error(
                fmt::format("The stored file {} cannot be read on this worker: is the upload "
                            "directory shared with every worker?",
                            task.path));
        }
        const ingest::OptionLookup fields = [&task](std::string_view name) -> std::optional<std::string> {
            const auto it = task.fields.find(name);
            return it == task.fields.end() ? std::nullopt : std::optional<std::string>(it->second);
        };
        // The fields were checked when the upload was accepted; a failure here is a bug, reported on the upload.
        auto parse = ingest::ParseOptionsFromFields(fields);
        auto calendar = engine::CalendarFromFields(fields);
        if (!parse || !calendar) {
            const Error error = !parse ? parse.error() : calendar.error();
            store.FailUpload(job.workspace_id, job.target_id, error, "{}");
            return {TaskResult::Outcome::kFailed, error.ToString()};
        }
        parse->file_name = task.file_name;
        if (task.max_rows > 0) parse->limits.max_rows = std::min(parse->limits.max_rows, task.max_rows);
        const engine::IngestReport report = engine::IngestFile(
            store, job.workspace_id, job.target_id, task.path,
            {.parse = *parse, .calendar = *calendar, .cancelled = &cancelled, .retried_by_caller = true});
        if (!report.ok()) {
            if (cancelled && report.parse.error->code == "cancelled") return {TaskResult::Outcome::kCancelled, ""};
            return {TaskResult::Outcome::kFailed, report.parse.error->ToString()};
        }
        spdlog::info("upload {} '{}': {} rows, {} rejected", job.target_id, task.file_name, report.rows,
                     report.parse.rows_rejected);
    }
    if (!task.run_id.empty()) ChainRun(store, registry, queue, job, task.run_id);
    return {TaskResult::Outcome::kCompleted, ""};
}

TaskResult RunAnomalyDetection(store::Store& store, const detect::Registry& registry, const store::Job& job,
                               const std::atomic<bool>& cancelled) {
    auto run = store.GetRun(job.workspace_id, job.target_id);
    if (!run) return {TaskResult::Outcome::kFailed, "The analysis run no longer exists."};
    if (run->status == "completed") return {TaskResult::Outcome::kCompleted, ""};  // committed by an earlier attempt
    const auto outcome = engine::RunAnalysis(store, registry, job.workspace_id, job.target_id,
                                             {.cancelled = &cancelled, .retried_by_caller = true});
    if (!outcome) {
        if (cancelled && outcome.error().code == "cancelled") return {TaskResult::Outcome::kCancelled, ""};
        return {TaskResult::Outcome::kFailed, outcome.error().ToString()};
    }
    spdlog::info("run {} completed: {} of {} rows flagged", job.target_id, outcome->flagged_count,
                 outcome->score.size());
    return {TaskResult::Outcome::kCompleted, ""};
}

}  // namespace

std::string UploadTaskJson(const UploadTask& task) {
    json document = {
        {"path", task.path}, {"file_name", task.file_name}, {"fields", task.fields}, {"max_rows", task.max_rows}};
    if (!task.run_id.empty()) document["run_id"] = task.run_id;
    return document.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ProcessWorkerName() {
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    return fmt::format("{}:{}", host.data(), getpid());
}

store::Job QueueRunJob(store::Store& store, JobQueue& queue, const store::Run& run) {
    store::Job job = store.CreateJob(
        {.workspace_id = run.workspace_id, .kind = std::string(store::kRunAnomalyDetection), .target_id = run.id});
    queue.Publish(job);
    return job;
}

std::map<std::string, Task, std::less<>> BuiltinTasks(store::Store& store, const detect::Registry& registry,
                                                      JobQueue& queue) {
    std::map<std::string, Task, std::less<>> tasks;
    tasks.emplace(std::string(store::kProcessUploadedFile),
                  [&store, &registry, &queue](const store::Job& job, const std::atomic<bool>& cancelled) {
                      return ProcessUploadedFile(store, registry, queue, job, cancelled);
                  });
    tasks.emplace(std::string(store::kRunAnomalyDetection),
                  [&store, &registry](const store::Job& job, const std::atomic<bool>& cancelled) {
                      return RunAnomalyDetection(store, registry, job, cancelled);
                  });
    return tasks;
}

}  // namespace granska::jobs
