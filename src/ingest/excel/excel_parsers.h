#pragma once
// The Excel parsers: .xlsx (Office Open XML, read with libzip and expat) and .xls (BIFF, read with freexl).
// Both take the first non-empty sheet, or the one named in ParseOptions::sheet, find the header row among the
// sheet's first 50 rows (a title and blank rows may sit above it) and hand typed cells to a RowMapper: numbers,
// dates (from date-styled serial numbers, 1900 or 1904 system), booleans and text. Problems name cells
// "Huvudbok!C7". The report carries dialect "sheet", "header_row" and "date_system", and the sheet names in
// details ({"sheets": [...]}).

#include <memory>

#include "ingest/parser.h"

namespace granska::ingest {

std::unique_ptr<Parser> MakeXlsxParser();  // Format::kXlsx
std::unique_ptr<Parser> MakeXlsParser();   // Format::kXls

}  // namespace granska::ingest
