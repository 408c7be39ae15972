#pragma once
// The strategy endpoints' requests and responses, apart from HTTP so they are tested directly: the body of
// POST/PUT /api/v1/strategies, the strategy a run names by "strategy_id", and the JSON of strategies, presets,
// versions and algorithms.
//
// A strategy body is either {"name", "description"?, "configuration": {strategy JSON}} or the strategy JSON itself
// (DESIGN.md, with "name" inside). The outer name and description win over the configuration's own; what is saved
// is the canonical JSON of the strategy (strategy::Strategy::json) with them.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "detect/registry.h"
#include "store/store.h"
#include "strategy/strategy.h"

namespace granska::api::detail {

inline constexpr size_t kMaxStrategyNameBytes = 200;

struct StrategyRequest {
    std::string name;
    std::string description;
    std::string configuration;  // the canonical strategy JSON to save
    // Features that are not derived ones: columns of a file, perhaps; checked when a run names an upload. Paths as in
    // the body ("configuration.algorithms[0].params.features[1]" in the wrapped form).
    std::vector<strategy::UnknownFeature> warnings;
};

// 400 for a body that is not a JSON object; 422 for a bad strategy (the path of the field in the body: "name",
// "configuration.algorithms[1].weight"); 409 "preset_name" for a built-in strategy's name.
Expected<StrategyRequest> ParseStrategyRequest(std::string_view body, const detect::Registry& registry);

// The strategy a run names by "strategy_id".
struct ChosenStrategy {
    strategy::Strategy strategy;
    std::string strategy_id;    // the saved strategy's id; "" for a preset (a run of it is ad hoc)
    int64_t version = 0;        // the saved strategy's version; 0 for a preset
    std::string configuration;  // the exact JSON of that version, as saved
};

// A preset by name, or a saved strategy of the workspace by id (its current version). NotFound for neither;
// Conflict "strategy_inactive" for a deactivated one; a saved configuration the registry no longer accepts gives
// its parse error.
Expected<ChosenStrategy> ChooseStrategy(store::Store& store, const detect::Registry& registry,
                                        std::string_view workspace_id, std::string_view strategy_id);

// {"id", "name", "description", "builtin", "read_only", "version", "is_active", "configuration", "created_at",
// "updated_at"}: a saved strategy, or a preset (id = its name, version 1, timestamps null).
nlohmann::json StrategyJson(const store::Strategy& strategy);
nlohmann::json PresetJson(const strategy::Preset& preset, const detect::Registry& registry);
// {"version", "name", "description", "configuration", "created_at"}
nlohmann::json StrategyVersionJson(const store::StrategyVersion& version);
// [{"field": path, "name", "message", "suggestion": text | null}]
nlohmann::json WarningsJson(const std::vector<strategy::UnknownFeature>& warnings);
// {"name", "type", "description", "calibrated", "params": [{"name", "type", "default" (JSON), "description"}]}
nlohmann::json AlgorithmJson(const detect::AlgorithmInfo& info);

}  // namespace granska::api::detail
