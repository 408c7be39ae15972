// The .xls (BIFF 2-8) parser, on freexl: freexl reads the whole workbook at open (xls files are at most 65,536 rows),
// then each row of the chosen sheet becomes Cells for a SheetFeeder. Strings arrive as UTF-8 from freexl; numbers
// are formatted with Excel's 15 significant digits; cells freexl recognises as dates arrive as ISO dates.

#include <fmt/format.h>
#include <freexl.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ingest/detail/text.h"
#include "ingest/excel/detail/excel_cells.h"
#include "ingest/excel/detail/excel_sheets.h"
#include "ingest/excel/detail/sheet_feeder.h"
#include "ingest/excel/excel_parsers.h"

namespace granska::ingest {

namespace {

using detail::kCellTextBufferSize;

// Room for the text of one number or date cell; one per column, reused from row to row.
struct CellBuffer {
    char chars[kCellTextBufferSize];
};

constexpr std::string_view kSaveAgain = "open it in Excel (or LibreOffice) and save it again as .xlsx";

struct FreexlCloser {
    void operator()(const void* handle) const { freexl_close(handle); }
};
using FreexlHandle = std::unique_ptr<const void, FreexlCloser>;

std::string EncodingName(unsigned int codepage) {
    switch (codepage) {
        case FREEXL_BIFF_UTF16LE:
            return "utf-16le";
        case FREEXL_BIFF_CP1252:
            return "windows-1252";
        case FREEXL_BIFF_ASCII:
            return "ascii";
        case FREEXL_BIFF_MACROMAN:
            return "macintosh";
        case FREEXL_UNKNOWN:
            return "unknown";
        default:
            return fmt::format("cp{}", codepage);
    }
}

// An Office file encrypted with a password is a compound file holding an "EncryptedPackage" stream; its directory
// entry name (UTF-16LE) sits in the first sectors.
bool LooksEncrypted(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string head(size_t{1} << 16, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    const std::string_view name("E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0", 32);
    return head.find(name) != std::string::npos;
}

class XlsParser final : public Parser {
public:
    Format format() const override { return Format::kXls; }

    ParseReport Parse(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                      const ByteProgress& progress) const override {
        ParseReport report;
        report.format = Format::kXls;
        if (Expected<void> result = Read(path, options, sink, progress, report); !result) {
            report.error = std::move(result).error();
        }
        return report;
    }

private:
    static Expected<void> Read(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                               const ByteProgress& progress, ParseReport& report) {
        const void* raw = nullptr;
        const int opened = freexl_open(path.c_str(), &raw);
        const FreexlHandle handle(raw);
        if (opened != FREEXL_OK) {
            if (LooksEncrypted(path)) return Unexpected(Encrypted(options));
            return Unexpected(FileError(
                options, "bad_xls",
                fmt::format("The file is not a readable .xls workbook (freexl error {}); {}.", opened, kSaveAgain)));
        }
        unsigned int info = 0;
        if (freexl_get_info(raw, FREEXL_BIFF_PASSWORD, &info) == FREEXL_OK && info == FREEXL_BIFF_OBFUSCATED) {
            return Unexpected(Encrypted(options));
        }
        report.encoding =
            freexl_get_info(raw, FREEXL_BIFF_CODEPAGE, &info) == FREEXL_OK ? EncodingName(info) : "unknown";
        const bool date1904 =
            freexl_get_info(raw, FREEXL_BIFF_DATEMODE, &info) == FREEXL_OK && info == FREEXL_BIFF_DATEMODE_1904;
        report.dialect["date_system"] = date1904 ? "1904" : "1900";

        unsigned int sheet_count = 0;
        if (freexl_get_info(raw, FREEXL_BIFF_SHEET_COUNT, &sheet_count) != FREEXL_OK) sheet_count = 0;
        std::vector<std::string> names;
        for (unsigned int i = 0; i < sheet_count && i <= UINT16_MAX; ++i) {
            const char* name = nullptr;
            const bool ok =
                freexl_get_worksheet_name(raw, static_cast<unsigned short>(i), &name) == FREEXL_OK && name != nullptr;
            names.emplace_back(ok ? name : "");
        }
        report.details = detail::SheetDetails(names);

        Expected<std::vector<size_t>> candidates = detail::SheetCandidates(names, options);
        if (!candidates) return Unexpected(std::move(candidates).error());
        const uint64_t file_bytes = std::filesystem::file_size(path);
        for (const size_t index : *candidates) {
            std::optional<detail::SheetFeeder> feeder;
            if (Expected<void> read = ReadSheet(raw, index, names[index], options, report, sink, feeder); !read) {
                return read;
            }
            if (feeder) {
                report.dialect["sheet"] = names[index];
                if (progress) progress(file_bytes);
                return feeder->Finish();
            }
        }
        return Unexpected(detail::EmptyWorkbook(names, options));
    }

    static Error Encrypted(const ParseOptions& options) {
        return FileError(options, "encrypted_file",
                         "The workbook is protected with a password; remove the password in Excel and save it "
                         "again.");
    }

    static Error BadSheet(const ParseOptions& options, std::string_view sheet, int code) {
        return FileError(options, "bad_xls",
                         fmt::format("Sheet \"{}\" of the .xls workbook cannot be read (freexl error {}); {}.",
                                     detail::Excerpt(sheet), code, kSaveAgain));
    }

    // Streams one sheet's non-empty rows into `feeder`, created at the first such row.
    static Expected<void> ReadSheet(const void* handle, size_t index, const std::string& sheet,
                                    const ParseOptions& options, ParseReport& report, const BatchSink& sink,
                                    std::optional<detail::SheetFeeder>& feeder) {
        if (const int rc = freexl_select_active_worksheet(handle, static_cast<unsigned short>(index));
            rc != FREEXL_OK) {
            return Unexpected(BadSheet(options, sheet, rc));
        }
        unsigned int rows = 0;
        unsigned short columns = 0;
        if (const int rc = freexl_worksheet_dimensions(handle, &rows, &columns); rc != FREEXL_OK) {
            return Unexpected(BadSheet(options, sheet, rc));
        }
        std::vector<Cell> cells(columns);
        std::vector<CellBuffer> buffers(columns);
        for (unsigned int row = 0; row < rows; ++row) {
            bool any = false;
            for (unsigned short column = 0; column < columns; ++column) {
                FreeXL_CellValue value;
                if (const int rc = freexl_get_cell_value(handle, row, column, &value); rc != FREEXL_OK) {
                    return Unexpected(BadSheet(options, sheet, rc));
                }
                Expected<Cell> cell = ToCell(value, buffers[column], options, sheet, column, row + 1);
                if (!cell) return Unexpected(std::move(cell).error());
                cells[column] = *cell;
                any = any || cell->type != CellType::kEmpty;
            }
            if (!any) continue;
            if (!feeder) feeder.emplace(options, report, sink, sheet);
            if (Expected<void> added = feeder->AddRow(static_cast<int64_t>(row) + 1, cells); !added) return added;
        }
        return {};
    }

    static Expected<Cell> ToCell(const FreeXL_CellValue& value, CellBuffer& buffer, const ParseOptions& options,
                                 const std::string& sheet, size_t column, int64_t line) {
        char(&chars)[kCellTextBufferSize] = buffer.chars;
        switch (value.type) {
            case FREEXL_CELL_INT: {
                const auto result = std::to_chars(chars, chars + sizeof chars, value.value.int_value);
                return Cell{CellType::kNumber, std::string_view(chars, static_cast<size_t>(result.ptr - chars))};
            }
            case FREEXL_CELL_DOUBLE:
                return Cell{CellType::kNumber, detail::FormatNumber(value.value.double_value, chars)};
            case FREEXL_CELL_DATE:
            case FREEXL_CELL_DATETIME:
            case FREEXL_CELL_TIME:
            case FREEXL_CELL_TEXT:
            case FREEXL_CELL_SST_TEXT:
                return TextCell(value, chars, options, sheet, column, line);
            default:
                return Cell{};
        }
    }

    static Expected<Cell> TextCell(const FreeXL_CellValue& value, char (&chars)[kCellTextBufferSize],
                                   const ParseOptions& options, const std::string& sheet, size_t column, int64_t line) {
        const std::string_view text = value.value.text_value == nullptr ? "" : value.value.text_value;
        if (text.size() > options.limits.max_field_bytes) {
            const std::string name = detail::CellName(sheet, column, line);
            Error error = FileError(options, "field_too_long",
                                    fmt::format("Cell {} holds more than {} bytes; no cell should hold that much.",
                                                name, options.limits.max_field_bytes),
                                    line, name);
            error.kind = ErrorKind::kTooLarge;
            return Unexpected(std::move(error));
        }
        if (!detail::IsValidUtf8(text)) {
            const std::string name = detail::CellName(sheet, column, line);
            return Unexpected(
                FileError(options, "bad_text",
                          fmt::format("Cell {} holds text that cannot be read in the workbook's code page; {}.", name,
                                      kSaveAgain),
                          line, name));
        }
        if (value.type == FREEXL_CELL_DATE) return Cell{CellType::kDate, text};
        if (value.type == FREEXL_CELL_DATETIME && text.size() == 19 && text.size() < sizeof chars) {
            // "2024-04-02 13:05:00" -> "2024-04-02T13:05:00", "2024-04-02 00:00:00" -> "2024-04-02".
            const size_t size = text.substr(11) == "00:00:00" ? 10 : 19;
            text.copy(chars, size);
            if (size == 19) chars[10] = 'T';
            return Cell{CellType::kDate, std::string_view(chars, size)};
        }
        return Cell{text.empty() ? CellType::kEmpty : CellType::kText, text};
    }
};

}  // namespace

std::unique_ptr<Parser> MakeXlsParser() { return std::make_unique<XlsParser>(); }

}  // namespace granska::ingest
