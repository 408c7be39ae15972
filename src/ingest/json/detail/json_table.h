#pragma once
// The JSON reader behind MakeJsonParser, split from the Parser so tests and the fuzzer can drive it from memory.
// It turns a JSON document into a table: the header is the union of the rows' (flattened) keys in first-seen
// order, found by a first pass; a second pass hands each row over as cells aligned with that header.
// json_parser.h describes the accepted shapes and the conversion of values.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "ingest/parser.h"
#include "ingest/row_mapper.h"

namespace granska::ingest::detail {

// What the first pass found.
struct JsonTable {
    std::string encoding;  // "utf-8", "utf-8-bom", "utf-16le", "utf-16be"
    std::string shape;     // "array", "object", "ndjson"
    std::string root;      // shape "object": the member that holds the rows
    std::vector<std::string> headers;
    int64_t rows = 0;        // objects in the table (empty ones included)
    int64_t first_line = 0;  // line of the first row
};

// Receives one row: cells[i] belongs to headers[i]; the texts live until the callback returns.
using JsonRowCallback = std::function<Expected<void>(std::span<const Cell> cells, int64_t line)>;

class JsonTableReader {
public:
    // Most distinct keys a file may have: each row hands over one cell per key.
    static constexpr size_t kMaxColumns = 4096;
    // Deepest nesting read whatever Limits::max_depth says, so recursion stays within the stack.
    static constexpr int kMaxSupportedDepth = 1024;

    explicit JsonTableReader(const ParseOptions& options);  // options must outlive the reader
    ~JsonTableReader();
    JsonTableReader(const JsonTableReader&) = delete;
    JsonTableReader& operator=(const JsonTableReader&) = delete;

    // Loads the whole file, decodes it, finds its shape and collects the header (the first pass).
    Expected<JsonTable> Load(const std::filesystem::path& path);
    // The same for bytes already in memory (they are copied).
    Expected<JsonTable> LoadBytes(std::string_view bytes);

    // The second pass: every row, in file order. Duplicate keys in a row are warnings in `report`; the last value
    // wins. Stops at the first error, from the JSON or from `row`.
    Expected<void> ReadRows(const JsonRowCallback& row, ParseReport& report, const ByteProgress& progress = {});

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// A whole parse of JSON bytes in memory, as JsonParser::Parse does for a file: reader, RowMapper and report.
ParseReport ParseJsonBytes(std::string_view bytes, const ParseOptions& options, const BatchSink& sink,
                           const ByteProgress& progress = {});

// Fills the report from a loaded reader: the second pass through a RowMapper.
ParseReport ReadJsonTable(JsonTableReader& reader, Expected<JsonTable> table, const ParseOptions& options,
                          const BatchSink& sink, const ByteProgress& progress);

}  // namespace granska::ingest::detail
