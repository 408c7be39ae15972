#pragma once
// Turns rows of cells from any tabular format (CSV, JSON, Excel, generic XML) into transactions, so every such
// format maps columns, reads dates and amounts, and treats bad rows the same way.
//
// - Columns map to fields by English and Swedish header names, an explicit mapping winning (column_mapping.h).
//   Separate debit and credit columns become one signed amount (debit positive, credit negative).
// - Formats the dialect leaves open are decided from the data: the first rows (up to kSampleRows) are held back
//   until the date order (ISO, YYYYMMDD, DD/MM/YYYY, MM/DD/YYYY, with '/', '.' or '-'), the decimal separator
//   and the thousands separator are known, then everything streams.
// - A bad row follows the bad-row policy: it fails the file, or it is skipped and reported as a Problem.
// - Unmapped columns go to raw_data, keyed by their header.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "ingest/parser.h"

namespace granska::ingest {

enum class CellType : uint8_t {
    kEmpty,   // no value (missing key, empty cell)
    kText,    // text as the file has it: dates and amounts in it are parsed with the dialect
    kNumber,  // a number the format stores as such: decimal text with '.', maybe an exponent ("689.81", "1E3")
    kDate,    // a date the format stores as such, already ISO: "2024-03-31" or "2024-03-31T13:05:00"
    kBool,    // "true" / "false"
};

struct Cell {
    CellType type = CellType::kEmpty;
    std::string_view text;  // valid UTF-8; only needs to live during AddRow
};

class RowMapper {
public:
    static constexpr size_t kSampleRows = 2000;

    // The report receives the dialect decisions, mapping, counts and problems; it must outlive the mapper.
    RowMapper(const ParseOptions& options, ParseReport& report, const BatchSink& sink);
    ~RowMapper();
    RowMapper(const RowMapper&) = delete;
    RowMapper& operator=(const RowMapper&) = delete;

    // Names the place of a cell in problems, e.g. "Huvudbok!C7" for (column index 2, line 7). Optional.
    void SetCellNamer(std::function<std::string(size_t column, int64_t line)> namer);
    // The decimal separator to assume when neither the dialect nor the data decides ('.' unless set; CSV sets
    // ',' for semicolon-separated files, as spreadsheets with a decimal comma write them).
    void SetDefaultDecimalSeparator(char separator);
    // What to check when a row has more or fewer fields than the header, e.g. "Check that the delimiter is ';'
    // (semicolon) and that fields containing it are quoted."
    void SetWrongWidthHint(std::string hint);

    // The header row, found on `line`. Resolves the mapping: a mapped column that does not exist, or no date or
    // no amount (nor debit/credit) column, is an error that fails the file.
    Expected<void> SetHeader(std::span<const std::string> headers, int64_t line);

    // One data row found on `line`. Cells beyond the header are an error (wrong column count) unless
    // allow_ragged; missing trailing cells are empty when allow_ragged (JSON objects, sheets), an error otherwise.
    // A row whose cells are all empty is skipped silently. Returns an error only when the file must stop (the
    // policy rejects the file, the sink failed, a limit was hit); a skipped bad row returns success.
    Expected<void> AddRow(std::span<const Cell> cells, int64_t line, bool allow_ragged = false);

    // Rows read so far (data rows, not counting all-empty ones).
    int64_t rows_read() const;

    // Flushes the last batch. Fails when no row was accepted (the message names the first problem, if any).
    Expected<void> Finish();

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace granska::ingest
