#pragma once
// The JSON the API returns, built from store rows; pure functions so the shapes are tested without HTTP.
// Timestamps that are unset ("") become null; JSON text the store keeps (mapping, metadata, raw_data, reasons)
// is embedded as JSON, not as a string. Amounts are exact decimal strings ("-862.26"), never doubles.

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "store/store.h"

namespace granska::api::detail {

// Every API error: {"error": code, "message": sentence, "details": [{"message", "field"?, "file"?, "line"?}]}, details
// naming where (a JSON path such as "algorithms[1].params.threshold", a query parameter, a file column); empty
// when there is no place to name. "field", "file" and "line" of the first detail also appear at the top level as
// "column", "file" and "line".
nlohmann::json ErrorJson(const Error& error);

nlohmann::json UploadJson(const store::Upload& upload);
nlohmann::json RunJson(const store::Run& run);
nlohmann::json TransactionJson(const store::StoredTransaction& stored);
nlohmann::json ResultRowJson(const store::ResultRow& row);

// Parses JSON text the store wrote; fallback when it is empty or not valid JSON.
nlohmann::json StoredJson(std::string_view text, nlohmann::json fallback);

}  // namespace granska::api::detail
