#pragma once
// The parts of an xlsx (a zip of XML files), read as streams of XML events with guards against hostile files:
// - zip bombs: before inflating a part, its declared size counts against Limits::max_uncompressed_bytes (total
//   over the parts read) and its compression ratio against Limits::max_compression_ratio; while inflating, the
//   bytes are counted, so a part that inflates beyond its declared size fails too;
// - XML: any DTD is refused (no entity expansion), nesting is capped at Limits::max_depth.
// Parts are inflated chunk by chunk straight into the XML parser's buffer; no part is held whole in memory.

#include <zip.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "ingest/parser.h"

namespace granska::ingest::detail {

// Receives the events of one XML part. Element and attribute names come without their namespace prefix
// ("x:row" -> "row"). A handler stops the parse by calling Fail().
class ZipXmlHandler {
public:
    virtual ~ZipXmlHandler() = default;
    virtual void StartElement(std::string_view name, const char** attributes) = 0;
    virtual void EndElement(std::string_view name) = 0;
    virtual void Text(std::string_view text) = 0;

    void Fail(Error error) {
        if (!error_) error_ = std::move(error);
    }
    bool failed() const { return error_.has_value(); }
    std::optional<Error>& error() { return error_; }

private:
    std::optional<Error> error_;
};

// The value of the attribute with this local name ("r:id" matches "id"), or "" when absent.
std::string_view Attribute(const char** attributes, std::string_view name);

class XlsxPackage {
public:
    // options must outlive the package. Errors: "bad_zip" (not a readable zip), "not_xlsx" (no xl/workbook.xml).
    static Expected<XlsxPackage> Open(const std::filesystem::path& path, const ParseOptions& options);
    XlsxPackage(XlsxPackage&&) noexcept = default;
    XlsxPackage& operator=(XlsxPackage&&) noexcept = default;
    ~XlsxPackage() = default;

    bool Has(std::string_view part) const;
    // Streams the part through the handler. Errors: "missing_part", "encrypted_file", "zip_bomb",
    // "uncompressed_too_large", "zip_size_mismatch", "bad_zip", "xml_dtd", "bad_xml", "xml_too_deep", or the
    // handler's own. progress receives an estimate of the file bytes consumed.
    Expected<void> ParseXml(std::string_view part, ZipXmlHandler& handler, const ByteProgress& progress = {});

    uint64_t inflated_bytes() const { return inflated_bytes_; }

private:
    struct ZipCloser {
        void operator()(zip_t* archive) const { zip_discard(archive); }
    };
    XlsxPackage(std::unique_ptr<zip_t, ZipCloser> archive, const ParseOptions& options)
        : archive_(std::move(archive)), options_(&options) {}

    Error PartError(std::string code, std::string message) const;

    std::unique_ptr<zip_t, ZipCloser> archive_;
    const ParseOptions* options_;
    uint64_t declared_bytes_ = 0;  // declared sizes of the parts read so far
    uint64_t inflated_bytes_ = 0;
    uint64_t compressed_done_ = 0;  // compressed bytes of the parts finished, for progress
};

}  // namespace granska::ingest::detail
