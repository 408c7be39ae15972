// Feeds arbitrary bytes to the xls parser (through a temporary file: freexl opens paths). It must never crash; it
// returns rows or an error with a code and a message, and every row is well formed.

#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/money.h"
#include "ingest/excel/excel_parsers.h"

namespace {

using granska::Expected;
using granska::Transaction;

void Check(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const auto parser = granska::ingest::MakeXlsParser();
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / fmt::format("granska_fuzz_xls_{}.xls", getpid());
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        << std::string_view(reinterpret_cast<const char*>(data), size);
    granska::ingest::ParseOptions options{.batch_size = 2, .file_name = "fuzz.xls"};
    options.limits.max_field_bytes = 4096;
    int64_t rows = 0;
    const granska::ingest::ParseReport report = parser->Parse(
        path, options,
        [&rows](std::span<Transaction> batch) -> Expected<void> {
            Check(!batch.empty() && batch.size() <= 2);
            for (const Transaction& tx : batch) {
                Check(tx.row_number == ++rows);
                Check(tx.source_line >= 2);
                Check(tx.amount.minor <= granska::Money::kMaxMinor && tx.amount.minor >= -granska::Money::kMaxMinor);
                Check(nlohmann::json::parse(tx.raw_data, nullptr, /*allow_exceptions=*/false).is_object());
            }
            return {};
        },
        {});
    Check(nlohmann::json::parse(report.details, nullptr, false).is_object());
    if (report.ok()) {
        Check(report.rows_accepted == rows && rows > 0);
    } else {
        Check(!report.error->message.empty() && !report.error->code.empty());
        Check(report.error->file == "fuzz.xls");
    }
    return 0;
}
