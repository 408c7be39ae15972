#include "ingest/excel/detail/sheet_feeder.h"

#include <fmt/format.h>

#include <utility>

#include "ingest/column_mapping.h"
#include "ingest/detail/text.h"
#include "ingest/excel/detail/excel_cells.h"

namespace granska::ingest::detail {

namespace {

bool AllEmpty(std::span<const Cell> cells) {
    for (const Cell& cell : cells) {
        if (cell.type != CellType::kEmpty && !cell.text.empty()) return false;
    }
    return true;
}

}  // namespace

SheetFeeder::SheetFeeder(const ParseOptions& options, ParseReport& report, const BatchSink& sink, std::string sheet)
    : options_(options), report_(report), sheet_(std::move(sheet)), mapper_(options, report, sink) {
    mapper_.SetCellNamer([sheet = sheet_](size_t column, int64_t line) { return CellName(sheet, column, line); });
}

Expected<void> SheetFeeder::AddRow(int64_t line, std::span<const Cell> cells) {
    if (AllEmpty(cells)) return {};
    if (!header_found_) return TryHeader(line, cells);
    return mapper_.AddRow(cells, line, /*allow_ragged=*/true);
}

Expected<void> SheetFeeder::TryHeader(int64_t line, std::span<const Cell> cells) {
    candidate_.clear();
    size_t filled = 0;
    for (const Cell& cell : cells) {
        candidate_.emplace_back(TrimSpaces(cell.text));
        if (!cell.text.empty()) ++filled;
    }
    if (ResolveMapping(candidate_, options_.mapping)) {
        header_found_ = true;
        report_.dialect["header_row"] = std::to_string(line);
        return mapper_.SetHeader(candidate_, line);
    }
    if (filled > best_filled_) {
        best_ = candidate_;
        best_line_ = line;
        best_filled_ = filled;
    }
    if (++rows_searched_ >= kHeaderSearchRows) return Unexpected(NoHeader());
    return {};
}

Error SheetFeeder::NoHeader() const {
    Expected<ResolvedMapping> resolved = ResolveMapping(best_, options_.mapping);
    const Error& cause = resolved.error();
    return FileError(options_, cause.code,
                     fmt::format("Sheet {} has no header row among its first {} rows; its fullest row, row {}, does "
                                 "not do: {}",
                                 sheet_, kHeaderSearchRows, best_line_, cause.message),
                     best_line_, cause.column);
}

Expected<void> SheetFeeder::Finish() {
    if (!header_found_) return Unexpected(NoHeader());
    return mapper_.Finish();
}

}  // namespace granska::ingest::detail
