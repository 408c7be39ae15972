#include "api/detail/strategy_requests.h"

#include <fmt/format.h>

#include <utility>

#include "api/detail/json_views.h"
#include "core/uuid.h"

namespace granska::api::detail {

namespace {

using nlohmann::json;

Error BadBodyField(std::string path, std::string message) {
    return strategy::BadStrategyField(std::move(path), std::move(message));
}

// The configuration's paths are the body's paths below "configuration".
std::string InBody(std::string_view prefix, std::string_view path) {
    if (prefix.empty()) return std::string(path);
    if (path.empty()) return std::string(prefix);
    return fmt::format("{}.{}", prefix, path);
}

json Timestamp(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

}  // namespace

Expected<StrategyRequest> ParseStrategyRequest(std::string_view body, const detect::Registry& registry) {
    json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
        return Unexpected(BadRequest("bad_json", R"(The body must be a JSON object: {"name": "...", )"
                                                 R"("configuration": {"algorithms": [...]}}.)"));
    }
    // The wrapped form keeps name and description beside the configuration.
    std::string prefix;
    json configuration;
    if (request.contains("configuration")) {
        prefix = "configuration";
        for (const auto& [key, value] : request.items()) {
            if (key != "name" && key != "description" && key != "configuration") {
                return Unexpected(BadBodyField(key, fmt::format("Unknown field '{}'; the body has name, description "
                                                                "and configuration.",
                                                                key)));
            }
        }
        configuration = request["configuration"];
        if (!configuration.is_object()) {
            return Unexpected(BadBodyField("configuration", "'configuration' must be a strategy JSON object."));
        }
        for (const char* key : {"name", "description"}) {
            if (!request.contains(key)) continue;
            if (!request[key].is_string()) {
                return Unexpected(BadBodyField(key, fmt::format("'{}' must be a string.", key)));
            }
            configuration[key] = request[key];
        }
    } else {
        configuration = std::move(request);
    }
    if (const auto name = configuration.find("name"); name != configuration.end() && name->is_string()) {
        if (name->get<std::string>().size() > kMaxStrategyNameBytes) {
            return Unexpected(BadBodyField(
                "name", fmt::format("'name' is longer than {} bytes; keep it short.", kMaxStrategyNameBytes)));
        }
    }

    auto parsed = strategy::ParseStrategy(configuration.dump(), registry);
    if (!parsed) {
        Error error = std::move(parsed).error();
        // name and description of the wrapped form are the body's own fields.
        if (error.column != "name" && error.column != "description") error.column = InBody(prefix, error.column);
        return Unexpected(std::move(error));
    }
    if (strategy::FindPreset(parsed->name) != nullptr) {
        Error error = Conflict("preset_name", fmt::format("'{}' is the name of a built-in strategy; choose another "
                                                          "name.",
                                                          parsed->name));
        error.column = "name";
        return Unexpected(std::move(error));
    }
    StrategyRequest out{.name = parsed->name, .description = parsed->description, .configuration = parsed->json};
    out.warnings = strategy::UnknownFeatures(*parsed, {});
    for (strategy::UnknownFeature& warning : out.warnings) warning.path = InBody(prefix, warning.path);
    return out;
}

Expected<ChosenStrategy> ChooseStrategy(store::Store& store, const detect::Registry& registry,
                                        std::string_view workspace_id, std::string_view strategy_id) {
    if (const strategy::Preset* preset = strategy::FindPreset(strategy_id)) {
        auto parsed = strategy::ParseStrategy(preset->json, registry);
        if (!parsed) return Unexpected(std::move(parsed).error());
        std::string configuration = parsed->json;
        return ChosenStrategy{.strategy = std::move(*parsed), .configuration = std::move(configuration)};
    }
    if (!IsUuid(strategy_id)) return Unexpected(NotFound("strategy", strategy_id));
    auto saved = store.GetStrategy(workspace_id, strategy_id);
    if (!saved) return Unexpected(std::move(saved).error());
    if (!saved->is_active) {
        Error error = Conflict("strategy_inactive", fmt::format("The strategy '{}' ({}) was deleted; runs that used it "
                                                                "keep it, but a new run cannot.",
                                                                saved->name, saved->id));
        error.column = "strategy_id";
        return Unexpected(std::move(error));
    }
    auto parsed = strategy::ParseStrategy(saved->configuration, registry);
    if (!parsed) return Unexpected(std::move(parsed).error());
    return ChosenStrategy{.strategy = std::move(*parsed),
                          .strategy_id = saved->id,
                          .version = saved->version,
                          .configuration = std::move(saved->configuration)};
}

json StrategyJson(const store::Strategy& strategy) {
    return {
        {"id", strategy.id},
        {"name", strategy.name},
        {"description", strategy.description},
        {"builtin", false},
        {"read_only", false},
        {"version", strategy.version},
        {"is_active", strategy.is_active},
        {"configuration", StoredJson(strategy.configuration, json::object())},
        {"created_at", Timestamp(strategy.created_at)},
        {"updated_at", Timestamp(strategy.updated_at)},
    };
}

json PresetJson(const strategy::Preset& preset, const detect::Registry& registry) {
    const auto parsed = strategy::ParseStrategy(preset.json, registry);
    return {
        {"id", preset.name},
        {"name", preset.name},
        {"description", preset.description},
        {"builtin", true},
        {"read_only", true},
        {"version", 1},
        {"is_active", true},
        {"configuration", StoredJson(parsed ? parsed->json : std::string(preset.json), json::object())},
        {"created_at", nullptr},
        {"updated_at", nullptr},
    };
}

json StrategyVersionJson(const store::StrategyVersion& version) {
    return {
        {"version", version.version},
        {"name", version.name},
        {"description", version.description},
        {"configuration", StoredJson(version.configuration, json::object())},
        {"created_at", Timestamp(version.created_at)},
    };
}

json WarningsJson(const std::vector<strategy::UnknownFeature>& warnings) {
    json out = json::array();
    for (const strategy::UnknownFeature& warning : warnings) {
        out.push_back(
            {{"field", warning.path},
             {"name", warning.name},
             {"message", fmt::format("{} It must be a numeric column of the file a run analyses.", warning.Message())},
             {"suggestion", warning.suggestion.empty() ? json(nullptr) : json(warning.suggestion)}});
    }
    return out;
}

json AlgorithmJson(const detect::AlgorithmInfo& info) {
    json params = json::array();
    for (const detect::ParamInfo& param : info.params) {
        params.push_back({{"name", param.name},
                          {"type", param.type},
                          {"default", json::parse(param.default_value, nullptr, /*allow_exceptions=*/false)},
                          {"description", param.description}});
        if (params.back()["default"].is_discarded()) params.back()["default"] = param.default_value;
    }
    return {
        {"name", info.name},
        {"type", detect::TypeName(info.type)},
        {"description", info.description},
        {"calibrated", info.calibrated},
        {"params", std::move(params)},
    };
}

}  // namespace granska::api::detail
