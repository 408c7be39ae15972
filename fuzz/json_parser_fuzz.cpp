// Feeds arbitrary bytes to the JSON parser, from memory. It must never crash; it returns rows or an error with a
// code and a message. The table reader is also run on its own, so the second pass (every value read and checked)
// is reached even when the keys do not map to transaction fields. Whatever it accepts must be valid JSON.

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/money.h"
#include "ingest/detail/text.h"
#include "ingest/json/detail/json_table.h"

namespace {

using granska::Expected;
using granska::Transaction;
using granska::ingest::Cell;
using granska::ingest::CellType;
using granska::ingest::ParseOptions;
using granska::ingest::ParseReport;
using granska::ingest::detail::JsonTable;
using granska::ingest::detail::JsonTableReader;

void Check(bool condition) {
    if (!condition) std::abort();
}

ParseOptions FuzzOptions() {
    ParseOptions options;
    options.file_name = "fuzz.json";
    options.batch_size = 3;
    options.limits.max_depth = 12;
    options.limits.max_field_bytes = 512;
    options.limits.max_rows = 1000;
    return options;
}

// nlohmann's verdict, except that it refuses numbers beyond a double's range, which JSON allows.
bool IsValidJson(std::string_view text) {
    try {
        const nlohmann::json parsed = nlohmann::json::parse(text.begin(), text.end());
        return !parsed.is_discarded();
    } catch (const nlohmann::json::out_of_range&) {
        return true;
    } catch (const nlohmann::json::parse_error&) {
        return false;
    }
}

// What the reader accepted must be JSON that another parser accepts too.
void CheckAcceptedJson(std::string_view input, const JsonTable& table) {
    if (table.encoding != "utf-8" && table.encoding != "utf-8-bom") return;
    if (table.encoding == "utf-8-bom") input.remove_prefix(3);
    if (table.shape != "ndjson") {
        Check(IsValidJson(input));
        return;
    }
    size_t start = 0;
    while (start < input.size()) {
        const size_t end = std::min(input.find('\n', start), input.size());
        const std::string_view line = input.substr(start, end - start);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) Check(IsValidJson(line));
        start = end + 1;
    }
}

void RunReader(std::string_view input, const ParseOptions& options) {
    JsonTableReader reader(options);
    const Expected<JsonTable> table = reader.LoadBytes(input);
    if (!table) {
        Check(!table.error().code.empty() && !table.error().message.empty());
        return;
    }
    Check(table->rows > 0 && table->rows <= static_cast<int64_t>(options.limits.max_rows));
    Check(table->headers.size() <= JsonTableReader::kMaxColumns);
    int64_t rows = 0;
    int64_t last_line = 0;
    ParseReport report;
    const auto read = reader.ReadRows(
        [&](std::span<const Cell> cells, int64_t line) -> Expected<void> {
            ++rows;
            Check(cells.size() == table->headers.size());
            Check(line >= last_line && line >= 1);
            last_line = line;
            for (const Cell& cell : cells) {
                Check(granska::ingest::detail::IsValidUtf8(cell.text));
                if (cell.type == CellType::kNumber) Check(IsValidJson(cell.text));
                if (cell.type == CellType::kBool) Check(cell.text == "true" || cell.text == "false");
                if (cell.type == CellType::kEmpty) Check(cell.text.empty());
            }
            return {};
        },
        report);
    if (read) {
        Check(rows == table->rows);
        CheckAcceptedJson(input, *table);
    } else {
        Check(!read.error().code.empty() && !read.error().message.empty());
    }
}

void RunParser(std::string_view input, const ParseOptions& options) {
    int64_t delivered = 0;
    const ParseReport report =
        granska::ingest::detail::ParseJsonBytes(input, options, [&](std::span<Transaction> batch) -> Expected<void> {
            Check(!batch.empty() && batch.size() <= options.batch_size);
            for (const Transaction& tx : batch) {
                Check(tx.row_number == ++delivered);
                Check(tx.source_line >= 1);
                Check(tx.amount.minor <= granska::Money::kMaxMinor && tx.amount.minor >= -granska::Money::kMaxMinor);
                Check(nlohmann::json::parse(tx.raw_data, nullptr, /*allow_exceptions=*/false).is_object());
            }
            return {};
        });
    if (report.ok()) {
        Check(report.rows_accepted == delivered && delivered > 0);
        Check(report.dialect.count("shape") == 1);
    } else {
        Check(!report.error->code.empty() && !report.error->message.empty());
        Check(report.error->file == "fuzz.json");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const ParseOptions options = FuzzOptions();
    RunReader(input, options);
    RunParser(input, options);
    return 0;
}
