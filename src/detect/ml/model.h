#pragma once
// Saved models (docs/models.md): a fitted ML algorithm as one JSON document, so that a model trained on one upload
// ("last year") can score another ("this month"). Version 1:
//   {"format": "granska-model", "version": 1, "algorithm": "isolation_forest", "params": {…as fitted…},
//    "features": {…FeatureEncoder…}, "model": {…the algorithm's own state…}}
// A reader refuses another format, a newer version or another algorithm's model, saying which.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "detect/ml/features.h"

namespace granska::detect {

inline constexpr std::string_view kModelFormat = "granska-model";
inline constexpr int kModelVersion = 1;

std::string WriteModelDocument(std::string_view algorithm, const nlohmann::json& params, const FeatureEncoder& encoder,
                               nlohmann::json model);

struct ModelDocument {
    nlohmann::json params;
    FeatureEncoder encoder;
    nlohmann::json model;
};
Expected<ModelDocument> ReadModelDocument(std::string_view text, std::string_view algorithm);

}  // namespace granska::detect
