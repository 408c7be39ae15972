// Feeds arbitrary bytes to ReadCsv, under both bad-row policies. It must never crash; it returns rows or an error with
// a code and a message, every row is well formed, and the result does not depend on where the stream's chunk boundaries
// fall.

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "ingest/csv_reader.h"

namespace {

using granska::Expected;
using granska::Transaction;
using granska::ingest::BadRowPolicy;
using granska::ingest::ParseOptions;
using granska::ingest::ReadCsv;

void Check(bool condition) {
    if (!condition) std::abort();
}

struct Outcome {
    std::vector<std::string> rows;
    std::string error;  // "code|line|column", empty on success
};

Outcome Run(std::string_view input, size_t chunk_bytes, size_t batch_size, BadRowPolicy policy) {
    std::istringstream in{std::string(input)};
    Outcome out;
    const ParseOptions options{.bad_rows = policy,
                               .batch_size = batch_size,
                               .file_name = "fuzz.csv",
                               .chunk_bytes = chunk_bytes,
                               .max_record_bytes = 4096};
    const auto result = ReadCsv(in, options, [&out, batch_size](std::span<Transaction> batch) -> Expected<void> {
        Check(!batch.empty() && batch.size() <= batch_size);
        for (const Transaction& tx : batch) {
            Check(tx.row_number == static_cast<int64_t>(out.rows.size()) + 1);
            Check(tx.source_line >= 2);
            Check(tx.amount.minor <= granska::Money::kMaxMinor && tx.amount.minor >= -granska::Money::kMaxMinor);
            const auto raw = nlohmann::json::parse(tx.raw_data, nullptr, /*allow_exceptions=*/false);
            Check(raw.is_object());
            out.rows.push_back(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", tx.source_line, tx.date.days,
                                           tx.time_seconds.value_or(-1), tx.amount.minor, tx.external_id, tx.account,
                                           tx.text, tx.raw_data));
        }
        return {};
    });
    if (result.ok()) {
        Check(result.rows_accepted == static_cast<int64_t>(out.rows.size()) && result.rows_accepted > 0);
        Check(result.rows_accepted + result.rows_rejected == result.rows_read);
        Check(policy == BadRowPolicy::kSkipRow || result.rows_rejected == 0);
    } else {
        const granska::Error& error = *result.error;
        Check(!error.message.empty() && !error.code.empty());
        Check(error.file == "fuzz.csv");
        out.error = fmt::format("{}|{}|{}", error.code, error.line.value_or(0), error.column);
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    // Both policies: the first bad row fails the file, or bad rows are skipped and counted.
    const BadRowPolicy policy = size % 2 == 0 ? BadRowPolicy::kRejectFile : BadRowPolicy::kSkipRow;
    const Outcome whole = Run(input, size_t{1} << 16, 1 + size % 4, policy);  // one chunk: inputs are small
    const Outcome chunked = Run(input, 1 + size % 7, 1 + size % 3, policy);
    Check(whole.error == chunked.error);
    // Rows delivered before an error may differ with the batch size; on success they must be identical.
    if (whole.error.empty()) Check(whole.rows == chunked.rows);
    return 0;
}
