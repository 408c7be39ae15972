#pragma once
// The one interface every input format implements, the options a user can set, and the validation report a
// parse produces. Parsers never see HTTP, SQL or Redis: they read a file and hand transactions to a sink in
// batches.
//
// Two kinds of parsers:
// - tabular formats (CSV, JSON, Excel, generic XML) find a header and rows of cells and hand them to a
//   RowMapper (row_mapper.h), which maps columns to fields, decides date and number formats from the data and
//   applies the bad-row policy;
// - ledger formats with fixed meaning (SIE4, camt.053/054) build transactions themselves.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/expected.h"
#include "core/transaction.h"
#include "ingest/column_mapping.h"

namespace granska::ingest {

enum class Format { kCsv, kJson, kXlsx, kXls, kSie, kXml };

std::string_view FormatName(Format format);                   // "csv", "json", "xlsx", "xls", "sie", "xml"
std::optional<Format> FormatFromName(std::string_view name);  // case-insensitive; also "sie4", "se", "camt"

enum class Severity { kError, kWarning, kInfo };
std::string_view SeverityName(Severity severity);  // "error", "warning", "info"

// One finding about the file: a rejected row, a repaired value, a SIE deviation.
struct Problem {
    Severity severity = Severity::kError;
    std::string code;             // stable, snake_case: "bad_date", "unbalanced_voucher", ...
    std::string message;          // a sentence that says what is wrong and what to do
    std::optional<int64_t> line;  // 1-based physical line (text formats) or row (sheets), when known
    std::string location;         // finer place when it helps: "Huvudbok!C7", "voucher A 12", "Stmt 2 / Ntry 5"
    std::string field;            // the column / field / label concerned, when one is
};

// What to do with a row that cannot be read (bad date, bad amount, wrong column count...).
enum class BadRowPolicy {
    kFormatDefault,  // kRejectFile for SIE and camt, kSkipRow for CSV, JSON, Excel and generic XML
    kRejectFile,     // the first bad row fails the whole file; nothing is loaded
    kSkipRow,        // good rows are loaded; each bad row is a Problem and counts as rejected
};
std::optional<BadRowPolicy> BadRowPolicyFromName(std::string_view name);  // "default", "reject_file", "skip_row"

// Guards against hostile or mistaken files. Exceeding one is a clear error: kTooLarge (413) for sizes and counts (rows,
// a value, inflated bytes), kInvalidInput (422) for structure.
struct Limits {
    uint64_t max_rows = 20'000'000;                       // data rows (transactions) per file
    size_t max_field_bytes = size_t{1} << 20;             // one value (cell, field, JSON string)
    uint64_t max_uncompressed_bytes = uint64_t{4} << 30;  // xlsx: total inflated size of the parts read
    double max_compression_ratio = 200.0;                 // xlsx: inflated / compressed, per entry (zip bombs)
    int max_depth = 256;                                  // XML and JSON nesting
};

// How a text file is written. Each unset value is detected from the file and reported.
struct Dialect {
    std::optional<char> delimiter;            // CSV: ',' ';' '\t' '|'
    std::optional<char> quote;                // CSV: '"' (default) or '\''
    std::optional<char> decimal_separator;    // '.' or ','
    std::optional<char> thousands_separator;  // ' ' '.' ',' '\'' ; '\0' = none allowed
    std::optional<std::string> date_format;   // "iso", "ymd" (YYYYMMDD), "dmy", "mdy"
    std::optional<std::string> encoding;      // "utf-8", "utf-16le", "utf-16be", "windows-1252", "latin-1"
};

struct ParseOptions {
    std::optional<Format> format;  // overrides detection
    Dialect dialect;
    ColumnMapping mapping;    // explicit field -> column choices; they win over synonyms
    std::string sheet;        // xlsx/xls: the sheet by name; "" = the first non-empty sheet
    std::string xml_element;  // generic XML: path of the repeated element ("Export/Rows/Row"); "" = detected
    bool lenient = false;     // SIE: accept what can be read safely, keeping the diagnostics
    BadRowPolicy bad_rows = BadRowPolicy::kFormatDefault;
    Limits limits;
    size_t batch_size = 8192;
    std::string file_name;                       // the user's name for the file, used in messages
    size_t chunk_bytes = size_t{1} << 20;        // bytes per read (tests make it tiny)
    size_t max_record_bytes = size_t{16} << 20;  // CSV: one record, so memory stays bounded
};

// What the parse found, kept in file_uploads.metadata and shown by the status endpoint and the CLI.
struct ParseReport {
    static constexpr size_t kMaxProblems = 100;

    Format format = Format::kCsv;
    bool format_detected = true;  // false when the user chose it
    std::string encoding;         // "utf-8", "utf-8-bom", "utf-16le", "windows-1252", "cp437", ...
    // How the file is written, as detected or given: "delimiter", "quote", "decimal_separator",
    // "thousands_separator", "date_format", "sheet", "header_row", "element", ... (values as shown to users).
    std::map<std::string, std::string> dialect;
    std::vector<std::string> headers;            // tabular formats: the header row
    std::map<std::string, std::string> mapping;  // field name -> column it came from
    int64_t rows_read = 0;                       // data rows (or SIE #TRANS records) seen
    int64_t rows_accepted = 0;                   // handed to the sink
    int64_t rows_rejected = 0;      // bad rows skipped (kSkipRow), or SIE rows not loaded (removed #RTRANS twins...)
    std::vector<Problem> problems;  // the first kMaxProblems, in file order
    int64_t error_count = 0;        // all of them, also beyond kMaxProblems
    int64_t warning_count = 0;
    int64_t info_count = 0;
    std::string details = "{}";  // JSON object with format-specific facts (SIE: company, #RAR, vouchers ...)
    std::optional<Error> error;  // set when the file is rejected: nothing may be loaded

    // Counts the problem and keeps it when there is room.
    void Add(Problem problem);
    bool ok() const { return !error.has_value(); }
};

// The report as a JSON object (the shape file_uploads.metadata and the API use).
std::string ReportToJson(const ParseReport& report);

// Receives each batch; returning an error stops the parse with that error. The span is valid only during the
// call; move rows out to keep them.
using BatchSink = std::function<Expected<void>(std::span<Transaction> batch)>;
// Called now and then with the bytes of the file consumed so far.
using ByteProgress = std::function<void(uint64_t bytes_read)>;

class Parser {
public:
    virtual ~Parser() = default;
    virtual Format format() const = 0;
    // Reads the file. Rows go to sink with row_number (1-based, file order), source_line and, when the file has
    // one, external_id set; transform assigns the stable ids. A rejected file returns a report with `error` set;
    // the sink may already have received rows, which the caller discards (uploads are all or nothing).
    virtual ParseReport Parse(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                              const ByteProgress& progress) const = 0;
};

// The parsers by format. Filled explicitly (RegisterBuiltinParsers), never by static initialisers.
class ParserRegistry {
public:
    void Register(std::unique_ptr<Parser> parser);  // one per format; a second one replaces the first
    const Parser* Find(Format format) const;
    std::vector<Format> Formats() const;

private:
    std::map<Format, std::unique_ptr<Parser>> parsers_;
};

void RegisterBuiltinParsers(ParserRegistry& registry);

// The format of a file from its first bytes (at least 4 KiB when the file has them): zip magic -> xlsx,
// D0 CF 11 E0 -> xls, a first record starting with '#' -> sie, '<' -> xml, '[' or '{' -> json (after an optional
// byte-order mark and whitespace), otherwise csv.
Format DetectFormat(std::string_view head);
// DetectFormat on the file's first bytes; nullopt when it cannot be read.
std::optional<Format> DetectFileFormat(const std::filesystem::path& path);

// Detects the format (unless options.format is set), picks the parser and runs it. A missing or unreadable file
// and a format without a parser are reported in `error`.
ParseReport ParseFile(const ParserRegistry& registry, const std::filesystem::path& path, const ParseOptions& options,
                      const BatchSink& sink, const ByteProgress& progress = {});

// An InvalidInput error with the file name filled in, for parsers.
Error FileError(const ParseOptions& options, std::string code, std::string message,
                std::optional<int64_t> line = std::nullopt, std::string column = {});

}  // namespace granska::ingest
