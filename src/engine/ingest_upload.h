#pragma once
// Ingest one file into an upload: detect the format and parse (ingest), transform (ids, features) and write
// (store), streamed in batches. All or nothing: a rejected file leaves the upload "failed" with the error, the
// validation report and no rows; an accepted one is "completed" with its report in the upload's metadata.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "ingest/parser.h"
#include "store/store.h"

namespace granska::engine {

struct IngestOptions {
    ingest::ParseOptions parse;
    // Bytes read so far and the file size.
    std::function<void(uint64_t bytes_read, uint64_t total_bytes)> progress;
};

struct IngestReport {
    int64_t rows = 0;           // rows stored
    ingest::ParseReport parse;  // parse.error is set when the file was rejected
    bool ok() const { return parse.ok(); }
};

// The parsers of every built-in format, registered once.
const ingest::ParserRegistry& BuiltinParsers();

// The upload must exist (Store::CreateUpload). Marks it processing, then completed or failed. Bad input comes
// back in report.parse.error (file, line, column) with the report's problems; a store failure throws after
// marking the upload failed.
IngestReport IngestFile(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                        const std::filesystem::path& path, const IngestOptions& options);

}  // namespace granska::engine
