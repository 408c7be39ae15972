#pragma once
// The JSON the API returns, built from store rows; pure functions so the shapes are tested without HTTP.
// Timestamps that are unset ("") become null; JSON text the store keeps (mapping, metadata, raw_data, reasons)
// is embedded as JSON, not as a string. Amounts are exact decimal strings ("-862.26"), never doubles.

#include <nlohmann/json.hpp>
#include <utility>

#include "core/error.h"
#include "store/store.h"

namespace granska::api::detail {

// Every API error: {"error": code, "message": sentence, "details": [{"message", "field"?, "file"?, "line"?}]}, details
// naming where (a JSON path such as "algorithms[1].params.threshold", a query parameter, a file column); empty
// when there is no place to name. "field", "file" and "line" of the first detail also appear at the top level as
// "column", "file" and "line".
nlohmann::json ErrorJson(const Error& error);

nlohmann::json UploadJson(const store::Upload& upload);
// What POST /upload?wait=true answers for a failed upload: the status of its error (422 when none was recorded) and
// the error body (ErrorJson of the stored error, with "upload_id" and the validation "report").
std::pair<int, nlohmann::json> FailedUploadAnswer(const store::Upload& upload);
// A job as GET /jobs and the "job" of an upload's or a run's status show it.
nlohmann::json JobJson(const store::Job& job);
nlohmann::json RunJson(const store::Run& run);
// The 409 body for the results of a run that has not completed: ErrorJson plus "run_status".
nlohmann::json RunNotReadyJson(const store::Run& run);
nlohmann::json TransactionJson(const store::StoredTransaction& stored);
nlohmann::json ResultRowJson(const store::ResultRow& row);
// TransactionJson plus "latest": {run_id, score, flagged, rank, algorithm_scores: {label: score}} or null.
nlohmann::json TransactionRowJson(const store::TransactionRow& row);
// TransactionJson plus upload_id, processed_data and "runs": [{run_id, strategy, created_at, score, flagged, rank,
// reasons, algorithms: [{name, score, confidence, reason}], flags: [{rule, triggered, value, metadata}]}], newest
// first; score, flagged and rank are null for a run that wrote no result for the row.
nlohmann::json TransactionDetailJson(const store::TransactionDetail& detail);

// Parses JSON text the store wrote; fallback when it is empty or not valid JSON.
nlohmann::json StoredJson(std::string_view text, nlohmann::json fallback);

}  // namespace granska::api::detail
