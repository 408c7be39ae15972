#include "engine/ingest_upload.h"

#include <fmt/format.h>

#include "transform/row_transformer.h"

namespace granska::engine {

namespace {

IngestReport ParseAndWrite(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                           const std::filesystem::path& path, const IngestOptions& options) {
    std::error_code size_error;
    const uint64_t total_bytes = std::filesystem::file_size(path, size_error);

    std::unique_ptr<store::TransactionWriter> writer = store.BeginTransactions(workspace_id, upload_id);
    transform::RowTransformer transformer(options.parse.file_name);
    IngestReport report;
    auto sink = [&](std::span<Transaction> batch) -> Expected<void> {
        if (auto applied = transformer.Apply(batch); !applied) return applied;
        writer->Write(batch);
        report.rows += std::ssize(batch);
        return {};
    };
    auto progress = [&](uint64_t bytes_read) {
        if (options.progress) options.progress(std::min(bytes_read, total_bytes), size_error ? 0 : total_bytes);
    };
    report.parse = ingest::ParseFile(BuiltinParsers(), path, options.parse, sink, progress);
    if (report.parse.ok()) writer->Commit(ingest::ReportToJson(report.parse));
    return report;
}

}  // namespace

const ingest::ParserRegistry& BuiltinParsers() {
    static const ingest::ParserRegistry registry = [] {
        ingest::ParserRegistry parsers;
        ingest::RegisterBuiltinParsers(parsers);
        return parsers;
    }();
    return registry;
}

IngestReport IngestFile(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                        const std::filesystem::path& path, const IngestOptions& options) {
    store.MarkUploadProcessing(workspace_id, upload_id);
    try {
        IngestReport report = ParseAndWrite(store, workspace_id, upload_id, path, options);
        if (!report.ok()) {
            report.rows = 0;
            store.FailUpload(workspace_id, upload_id, *report.parse.error, ingest::ReportToJson(report.parse));
        }
        return report;
    } catch (const std::exception& e) {
        store.FailUpload(workspace_id, upload_id, Internal(fmt::format("Storing the rows failed: {}", e.what())), "{}");
        throw;
    }
}

}  // namespace granska::engine
