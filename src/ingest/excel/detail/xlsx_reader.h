#pragma once
// Reads an xlsx workbook: the sheet list and date system (xl/workbook.xml and its relationships), which cell
// styles are dates (xl/styles.xml), the shared strings, then one sheet streamed row by row as Cells:
// - strings (shared, inline, formula results) as kText, numbers as kNumber with their decimal text, booleans as
//   kBool, numbers in a date style and ISO date cells as kDate, error values (#N/A) as kText;
// - cell references (r="C7") place each cell in its column, so skipped empty cells stay empty.
// Only the shared strings stay in memory (capped); the sheet is parsed while it inflates.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/expected.h"
#include "ingest/excel/detail/zip_xml.h"
#include "ingest/parser.h"
#include "ingest/row_mapper.h"

namespace granska::ingest::detail {

// Memory the shared strings may take; beyond it the workbook is refused ("shared_strings_too_large").
inline constexpr size_t kMaxSharedStringBytes = size_t{1} << 30;

struct XlsxSheet {
    std::string name;
    std::string part;  // "xl/worksheets/sheet1.xml"
};

// One row of a sheet: its 1-based number and its cells from column A to the last non-empty one. The cells' text
// lives until the handler returns.
using SheetRowHandler = std::function<Expected<void>(int64_t line, std::span<const Cell> cells)>;

class XlsxWorkbook {
public:
    // Reads everything but the sheets; options must outlive the workbook. Errors: those of XlsxPackage,
    // "shared_strings_too_large", "field_too_long".
    static Expected<XlsxWorkbook> Open(const std::filesystem::path& path, const ParseOptions& options,
                                       size_t max_shared_string_bytes = kMaxSharedStringBytes);

    const std::vector<XlsxSheet>& sheets() const { return sheets_; }
    bool date1904() const { return date1904_; }

    // Streams sheet `index`, calling on_row for each row with at least one non-empty cell, in file order; an error
    // from on_row stops the read and is returned. Errors of its own: those of XlsxPackage::ParseXml,
    // "bad_cell_reference", "bad_shared_string", "field_too_long", "row_too_large".
    Expected<void> ReadSheet(size_t index, const SheetRowHandler& on_row, const ByteProgress& progress = {});

private:
    XlsxWorkbook(XlsxPackage package, const ParseOptions& options) : package_(std::move(package)), options_(&options) {}

    XlsxPackage package_;
    const ParseOptions* options_;
    std::vector<XlsxSheet> sheets_;
    bool date1904_ = false;
    std::vector<bool> date_styles_;         // by cellXfs index
    std::string shared_text_;               // the shared strings, back to back
    std::vector<uint32_t> shared_offsets_;  // start of string i; one extra entry at the end
};

}  // namespace granska::ingest::detail
