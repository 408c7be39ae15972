#pragma once
// The matrix the ML algorithms learn from. A FeatureEncoder is fitted once on a frame — which numeric features
// (derived ones by name, or numeric columns of the uploaded file by header), which categorical fields are one-hot
// encoded (the most frequent values each get a column, the rest share "(other)"), what replaces a missing value,
// and optionally the mean and spread that standardize each column — and is saved with a model, so that a later
// upload is encoded exactly as the training one was.
//
// Missing values (a blank or absent value in a column of the file; derived features are never missing): policy
// "median" imputes the training median; "indicator" imputes it too and adds a 0/1 column "<name> missing" for each
// feature that had missing values when fitted, so that a model can tell an imputed value from a real one. A column
// with no value at all cannot be imputed and is refused.

#include <cstddef>
#include <span>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "detect/registry.h"
#include "transform/frame.h"

namespace granska::detect {

class ParamReader;

// The feature parameters every ML algorithm takes (same names in each one's "params").
struct FeatureParams {
    std::vector<std::string> features;     // "features": numeric, derived or the file's own columns
    std::vector<std::string> categorical;  // "categorical": account, account_class, user, counterparty, series
    int max_categories = 20;               // "max_categories": one-hot columns per categorical field at most
    double min_category_share = 0.001;     // "min_category_share": rarer values go to "(other)"
    std::string missing = "median";        // "missing": median | indicator
    std::string path;                      // the params object's JSON path, for errors found at run time

    // Reads and validates the fields above (defaults are this struct's as the algorithm set them).
    void Read(ParamReader& reader);
    // The fields above as params JSON (merged into a saved model's "params").
    void AddTo(nlohmann::json& params) const;
};

// The registry's description of FeatureParams' fields, with the algorithm's defaults.
std::vector<ParamInfo> FeatureParamInfo(const FeatureParams& defaults);

// Categorical fields FeatureParams::categorical accepts.
std::span<const std::string_view> CategoricalFieldNames();

// Rows × columns, column-major: the value of column c at row r is values[c * rows + r].
struct FeatureMatrix {
    size_t rows = 0;
    size_t cols = 0;
    std::vector<float> values;
    std::vector<std::string> names;  // per column: "log_amount", "account=7010", "account=(other)", "x3 missing"

    float At(size_t row, size_t col) const { return values[col * rows + row]; }
    const float* Column(size_t col) const { return values.data() + col * rows; }
};

class FeatureEncoder {
public:
    // Learns the encoding from the frame. path names the params object in errors ("algorithms[2].params"): a feature
    // that is neither derived nor a numeric column of the file is refused naming "<path>.features[i]".
    static Expected<FeatureEncoder> Fit(const transform::TransactionFrame& frame, const FeatureParams& params,
                                        bool standardize, std::string_view path);
    // Encodes a frame (the training one or a later upload). A later upload must have the numeric columns the
    // encoder was fitted with; categorical values it never saw go to "(other)".
    Expected<FeatureMatrix> Transform(const transform::TransactionFrame& frame) const;

    // The output columns' names, in matrix order.
    const std::vector<std::string>& names() const { return names_; }
    // For each output column, the index of the feature or categorical field it comes from, in the order
    // features then categorical (the columns "account=…" all map to the account field): reasons group by it.
    const std::vector<size_t>& source() const { return source_; }
    std::vector<std::string> SourceNames() const;

    // The encoding as a JSON object (docs/models.md); FromJson checks it and rebuilds the encoder.
    nlohmann::json ToJson() const;
    static Expected<FeatureEncoder> FromJson(const nlohmann::json& json);

private:
    struct Numeric {
        std::string name;
        double impute = 0.0;
        bool indicator = false;  // adds "<name> missing"
    };
    struct Categorical {
        std::string field;
        std::vector<std::string> kept;  // each gets a column; "(other)" follows them
    };
    void Name();

    std::vector<Numeric> numeric_;
    std::vector<Categorical> categorical_;
    bool standardize_ = false;
    std::vector<double> center_;  // per output column
    std::vector<double> scale_;
    std::vector<std::string> names_;
    std::vector<size_t> source_;
};

}  // namespace granska::detect
