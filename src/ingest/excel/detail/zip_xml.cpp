#include "ingest/excel/detail/zip_xml.h"

#include <expat.h>
#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace granska::ingest::detail {

namespace {

constexpr std::string_view kWorkbookPart = "xl/workbook.xml";
// Below this size a high compression ratio is harmless (a tiny, repetitive styles part) and not checked.
constexpr uint64_t kRatioCheckMinBytes = uint64_t{64} * 1024;
constexpr std::string_view kSaveAgain = "open it in Excel (or LibreOffice) and save it again as .xlsx";

std::string_view LocalName(const char* name) {
    const std::string_view full(name);
    const size_t colon = full.rfind(':');
    return colon == std::string_view::npos ? full : full.substr(colon + 1);
}

Error TooLarge(Error error) {
    error.kind = ErrorKind::kTooLarge;
    return error;
}

// The state expat's C callbacks reach through their user data.
struct XmlContext {
    XML_Parser parser = nullptr;
    ZipXmlHandler* handler = nullptr;
    int depth = 0;
    int max_depth = 0;
    bool dtd = false;
    bool too_deep = false;

    // Expat may deliver a few more events after XML_StopParser; they must not reach a handler that failed.
    bool stopped() const { return dtd || too_deep || handler->failed(); }
    void StopIfFailed() {
        if (handler->failed()) XML_StopParser(parser, XML_FALSE);
    }
};

void OnStart(void* data, const XML_Char* name, const XML_Char** attributes) {
    auto& context = *static_cast<XmlContext*>(data);
    if (context.stopped()) return;
    if (++context.depth > context.max_depth) {
        context.too_deep = true;
        XML_StopParser(context.parser, XML_FALSE);
        return;
    }
    context.handler->StartElement(LocalName(name), attributes);
    context.StopIfFailed();
}

void OnEnd(void* data, const XML_Char* name) {
    auto& context = *static_cast<XmlContext*>(data);
    if (context.stopped()) return;
    --context.depth;
    context.handler->EndElement(LocalName(name));
    context.StopIfFailed();
}

void OnText(void* data, const XML_Char* text, int length) {
    auto& context = *static_cast<XmlContext*>(data);
    if (context.stopped()) return;
    context.handler->Text(std::string_view(text, static_cast<size_t>(length)));
    context.StopIfFailed();
}

// Any document type declaration: xlsx parts never have one, and refusing it rules out entity expansion attacks.
void OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    auto& context = *static_cast<XmlContext*>(data);
    context.dtd = true;
    XML_StopParser(context.parser, XML_FALSE);
}

void OnEntityDecl(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                  const XML_Char*, const XML_Char*) {
    auto& context = *static_cast<XmlContext*>(data);
    context.dtd = true;
    XML_StopParser(context.parser, XML_FALSE);
}

struct ParserFree {
    void operator()(XML_Parser parser) const { XML_ParserFree(parser); }
};
struct FileClose {
    void operator()(zip_file_t* file) const { zip_fclose(file); }
};

}  // namespace

std::string_view Attribute(const char** attributes, std::string_view name) {
    for (const char** attribute = attributes; attribute[0] != nullptr; attribute += 2) {
        if (LocalName(attribute[0]) == name) return attribute[1];
    }
    return {};
}

Expected<XlsxPackage> XlsxPackage::Open(const std::filesystem::path& path, const ParseOptions& options) {
    int code = 0;
    std::unique_ptr<zip_t, ZipCloser> archive(zip_open(path.c_str(), ZIP_RDONLY, &code));
    if (!archive) {
        zip_error_t error;
        zip_error_init_with_code(&error, code);
        std::string reason = zip_error_strerror(&error);
        zip_error_fini(&error);
        return Unexpected(
            FileError(options, "bad_zip",
                      fmt::format("The file is not a readable xlsx: the zip archive cannot be opened ({}); {}.", reason,
                                  kSaveAgain)));
    }
    XlsxPackage package(std::move(archive), options);
    if (!package.Has(kWorkbookPart)) {
        return Unexpected(FileError(
            options, "not_xlsx",
            fmt::format("The file is a zip archive but not an Excel workbook (it has no {}); {}, or upload the "
                        "file inside the archive.",
                        kWorkbookPart, kSaveAgain)));
    }
    return package;
}

bool XlsxPackage::Has(std::string_view part) const {
    return zip_name_locate(archive_.get(), std::string(part).c_str(), ZIP_FL_NOCASE) >= 0;
}

Error XlsxPackage::PartError(std::string code, std::string message) const {
    return FileError(*options_, std::move(code), std::move(message));
}

Expected<void> XlsxPackage::ParseXml(std::string_view part, ZipXmlHandler& handler, const ByteProgress& progress) {
    const Limits& limits = options_->limits;
    const std::string name(part);
    const zip_int64_t index = zip_name_locate(archive_.get(), name.c_str(), ZIP_FL_NOCASE);
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (index < 0 || zip_stat_index(archive_.get(), static_cast<zip_uint64_t>(index), 0, &stat) != 0) {
        return Unexpected(PartError(
            "missing_part", fmt::format("The workbook lacks its part {}, so it is incomplete; {}.", name, kSaveAgain)));
    }
    if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && stat.encryption_method != ZIP_EM_NONE) {
        return Unexpected(PartError(
            "encrypted_file",
            fmt::format("The workbook is encrypted ({} needs a password); remove the password in Excel and save it "
                        "again.",
                        name)));
    }
    const uint64_t declared = (stat.valid & ZIP_STAT_SIZE) != 0 ? stat.size : 0;
    const uint64_t compressed = (stat.valid & ZIP_STAT_COMP_SIZE) != 0 ? stat.comp_size : 0;
    if (declared > limits.max_uncompressed_bytes - std::min(declared_bytes_, limits.max_uncompressed_bytes)) {
        return Unexpected(TooLarge(PartError(
            "uncompressed_too_large",
            fmt::format("The workbook inflates to more than {} bytes (part {} alone is {} bytes); split the data "
                        "over smaller files.",
                        limits.max_uncompressed_bytes, name, declared))));
    }
    if (declared >= kRatioCheckMinBytes &&
        static_cast<double>(declared) > limits.max_compression_ratio * static_cast<double>(compressed)) {
        return Unexpected(TooLarge(
            PartError("zip_bomb",
                      fmt::format("Part {} of the workbook is compressed {:.0f} to 1, beyond the limit of {:.0f} to 1 "
                                  "that real spreadsheets stay under; the file is refused as a possible zip bomb.",
                                  name, compressed == 0 ? 0.0 : static_cast<double>(declared) / compressed,
                                  limits.max_compression_ratio))));
    }
    declared_bytes_ += declared;

    std::unique_ptr<zip_file_t, FileClose> file(zip_fopen_index(archive_.get(), static_cast<zip_uint64_t>(index), 0));
    if (!file) {
        return Unexpected(PartError("bad_zip", fmt::format("Part {} of the workbook cannot be read ({}); {}.", name,
                                                           zip_strerror(archive_.get()), kSaveAgain)));
    }
    // No encoding given: expat follows the part's declaration (UTF-8 or UTF-16) and hands out UTF-8.
    std::unique_ptr<XML_ParserStruct, ParserFree> parser(XML_ParserCreate(nullptr));
    if (!parser) throw std::bad_alloc();
    XmlContext context{.parser = parser.get(), .handler = &handler, .max_depth = limits.max_depth};
    XML_SetUserData(parser.get(), &context);
    XML_SetElementHandler(parser.get(), OnStart, OnEnd);
    XML_SetCharacterDataHandler(parser.get(), OnText);
    XML_SetStartDoctypeDeclHandler(parser.get(), OnDoctype);
    XML_SetEntityDeclHandler(parser.get(), OnEntityDecl);

    const int chunk = static_cast<int>(std::clamp<size_t>(options_->chunk_bytes, 1, size_t{1} << 20));
    uint64_t inflated = 0;
    for (;;) {
        void* buffer = XML_GetBuffer(parser.get(), chunk);
        if (buffer == nullptr) throw std::bad_alloc();
        const zip_int64_t read = zip_fread(file.get(), buffer, static_cast<zip_uint64_t>(chunk));
        if (read < 0) {
            return Unexpected(PartError("bad_zip", fmt::format("Part {} of the workbook is damaged ({}); {}.", name,
                                                               zip_file_strerror(file.get()), kSaveAgain)));
        }
        // Bytes beyond the declared size are refused, after the XML before them, so the first error found does
        // not depend on the chunk size.
        const uint64_t room = declared - inflated;
        const bool overflow = static_cast<uint64_t>(read) > room;
        const uint64_t usable = overflow ? room : static_cast<uint64_t>(read);
        inflated += usable;
        inflated_bytes_ += usable;
        const bool last = read == 0;
        const XML_Status status = XML_ParseBuffer(parser.get(), static_cast<int>(usable), last ? XML_TRUE : XML_FALSE);
        if (handler.failed()) return Unexpected(std::move(*handler.error()));
        if (context.dtd) {
            return Unexpected(PartError(
                "xml_dtd", fmt::format("Part {} of the workbook declares a DTD, which spreadsheets never do; the file "
                                       "is refused as unsafe. {}.",
                                       name, "Save it again as .xlsx from Excel")));
        }
        if (context.too_deep) {
            return Unexpected(PartError(
                "xml_too_deep", fmt::format("Part {} of the workbook nests XML elements deeper than {} levels; {}.",
                                            name, limits.max_depth, kSaveAgain)));
        }
        if (status != XML_STATUS_OK) {
            return Unexpected(PartError(
                "bad_xml",
                fmt::format("Part {} of the workbook is not well-formed XML ({} at line {}, column {}); {}.", name,
                            XML_ErrorString(XML_GetErrorCode(parser.get())), XML_GetCurrentLineNumber(parser.get()),
                            XML_GetCurrentColumnNumber(parser.get()), kSaveAgain)));
        }
        if (overflow) {
            return Unexpected(PartError(
                "zip_size_mismatch",
                fmt::format("Part {} of the workbook inflates to more than the {} bytes its zip header declares; the "
                            "archive is damaged or forged, {}.",
                            name, declared, kSaveAgain)));
        }
        if (progress && declared > 0) {
            progress(compressed_done_ +
                     static_cast<uint64_t>(static_cast<double>(compressed) * static_cast<double>(inflated) /
                                           static_cast<double>(declared)));
        }
        if (last) break;
    }
    compressed_done_ += compressed;
    return {};
}

}  // namespace granska::ingest::detail
