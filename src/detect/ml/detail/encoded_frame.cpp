#include "detect/ml/detail/encoded_frame.h"

#include "detect/ml/model.h"

namespace granska::detect {

Expected<EncodedFrame> EncodeFrame(const transform::TransactionFrame& frame, const RunContext& context,
                                   std::string_view algorithm, const FeatureParams& params, bool standardize) {
    EncodedFrame encoded;
    if (!context.model.empty()) {
        auto document = ReadModelDocument(context.model, algorithm);
        if (!document) return Unexpected(std::move(document).error());
        encoded.encoder = std::move(document->encoder);
        encoded.saved = std::move(document->model);
    } else {
        auto fitted = FeatureEncoder::Fit(frame, params, standardize, params.path);
        if (!fitted) return Unexpected(std::move(fitted).error());
        encoded.encoder = std::move(*fitted);
    }
    auto matrix = encoded.encoder.Transform(frame);
    if (!matrix) return Unexpected(std::move(matrix).error());
    encoded.x = std::move(*matrix);
    return encoded;
}

RunContext ScaledProgress(const RunContext& context, double from, double to) {
    RunContext part = context;
    part.progress = [&context, from, to](double f) { context.progress(from + (to - from) * f); };
    return part;
}

}  // namespace granska::detect
