#include "detect/ml/features.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_map>

#include "detect/detail/params.h"
#include "detect/detail/stats.h"

namespace granska::detect {
namespace {

constexpr std::array<std::string_view, 5> kCategoricalFields = {"account", "account_class", "user", "counterparty",
                                                                "series"};
constexpr std::string_view kOther = "(other)";

// A categorical field as codes into values (account_class and series are derived from account and voucher).
transform::CategoryColumn CategoryOf(const transform::TransactionFrame& frame, std::string_view field) {
    if (field == "account") return frame.account;
    if (field == "user") return frame.user;
    if (field == "counterparty") return frame.counterparty;
    const transform::CategoryColumn& base = field == "series" ? frame.voucher : frame.account;
    // Maps base values to derived ones: the account's first character, or the voucher's series ("A 12" → "A").
    transform::CategoryColumn derived;
    std::unordered_map<std::string, int32_t> index;
    std::vector<int32_t> recode(base.values.size());
    for (size_t v = 0; v < base.values.size(); ++v) {
        const std::string& value = base.values[v];
        std::string key = field == "series" ? value.substr(0, value.find(' ')) : value.substr(0, 1);
        const auto [it, inserted] = index.try_emplace(key, static_cast<int32_t>(derived.values.size()));
        if (inserted) derived.values.push_back(std::move(key));
        recode[v] = it->second;
    }
    derived.codes.resize(base.codes.size());
    for (size_t i = 0; i < base.codes.size(); ++i) derived.codes[i] = recode[static_cast<size_t>(base.codes[i])];
    return derived;
}

Error ModelError(std::string message) { return InvalidInput("bad_model", std::move(message)); }

}  // namespace

std::span<const std::string_view> CategoricalFieldNames() { return kCategoricalFields; }

std::vector<ParamInfo> FeatureParamInfo(const FeatureParams& defaults) {
    return {
        {"features", "string list", nlohmann::json(defaults.features).dump(),
         "numeric features: derived ones (log_amount, weekday, posting_lag_days, account_frequency, …) or numeric "
         "columns of the uploaded file by header"},
        {"categorical", "string list", nlohmann::json(defaults.categorical).dump(),
         fmt::format("fields one-hot encoded: {}", fmt::join(kCategoricalFields, ", "))},
        {"max_categories", "integer", std::to_string(defaults.max_categories),
         "one-hot columns per categorical field at most (the most frequent values)"},
        {"min_category_share", "number", nlohmann::json(defaults.min_category_share).dump(),
         "values on fewer than this share of lines are pooled into (other)"},
        {"missing", "string", nlohmann::json(defaults.missing).dump(),
         "blank values in the file's columns: median (impute the median) or indicator (impute and add a "
         "'<name> missing' column)"},
    };
}

void FeatureParams::Read(ParamReader& reader) {
    path = reader.path();
    reader.Read("features", features);
    reader.Read("categorical", categorical);
    reader.Read("max_categories", max_categories);
    reader.Read("min_category_share", min_category_share);
    reader.Read("missing", missing, {"median", "indicator"});
    if (features.empty() && categorical.empty()) {
        reader.Fail("features", "'features' and 'categorical' are both empty: name at least one feature.");
    }
    for (size_t i = 0; i < features.size(); ++i) {
        const std::string field = fmt::format("features[{}]", i);
        if (features[i].empty()) reader.Fail(field, fmt::format("'{}' is empty: name a feature.", field));
        if (std::find(features.begin(), features.begin() + static_cast<std::ptrdiff_t>(i), features[i]) !=
            features.begin() + static_cast<std::ptrdiff_t>(i)) {
            reader.Fail(field, fmt::format("'{}' repeats \"{}\".", field, features[i]));
        }
    }
    for (size_t i = 0; i < categorical.size(); ++i) {
        const std::string field = fmt::format("categorical[{}]", i);
        if (std::find(kCategoricalFields.begin(), kCategoricalFields.end(), categorical[i]) ==
            kCategoricalFields.end()) {
            reader.Fail(field, fmt::format("'{}' is \"{}\"; categorical fields are {}.", field, categorical[i],
                                           fmt::join(kCategoricalFields, ", ")));
        } else if (std::find(categorical.begin(), categorical.begin() + static_cast<std::ptrdiff_t>(i),
                             categorical[i]) != categorical.begin() + static_cast<std::ptrdiff_t>(i)) {
            reader.Fail(field, fmt::format("'{}' repeats \"{}\".", field, categorical[i]));
        }
    }
    if (max_categories < 1 || max_categories > 1000) {
        reader.Fail("max_categories", "'max_categories' must be between 1 and 1000.");
    }
    if (!(min_category_share >= 0.0 && min_category_share < 1.0)) {
        reader.Fail("min_category_share", "'min_category_share' must be at least 0 and below 1.");
    }
}

void FeatureParams::AddTo(nlohmann::json& params) const {
    params["features"] = features;
    params["categorical"] = categorical;
    params["max_categories"] = max_categories;
    params["min_category_share"] = min_category_share;
    params["missing"] = missing;
}

Expected<FeatureEncoder> FeatureEncoder::Fit(const transform::TransactionFrame& frame, const FeatureParams& params,
                                             bool standardize, std::string_view path) {
    FeatureEncoder encoder;
    const auto derived = transform::TransactionFrame::NumericFeatureNames();
    for (size_t i = 0; i < params.features.size(); ++i) {
        const std::string& name = params.features[i];
        const std::string field = fmt::format("{}.features[{}]", path, i);
        auto refuse = [&](std::string message) {
            Error error = InvalidInput("bad_feature", std::move(message));
            error.column = field;
            return Unexpected(std::move(error));
        };
        const bool is_derived = std::find(derived.begin(), derived.end(), name) != derived.end();
        const transform::RawColumn* raw = is_derived ? nullptr : frame.FindRawColumn(name);
        if (!is_derived && (raw == nullptr || raw->present == 0)) {
            return refuse(fmt::format("'{}' is \"{}\": neither a derived feature ({}) nor a column of the file "
                                      "with values.",
                                      field, name, fmt::join(derived, ", ")));
        }
        if (raw != nullptr && raw->bad_row != 0) {
            return refuse(fmt::format("'{}' is \"{}\", a column of the file that is not numeric: row {} has \"{}\".",
                                      field, name, raw->bad_row, raw->bad_value));
        }
        Numeric numeric{.name = name, .impute = 0.0, .indicator = false};
        if (raw != nullptr) {
            std::vector<double> finite;
            finite.reserve(raw->present);
            std::copy_if(raw->values.begin(), raw->values.end(), std::back_inserter(finite),
                         [](double v) { return std::isfinite(v); });
            numeric.impute = Median(finite);
            numeric.indicator = params.missing == "indicator" && raw->present < frame.size();
        }
        encoder.numeric_.push_back(std::move(numeric));
    }
    const auto rows = static_cast<double>(frame.size());
    for (const std::string& field : params.categorical) {
        const transform::CategoryColumn column = CategoryOf(frame, field);
        std::vector<int64_t> counts(column.values.size(), 0);
        for (const int32_t code : column.codes) ++counts[static_cast<size_t>(code)];
        std::vector<size_t> order(counts.size());
        std::iota(order.begin(), order.end(), size_t{0});
        // Most frequent first; equal counts in value order, so the encoding does not depend on file order.
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return counts[a] != counts[b] ? counts[a] > counts[b] : column.values[a] < column.values[b];
        });
        Categorical categorical{.field = field, .kept = {}};
        for (const size_t v : order) {
            if (categorical.kept.size() == static_cast<size_t>(params.max_categories)) break;
            if (static_cast<double>(counts[v]) < params.min_category_share * rows || counts[v] == 0) break;
            categorical.kept.push_back(column.values[v]);
        }
        encoder.categorical_.push_back(std::move(categorical));
    }
    encoder.Name();
    if (standardize) {
        auto matrix = encoder.Transform(frame);
        if (!matrix) return Unexpected(std::move(matrix).error());
        encoder.standardize_ = true;
        for (size_t c = 0; c < matrix->cols; ++c) {
            const float* column = matrix->Column(c);
            double sum = 0.0;
            for (size_t r = 0; r < matrix->rows; ++r) sum += column[r];
            const double mean = matrix->rows > 0 ? sum / static_cast<double>(matrix->rows) : 0.0;
            double squares = 0.0;
            for (size_t r = 0; r < matrix->rows; ++r) squares += (column[r] - mean) * (column[r] - mean);
            const double sd = matrix->rows > 1 ? std::sqrt(squares / static_cast<double>(matrix->rows - 1)) : 0.0;
            encoder.center_.push_back(mean);
            encoder.scale_.push_back(sd > 1e-12 ? sd : 1.0);  // a constant column stays 0
        }
    }
    return encoder;
}

void FeatureEncoder::Name() {
    names_.clear();
    source_.clear();
    for (size_t i = 0; i < numeric_.size(); ++i) {
        names_.push_back(numeric_[i].name);
        source_.push_back(i);
    }
    for (size_t i = 0; i < numeric_.size(); ++i) {
        if (!numeric_[i].indicator) continue;
        names_.push_back(numeric_[i].name + " missing");
        source_.push_back(i);
    }
    for (size_t k = 0; k < categorical_.size(); ++k) {
        for (const std::string& value : categorical_[k].kept) {
            names_.push_back(fmt::format("{}={}", categorical_[k].field, value));
            source_.push_back(numeric_.size() + k);
        }
        names_.push_back(fmt::format("{}={}", categorical_[k].field, kOther));
        source_.push_back(numeric_.size() + k);
    }
}

std::vector<std::string> FeatureEncoder::SourceNames() const {
    std::vector<std::string> names;
    for (const Numeric& numeric : numeric_) names.push_back(numeric.name);
    for (const Categorical& categorical : categorical_) names.push_back(categorical.field);
    return names;
}

Expected<FeatureMatrix> FeatureEncoder::Transform(const transform::TransactionFrame& frame) const {
    FeatureMatrix matrix{.rows = frame.size(), .cols = names_.size(), .values = {}, .names = names_};
    matrix.values.reserve(matrix.rows * matrix.cols);
    std::vector<std::vector<uint8_t>> missing;  // per indicator column
    for (const Numeric& numeric : numeric_) {
        std::vector<double> column = frame.NumericFeature(numeric.name);
        if (column.size() != frame.size()) {
            const transform::RawColumn* raw = frame.FindRawColumn(numeric.name);
            return Unexpected(InvalidInput(
                "bad_feature",
                raw != nullptr && raw->bad_row != 0
                    ? fmt::format("The model uses column \"{}\", which is not numeric in this file: row {} has \"{}\".",
                                  numeric.name, raw->bad_row, raw->bad_value)
                    : fmt::format("The model uses column \"{}\", which this file does not have.", numeric.name)));
        }
        if (numeric.indicator) missing.emplace_back(frame.size(), 0);
        for (size_t r = 0; r < column.size(); ++r) {
            if (std::isfinite(column[r])) continue;
            column[r] = numeric.impute;
            if (numeric.indicator) missing.back()[r] = 1;
        }
        std::transform(column.begin(), column.end(), std::back_inserter(matrix.values),
                       [](double v) { return static_cast<float>(v); });
    }
    for (const std::vector<uint8_t>& flags : missing) {
        std::transform(flags.begin(), flags.end(), std::back_inserter(matrix.values),
                       [](uint8_t v) { return static_cast<float>(v); });
    }
    for (const Categorical& categorical : categorical_) {
        const transform::CategoryColumn column = CategoryOf(frame, categorical.field);
        const size_t width = categorical.kept.size() + 1;  // kept values, then (other)
        std::unordered_map<std::string_view, size_t> slot;
        for (size_t k = 0; k < categorical.kept.size(); ++k) slot.emplace(categorical.kept[k], k);
        std::vector<size_t> code_slot(column.values.size(), categorical.kept.size());
        for (size_t v = 0; v < column.values.size(); ++v) {
            if (const auto it = slot.find(column.values[v]); it != slot.end()) code_slot[v] = it->second;
        }
        const size_t first = matrix.values.size();
        matrix.values.resize(first + width * matrix.rows, 0.0F);
        for (size_t r = 0; r < matrix.rows; ++r) {
            matrix.values[first + code_slot[static_cast<size_t>(column.codes[r])] * matrix.rows + r] = 1.0F;
        }
    }
    if (standardize_) {
        for (size_t c = 0; c < matrix.cols; ++c) {
            float* column = matrix.values.data() + c * matrix.rows;
            const auto center = static_cast<float>(center_[c]);
            const auto inverse = static_cast<float>(1.0 / scale_[c]);
            for (size_t r = 0; r < matrix.rows; ++r) column[r] = (column[r] - center) * inverse;
        }
    }
    return matrix;
}

nlohmann::json FeatureEncoder::ToJson() const {
    nlohmann::json numeric = nlohmann::json::array();
    for (const Numeric& n : numeric_) {
        numeric.push_back({{"name", n.name}, {"impute", n.impute}, {"missing_indicator", n.indicator}});
    }
    nlohmann::json categorical = nlohmann::json::array();
    for (const Categorical& c : categorical_) categorical.push_back({{"field", c.field}, {"kept", c.kept}});
    nlohmann::json json = {{"numeric", numeric}, {"categorical", categorical}, {"standardize", standardize_}};
    if (standardize_) {
        json["center"] = center_;
        json["scale"] = scale_;
    }
    return json;
}

Expected<FeatureEncoder> FeatureEncoder::FromJson(const nlohmann::json& json) {
    FeatureEncoder encoder;
    try {
        for (const nlohmann::json& n : json.at("numeric")) {
            encoder.numeric_.push_back({.name = n.at("name").get<std::string>(),
                                        .impute = n.at("impute").get<double>(),
                                        .indicator = n.at("missing_indicator").get<bool>()});
        }
        for (const nlohmann::json& c : json.at("categorical")) {
            Categorical categorical{.field = c.at("field").get<std::string>(),
                                    .kept = c.at("kept").get<std::vector<std::string>>()};
            if (std::find(kCategoricalFields.begin(), kCategoricalFields.end(), categorical.field) ==
                kCategoricalFields.end()) {
                return Unexpected(ModelError(fmt::format("The model's features encode an unknown field \"{}\".",
                                                         categorical.field)));
            }
            encoder.categorical_.push_back(std::move(categorical));
        }
        encoder.standardize_ = json.at("standardize").get<bool>();
        encoder.Name();
        if (encoder.standardize_) {
            encoder.center_ = json.at("center").get<std::vector<double>>();
            encoder.scale_ = json.at("scale").get<std::vector<double>>();
            if (encoder.center_.size() != encoder.names_.size() || encoder.scale_.size() != encoder.names_.size()) {
                return Unexpected(ModelError(fmt::format("The model's features have {} columns but {} centers and {} "
                                                         "scales.",
                                                         encoder.names_.size(), encoder.center_.size(),
                                                         encoder.scale_.size())));
            }
            if (std::any_of(encoder.scale_.begin(), encoder.scale_.end(), [](double s) { return !(s > 0.0); })) {
                return Unexpected(ModelError("The model's features have a scale that is not positive."));
            }
        }
    } catch (const nlohmann::json::exception& e) {
        return Unexpected(ModelError(fmt::format("The model's feature encoding is not readable: {}", e.what())));
    }
    return encoder;
}

}  // namespace granska::detect
