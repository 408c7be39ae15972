#pragma once
// JSON and NDJSON ingest (Format::kJson), read with simdjson's On-Demand API.
//
// Shapes, found from the text:
// - "array":  a top-level array of objects, one per transaction: [{"date": ..., "amount": ...}, ...];
// - "object": an object with a member holding that array: {"transactions": [...]}. Any one member whose value is an
//             array of objects will do; with several, transactions / rows / data / items / records / entries win,
//             in that order. report.dialect["root"] names the member used;
// - "ndjson": one object per line (JSON Lines); blank lines are allowed. Chosen when the first line is a complete
//             object and more follows.
//
// Rows: nested objects are flattened with dotted keys ({"counterparty": {"name": "X"}} -> "counterparty.name");
// an array inside a row is kept as its JSON source text in one text column. Keys vary per object, so a first pass
// collects the union of keys in first-seen order as the header and a second pass hands the rows to RowMapper
// (missing keys are empty cells). Numbers go over as their exact source text (CellType::kNumber), never through
// a double, so amounts stay exact; strings are unescaped UTF-8 (kText), true/false kBool, null kEmpty. A key that
// appears twice in one object is a warning and the last value wins.
//
// Encoding: UTF-8, with or without a byte-order mark (report.encoding "utf-8" / "utf-8-bom"); invalid UTF-8 is an
// error naming the line. UTF-16 with a byte-order mark is transcoded to UTF-8 in memory (report.encoding
// "utf-16le" / "utf-16be"), since some Windows tools save JSON that way; UTF-16 without one is rejected.
// Dialect::encoding is not consulted: JSON is UTF-8 by definition (RFC 8259).
//
// Memory: simdjson needs the whole document in one padded buffer, so the file is loaded whole
// (padded_string::load). Peak memory is about twice the file for the array and object shapes (simdjson's structural
// index and string buffer on top of the text) and a little over the file for NDJSON, which is indexed line by
// line. Limits::max_depth bounds nesting (never above 1024), Limits::max_rows the objects, and a file may have at
// most 4096 distinct keys, since every row hands over one cell per key.
//
// Errors (codes): invalid_json (simdjson's reason, with the line), bad_encoding, empty_file, bad_json_root (the
// top level is not one of the shapes; the message says what was found), row_not_object, too_deep,
// field_too_long, too_many_rows and too_many_columns (kTooLarge), no_data_rows (an empty array), unreadable_file.

#include <memory>

#include "ingest/parser.h"

namespace granska::ingest {

std::unique_ptr<Parser> MakeJsonParser();

}  // namespace granska::ingest
