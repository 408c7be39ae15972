#include "engine/ingest_upload.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "transform/frame.h"
#include "transform/holidays.h"
#include "transform/row_transformer.h"

namespace granska::engine {

namespace {

IngestReport ParseAndWrite(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                           const std::filesystem::path& path, const IngestOptions& options) {
    std::error_code size_error;
    const uint64_t total_bytes = std::filesystem::file_size(path, size_error);

    IngestReport report;
    auto calendar = transform::HolidayCalendar::ForCountry(options.calendar.country);
    if (!calendar) {
        report.parse.error = std::move(calendar).error();
        report.parse.error->column = "country";
        return report;
    }
    std::unique_ptr<store::TransactionWriter> writer = store.BeginTransactions(workspace_id, upload_id);
    transform::RowTransformer transformer(options.parse.file_name, std::move(*calendar));
    auto sink = [&](std::span<Transaction> batch) -> Expected<void> {
        if (options.cancelled != nullptr && options.cancelled->load()) return Unexpected(IngestCancelled());
        if (auto applied = transformer.Apply(batch); !applied) return applied;
        writer->Write(batch);
        report.rows += std::ssize(batch);
        return {};
    };
    auto progress = [&](uint64_t bytes_read) {
        if (options.progress) options.progress(std::min(bytes_read, total_bytes), size_error ? 0 : total_bytes);
    };
    report.parse = ingest::ParseFile(BuiltinParsers(), path, options.parse, sink, progress);
    if (report.parse.ok()) writer->Commit(UploadMetadataJson(report.parse, options.calendar));
    return report;
}

}  // namespace

Expected<UploadCalendar> CalendarFromFields(const ingest::OptionLookup& lookup) {
    UploadCalendar calendar;
    if (const auto text = lookup("country"); text && !text->empty()) {
        auto holidays = transform::HolidayCalendar::ForCountry(*text);
        if (!holidays) {
            Error error = std::move(holidays).error();
            error.column = "country";
            return Unexpected(std::move(error));
        }
        calendar.country = std::string(holidays->country());
    }
    if (const auto text = lookup("fiscal_year_start"); text && !text->empty()) {
        const auto start = transform::ParseMonthDay(*text);
        if (!start) {
            Error error = BadRequest(
                "bad_parameter",
                fmt::format("'fiscal_year_start' must be the first day of the fiscal year as MM-DD, e.g. 07-01 for a "
                            "year starting 1 July, not '{}'.",
                            *text));
            error.column = "fiscal_year_start";
            return Unexpected(std::move(error));
        }
        calendar.fiscal_year_start = fmt::format("{:02}-{:02}", start->first, start->second);
    }
    return calendar;
}

std::string UploadMetadataJson(const ingest::ParseReport& report, const UploadCalendar& calendar) {
    nlohmann::json metadata = nlohmann::json::parse(ingest::ReportToJson(report));
    metadata["calendar"] = {{"country", calendar.country}, {"fiscal_year_start", calendar.fiscal_year_start}};
    return metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const ingest::ParserRegistry& BuiltinParsers() {
    static const ingest::ParserRegistry registry = [] {
        ingest::ParserRegistry parsers;
        ingest::RegisterBuiltinParsers(parsers);
        return parsers;
    }();
    return registry;
}

Error IngestCancelled() { return Conflict("cancelled", "The upload was cancelled."); }

IngestReport IngestFile(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                        const std::filesystem::path& path, const IngestOptions& options) {
    store.MarkUploadProcessing(workspace_id, upload_id);
    try {
        IngestReport report = ParseAndWrite(store, workspace_id, upload_id, path, options);
        const bool cancelled = options.cancelled != nullptr && options.cancelled->load();
        if (!report.ok() && cancelled) {
            report.rows = 0;
            report.parse.error = IngestCancelled();
        } else if (!report.ok()) {
            report.rows = 0;
            store.FailUpload(workspace_id, upload_id, *report.parse.error,
                             UploadMetadataJson(report.parse, options.calendar));
        }
        return report;
    } catch (const std::exception& e) {
        if (!options.retried_by_caller) {
            store.FailUpload(workspace_id, upload_id, Internal(fmt::format("Storing the rows failed: {}", e.what())),
                             "{}");
        }
        throw;
    }
}

}  // namespace granska::engine
