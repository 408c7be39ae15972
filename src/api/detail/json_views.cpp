#include "api/detail/json_views.h"

#include <fmt/format.h>

#include <string>

#include "core/date.h"

namespace granska::api::detail {

namespace {

using nlohmann::json;

json Timestamp(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

json UploadError(const store::Upload& upload) {
    if (upload.status != "failed") return nullptr;
    json details = StoredJson(upload.error_details, json::object());
    if (!details.is_object()) details = json::object();
    if (!details.contains("error")) details["error"] = "failed";
    if (!details.contains("message")) details["message"] = upload.error_message;
    details.erase("http_status");
    return details;
}

}  // namespace

json StoredJson(std::string_view text, json fallback) {
    if (text.empty()) return fallback;
    json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    return parsed.is_discarded() ? fallback : parsed;
}

json ErrorJson(const Error& error) {
    json body = {{"error", error.code.empty() ? std::string("error") : error.code}, {"message", error.message}};
    json details = json::array();
    if (error.line || !error.column.empty() || !error.file.empty()) {
        json where = {{"message", error.message}};
        if (!error.column.empty()) where["field"] = error.column;
        if (!error.file.empty()) where["file"] = error.file;
        if (error.line) where["line"] = *error.line;
        details.push_back(std::move(where));
    }
    // The first detail's place again at the top level, for clients that read one error.
    if (error.line) body["line"] = *error.line;
    if (!error.column.empty()) body["column"] = error.column;
    if (!error.file.empty()) body["file"] = error.file;
    body["details"] = std::move(details);
    return body;
}

std::pair<int, json> FailedUploadAnswer(const store::Upload& upload) {
    json stored = StoredJson(upload.error_details, json::object());
    if (!stored.is_object()) stored = json::object();
    Error error{.code = stored.value("error", "failed"),
                .message = stored.value("message", upload.error_message),
                .file = upload.filename};
    if (stored.contains("line") && stored["line"].is_number_integer()) error.line = stored["line"].get<int64_t>();
    if (stored.contains("column") && stored["column"].is_string()) error.column = stored["column"];
    const json status = stored.value("http_status", json(422));
    json body = ErrorJson(error);
    body["upload_id"] = upload.id;
    body["report"] = StoredJson(upload.metadata, json::object());
    return {status.is_number_integer() ? status.get<int>() : 422, std::move(body)};
}

json JobJson(const store::Job& job) {
    return {
        {"id", job.id},
        {"kind", job.kind},
        {"target_id", job.target_id},
        {"status", job.status},
        {"attempts", job.attempts},
        {"max_attempts", job.max_attempts},
        {"worker", job.worker.empty() ? json(nullptr) : json(job.worker)},
        {"error", job.error.empty() ? json(nullptr) : json(job.error)},
        {"cancel_requested", job.cancel_requested},
        {"run_after", Timestamp(job.run_after)},
        {"created_at", Timestamp(job.created_at)},
        {"started_at", Timestamp(job.started_at)},
        {"finished_at", Timestamp(job.finished_at)},
    };
}

json UploadJson(const store::Upload& upload) {
    return {
        {"id", upload.id},
        {"workspace_id", upload.workspace_id},
        {"filename", upload.filename},
        {"file_type", upload.file_type},
        {"file_size", upload.file_size},
        {"status", upload.status},
        {"row_count", upload.row_count},
        {"mapping", StoredJson(upload.mapping, json::object())},
        {"error", UploadError(upload)},
        {"report", StoredJson(upload.metadata, json::object())},
        {"created_at", Timestamp(upload.created_at)},
        {"completed_at", Timestamp(upload.completed_at)},
    };
}

json RunJson(const store::Run& run) {
    json metadata = StoredJson(run.metadata, json::object());
    json timings = metadata.is_object() && metadata.contains("timings") ? metadata["timings"] : json(nullptr);
    return {
        {"id", run.id},
        {"upload_id", run.upload_id},
        {"strategy", run.strategy_name},
        {"strategy_id", run.strategy_id.empty() ? json(nullptr) : json(run.strategy_id)},
        {"strategy_version", run.strategy_id.empty() ? json(nullptr) : json(run.strategy_version)},
        {"configuration", StoredJson(run.configuration, json::object())},
        {"status", run.status},
        {"progress", run.progress},
        {"stage", run.stage},
        {"error", run.error_message.empty() ? json(nullptr) : json(run.error_message)},
        {"flagged_count", run.flagged_count},
        {"progress_detail", StoredJson(run.progress_detail, json::object())},
        {"timings", std::move(timings)},
        {"metadata", std::move(metadata)},
        {"created_at", Timestamp(run.created_at)},
        {"started_at", Timestamp(run.started_at)},
        {"completed_at", Timestamp(run.completed_at)},
    };
}

json TransactionJson(const store::StoredTransaction& stored) {
    const Transaction& t = stored.transaction;
    return {
        {"id", stored.id},
        {"external_id", t.external_id},
        {"row_number", t.row_number},
        {"date", t.date.ToString()},
        {"registration_date", t.registration_date ? json(t.registration_date->ToString()) : json(nullptr)},
        {"time", t.time_seconds ? json(FormatTimeOfDay(*t.time_seconds)) : json(nullptr)},
        {"account", t.account},
        {"amount", t.amount.ToString()},
        {"currency", t.currency},
        {"text", t.text},
        {"user", t.user},
        {"counterparty", t.counterparty},
        {"voucher_series", t.voucher_series},
        {"voucher_number", t.voucher_number},
        {"raw_data", StoredJson(t.raw_data, json::object())},
    };
}

json ResultRowJson(const store::ResultRow& row) {
    json algorithms = json::object();
    for (const store::AlgorithmScore& score : row.algorithm_scores) {
        algorithms[score.algorithm] = {
            {"score", score.score}, {"confidence", score.confidence}, {"reason", score.reason}};
    }
    return {
        {"rank", row.result.rank},
        {"score", row.result.score},
        {"flagged", row.result.flagged},
        {"reasons", StoredJson(row.result.reasons, json::array())},
        {"transaction", TransactionJson(row.transaction)},
        {"algorithms", std::move(algorithms)},
    };
}

json RunNotReadyJson(const store::Run& run) {
    json body = ErrorJson(
        Conflict("run_not_ready", fmt::format("The analysis is {}; results exist once it has completed.", run.status)));
    body["run_status"] = run.status;
    return body;
}

json TransactionRowJson(const store::TransactionRow& row) {
    json body = TransactionJson(row.transaction);
    if (!row.latest) {
        body["latest"] = nullptr;
        return body;
    }
    json algorithms = json::object();
    for (const store::AlgorithmScore& score : row.latest->algorithm_scores) algorithms[score.algorithm] = score.score;
    body["latest"] = {{"run_id", row.latest->run_id},
                      {"score", row.latest->result.score},
                      {"flagged", row.latest->result.flagged},
                      {"rank", row.latest->result.rank},
                      {"algorithm_scores", std::move(algorithms)}};
    return body;
}

json TransactionDetailJson(const store::TransactionDetail& detail) {
    json body = TransactionJson(detail.transaction);
    body["upload_id"] = detail.upload_id;
    body["processed_data"] = StoredJson(detail.transaction.transaction.processed_data, json::object());
    json runs = json::array();
    for (const store::TransactionRunDetail& run : detail.runs) {
        json algorithms = json::array();
        for (const store::AlgorithmScore& score : run.algorithm_scores) {
            algorithms.push_back({{"name", score.algorithm},
                                  {"score", score.score},
                                  {"confidence", score.confidence},
                                  {"reason", score.reason}});
        }
        json flags = json::array();
        for (const store::RuleFlag& flag : run.flags) {
            flags.push_back({{"rule", flag.rule_name},
                             {"triggered", flag.triggered},
                             {"value", flag.flag_value},
                             {"metadata", StoredJson(flag.metadata, json::object())}});
        }
        runs.push_back({{"run_id", run.run_id},
                        {"strategy", run.strategy_name},
                        {"created_at", Timestamp(run.created_at)},
                        {"score", run.result ? json(run.result->score) : json(nullptr)},
                        {"flagged", run.result ? json(run.result->flagged) : json(nullptr)},
                        {"rank", run.result ? json(run.result->rank) : json(nullptr)},
                        {"reasons", run.result ? StoredJson(run.result->reasons, json::array()) : json::array()},
                        {"algorithms", std::move(algorithms)},
                        {"flags", std::move(flags)}});
    }
    body["runs"] = std::move(runs);
    return body;
}

}  // namespace granska::api::detail
