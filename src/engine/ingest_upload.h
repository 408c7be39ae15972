#pragma once
// Ingest one file into an upload: parse (ingest), transform (ids, features) and write (store), streamed in
// batches. All or nothing: on bad input the upload ends "failed" with the error and no rows.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "ingest/csv_reader.h"
#include "store/store.h"

namespace granska::engine {

struct IngestOptions {
    ingest::CsvOptions csv;
    // Bytes read so far and the file size.
    std::function<void(uint64_t bytes_read, uint64_t total_bytes)> progress;
};

struct IngestReport {
    int64_t rows = 0;
    ingest::CsvSummary csv;
};

// The upload must exist (Store::CreateUpload). Marks it processing, then completed or failed.
// Bad input returns its Error (file, line, column); a store failure throws after marking the upload failed.
Expected<IngestReport> IngestFile(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                                  const std::filesystem::path& path, const IngestOptions& options);

}  // namespace granska::engine
