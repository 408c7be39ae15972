#pragma once
// The algorithm registry: a plain object filled by explicit RegisterBuiltinAlgorithms(Registry&) calls.
// Each entry carries the algorithm's name, type, description and parameter list (for the API and CLI)
// and a factory that validates parameters and names the bad field.

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "detect/algorithm.h"

namespace granska::detect {

struct ParamInfo {
    std::string name;
    std::string type;           // "number" | "integer" | "boolean" | "string" | "string list"
    std::string default_value;  // JSON text
    std::string description;
};

// Builds a configured algorithm from its "params" object. path is the JSON path of that object
// (e.g. "algorithms[0].params") for error messages.
using AlgorithmFactory =
    std::function<Expected<std::unique_ptr<Algorithm>>(const nlohmann::json& params, std::string_view path)>;

struct AlgorithmInfo {
    std::string name;
    AlgorithmType type = AlgorithmType::kStatistical;
    std::string description;
    std::vector<ParamInfo> params;
    AlgorithmFactory create;
    // Whether its scores already read as "how anomalous", 0 for a row with nothing against it (then a strategy does
    // not calibrate them unless told to); false for a score with a baseline, like isolation_forest's 0.5.
    bool calibrated = true;
};

class Registry {
public:
    // Adding a name twice is a bug.
    void Add(AlgorithmInfo info);
    const AlgorithmInfo* Find(std::string_view name) const;
    std::vector<const AlgorithmInfo*> List() const;  // sorted by name
    // Unknown name → InvalidInput "unknown_algorithm" listing the known ones; bad params → the factory's error.
    Expected<std::unique_ptr<Algorithm>> Create(std::string_view name, const nlohmann::json& params,
                                                std::string_view path) const;

private:
    std::map<std::string, AlgorithmInfo, std::less<>> entries_;
};

void RegisterBuiltinAlgorithms(Registry& registry);

}  // namespace granska::detect
