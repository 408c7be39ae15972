#pragma once
// The plan's two background tasks, as WorkerPool tasks:
// - process_uploaded_file: parse, validate, transform and load an upload's file (engine::IngestFile); when the upload
//   asked for an analysis, then queue run_anomaly_detection for it.
// - run_anomaly_detection: run the strategy the run recorded (engine::RunAnalysis) and store its results.
// Both are idempotent: a retried or reclaimed attempt finds what an earlier one committed (an upload or run already
// "completed" is not done again) or replaces its uncommitted work (writers commit all or nothing).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "detect/registry.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "store/store.h"

namespace granska::jobs {

// What process_uploaded_file needs besides its upload (the job's payload).
struct UploadTask {
    std::string path;       // the stored file
    std::string file_name;  // as uploaded, for messages
    // The upload form's parse and calendar fields as sent (ingest::ParseOptionsFromFields, CalendarFromFields).
    std::map<std::string, std::string, std::less<>> fields;
    uint64_t max_rows = 0;  // 0 = the parser's default limit
    std::string run_id;     // the run to queue once the file is in; "" for none
};

std::string UploadTaskJson(const UploadTask& task);

// The tasks by job kind (store::kProcessUploadedFile, store::kRunAnomalyDetection). The store, registry and queue
// must outlive the tasks; the queue announces the analysis an upload chains.
std::map<std::string, Task, std::less<>> BuiltinTasks(store::Store& store, const detect::Registry& registry,
                                                      JobQueue& queue);

// "<host>:<pid>": this process's name for its workers in the jobs table ("<host>:<pid>/<thread>").
std::string ProcessWorkerName();

// Creates the job of a run (Store::CreateJob) and announces it.
store::Job QueueRunJob(store::Store& store, JobQueue& queue, const store::Run& run);

}  // namespace granska::jobs
