// Feeds arbitrary bytes to the SIE reader, strict and lenient, in one chunk and in tiny ones. It must never crash,
// and: every delivered row is well formed (row numbers 1.., valid UTF-8, raw_data a JSON object), accepted +
// rejected == read, the report serialises to JSON, strictness changes only the verdict (never the problems found),
// and chunk boundaries change nothing.

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "ingest/detail/text.h"
#include "ingest/sie/sie_parser.h"

namespace {

using granska::Expected;
using granska::Transaction;
using granska::ingest::ParseOptions;
using granska::ingest::ParseReport;
using granska::ingest::Problem;
using granska::ingest::detail::IsValidUtf8;

void Check(bool condition) {
    if (!condition) std::abort();
}

struct Outcome {
    ParseReport report;
    std::vector<std::string> rows;
    std::vector<std::string> problems;
    std::string error;  // "code|line|column", empty on success
};

// `deep` also checks that raw_data and the report are valid JSON, which costs more than the parse itself.
Outcome Run(std::string_view input, bool lenient, size_t chunk_bytes, size_t batch_size, bool deep) {
    std::istringstream in{std::string(input)};
    ParseOptions options;
    options.lenient = lenient;
    options.file_name = "fuzz.se";
    options.chunk_bytes = chunk_bytes;
    options.batch_size = batch_size;
    options.limits.max_field_bytes = 256;
    Outcome out;
    out.report =
        granska::ingest::ReadSie(in, options, [&out, batch_size, deep](std::span<Transaction> batch) -> Expected<void> {
            Check(!batch.empty() && batch.size() <= batch_size);
            for (const Transaction& tx : batch) {
                Check(tx.row_number == static_cast<int64_t>(out.rows.size()) + 1);
                Check(tx.source_line >= 1);
                Check(tx.amount.minor <= granska::Money::kMaxMinor && tx.amount.minor >= -granska::Money::kMaxMinor);
                Check(!tx.external_id.empty() && !tx.currency.empty());
                for (const std::string* text : {&tx.external_id, &tx.account, &tx.text, &tx.user, &tx.voucher_series,
                                                &tx.voucher_number, &tx.currency}) {
                    Check(IsValidUtf8(*text));
                }
                if (deep) Check(nlohmann::json::parse(tx.raw_data, nullptr, /*allow_exceptions=*/false).is_object());
                out.rows.push_back(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", tx.source_line, tx.external_id,
                                               tx.date.days, tx.registration_date ? tx.registration_date->days : -1,
                                               tx.account, tx.amount.minor, tx.text, tx.user, tx.currency,
                                               tx.raw_data));
            }
            return {};
        });
    const ParseReport& report = out.report;
    Check(report.rows_accepted == static_cast<int64_t>(out.rows.size()));
    Check(report.rows_accepted + report.rows_rejected == report.rows_read);
    Check(report.problems.size() <= ParseReport::kMaxProblems);
    Check(report.error_count + report.warning_count + report.info_count >=
          static_cast<int64_t>(report.problems.size()));
    if (deep) {
        const auto json = nlohmann::json::parse(granska::ingest::ReportToJson(report), nullptr, false);
        Check(json.is_object() && json["details"].is_object());
    }
    for (const Problem& problem : report.problems) {
        Check(!problem.code.empty() && !problem.message.empty());
        out.problems.push_back(fmt::format("{}|{}|{}|{}|{}|{}", granska::ingest::SeverityName(problem.severity),
                                           problem.code, problem.line.value_or(0), problem.field, problem.location,
                                           problem.message));
    }
    if (report.ok()) {
        Check(report.rows_accepted > 0);
        if (!lenient) Check(report.error_count == 0);
    } else {
        const granska::Error& error = *report.error;
        Check(!error.message.empty() && !error.code.empty() && error.file == "fuzz.se");
        out.error = fmt::format("{}|{}|{}", error.code, error.line.value_or(0), error.column);
    }
    if (!lenient && report.error_count > 0) Check(!report.ok());
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const Outcome strict = Run(input, false, size_t{1} << 16, 1 + size % 5, false);
    const Outcome lenient = Run(input, true, size_t{1} << 16, 1 + size % 3, true);
    const Outcome chunked = Run(input, true, 1 + size % 7, 1 + size % 4, false);

    Check(strict.problems == lenient.problems);
    Check(strict.report.rows_read == lenient.report.rows_read);
    Check(strict.report.details == lenient.report.details);
    if (strict.report.ok()) Check(strict.rows == lenient.rows);

    Check(lenient.error == chunked.error);
    Check(lenient.problems == chunked.problems);
    // Rows delivered before an error depend on the batch size; on success they must be identical.
    if (lenient.report.ok()) Check(lenient.rows == chunked.rows);
    Check(lenient.report.details == chunked.report.details);
    Check(lenient.report.encoding == chunked.report.encoding);
    return 0;
}
