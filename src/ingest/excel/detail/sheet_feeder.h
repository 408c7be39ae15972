#pragma once
// Hands the rows of one sheet to a RowMapper, after finding the header: the first row among the first 50 non-empty
// ones whose cells resolve a column mapping (a date and an amount column), so titles and blank rows above the
// header are passed over. Shared by the xlsx and xls parsers.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/expected.h"
#include "ingest/parser.h"
#include "ingest/row_mapper.h"

namespace granska::ingest::detail {

class SheetFeeder {
public:
    static constexpr int kHeaderSearchRows = 50;

    // Problems name cells of `sheet` ("Huvudbok!C7"); the report gets dialect "header_row".
    SheetFeeder(const ParseOptions& options, ParseReport& report, const BatchSink& sink, std::string sheet);

    // One row of the sheet, 1-based line. Errors: no header in the first 50 rows (the code ResolveMapping gives,
    // e.g. "missing_column"), and the RowMapper's (limits such as "too_many_rows", bad rows under kRejectFile).
    Expected<void> AddRow(int64_t line, std::span<const Cell> cells);
    // After the last row: fails when no header was found or no row was accepted.
    Expected<void> Finish();

private:
    Expected<void> TryHeader(int64_t line, std::span<const Cell> cells);
    Error NoHeader() const;

    const ParseOptions& options_;
    ParseReport& report_;
    std::string sheet_;
    RowMapper mapper_;
    bool header_found_ = false;
    int rows_searched_ = 0;
    std::vector<std::string> candidate_;  // the row being tried as the header
    std::vector<std::string> best_;       // the fullest row tried, named in the error when none fits
    int64_t best_line_ = 0;
    size_t best_filled_ = 0;
};

}  // namespace granska::ingest::detail
