#include "api/detail/request_parsing.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace granska::api::detail {

namespace {

Error BadParameter(std::string_view name, std::string message) {
    Error error = BadRequest("bad_parameter", std::move(message));
    error.column = std::string(name);
    return error;
}

std::optional<int64_t> ParseInteger(std::string_view text) {
    int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::optional<double> ParseNumber(std::string_view text) {
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

std::string PresetNames() {
    std::string names;
    for (const strategy::Preset& preset : strategy::Presets()) {
        if (!names.empty()) names += ", ";
        names += preset.name;
    }
    return names;
}

Expected<strategy::Strategy> ParsePresetName(std::string_view name, const detect::Registry& registry) {
    const strategy::Preset* preset = strategy::FindPreset(name);
    if (preset == nullptr) {
        Error error =
            InvalidInput("unknown_strategy", fmt::format("Unknown strategy '{}'; the built-in strategies are: "
                                                         "{}. Or send a strategy JSON object.",
                                                         name, PresetNames()));
        error.column = "strategy";
        return Unexpected(std::move(error));
    }
    return strategy::ParseStrategy(preset->json, registry);
}

std::string_view Trim(std::string_view text) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const size_t last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

}  // namespace

std::optional<std::string> Param(const QueryParams& params, std::string_view name) {
    const auto found = params.find(std::string(name));
    if (found == params.end()) return std::nullopt;
    return found->second;
}

Expected<Paging> ParsePaging(const QueryParams& params) {
    Paging paging;
    if (const auto limit = Param(params, "limit")) {
        const auto value = ParseInteger(*limit);
        if (!value || *value < 1 || *value > kMaxLimit) {
            return Unexpected(BadParameter(
                "limit", fmt::format("'limit' must be a whole number from 1 to {}, not '{}'.", kMaxLimit, *limit)));
        }
        paging.limit = *value;
    }
    if (const auto offset = Param(params, "offset")) {
        const auto value = ParseInteger(*offset);
        if (!value || *value < 0) {
            return Unexpected(BadParameter(
                "offset", fmt::format("'offset' must be a whole number of 0 or more, not '{}'.", *offset)));
        }
        paging.offset = *value;
    }
    return paging;
}

Expected<store::ResultQuery> ParseResultQuery(const QueryParams& params) {
    auto paging = ParsePaging(params);
    if (!paging) return Unexpected(std::move(paging).error());
    store::ResultQuery query{.limit = paging->limit, .offset = paging->offset};
    if (const auto min_score = Param(params, "min_score")) {
        const auto value = ParseNumber(*min_score);
        if (!value || *value < 0.0 || *value > 1.0) {
            return Unexpected(BadParameter(
                "min_score", fmt::format("'min_score' must be a number from 0 to 1, not '{}'.", *min_score)));
        }
        query.min_score = *value;
    }
    if (const auto flagged = Param(params, "flagged")) {
        if (*flagged == "true" || *flagged == "1") {
            query.flagged_only = true;
        } else if (*flagged != "false" && *flagged != "0") {
            return Unexpected(
                BadParameter("flagged", fmt::format("'flagged' must be true or false, not '{}'.", *flagged)));
        }
    }
    return query;
}

Expected<strategy::Strategy> ParseStrategyText(std::string_view text, const detect::Registry& registry) {
    const std::string_view trimmed = Trim(text);
    if (trimmed.starts_with('{')) return strategy::ParseStrategy(trimmed, registry);
    return ParsePresetName(trimmed, registry);
}

Expected<RunRequest> ParseRunRequest(std::string_view body, const detect::Registry& registry) {
    const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
        return Unexpected(BadRequest("bad_json", R"(The body must be a JSON object: {"upload_id": "...", )"
                                                 R"("strategy": "quick-scan"}.)"));
    }
    const auto upload_id = json.find("upload_id");
    if (upload_id == json.end() || !upload_id->is_string() || upload_id->get<std::string>().empty()) {
        Error error = BadRequest("missing_upload_id", "The body needs \"upload_id\": the id of a completed upload.");
        error.column = "upload_id";
        return Unexpected(std::move(error));
    }
    RunRequest request{.upload_id = upload_id->get<std::string>()};
    const auto chosen = json.find("strategy");
    if (const auto strategy_id = json.find("strategy_id"); strategy_id != json.end() && !strategy_id->is_null()) {
        if (!strategy_id->is_string() || strategy_id->get<std::string>().empty()) {
            return Unexpected(BadParameter("strategy_id",
                                           "\"strategy_id\" must be the id of a saved strategy or the "
                                           "name of a built-in one."));
        }
        if (chosen != json.end() && !chosen->is_null()) {
            return Unexpected(BadParameter("strategy_id", "Give either \"strategy\" or \"strategy_id\", not both."));
        }
        request.strategy_id = strategy_id->get<std::string>();
        return request;
    }
    if (chosen == json.end() || chosen->is_null()) return request;
    auto parsed = [&]() -> Expected<strategy::Strategy> {
        if (chosen->is_string()) return ParsePresetName(chosen->get<std::string>(), registry);
        if (chosen->is_object()) return strategy::ParseStrategy(chosen->dump(), registry);
        Error error = InvalidInput("bad_strategy", "\"strategy\" must be a strategy name or a strategy object.");
        error.column = "strategy";
        return Unexpected(std::move(error));
    }();
    if (!parsed) return Unexpected(std::move(parsed).error());
    request.strategy = std::move(*parsed);
    return request;
}

}  // namespace granska::api::detail
