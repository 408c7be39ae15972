#pragma once
// Delimited text (CSV, TSV, semicolon- or pipe-separated), streamed: RFC 4180 quoting with a configurable quote
// character, embedded line breaks, CRLF, LF or CR. The dialect is detected unless given:
// - encoding: a byte-order mark (UTF-8, UTF-16 LE/BE); otherwise UTF-8 when the bytes are valid UTF-8
//   (the whole file is checked first when reading from a path), else Windows-1252 (a superset of Latin-1);
// - delimiter: the most frequent of ',' ';' tab '|' outside quotes on the header line;
// - decimal and thousands separators and the date order: from the data (RowMapper), a decimal comma being
//   assumed for semicolon-separated files when the data does not say.
// Rows are mapped by RowMapper: header synonyms in English and Swedish, an explicit mapping winning; debit and
// credit columns; bad rows skipped and reported by default (BadRowPolicy). Memory does not grow with the file.

#include <istream>
#include <memory>

#include "ingest/parser.h"

namespace granska::ingest {

// Reads delimited text from a stream. Without a byte-order mark or a given encoding, only the first 64 KiB
// decide between UTF-8 and Windows-1252 (the path-based parser checks the whole file).
ParseReport ReadCsv(std::istream& in, const ParseOptions& options, const BatchSink& sink,
                    const ByteProgress& progress = {});

std::unique_ptr<Parser> MakeCsvParser();

}  // namespace granska::ingest
