// Feeds arbitrary bytes to the XML parser (camt and generic mode). It must never crash; it returns rows or an error
// with a code and a message, every row is well formed, the report serialises, and the result does not depend on
// where the chunk boundaries fall.

#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "ingest/parser.h"
#include "ingest/xml/xml_parser.h"

namespace {

using granska::Expected;
using granska::Transaction;
using granska::ingest::ParseOptions;
using granska::ingest::ParseReport;

void Check(bool condition) {
    if (!condition) std::abort();
}

struct Outcome {
    std::vector<std::string> rows;
    std::string error;  // "code|line|column", empty on success
};

Outcome Run(const std::filesystem::path& path, size_t chunk_bytes, size_t batch_size, bool skip_bad_rows,
            std::string_view element) {
    ParseOptions options;
    options.xml_element = element;
    options.file_name = "fuzz.xml";
    options.chunk_bytes = chunk_bytes;
    options.batch_size = batch_size;
    options.limits.max_rows = 500;
    options.limits.max_field_bytes = 2048;
    options.limits.max_depth = 64;
    options.bad_rows =
        skip_bad_rows ? granska::ingest::BadRowPolicy::kSkipRow : granska::ingest::BadRowPolicy::kFormatDefault;
    Outcome out;
    const auto parser = granska::ingest::MakeXmlParser();
    const ParseReport report = parser->Parse(
        path, options,
        [&out, batch_size](std::span<Transaction> batch) -> Expected<void> {
            Check(!batch.empty() && batch.size() <= batch_size);
            for (const Transaction& tx : batch) {
                Check(tx.row_number == static_cast<int64_t>(out.rows.size()) + 1);
                Check(tx.source_line >= 1);
                Check(tx.amount.minor <= granska::Money::kMaxMinor && tx.amount.minor >= -granska::Money::kMaxMinor);
                const auto raw = nlohmann::json::parse(tx.raw_data, nullptr, /*allow_exceptions=*/false);
                Check(raw.is_object());
                out.rows.push_back(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", tx.source_line, tx.date.days,
                                               tx.time_seconds.value_or(-1), tx.amount.minor, tx.external_id,
                                               tx.account, tx.currency, tx.counterparty, tx.text, tx.raw_data));
            }
            return {};
        },
        [](uint64_t) {});
    // The report always serialises (details must be a JSON object).
    Check(nlohmann::json::parse(granska::ingest::ReportToJson(report), nullptr, false).is_object());
    Check(report.rows_accepted >= 0 && report.rows_rejected >= 0 && report.rows_read >= report.rows_accepted);
    if (report.ok()) {
        Check(report.rows_accepted == static_cast<int64_t>(out.rows.size()) && report.rows_accepted > 0);
        Check(report.dialect.count("mode") == 1);
    } else {
        const granska::Error& error = *report.error;
        Check(!error.message.empty() && !error.code.empty());
        Check(error.file == "fuzz.xml");
        out.error = fmt::format("{}|{}|{}", error.code, error.line.value_or(0), error.column);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::filesystem::path path =
        std::filesystem::temp_directory_path() / fmt::format("granska-xml-fuzz-{}.xml", getpid());
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    const bool skip_bad_rows = size % 2 == 1;
    const std::string_view element = size % 5 == 0 ? "R" : "";  // sometimes a configured element path
    const Outcome whole = Run(path, size_t{1} << 16, 1 + size % 4, skip_bad_rows, element);  // one chunk
    const Outcome chunked = Run(path, 1 + size % 7, 1 + size % 3, skip_bad_rows, element);
    Check(whole.error == chunked.error);
    // Rows delivered before an error may differ with the batch size; on success they must be identical.
    if (whole.error.empty()) Check(whole.rows == chunked.rows);
    return 0;
}
