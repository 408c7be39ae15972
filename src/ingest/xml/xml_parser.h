#pragma once
// The parser for all XML uploads (Format::kXml). It looks at the root element and its namespace and reads
//   - ISO 20022 camt.053 statements and camt.054 notifications (any version) as bank transactions with fixed
//     meaning (detail/camt_reader.h): report.dialect["mode"] = "camt.053" / "camt.054";
//   - anything else as generic records (report.dialect["mode"] = "generic"): one repeated element is one
//     transaction and its child elements and attributes are the columns handed to the RowMapper. The element is
//     options.xml_element or detected (report.dialect["element"]).
// Generic mode reads the file twice: the first pass learns the element paths, which element repeats and the union
// of the fields its occurrences have (the header); the second hands complete rows to the RowMapper. Both passes
// stream, so memory does not grow with the number of rows.
//
// The file is read with expat in chunks of options.chunk_bytes; DTDs are refused, nesting is limited by
// options.limits.max_depth and values by max_field_bytes (detail/xml_stream.h).

#include <memory>

#include "ingest/parser.h"

namespace granska::ingest {

std::unique_ptr<Parser> MakeXmlParser();

}  // namespace granska::ingest
