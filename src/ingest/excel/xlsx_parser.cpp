// The .xlsx parser: opens the workbook (xlsx_reader.h), picks the sheet, streams its rows into a SheetFeeder.

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>

#include "ingest/detail/text.h"
#include "ingest/excel/detail/excel_sheets.h"
#include "ingest/excel/detail/sheet_feeder.h"
#include "ingest/excel/detail/xlsx_reader.h"
#include "ingest/excel/excel_parsers.h"

namespace granska::ingest {

namespace {

class XlsxParser final : public Parser {
public:
    Format format() const override { return Format::kXlsx; }

    ParseReport Parse(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                      const ByteProgress& progress) const override {
        ParseReport report;
        report.format = Format::kXlsx;
        report.encoding = "utf-8";
        if (Expected<void> result = Read(path, options, sink, progress, report); !result) {
            report.error = std::move(result).error();
        }
        return report;
    }

private:
    static Expected<void> Read(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                               const ByteProgress& progress, ParseReport& report) {
        Expected<detail::XlsxWorkbook> opened = detail::XlsxWorkbook::Open(path, options);
        if (!opened) return Unexpected(std::move(opened).error());
        detail::XlsxWorkbook& workbook = *opened;
        report.dialect["date_system"] = workbook.date1904() ? "1904" : "1900";
        std::vector<std::string> names;
        for (const detail::XlsxSheet& sheet : workbook.sheets()) names.push_back(sheet.name);
        report.details = detail::SheetDetails(names);

        Expected<std::vector<size_t>> candidates = detail::SheetCandidates(names, options);
        if (!candidates) return Unexpected(std::move(candidates).error());
        for (const size_t index : *candidates) {
            std::optional<detail::SheetFeeder> feeder;
            const detail::SheetRowHandler on_row = [&](int64_t line, std::span<const Cell> cells) -> Expected<void> {
                if (!feeder) {
                    report.dialect["sheet"] = names[index];
                    feeder.emplace(options, report, sink, names[index]);
                }
                return feeder->AddRow(line, cells);
            };
            if (Expected<void> read = workbook.ReadSheet(index, on_row, progress); !read) return read;
            if (feeder) return feeder->Finish();
        }
        return Unexpected(detail::EmptyWorkbook(names, options));
    }
};

}  // namespace

std::unique_ptr<Parser> MakeXlsxParser() { return std::make_unique<XlsxParser>(); }

}  // namespace granska::ingest
