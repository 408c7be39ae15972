#pragma once
// The REST API (JSON everywhere, under /api/v1). httplib stays inside the .cpp files: this header is what
// main.cpp and tests see. Uploads are streamed to disk and processed by a job (202 + upload id; poll the status, or
// ask with ?wait=true for the answer once the file is in: bad input → 422 with file, line and column); analyses are
// jobs too (202 + run id). Jobs go through a jobs::JobQueue; the server runs `workers` of them itself.
//
// Errors are always {"error": code, "message": sentence, "line"?, "column"?, "file"?} with the status of
// HttpStatus(kind); an exception in a handler becomes a logged 500 {"error": "internal"}. The store is used from
// the HTTP threads and the analysis workers at once, so it must be safe for concurrent use (both backends are);
// it and the registry must outlive the Server.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"
#include "detect/registry.h"
#include "jobs/job_queue.h"
#include "store/store.h"

namespace granska::api {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;  // 0 = any free port (see Server::Port)
    std::filesystem::path upload_dir = "granska-data/uploads";
    uint64_t max_upload_bytes = 1ull << 30;  // 1 GiB
    uint64_t max_rows = 20'000'000;          // transactions per upload; a request may only lower it
    int http_threads = 8;
    int workers = 1;  // in-process job workers (uploads and analyses); 0 = leave the jobs to `granska worker`
    std::chrono::milliseconds job_lease{30'000};   // a worker that stops renewing for this long loses its job
    std::chrono::milliseconds stop_grace{10'000};  // Stop() lets running jobs finish this long, then hands them back
    std::chrono::seconds upload_wait{600};         // the longest an upload with ?wait=true waits for its processing
};

class Server {
public:
    // Jobs go through `queue` (which must outlive the server).
    Server(store::Store& store, const detect::Registry& registry, jobs::JobQueue& queue, ServerOptions options);
    // Jobs go through a local queue of the server's own (the embedded default).
    Server(store::Store& store, const detect::Registry& registry, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds the socket; a port in use is an error. Then Run() serves until Stop().
    Expected<void> Bind();
    int Port() const;
    void Run();
    // Thread-safe and idempotent: stops accepting, answers the requests in flight, lets running jobs finish for up to
    // stop_grace and hands the rest back to the queue; queued jobs stay queued for the next start or another worker.
    // Before Run() it only stops the workers.
    void Stop();

    // Every route served, as "GET /api/v1/strategies/{id}" (OpenAPI path form); the OpenAPI document describes each.
    std::vector<std::string> Routes() const;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace granska::api
