#include "store/detail/store_util.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/uuid.h"
#include "store/store.h"

namespace granska::store::detail {

std::string NowTimestamp() {
    return FormatTimestamp(std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

std::string FormatTimestamp(std::chrono::sys_time<std::chrono::milliseconds> time) {
    using namespace std::chrono;
    const auto day = floor<days>(time);
    const year_month_day ymd{day};
    const hh_mm_ss clock{time - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), clock.hours().count(),
                       clock.minutes().count(), clock.seconds().count(), clock.subseconds().count());
}

std::optional<std::string> CanonicalId(std::string_view text) {
    if (!IsUuid(text)) return std::nullopt;
    std::string id(text);
    std::transform(id.begin(), id.end(), id.begin(), [](char c) { return c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c; });
    return id;
}

std::optional<std::pair<std::string, std::string>> CanonicalIds(std::string_view workspace_id, std::string_view id) {
    auto workspace = CanonicalId(workspace_id);
    auto canonical = CanonicalId(id);
    if (!workspace || !canonical) return std::nullopt;
    return std::pair{std::move(*workspace), std::move(*canonical)};
}

std::string ErrorDetailsJson(const Error& error) {
    nlohmann::json details = {{"error", error.code}, {"message", error.message}};
    details["line"] = error.line ? nlohmann::json(*error.line) : nlohmann::json(nullptr);
    details["column"] = error.column.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.column);
    // Replace, not throw, on invalid UTF-8: a message may quote bytes of a badly encoded file.
    return details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

bool ReadNumber(std::string_view text, size_t pos, size_t count, int& out) {
    if (pos + count > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + count; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<Date> ParseDate(std::string_view text) {
    int year = 0, month = 0, day = 0;
    if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !ReadNumber(text, 0, 4, year) ||
        !ReadNumber(text, 5, 2, month) || !ReadNumber(text, 8, 2, day)) {
        return std::nullopt;
    }
    return Date::FromYmd(year, month, day);
}

std::optional<int32_t> ParseTimeOfDay(std::string_view text) {
    int hour = 0, minute = 0, second = 0;
    if (text.size() < 8 || text[2] != ':' || text[5] != ':' || !ReadNumber(text, 0, 2, hour) ||
        !ReadNumber(text, 3, 2, minute) || !ReadNumber(text, 6, 2, second) || hour > 23 || minute > 59 || second > 59) {
        return std::nullopt;
    }
    return hour * 3600 + minute * 60 + second;
}

void ThrowUnknownId(std::string_view what, std::string_view id) {
    throw std::invalid_argument(fmt::format("No {} with id '{}' exists in this workspace.", what, id));
}

std::string RequireId(std::string_view what, std::string_view id) {
    auto canonical = CanonicalId(id);
    if (!canonical) ThrowUnknownId(what, id);
    return std::move(*canonical);
}

std::pair<std::string, std::string> RequireIds(std::string_view what, std::string_view workspace_id,
                                               std::string_view id) {
    auto ids = CanonicalIds(workspace_id, id);
    if (!ids) ThrowUnknownId(what, id);
    return std::move(*ids);
}

Expected<std::pair<std::string, std::string>> FoundIds(std::string_view what, std::string_view workspace_id,
                                                       std::string_view id) {
    auto ids = CanonicalIds(workspace_id, id);
    if (!ids) return Unexpected(NotFound(std::string(what), id));
    return std::move(*ids);
}

Error StrategyExists(std::string_view name) {
    return Conflict("strategy_exists",
                    fmt::format("A strategy named '{}' exists in this workspace; choose another name, or update or "
                                "delete that one.",
                                name));
}

std::string FlagValueText(double value) { return fmt::format("{}", value); }

double FlagValueFromText(std::string_view text) {
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() ? value : 0.0;
}

std::string_view JobTargetTable(std::string_view kind) {
    if (kind == kProcessUploadedFile) return "file_uploads";
    if (kind == kRunAnomalyDetection) return "analysis_runs";
    throw std::invalid_argument(fmt::format("Unknown job kind '{}'.", kind));
}

void CheckJobEndStatus(std::string_view status) {
    for (std::string_view known : {"completed", "retrying", "failed", "cancelled", "queued"}) {
        if (status == known) return;
    }
    throw std::invalid_argument(fmt::format("A job cannot end '{}'.", status));
}

double Fraction(double progress) { return std::isnan(progress) ? 0.0 : std::clamp(progress, 0.0, 1.0); }

int64_t PageLimit(int64_t limit) { return std::clamp<int64_t>(limit, 0, kMaxPageSize); }
int64_t PageOffset(int64_t offset) { return std::max<int64_t>(offset, 0); }

}  // namespace granska::store::detail
