#pragma once
// What every ML algorithm's Run() starts with: the frame encoded either by a saved model's own encoder (context.model,
// whose algorithm part is handed back to be loaded) or by a new encoder fitted on the frame.

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/expected.h"
#include "detect/algorithm.h"
#include "detect/ml/features.h"

namespace granska::detect {

struct EncodedFrame {
    FeatureEncoder encoder;
    FeatureMatrix x;
    std::optional<nlohmann::json> saved;  // the saved model's "model" part; empty = fit a model on x
};

Expected<EncodedFrame> EncodeFrame(const transform::TransactionFrame& frame, const RunContext& context,
                                   std::string_view algorithm, const FeatureParams& params, bool standardize);

// The context with its progress mapped to [from, to] of the caller's (which must outlive it).
RunContext ScaledProgress(const RunContext& context, double from, double to);

}  // namespace granska::detect
