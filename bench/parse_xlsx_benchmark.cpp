// Parse throughput of the xlsx parser: a synthetic workbook whose sheet XML is GRANSKA_BENCH_PARSE_MB megabytes
// (default 100), written once with libzip like Excel writes it (shared strings, date-styled serials, numbers),
// then parsed end to end through RowMapper. Checks the row count and the amount total before reporting MB/s of
// the file and of the sheet XML, and rows/s.

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <zip.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ingest/excel/excel_parsers.h"

namespace {

namespace fs = std::filesystem;

struct Workbook {
    fs::path path;
    int64_t rows = 0;
    int64_t total_minor = 0;
    uint64_t sheet_bytes = 0;
};

constexpr int kTexts = 500;

std::string WorkbookXml() {
    return R"(<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" )"
           R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">)"
           R"(<sheets><sheet name="Huvudbok" sheetId="1" r:id="rId1"/></sheets></workbook>)";
}

std::string RelsXml() {
    constexpr std::string_view kType = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";
    return fmt::format(R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
                       R"(<Relationship Id="rId1" Type="{0}worksheet" Target="worksheets/sheet1.xml"/>)"
                       R"(<Relationship Id="rId2" Type="{0}sharedStrings" Target="sharedStrings.xml"/>)"
                       R"(<Relationship Id="rId3" Type="{0}styles" Target="styles.xml"/></Relationships>)",
                       kType);
}

std::string StylesXml() {
    return R"(<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">)"
           R"(<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>)"
           R"(<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>)";
}

std::string SharedStringsXml() {
    std::string xml = R"(<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">)";
    xml += "<si><t>Datum</t></si><si><t>Konto</t></si><si><t>Belopp</t></si><si><t>Text</t></si>";
    xml += "<si><t>Verifikationsnummer</t></si>";
    for (int i = 0; i < kTexts; ++i) xml += fmt::format("<si><t>Leverantörsfaktura {} Exempel AB</t></si>", i);
    return xml + "</sst>";
}

// Writes the workbook once per process; every row has a date, an account, an amount, a text and a voucher.
const Workbook& BenchWorkbook() {
    static const Workbook workbook = [] {
        const char* mb_env = std::getenv("GRANSKA_BENCH_PARSE_MB");
        const uint64_t target = uint64_t{1'000'000} * (mb_env != nullptr ? std::strtoull(mb_env, nullptr, 10) : 100);
        Workbook out;
        out.path = fs::temp_directory_path() / fmt::format("granska_bench_xlsx_{}.xlsx", target / 1'000'000);
        std::string sheet = R"(<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">)"
                            R"(<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>)"
                            R"(<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c>)"
                            "</row>";
        sheet.reserve(target + 4096);
        uint64_t state = 42;
        auto next = [&state] {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            return state >> 33;
        };
        while (sheet.size() < target) {
            const int64_t line = out.rows + 2;
            const int64_t minor = static_cast<int64_t>(next() % 2'000'000) - 1'000'000;
            out.total_minor += minor;
            fmt::format_to(std::back_inserter(sheet),
                           R"(<row r="{0}"><c r="A{0}" s="1"><v>{1}</v></c><c r="B{0}"><v>{2}</v></c>)"
                           R"(<c r="C{0}"><v>{3}{4}.{5:02}</v></c><c r="D{0}" t="s"><v>{6}</v></c>)"
                           R"(<c r="E{0}"><v>{7}</v></c></row>)",
                           line, 45292 + next() % 366, 1000 + next() % 8000, minor < 0 ? "-" : "",
                           std::abs(minor) / 100, std::abs(minor) % 100, 5 + next() % kTexts, line / 3);
            ++out.rows;
        }
        sheet += "</sheetData></worksheet>";
        out.sheet_bytes = sheet.size();

        const std::vector<std::pair<std::string, std::string>> entries = {
            {"xl/workbook.xml", WorkbookXml()},
            {"xl/_rels/workbook.xml.rels", RelsXml()},
            {"xl/styles.xml", StylesXml()},
            {"xl/sharedStrings.xml", SharedStringsXml()},
            {"xl/worksheets/sheet1.xml", std::move(sheet)}};
        int error = 0;
        zip_t* archive = zip_open(out.path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
        if (archive == nullptr) return out;
        for (const auto& [name, content] : entries) {
            zip_source_t* source = zip_source_buffer(archive, content.data(), content.size(), 0);
            const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE);
            zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 6);
        }
        zip_close(archive);
        return out;
    }();
    return workbook;
}

void BM_ParseXlsx(benchmark::State& state) {
    const Workbook& workbook = BenchWorkbook();
    const auto parser = granska::ingest::MakeXlsxParser();
    const granska::ingest::ParseOptions options{.file_name = "bench.xlsx"};
    for (auto _ : state) {
        int64_t rows = 0;
        int64_t total = 0;
        const granska::ingest::ParseReport report =
            parser->Parse(workbook.path, options,
                          [&](std::span<granska::Transaction> batch) -> granska::Expected<void> {
                              rows += static_cast<int64_t>(batch.size());
                              for (const granska::Transaction& tx : batch) total += tx.amount.minor;
                              return {};
                          },
                          {});
        if (!report.ok()) {
            state.SkipWithError(report.error->message.c_str());
            break;
        }
        if (rows != workbook.rows || total != workbook.total_minor) {
            state.SkipWithError("row count or amount total mismatch");
            break;
        }
    }
    const auto iterations = static_cast<double>(state.iterations());
    const auto file_bytes = static_cast<double>(fs::file_size(workbook.path));
    state.SetItemsProcessed(state.iterations() * workbook.rows);
    state.counters["rows"] = static_cast<double>(workbook.rows);
    state.counters["file_MB"] = file_bytes / 1e6;
    state.counters["sheet_xml_MB"] = static_cast<double>(workbook.sheet_bytes) / 1e6;
    state.counters["file_MB/s"] = benchmark::Counter(iterations * file_bytes / 1e6, benchmark::Counter::kIsRate);
    state.counters["sheet_xml_MB/s"] =
        benchmark::Counter(iterations * static_cast<double>(workbook.sheet_bytes) / 1e6, benchmark::Counter::kIsRate);
}

BENCHMARK(BM_ParseXlsx)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
