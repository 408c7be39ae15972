// Feeds arbitrary bytes to the xlsx parser. It must never crash; it returns rows or an error with a code and a
// message, every row is well formed, and whether it is accepted, and with which rows, does not depend on the read
// chunk size.
//
// Two kinds of input, so the fuzzer reaches the XML readers and not only libzip's checksums:
// - bytes starting with "PK" are the .xlsx file itself;
// - anything else is the parts of a workbook separated by "\n--part--\n": the sheet XML, then optionally the
//   shared strings and the styles, zipped here into a workbook with one sheet.

#include <fmt/format.h>
#include <unistd.h>
#include <zip.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "ingest/excel/excel_parsers.h"

namespace {

using granska::Expected;
using granska::Transaction;
using granska::ingest::ParseOptions;
using granska::ingest::ParseReport;

void Check(bool condition) {
    if (!condition) std::abort();
}

constexpr std::string_view kWorkbook =
    R"(<workbook xmlns:r="r"><sheets><sheet name="Fuzz" sheetId="1" r:id="rId1"/></sheets></workbook>)";
constexpr std::string_view kRels =
    R"(<Relationships><Relationship Id="rId1" Type="x/worksheet" Target="worksheets/sheet1.xml"/>)"
    R"(<Relationship Id="rId2" Type="x/sharedStrings" Target="sharedStrings.xml"/>)"
    R"(<Relationship Id="rId3" Type="x/styles" Target="/xl/styles.xml"/></Relationships>)";

std::filesystem::path FilePath() {
    return std::filesystem::temp_directory_path() / fmt::format("granska_fuzz_xlsx_{}.xlsx", getpid());
}

void WriteWorkbook(const std::filesystem::path& path, std::string_view input) {
    std::vector<std::string> parts;
    constexpr std::string_view kSeparator = "\n--part--\n";
    while (parts.size() < 2) {
        const size_t at = input.find(kSeparator);
        if (at == std::string_view::npos) break;
        parts.emplace_back(input.substr(0, at));
        input.remove_prefix(at + kSeparator.size());
    }
    parts.emplace_back(input);
    const std::vector<std::pair<std::string, std::string>> entries = {
        {"xl/workbook.xml", std::string(kWorkbook)},
        {"xl/_rels/workbook.xml.rels", std::string(kRels)},
        {"xl/worksheets/sheet1.xml", parts[0]},
        {"xl/sharedStrings.xml", parts.size() > 1 ? parts[1] : "<sst/>"},
        {"xl/styles.xml", parts.size() > 2 ? parts[2] : "<styleSheet/>"},
    };
    int error = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    Check(archive != nullptr);
    for (const auto& [name, content] : entries) {
        zip_source_t* source = zip_source_buffer(archive, content.data(), content.size(), 0);
        const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE);
        Check(index >= 0);
        zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
    }
    Check(zip_close(archive) == 0);
}

struct Outcome {
    std::vector<std::string> rows;
    std::string error;  // "code|line|column", empty on success
};

Outcome Run(const std::filesystem::path& path, size_t chunk_bytes) {
    static const auto parser = granska::ingest::MakeXlsxParser();
    ParseOptions options{.batch_size = 3, .file_name = "fuzz.xlsx", .chunk_bytes = chunk_bytes};
    options.limits.max_uncompressed_bytes = 64 << 20;
    options.limits.max_field_bytes = 4096;
    options.max_record_bytes = 1 << 16;
    Outcome out;
    const ParseReport report = parser->Parse(
        path, options,
        [&out](std::span<Transaction> batch) -> Expected<void> {
            Check(!batch.empty() && batch.size() <= 3);
            for (const Transaction& tx : batch) {
                Check(tx.row_number == static_cast<int64_t>(out.rows.size()) + 1);
                Check(tx.source_line >= 2);
                Check(tx.amount.minor <= granska::Money::kMaxMinor && tx.amount.minor >= -granska::Money::kMaxMinor);
                Check(nlohmann::json::parse(tx.raw_data, nullptr, /*allow_exceptions=*/false).is_object());
                out.rows.push_back(fmt::format("{}|{}|{}|{}|{}|{}|{}", tx.source_line, tx.date.days,
                                               tx.time_seconds.value_or(-1), tx.amount.minor, tx.account, tx.text,
                                               tx.raw_data));
            }
            return {};
        },
        {});
    Check(nlohmann::json::parse(report.details, nullptr, false).is_object());
    if (report.ok()) {
        Check(report.rows_accepted == static_cast<int64_t>(out.rows.size()) && report.rows_accepted > 0);
    } else {
        Check(!report.error->message.empty() && !report.error->code.empty());
        Check(report.error->file == "fuzz.xlsx");
        out.error = fmt::format("{}|{}|{}", report.error->code, report.error->line.value_or(0), report.error->column);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::filesystem::path path = FilePath();
    if (input.starts_with("PK")) {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << input;
    } else {
        WriteWorkbook(path, input);
    }
    const Outcome whole = Run(path, size_t{1} << 16);
    const Outcome chunked = Run(path, 1 + size % 13);
    // Which error comes first may depend on the chunk size (libzip reports a damaged stream per read), but not
    // whether the file is accepted, nor its rows.
    Check(whole.error.empty() == chunked.error.empty());
    if (whole.error.empty()) Check(whole.rows == chunked.rows);
    return 0;
}
