#pragma once
// Streaming XML reading with expat, hardened for untrusted uploads: any DOCTYPE is refused (so there is no entity
// expansion and no external entity), nesting is limited, and every text, attribute and markup token is limited in
// size, so memory stays bounded whatever the file holds. The file is read in chunks and never held whole. Errors
// carry the file, line and column and say what to do.
//
// Names are reported as local name plus namespace URI. Output text is UTF-8 whatever the file's encoding
// (UTF-8, UTF-16, ISO-8859-1, US-ASCII, and windows-1252 through our own table).

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "ingest/parser.h"

namespace granska::ingest::detail {

struct XmlAttribute {
    std::string_view name;  // local name
    std::string_view value;
};

struct XmlStart {
    std::string_view ns;    // namespace URI, "" when the element has none
    std::string_view name;  // local name
    std::span<const XmlAttribute> attributes;
    int64_t line = 0;  // 1-based line of the start tag
    int depth = 0;     // 1 for the root element
};

// Receives the elements in document order. An error stops the reading and is returned by ReadXml as it is.
class XmlHandler {
public:
    virtual ~XmlHandler() = default;
    virtual Expected<void> OnStart(const XmlStart& element) = 0;
    // leaf: the element had no child elements; text is then its whole text content (otherwise empty).
    virtual Expected<void> OnEnd(std::string_view name, std::string_view text, bool leaf) = 0;
};

struct XmlStreamSummary {
    std::string encoding;  // "utf-8", "utf-8-bom", "utf-16le", "utf-16be", or as declared ("iso-8859-1", ...)
    uint64_t bytes = 0;    // bytes of the file read
};

// s without XML whitespace (space, tab, CR, LF) at either end.
inline std::string_view TrimXmlSpace(std::string_view s) {
    const size_t first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Reads the whole file through the handler, options.chunk_bytes at a time. Errors (InvalidInput unless noted):
// "dtd_not_allowed", "entity_not_allowed", "too_deep", "field_too_long", "malformed_xml", "unsupported_encoding",
// "unreadable_file". Exceptions thrown by the handler pass through unchanged.
Expected<XmlStreamSummary> ReadXml(const std::filesystem::path& path, const ParseOptions& options, XmlHandler& handler,
                                   const ByteProgress& progress);

}  // namespace granska::ingest::detail
