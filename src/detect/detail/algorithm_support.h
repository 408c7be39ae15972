#pragma once
// Small pieces every algorithm uses: its registry factory and the cancellation check.

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <utility>

#include "detect/registry.h"

namespace granska::detect {

// The registry factory of algorithm A, configured by P::FromJson (which names the bad field).
template <class A, class P>
AlgorithmFactory FactoryOf() {
    return [](const nlohmann::json& json, std::string_view path) -> Expected<std::unique_ptr<Algorithm>> {
        auto params = P::FromJson(json, path);
        if (!params) return Unexpected(std::move(params).error());
        return std::unique_ptr<Algorithm>(std::make_unique<A>(std::move(*params)));
    };
}

// True when the engine asked the algorithm to stop.
inline bool Cancelled(const RunContext& context) { return context.cancelled != nullptr && context.cancelled->load(); }

}  // namespace granska::detect
