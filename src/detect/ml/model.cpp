#include "detect/ml/model.h"

#include <fmt/format.h>

namespace granska::detect {
namespace {

Error ModelError(std::string message) { return InvalidInput("bad_model", std::move(message)); }

}  // namespace

std::string WriteModelDocument(std::string_view algorithm, const nlohmann::json& params, const FeatureEncoder& encoder,
                               nlohmann::json model) {
    const nlohmann::json document = {{"format", kModelFormat},    {"version", kModelVersion},
                                     {"algorithm", algorithm},    {"params", params},
                                     {"features", encoder.ToJson()}, {"model", std::move(model)}};
    return document.dump();
}

Expected<ModelDocument> ReadModelDocument(std::string_view text, std::string_view algorithm) {
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || json.value("format", "") != kModelFormat) {
        return Unexpected(ModelError("This is not a Granska model (its \"format\" is not \"granska-model\")."));
    }
    const int version = json.value("version", 0);
    if (version < 1 || version > kModelVersion) {
        return Unexpected(ModelError(fmt::format(
            "The model has format version {}; this Granska reads versions 1 to {}. Fit it again with this version.",
            version, kModelVersion)));
    }
    const std::string saved = json.value("algorithm", "");
    if (saved != algorithm) {
        return Unexpected(ModelError(fmt::format("The model was fitted by '{}', not '{}'.", saved, algorithm)));
    }
    if (!json.contains("features") || !json.contains("model") || !json["params"].is_object()) {
        return Unexpected(ModelError("The model lacks its \"params\", \"features\" or \"model\" part."));
    }
    auto encoder = FeatureEncoder::FromJson(json["features"]);
    if (!encoder) return Unexpected(std::move(encoder).error());
    return ModelDocument{.params = json["params"], .encoder = std::move(*encoder), .model = json["model"]};
}

}  // namespace granska::detect
