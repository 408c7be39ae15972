#pragma once
// Request parsing for the API, apart from HTTP so it can be tested directly: query parameters, the analysis
// request body, strategy choices and CSV options. Each returns the Error the client gets (400 for a malformed
// request, 422 for a wrong strategy or mapping), naming the culprit in `column`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "detect/registry.h"
#include "ingest/csv_reader.h"
#include "store/store.h"
#include "strategy/strategy.h"

namespace granska::api::detail {

// Query parameters as httplib gives them.
using QueryParams = std::multimap<std::string, std::string>;

inline constexpr int64_t kDefaultLimit = 50;
inline constexpr int64_t kMaxLimit = 500;

struct Paging {
    int64_t limit = kDefaultLimit;
    int64_t offset = 0;
};

std::optional<std::string> Param(const QueryParams& params, std::string_view name);

// A 400 "bad_parameter" naming the query parameter (Error::column).
Error BadParameter(std::string_view name, std::string message);

// limit in 1..500 (default 50), offset ≥ 0 (default 0).
Expected<Paging> ParsePaging(const QueryParams& params);

// Paging plus min_score in [0, 1], flagged = true|false|1|0, algorithm (a label), account, date_from and date_to
// (YYYY-MM-DD, inclusive), sort = rank|score|date and order = asc|desc (default: asc, but desc for score).
Expected<store::ResultQuery> ParseResultQuery(const QueryParams& params);

// GET /api/v1/transactions: paging plus upload_id, account, user, date_from, date_to, amount_min and amount_max
// (decimal text, exact: "-250.50"), q (text contained), run_id, min_score (needs run_id), sort = date|amount|row|score
// (score needs run_id) and order = asc|desc (default: asc, but desc for score). Ids are checked by the caller.
Expected<store::TransactionQuery> ParseTransactionQuery(const QueryParams& params);

// The algorithm parameter of a run's results must be one of the labels in the run's strategy (its configuration).
Expected<void> CheckAlgorithmLabel(std::string_view configuration, std::string_view label);

// A strategy given as text: a preset name ("quick-scan") or a strategy JSON object.
Expected<strategy::Strategy> ParseStrategyText(std::string_view text, const detect::Registry& registry);

struct RunRequest {
    std::string upload_id;
    // none given (and no strategy_id): the upload's default (strategy::DefaultPresetFor)
    std::optional<strategy::Strategy> strategy;
    std::string strategy_id;  // "strategy_id": a saved strategy's id or a preset's name; "" when not given
};

// {"upload_id": "...", "strategy": "quick-scan" | {...}} or {"upload_id": "...", "strategy_id": "<id or preset>"};
// with neither, no strategy (the upload decides). Both at once is a bad request.
Expected<RunRequest> ParseRunRequest(std::string_view body, const detect::Registry& registry);

}  // namespace granska::api::detail
