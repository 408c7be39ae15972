// The .xls (BIFF 2-8) parser. freexl reads the workbook in a child process (xls_sandbox.h); each non-empty row of
// the chosen sheet becomes Cells for a SheetFeeder. Strings arrive as UTF-8 from freexl; numbers are formatted
// with Excel's 15 significant digits; cells in a date format arrive as ISO dates.

#include <fmt/format.h>
#include <freexl.h>

#include <charconv>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ingest/detail/text.h"
#include "ingest/excel/detail/excel_cells.h"
#include "ingest/excel/detail/excel_sheets.h"
#include "ingest/excel/detail/sheet_feeder.h"
#include "ingest/excel/detail/xls_sandbox.h"
#include "ingest/excel/excel_parsers.h"

namespace granska::ingest {

namespace {

using detail::kCellTextBufferSize;
using detail::XlsValue;

// Room for the text of one number or date cell; one per column, reused from row to row.
struct CellBuffer {
    char chars[kCellTextBufferSize];
};

constexpr std::string_view kSaveAgain = "open it in Excel (or LibreOffice) and save it again as .xlsx";

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

Error Encrypted(const ParseOptions& options) {
    return FileError(options, "encrypted_file",
                     "The workbook is protected with a password; remove the password in Excel and save it again.");
}

Expected<Cell> TextCell(const XlsValue& value, char (&chars)[kCellTextBufferSize], const ParseOptions& options,
                        const std::string& sheet, size_t column, int64_t line) {
    const std::string_view text = value.text;
    if (text.size() > options.limits.max_field_bytes) {
        const std::string name = detail::CellName(sheet, column, line);
        Error error = FileError(options, "field_too_long",
                                fmt::format("Cell {} holds more than {} bytes; no cell should hold that much.", name,
                                            options.limits.max_field_bytes),
                                line, name);
        error.kind = ErrorKind::kTooLarge;
        return Unexpected(std::move(error));
    }
    if (!detail::IsValidUtf8(text)) {
        const std::string name = detail::CellName(sheet, column, line);
        return Unexpected(FileError(
            options, "bad_text",
            fmt::format("Cell {} holds text that cannot be read in the workbook's code page; {}.", name, kSaveAgain),
            line, name));
    }
    if (value.type == FREEXL_CELL_DATE) return Cell{CellType::kDate, text};
    if (value.type == FREEXL_CELL_DATETIME && text.size() == 19) {
        // "2024-04-02 13:05:00" -> "2024-04-02T13:05:00", "2024-04-02 00:00:00" -> "2024-04-02".
        const size_t size = text.substr(11) == "00:00:00" ? 10 : 19;
        text.copy(chars, size);
        if (size == 19) chars[10] = 'T';
        return Cell{CellType::kDate, std::string_view(chars, size)};
    }
    return Cell{text.empty() ? CellType::kEmpty : CellType::kText, text};
}

Expected<Cell> ToCell(const XlsValue& value, CellBuffer& buffer, const ParseOptions& options, const std::string& sheet,
                      size_t column, int64_t line) {
    char(&chars)[kCellTextBufferSize] = buffer.chars;
    switch (value.type) {
        case FREEXL_CELL_INT: {
            const auto result = std::to_chars(chars, chars + sizeof chars, value.int_value);
            return Cell{CellType::kNumber, std::string_view(chars, static_cast<size_t>(result.ptr - chars))};
        }
        case FREEXL_CELL_DOUBLE:
            return Cell{CellType::kNumber, detail::FormatNumber(value.double_value, chars)};
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
        Expected<detail::XlsSandbox> opened = detail::XlsSandbox::Open(path, options);
        if (!opened) {
            if (opened.error().code == "bad_xls" && LooksEncrypted(path)) return Unexpected(Encrypted(options));
            return Unexpected(std::move(opened).error());
        }
        detail::XlsSandbox& workbook = *opened;
        const detail::XlsInfo& info = workbook.info();
        if (info.obfuscated) return Unexpected(Encrypted(options));
        std::error_code size_error;
        const uintmax_t file_bytes = std::filesystem::file_size(path, size_error);
        if (progress && !size_error) progress(file_bytes);  // freexl has read it all
        report.encoding = EncodingName(info.codepage);
        report.dialect["date_system"] = info.date1904 ? "1904" : "1900";
        report.details = detail::SheetDetails(info.sheets);

        Expected<std::vector<size_t>> candidates = detail::SheetCandidates(info.sheets, options);
        if (!candidates) return Unexpected(std::move(candidates).error());
        for (const size_t index : *candidates) {
            const std::string& sheet = info.sheets[index];
            std::optional<detail::SheetFeeder> feeder;
            std::vector<Cell> cells;
            std::vector<CellBuffer> buffers;
            const detail::XlsRowHandler on_row = [&](uint32_t row, std::span<const XlsValue> values) -> Expected<void> {
                const int64_t line = static_cast<int64_t>(row) + 1;
                cells.resize(values.size());
                buffers.resize(values.size());
                bool any = false;
                for (size_t column = 0; column < values.size(); ++column) {
                    Expected<Cell> cell = ToCell(values[column], buffers[column], options, sheet, column, line);
                    if (!cell) return Unexpected(std::move(cell).error());
                    cells[column] = *cell;
                    any = any || cell->type != CellType::kEmpty;
                }
                if (!any) return {};
                if (!feeder) {
                    report.dialect["sheet"] = sheet;
                    feeder.emplace(options, report, sink, sheet);
                }
                return feeder->AddRow(line, cells);
            };
            if (Expected<void> read = workbook.ReadSheet(index, on_row); !read) return read;
            if (feeder) return feeder->Finish();
        }
        return Unexpected(detail::EmptyWorkbook(info.sheets, options));
    }
};

}  // namespace

std::unique_ptr<Parser> MakeXlsParser() { return std::make_unique<XlsParser>(); }

}  // namespace granska::ingest
