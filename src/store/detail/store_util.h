#pragma once
// Helpers the SQLite and PostgreSQL stores share; not part of the store's API (no other module includes them).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/date.h"
#include "core/error.h"
#include "core/expected.h"

namespace granska::store::detail {

// One numbered SQL file of src/store/<backend>/migrations/, embedded in the binary at build time.
struct Migration {
    int version = 0;
    std::string_view name;
    std::string_view sql;
};

// Now as "2026-11-24T20:17:03.123Z" (UTC, milliseconds): the only timestamp form the store returns.
std::string NowTimestamp();
// A time in NowTimestamp's form; the texts sort as the times do.
std::string FormatTimestamp(std::chrono::sys_time<std::chrono::milliseconds> time);

// The lowercase canonical form of a UUID, or nullopt for any other text: ids are checked before they reach SQL.
std::optional<std::string> CanonicalId(std::string_view text);
// A workspace id and another id, both canonical, or nullopt when either is not a UUID (a read then finds nothing).
std::optional<std::pair<std::string, std::string>> CanonicalIds(std::string_view workspace_id, std::string_view id);

// Both ids, canonical, or NotFound(what, id) when either is not a UUID.
Expected<std::pair<std::string, std::string>> FoundIds(std::string_view what, std::string_view workspace_id,
                                                       std::string_view id);

// Upload::error_details of a failed upload: {"error": code, "message", "line": n|null, "column": name|null}.
std::string ErrorDetailsJson(const Error& error);

// "2024-03-31" and "13:05:00", the forms both backends store dates and times of day in.
std::optional<Date> ParseDate(std::string_view text);
std::optional<int32_t> ParseTimeOfDay(std::string_view text);

// RuleFlag::flag_value as the TEXT column rule_flags.flag_value holds it: the shortest text that reads back as the
// same double ("12.5", "nan", "inf"); reading gives 0 for NULL or unreadable text.
std::string FlagValueText(double value);
double FlagValueFromText(std::string_view text);

// A mutation named an id that is not in the workspace. Callers get ids from Create/Get first, so this is a bug
// in the caller (std::invalid_argument), not bad input.
[[noreturn]] void ThrowUnknownId(std::string_view what, std::string_view id);

// The canonical form of an id a mutation names, or ThrowUnknownId: e.g. RequireId("transaction", id).
std::string RequireId(std::string_view what, std::string_view id);
// Both the workspace id and the id of `what` in it, canonical, or ThrowUnknownId(what, id).
std::pair<std::string, std::string> RequireIds(std::string_view what, std::string_view workspace_id,
                                               std::string_view id);

// Conflict "strategy_exists": an active strategy of the workspace already has the name.
Error StrategyExists(std::string_view name);

// Run progress in [0, 1]; NaN counts as 0.
double Fraction(double progress);

// Jobs: the table of a job's target by its kind ("file_uploads" or "analysis_runs"); std::invalid_argument for an
// unknown kind, a bug in the caller.
std::string_view JobTargetTable(std::string_view kind);
// std::invalid_argument unless status is one Store::FinishJob takes (JobEnd::status).
void CheckJobEndStatus(std::string_view status);

// Page bounds: negative values mean 0; limits are capped so one request cannot load a whole table.
inline constexpr int64_t kMaxPageSize = 10'000;
int64_t PageLimit(int64_t limit);
int64_t PageOffset(int64_t offset);

}  // namespace granska::store::detail
