#include "detect/registry.h"

#include <fmt/format.h>

#include <cassert>
#include <nlohmann/json.hpp>

namespace granska::detect {

std::string_view TypeName(AlgorithmType type) {
    switch (type) {
        case AlgorithmType::kStatistical:
            return "statistical";
        case AlgorithmType::kRuleBased:
            return "rule_based";
        case AlgorithmType::kMlBased:
            return "ml_based";
    }
    return "statistical";
}

void Registry::Add(AlgorithmInfo info) {
    const std::string name = info.name;
    [[maybe_unused]] const bool inserted = entries_.emplace(name, std::move(info)).second;
    assert(inserted && "algorithm registered twice");
}

const AlgorithmInfo* Registry::Find(std::string_view name) const {
    const auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const AlgorithmInfo*> Registry::List() const {
    std::vector<const AlgorithmInfo*> out;
    out.reserve(entries_.size());
    for (const auto& [name, info] : entries_) out.push_back(&info);
    return out;
}

Expected<std::unique_ptr<Algorithm>> Registry::Create(std::string_view name, const nlohmann::json& params,
                                                      std::string_view path) const {
    const AlgorithmInfo* info = Find(name);
    if (info == nullptr) {
        std::vector<std::string_view> names;
        for (const auto& [known, entry] : entries_) names.push_back(known);
        Error error = InvalidInput("unknown_algorithm",
                                   fmt::format("Unknown algorithm '{}'; available: {}.", name, fmt::join(names, ", ")));
        error.column = fmt::format("{}.name", path);
        return Unexpected(std::move(error));
    }
    return info->create(params, fmt::format("{}.params", path));
}

}  // namespace granska::detect
