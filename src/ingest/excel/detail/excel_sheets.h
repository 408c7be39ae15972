#pragma once
// Sheet choice shared by the xlsx and xls parsers: the sheet the user named, or every sheet in order (the parser
// takes the first with rows), and the errors when there is none.

#include <cstddef>
#include <string>
#include <vector>

#include "core/expected.h"
#include "ingest/parser.h"

namespace granska::ingest::detail {

// The indexes of the sheets to try, in order: the one ParseOptions::sheet names (exact name first, then ignoring
// ASCII case), or all of them. Error "unknown_sheet" lists the sheets.
Expected<std::vector<size_t>> SheetCandidates(const std::vector<std::string>& names, const ParseOptions& options);

// Error "empty_workbook": no candidate sheet has a non-empty row.
Error EmptyWorkbook(const std::vector<std::string>& names, const ParseOptions& options);

// {"sheets": ["Huvudbok", ...]} for ParseReport::details.
std::string SheetDetails(const std::vector<std::string>& names);

}  // namespace granska::ingest::detail
