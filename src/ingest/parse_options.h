#pragma once
// The parse options a user sets by name — upload form fields and CLI flags use the same names and the same
// checks, so `--decimal ,` and `-F decimal=,` mean one thing:
//   format (csv json xlsx xls sie xml), delimiter (one character, or "tab"), quote (" or '), decimal (. or ,),
//   thousands (space . , ' or none), date_format (iso ymd dmy mdy), encoding (utf-8 utf-16le utf-16be
//   windows-1252 latin-1), sheet, element, lenient (true/false), bad_rows (skip_row reject_file),
//   mapping (JSON object field -> column), max_rows (a whole number).

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "ingest/parser.h"

namespace granska::ingest {

inline constexpr std::string_view kOptionNames[] = {"format",      "delimiter", "quote",   "decimal", "thousands",
                                                    "date_format", "encoding",  "sheet",   "element", "lenient",
                                                    "bad_rows",    "mapping",   "max_rows"};

// Reads the options from named values (a form's fields, a CLI's flags); a missing name keeps the default.
// Errors are kBadRequest ("bad_parameter") with the option's name in `column`, except a bad mapping, which is
// kInvalidInput from ParseColumnMapping.
using OptionLookup = std::function<std::optional<std::string>(std::string_view name)>;
Expected<ParseOptions> ParseOptionsFromFields(const OptionLookup& lookup);

// The explicit mapping as it is stored with an upload: canonical JSON of the choices, "{}" when none.
std::string MappingJson(const ColumnMapping& mapping);

}  // namespace granska::ingest
