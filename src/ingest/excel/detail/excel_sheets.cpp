#include "ingest/excel/detail/excel_sheets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "ingest/detail/text.h"

namespace granska::ingest::detail {

namespace {

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

std::string QuotedNames(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) {
        if (!out.empty()) out += ", ";
        out += fmt::format("\"{}\"", name);
    }
    return out.empty() ? "(none)" : out;
}

}  // namespace

Expected<std::vector<size_t>> SheetCandidates(const std::vector<std::string>& names, const ParseOptions& options) {
    std::vector<size_t> all;
    for (size_t i = 0; i < names.size(); ++i) all.push_back(i);
    if (options.sheet.empty()) return all;
    for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == options.sheet) return std::vector<size_t>{i};
    }
    for (size_t i = 0; i < names.size(); ++i) {
        if (EqualsIgnoringAsciiCase(names[i], options.sheet)) return std::vector<size_t>{i};
    }
    return Unexpected(
        FileError(options, "unknown_sheet",
                  fmt::format("The workbook has no sheet named \"{}\"; its sheets are {}. Choose one of them.",
                              Excerpt(options.sheet), QuotedNames(names))));
}

Error EmptyWorkbook(const std::vector<std::string>& names, const ParseOptions& options) {
    if (!options.sheet.empty()) {
        return FileError(options, "empty_sheet",
                         fmt::format("Sheet \"{}\" is empty; choose a sheet with transactions (the workbook's sheets "
                                     "are {}).",
                                     Excerpt(options.sheet), QuotedNames(names)));
    }
    return FileError(options, "empty_workbook",
                     fmt::format("No sheet of the workbook holds any data (sheets: {}); upload a workbook with "
                                 "transactions in it.",
                                 QuotedNames(names)));
}

std::string SheetDetails(const std::vector<std::string>& names) {
    std::string out = "{\"sheets\":[";
    for (size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += ',';
        AppendJsonString(out, IsValidUtf8(names[i]) ? std::string_view(names[i]) : std::string_view("?"));
    }
    out += "]}";
    return out;
}

}  // namespace granska::ingest::detail
