#include "engine/ingest_upload.h"

#include <fmt/format.h>

#include <fstream>

#include "transform/row_transformer.h"

namespace granska::engine {

namespace {

Expected<IngestReport> ParseAndWrite(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                                     const std::filesystem::path& path, const IngestOptions& options) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        Error error = InvalidInput("unreadable_file", fmt::format("Cannot open the file '{}'.", path.string()));
        error.file = options.csv.file_name;
        return Unexpected(std::move(error));
    }
    std::error_code size_error;
    const uint64_t total_bytes = std::filesystem::file_size(path, size_error);

    std::unique_ptr<store::TransactionWriter> writer = store.BeginTransactions(workspace_id, upload_id);
    transform::RowTransformer transformer(options.csv.file_name);
    IngestReport report;
    auto sink = [&](std::span<Transaction> batch) -> Expected<void> {
        if (auto applied = transformer.Apply(batch); !applied) return applied;
        writer->Write(batch);
        report.rows += std::ssize(batch);
        return {};
    };
    auto progress = [&](uint64_t bytes_read) {
        if (options.progress) options.progress(bytes_read, size_error ? 0 : total_bytes);
    };
    auto summary = ingest::ReadCsv(in, options.csv, sink, progress);
    if (!summary) return Unexpected(std::move(summary).error());
    report.csv = std::move(*summary);
    writer->Commit();
    return report;
}

}  // namespace

Expected<IngestReport> IngestFile(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                                  const std::filesystem::path& path, const IngestOptions& options) {
    store.MarkUploadProcessing(workspace_id, upload_id);
    try {
        auto report = ParseAndWrite(store, workspace_id, upload_id, path, options);
        if (!report) store.FailUpload(workspace_id, upload_id, report.error());
        return report;
    } catch (const std::exception& e) {
        store.FailUpload(workspace_id, upload_id, Internal(fmt::format("Storing the rows failed: {}", e.what())));
        throw;
    }
}

}  // namespace granska::engine
