#include "ingest/xml/detail/xml_stream.h"

#include <expat.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include "ingest/detail/text.h"
#include "ingest/detail/windows_1252.h"

namespace granska::ingest::detail {

namespace {

constexpr XML_Char kNamespaceSeparator = '\x01';  // cannot occur in a well-formed name or namespace URI
constexpr size_t kMaxNameBytes = 1024;            // element and attribute names
constexpr size_t kMaxChunkBytes = size_t{1} << 30;
// Markup around a value (quotes, names, other attributes) that a pending token may hold beyond two values' worth.
constexpr uint64_t kTokenSlackBytes = uint64_t{64} * 1024;

// Single-byte encodings expat does not know itself.
int XMLCALL HandleUnknownEncoding(void* /*data*/, const XML_Char* name, XML_Encoding* info) {
    const std::string lower = AsciiLower(name);
    const bool windows = lower == "windows-1252" || lower == "cp1252";
    if (!windows && lower != "latin-1" && lower != "latin1") return XML_STATUS_ERROR;
    for (int byte = 0; byte < 256; ++byte) info->map[byte] = byte;
    if (windows) {
        for (int byte = 0x80; byte < 0xA0; ++byte) {
            const int code_point = kWindows1252High[static_cast<size_t>(byte - 0x80)];
            info->map[byte] = code_point == 0 ? -1 : code_point;  // expat: -1 = not a character
        }
    }
    info->data = nullptr;
    info->convert = nullptr;
    info->release = nullptr;
    return XML_STATUS_OK;
}

// The name expat knows for a Dialect encoding.
std::optional<std::string> ExpatEncodingName(std::string_view dialect_encoding) {
    const std::string lower = AsciiLower(dialect_encoding);
    if (lower == "utf-8") return "UTF-8";
    if (lower == "utf-16le") return "UTF-16LE";
    if (lower == "utf-16be") return "UTF-16BE";
    if (lower == "latin-1" || lower == "iso-8859-1") return "ISO-8859-1";
    if (lower == "windows-1252") return "windows-1252";
    return std::nullopt;
}

std::pair<std::string_view, std::string_view> SplitName(const XML_Char* qualified) {
    const std::string_view name(qualified);
    const size_t separator = name.find(kNamespaceSeparator);
    if (separator == std::string_view::npos) return {{}, name};
    return {name.substr(0, separator), name.substr(separator + 1)};
}

class ExpatReader {
public:
    ExpatReader(const ParseOptions& options, XmlHandler& handler) : options_(options), handler_(handler) {}
    ~ExpatReader() {
        if (parser_ != nullptr) XML_ParserFree(parser_);
    }
    ExpatReader(const ExpatReader&) = delete;
    ExpatReader& operator=(const ExpatReader&) = delete;

    Expected<XmlStreamSummary> Read(const std::filesystem::path& path, const ByteProgress& progress);

private:
    static void XMLCALL OnStartElement(void* data, const XML_Char* name, const XML_Char** attributes);
    static void XMLCALL OnEndElement(void* data, const XML_Char* name);
    static void XMLCALL OnCharacterData(void* data, const XML_Char* text, int length);
    static void XMLCALL OnStartDoctype(void* data, const XML_Char* name, const XML_Char* system_id,
                                       const XML_Char* public_id, int has_internal_subset);
    static void XMLCALL OnXmlDecl(void* data, const XML_Char* version, const XML_Char* encoding, int standalone);
    static void XMLCALL OnOther(void* data, const XML_Char* text, int length);

    // Runs a callback body unless reading has stopped; an exception stops reading and is rethrown by Read.
    template <typename Body>
    static void Guarded(void* data, Body body) {
        auto& self = *static_cast<ExpatReader*>(data);
        if (self.stopped_) return;
        self.last_event_byte_ = XML_GetCurrentByteIndex(self.parser_);
        try {
            Expected<void> result = body(self);
            if (!result) self.Stop(std::move(result).error());
        } catch (...) {
            self.exception_ = std::current_exception();
            self.Stop(std::nullopt);
        }
    }

    void Stop(std::optional<Error> error) {
        error_ = std::move(error);
        stopped_ = true;
        XML_StopParser(parser_, XML_FALSE);
    }
    int64_t Line() const { return static_cast<int64_t>(XML_GetCurrentLineNumber(parser_)); }
    Error FileErrorHere(std::string code, std::string message) const {
        return FileError(options_, std::move(code), std::move(message), Line());
    }
    Expected<void> Start(const XML_Char* name, const XML_Char** attributes);
    Expected<void> End(const XML_Char* name);
    Error ExpatError() const;
    Expected<void> Feed(std::ifstream& in, bool& done);

    const ParseOptions& options_;
    XmlHandler& handler_;
    XML_Parser parser_ = nullptr;
    XmlStreamSummary summary_;
    std::optional<Error> error_;
    std::exception_ptr exception_;
    bool stopped_ = false;
    int depth_ = 0;
    bool leaf_ = false;  // the innermost open element has no child element so far
    std::string text_;   // text of the innermost open element while it is a leaf
    std::vector<XmlAttribute> attributes_;
    XML_Index last_event_byte_ = 0;
    std::string declared_encoding_;
};

void XMLCALL ExpatReader::OnStartElement(void* data, const XML_Char* name, const XML_Char** attributes) {
    Guarded(data, [&](ExpatReader& self) { return self.Start(name, attributes); });
}

void XMLCALL ExpatReader::OnEndElement(void* data, const XML_Char* name) {
    Guarded(data, [&](ExpatReader& self) { return self.End(name); });
}

// The hottest callback (indentation between elements, short values), so it skips Guarded's Expected values.
void XMLCALL ExpatReader::OnCharacterData(void* data, const XML_Char* text, int length) {
    auto& self = *static_cast<ExpatReader*>(data);
    if (self.stopped_) return;
    self.last_event_byte_ = XML_GetCurrentByteIndex(self.parser_);
    if (!self.leaf_) return;  // text between child elements carries no value
    const std::string_view chunk(text, static_cast<size_t>(length));
    if (self.text_.size() + chunk.size() > self.options_.limits.max_field_bytes) {
        self.Stop(self.FileErrorHere(
            "field_too_long",
            fmt::format("The text of an element on line {} is longer than the limit of {} bytes. Shorten the value "
                        "or raise the field size limit.",
                        self.Line(), self.options_.limits.max_field_bytes)));
        return;
    }
    try {
        self.text_.append(chunk);
    } catch (...) {
        self.exception_ = std::current_exception();
        self.Stop(std::nullopt);
    }
}

void XMLCALL ExpatReader::OnStartDoctype(void* data, const XML_Char* /*name*/, const XML_Char* /*system_id*/,
                                         const XML_Char* /*public_id*/, int /*has_internal_subset*/) {
    Guarded(data, [](ExpatReader& self) -> Expected<void> {
        return Unexpected(self.FileErrorHere(
            "dtd_not_allowed",
            fmt::format("The file has a DOCTYPE declaration on line {}; DTDs are refused for safety (they allow "
                        "entity expansion attacks and reading other files). Export the XML without a DOCTYPE.",
                        self.Line())));
    });
}

void XMLCALL ExpatReader::OnXmlDecl(void* data, const XML_Char* /*version*/, const XML_Char* encoding,
                                    int /*standalone*/) {
    Guarded(data, [&](ExpatReader& self) -> Expected<void> {
        if (encoding != nullptr) self.declared_encoding_ = AsciiLower(encoding);
        return {};
    });
}

// Comments, processing instructions and whitespace outside the root: only their position matters.
void XMLCALL ExpatReader::OnOther(void* data, const XML_Char* /*text*/, int /*length*/) {
    Guarded(data, [](ExpatReader&) { return Expected<void>{}; });
}

Expected<void> ExpatReader::Start(const XML_Char* name, const XML_Char** attributes) {
    ++depth_;
    if (depth_ > options_.limits.max_depth) {
        return Unexpected(FileErrorHere(
            "too_deep", fmt::format("Elements are nested more than {} levels deep on line {}; such files are refused "
                                    "to keep memory bounded. Check that the file is a data export.",
                                    options_.limits.max_depth, Line())));
    }
    const auto [ns, local] = SplitName(name);
    if (local.size() > kMaxNameBytes) {
        return Unexpected(FileErrorHere(
            "name_too_long", fmt::format("An element name on line {} is longer than {} bytes; check that the file "
                                         "is a data export.",
                                         Line(), kMaxNameBytes)));
    }
    attributes_.clear();
    for (const XML_Char** attribute = attributes; *attribute != nullptr; attribute += 2) {
        const std::string_view attribute_name = SplitName(attribute[0]).second;
        const std::string_view value(attribute[1]);
        if (attribute_name.size() > kMaxNameBytes) {
            return Unexpected(FileErrorHere(
                "name_too_long", fmt::format("An attribute name on line {} is longer than {} bytes; check that the "
                                             "file is a data export.",
                                             Line(), kMaxNameBytes)));
        }
        if (value.size() > options_.limits.max_field_bytes) {
            Error error = FileErrorHere(
                "field_too_long",
                fmt::format("The attribute '{}' of <{}> on line {} is {} bytes long, more than the limit of {} bytes. "
                            "Shorten the value or raise the field size limit.",
                            Excerpt(attribute_name), Excerpt(local), Line(), value.size(),
                            options_.limits.max_field_bytes));
            error.column = fmt::format("@{}", Excerpt(attribute_name));
            return Unexpected(std::move(error));
        }
        attributes_.push_back({attribute_name, value});
    }
    text_.clear();
    leaf_ = true;
    return handler_.OnStart({.ns = ns, .name = local, .attributes = attributes_, .line = Line(), .depth = depth_});
}

Expected<void> ExpatReader::End(const XML_Char* name) {
    const std::string_view local = SplitName(name).second;
    const bool leaf = leaf_;
    Expected<void> result = handler_.OnEnd(local, leaf ? std::string_view(text_) : std::string_view{}, leaf);
    text_.clear();
    leaf_ = false;  // the parent now has a child
    --depth_;
    return result;
}

Error ExpatReader::ExpatError() const {
    const XML_Error code = XML_GetErrorCode(parser_);
    const int64_t line = Line();
    const auto column = static_cast<int64_t>(XML_GetCurrentColumnNumber(parser_)) + 1;
    const std::string where = fmt::format("line {}, column {}", line, column);
    if (code == XML_ERROR_UNDEFINED_ENTITY) {
        return FileError(options_, "entity_not_allowed",
                         fmt::format("An entity reference at {} is not defined; only &amp; &lt; &gt; &quot; &apos; "
                                     "and character references like &#228; are allowed, since DTDs are refused. "
                                     "Replace the entity with the character it stands for.",
                                     where),
                         line);
    }
    if (code == XML_ERROR_UNKNOWN_ENCODING) {
        return FileError(options_, "unsupported_encoding",
                         fmt::format("The encoding '{}' declared by the file is not supported; save the file as "
                                     "UTF-8 (or UTF-16, ISO-8859-1, windows-1252).",
                                     Excerpt(declared_encoding_)),
                         line);
    }
    return FileError(options_, "malformed_xml",
                     fmt::format("The file is not well-formed XML: {} at {}. Check that the file is complete (not cut "
                                 "off) and saved as XML in the encoding it declares, then upload it again.",
                                 XML_ErrorString(code), where),
                     line);
}

Expected<void> ExpatReader::Feed(std::ifstream& in, bool& done) {
    const size_t chunk = std::min(options_.chunk_bytes, kMaxChunkBytes);
    void* buffer = XML_GetBuffer(parser_, static_cast<int>(chunk));
    if (buffer == nullptr) return Unexpected(Internal("The XML parser ran out of memory."));
    in.read(static_cast<char*>(buffer), static_cast<std::streamsize>(chunk));
    const auto got = static_cast<size_t>(in.gcount());
    if (in.bad()) {
        return Unexpected(FileError(options_, "unreadable_file", "Reading the file failed midway; upload it again."));
    }
    if (summary_.bytes == 0) {
        const std::string_view head(static_cast<const char*>(buffer), got);
        if (head.starts_with("\xEF\xBB\xBF")) summary_.encoding = "utf-8-bom";
        if (head.starts_with("\xFF\xFE")) summary_.encoding = "utf-16le";
        if (head.starts_with("\xFE\xFF")) summary_.encoding = "utf-16be";
    }
    summary_.bytes += got;
    done = got < chunk;
    const XML_Status status = XML_ParseBuffer(parser_, static_cast<int>(got), done ? XML_TRUE : XML_FALSE);
    if (exception_) std::rethrow_exception(exception_);
    if (error_) return Unexpected(*error_);
    if (status != XML_STATUS_OK) return Unexpected(ExpatError());
    // A token expat still holds (a tag, a comment) is bounded like a value, so memory is too.
    const uint64_t pending = summary_.bytes - static_cast<uint64_t>(std::max<XML_Index>(last_event_byte_, 0));
    if (!done && pending > 2 * uint64_t{options_.limits.max_field_bytes} + kTokenSlackBytes) {
        return Unexpected(FileErrorHere(
            "field_too_long", fmt::format("A tag, attribute value or comment starting near line {} is longer than the "
                                          "limit of {} bytes. Shorten it or raise the field size limit.",
                                          Line(), options_.limits.max_field_bytes)));
    }
    return {};
}

Expected<XmlStreamSummary> ExpatReader::Read(const std::filesystem::path& path, const ByteProgress& progress) {
    if (options_.chunk_bytes == 0) return Unexpected(BadRequest("bad_option", "The chunk size must be at least 1."));
    std::optional<std::string> forced;
    if (options_.dialect.encoding) {
        forced = ExpatEncodingName(*options_.dialect.encoding);
        if (!forced) {
            return Unexpected(
                BadRequest("bad_option", fmt::format("The encoding '{}' is not supported for XML; use utf-8, utf-16le, "
                                                     "utf-16be, latin-1 or windows-1252.",
                                                     Excerpt(*options_.dialect.encoding))));
        }
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Unexpected(
            FileError(options_, "unreadable_file", fmt::format("Cannot open the file '{}'.", path.string())));
    }
    parser_ = XML_ParserCreateNS(forced ? forced->c_str() : nullptr, kNamespaceSeparator);
    if (parser_ == nullptr) return Unexpected(Internal("The XML parser could not be created."));
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, OnStartElement, OnEndElement);
    XML_SetCharacterDataHandler(parser_, OnCharacterData);
    XML_SetStartDoctypeDeclHandler(parser_, OnStartDoctype);
    XML_SetXmlDeclHandler(parser_, OnXmlDecl);
    XML_SetDefaultHandlerExpand(parser_, OnOther);
    XML_SetUnknownEncodingHandler(parser_, HandleUnknownEncoding, nullptr);
    XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);

    bool done = false;
    while (!done) {
        Expected<void> fed = Feed(in, done);
        if (!fed) return Unexpected(std::move(fed).error());
        if (progress) progress(summary_.bytes);
    }
    if (forced) {
        summary_.encoding = AsciiLower(*options_.dialect.encoding);
    } else if (!declared_encoding_.empty() && summary_.encoding.empty()) {
        summary_.encoding = declared_encoding_;
    } else if (summary_.encoding.empty()) {
        summary_.encoding = "utf-8";
    }
    return summary_;
}

}  // namespace

Expected<XmlStreamSummary> ReadXml(const std::filesystem::path& path, const ParseOptions& options, XmlHandler& handler,
                                   const ByteProgress& progress) {
    ExpatReader reader(options, handler);
    return reader.Read(path, progress);
}

}  // namespace granska::ingest::detail
