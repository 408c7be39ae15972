#pragma once
// Ingest one file into an upload: detect the format and parse (ingest), transform (ids, features) and write
// (store), streamed in batches. All or nothing: a rejected file leaves the upload "failed" with the error, the
// validation report and no rows; an accepted one is "completed" with its report in the upload's metadata.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "ingest/parse_options.h"
#include "ingest/parser.h"
#include "store/store.h"

namespace granska::engine {

// The calendar an upload declares: the holiday country (processed_data's is_holiday and the frame's) and the first
// day of its fiscal year (the frame's fiscal periods). Kept in the upload's metadata as
// "calendar": {"country": "SE", "fiscal_year_start": "01-01"}, which transform::LoadFrame reads back.
struct UploadCalendar {
    std::string country = "SE";               // transform::HolidayCalendar::ForCountry: "SE" or "none"
    std::string fiscal_year_start = "01-01";  // "MM-DD"
};

// Reads "country" and "fiscal_year_start" from named values (a form's fields, a CLI's flags; the names of
// ingest::OptionLookup); a missing or empty one keeps the default. Values come back canonical ("se" → "SE",
// "--07-01" → "07-01"). Errors are kBadRequest with the field's name in `column`.
Expected<UploadCalendar> CalendarFromFields(const ingest::OptionLookup& lookup);

// The metadata an upload keeps: the parse's validation report (ingest::ReportToJson) with the calendar.
std::string UploadMetadataJson(const ingest::ParseReport& report, const UploadCalendar& calendar);

struct IngestOptions {
    ingest::ParseOptions parse;
    UploadCalendar calendar;  // checked by IngestFile: a bad one fails the upload
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

// The upload must exist (Store::CreateUpload). Marks it running, then completed or failed. Bad input comes
// back in report.parse.error (file, line, column) with the report's problems; a store failure throws after
// marking the upload failed.
IngestReport IngestFile(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                        const std::filesystem::path& path, const IngestOptions& options);

}  // namespace granska::engine
