#pragma once
// Streaming CSV ingest (RFC 4180): quoted fields, doubled quotes, embedded newlines, UTF-8 BOM, CRLF;
// ',', ';' or tab sniffed from the header; '.' or ',' decimals following the delimiter unless given; ISO dates.
// Input must be UTF-8; reading stops at the first bad record (strict).
// The header row is mapped to transaction fields by English and Swedish names (column_mapping.h);
// every other column goes to raw_data. Rows arrive in batches, so memory does not grow with the file.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/transaction.h"
#include "ingest/column_mapping.h"
#include "ingest/parser.h"

namespace granska::ingest {

struct CsvOptions {
    std::optional<char> delimiter;          // sniffed from the header line when unset: ',', ';' or '\t'
    std::optional<char> decimal_separator;  // '.' or ','; when unset: ',' if the delimiter is ';', else '.'
    ColumnMapping mapping;                  // explicit field -> header choices; they win over synonyms
    size_t batch_size = 8192;
    std::string file_name;                       // used in error messages
    size_t chunk_bytes = size_t{1} << 20;        // bytes per read from the stream (tests make it tiny)
    size_t max_record_bytes = size_t{16} << 20;  // a longer record is an error, so memory stays bounded
};

struct CsvSummary {
    int64_t rows = 0;
    char delimiter = ',';
    char decimal_separator = '.';
    std::vector<std::string> headers;
    ResolvedMapping mapping;  // which header feeds which field
};


// Reads the whole stream. On bad input returns an InvalidInput error carrying file, line (1-based physical
// line where the offending record starts) and column (header name), and a message that says what to fix.
// Transactions come out with row_number set and external_id as the file has it ("" without an id column);
// transform assigns the stable ids.
Expected<CsvSummary> ReadCsv(std::istream& in, const CsvOptions& options, const BatchSink& sink,
                             const ByteProgress& progress = {});

}  // namespace granska::ingest
