#include "strategy/strategy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "transform/frame.h"

namespace granska::strategy {

namespace {

constexpr std::string_view kJournalEntryAuditDescription =
    "The journal-entry tests of ISA 240 / AS 2401: unusual amounts per account and over time, rare account pairs, "
    "weekend and holiday entries, late and period-end postings and their reversals, round amounts, Benford "
    "digits, duplicates, numbering gaps, rare accounts and rare users; whole vouchers flagged, the top 1 %.";

constexpr std::string_view kMlEnsembleDescription =
    "Three unsupervised detectors that learn what is usual from the file itself: isolation forest, autoencoder and a "
    "Gaussian mixture; their calibrated scores averaged; the top 1 %.";

constexpr std::string_view kBankTransactionsDescription =
    "A bank or card statement (no vouchers, one account): amounts unusual for the statement, payments repeated to "
    "the same party within 30 days, round amounts, large weekend payments, payments at night, and an isolation "
    "forest over amount, timing and how often the counterparty occurs (rare counterparties); the top 1 %.";

// Weights under noisy_or: each rule-based test's finding counts in full; the statistical ones, which give every
// row some score, count half, and Benford's law, a test of a whole group of amounts, a quarter.
constexpr std::array<Preset, 4> kPresets = {{
    {"quick-scan", "Robust z-score of amounts per account; flags the top 1 %.",
     R"({"name": "quick-scan",
  "description": "Robust z-score of amounts per account; flags the top 1 %.",
  "algorithms": [{"name": "zscore", "weight": 1.0, "params": {"group_by": "account", "robust": true}}],
  "combine": {"method": "weighted_mean"},
  "threshold": {"type": "top_percent", "value": 1.0}})"},
    {"journal-entry-audit", kJournalEntryAuditDescription,
     R"({"name": "journal-entry-audit",
  "description": "The journal-entry tests of ISA 240 / AS 2401: unusual amounts per account and over time, rare account pairs, weekend and holiday entries, late and period-end postings and their reversals, round amounts, Benford digits, duplicates, numbering gaps, rare accounts and rare users; whole vouchers flagged, the top 1 %.",
  "algorithms": [
    {"name": "zscore", "weight": 0.5, "params": {"group_by": "account", "robust": true}},
    {"name": "moving_average", "weight": 0.5, "params": {}},
    {"name": "timeseries", "weight": 0.5, "params": {}},
    {"name": "correlation", "weight": 1.0, "params": {}},
    {"name": "weekend_threshold", "weight": 1.0, "params": {}},
    {"name": "periodization", "weight": 1.0, "params": {}},
    {"name": "time_of_day", "weight": 1.0, "params": {}},
    {"name": "round_amount", "weight": 1.0, "params": {}},
    {"name": "benford", "weight": 0.25, "params": {}},
    {"name": "duplicates", "weight": 1.0, "params": {}},
    {"name": "numbering_gaps", "weight": 1.0, "params": {}},
    {"name": "rare_account", "weight": 1.0, "params": {}},
    {"name": "rare_user", "weight": 1.0, "params": {}}
  ],
  "combine": {"method": "noisy_or", "per_voucher": true},
  "threshold": {"type": "top_percent", "value": 1.0}})"},
    // A statement has one account (or none) and no vouchers: amounts are compared across the whole statement, the
    // isolation forest leaves out the ledger's features, and weekend card payments are not off hours by themselves.
    {"bank-transactions", kBankTransactionsDescription,
     R"({"name": "bank-transactions",
  "description": "A bank or card statement (no vouchers, one account): amounts unusual for the statement, payments repeated to the same party within 30 days, round amounts, large weekend payments, payments at night, and an isolation forest over amount, timing and how often the counterparty occurs (rare counterparties); the top 1 %.",
  "algorithms": [
    {"name": "zscore", "weight": 0.5, "params": {"group_by": "none", "robust": true}},
    {"name": "duplicates", "weight": 1.0, "params": {}},
    {"name": "round_amount", "weight": 1.0, "params": {}},
    {"name": "weekend_threshold", "weight": 1.0, "params": {}},
    {"name": "time_of_day", "weight": 1.0, "params": {"weekends": false}},
    {"name": "isolation_forest", "weight": 0.5,
     "params": {"features": ["log_amount", "weekday", "day_of_month", "counterparty_frequency"]}}
  ],
  "combine": {"method": "noisy_or"},
  "threshold": {"type": "top_percent", "value": 1.0}})"},
    {"ml-ensemble", kMlEnsembleDescription,
     R"({"name": "ml-ensemble",
  "description": "Three unsupervised detectors that learn what is usual from the file itself: isolation forest, autoencoder and a Gaussian mixture; their calibrated scores averaged; the top 1 %.",
  "algorithms": [
    {"name": "isolation_forest", "weight": 1.0, "params": {}},
    {"name": "autoencoder", "weight": 1.0, "params": {}},
    {"name": "clustering", "weight": 1.0, "params": {}}
  ],
  "combine": {"method": "weighted_mean"},
  "threshold": {"type": "top_percent", "value": 1.0}})"},
}};

}  // namespace

Error BadStrategyField(std::string path, std::string message) {
    Error error = InvalidInput("bad_strategy", std::move(message));
    error.column = std::move(path);
    return error;
}

std::span<const Preset> Presets() { return kPresets; }

const Preset* FindPreset(std::string_view name) {
    for (const Preset& preset : kPresets) {
        if (preset.name == name) return &preset;
    }
    return nullptr;
}

std::string_view DefaultPresetFor(std::string_view upload_metadata) {
    const nlohmann::json report = nlohmann::json::parse(upload_metadata, nullptr, /*allow_exceptions=*/false);
    if (!report.is_object()) return kDefaultPreset;
    if (const auto format = report.find("format"); format != report.end() && *format == "sie") return kLedgerPreset;
    const auto mapping = report.find("mapping");
    const bool mapped = mapping != report.end() && mapping->is_object();
    if (mapped && mapping->contains("voucher_number")) return kLedgerPreset;
    // A bank statement: an ISO 20022 camt message, or a file without voucher numbers or accounts.
    const auto details = report.find("details");
    if (details != report.end() && details->is_object() && details->value("mode", "").starts_with("camt")) {
        return kBankPreset;
    }
    if (mapped && !mapping->empty() && !mapping->contains("account")) return kBankPreset;
    return kDefaultPreset;
}

namespace {

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Levenshtein distance, ASCII case ignored.
size_t EditDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

constexpr size_t kMaxSuggestionDistance = 2;

}  // namespace

std::string UnknownFeature::Message() const {
    std::string message = fmt::format("'{}' is \"{}\": neither a derived feature ({}) nor a column of the file", path,
                                      name, fmt::join(transform::TransactionFrame::NumericFeatureNames(), ", "));
    if (!suggestion.empty()) return fmt::format("{}; did you mean \"{}\"?", message, suggestion);
    return message + ".";
}

std::vector<UnknownFeature> UnknownFeatures(const Strategy& strategy, std::span<const std::string> file_columns) {
    const auto derived = transform::TransactionFrame::NumericFeatureNames();
    std::vector<UnknownFeature> unknown;
    for (size_t a = 0; a < strategy.algorithms.size(); ++a) {
        const auto params = nlohmann::json::parse(strategy.algorithms[a].params, nullptr, /*allow_exceptions=*/false);
        if (!params.is_object()) continue;
        const auto features = params.find("features");
        if (features == params.end() || !features->is_array()) continue;
        for (size_t f = 0; f < features->size(); ++f) {
            const nlohmann::json& feature = (*features)[f];
            if (!feature.is_string()) continue;
            const std::string name = feature.get<std::string>();
            if (std::find(derived.begin(), derived.end(), name) != derived.end() ||
                std::find(file_columns.begin(), file_columns.end(), name) != file_columns.end()) {
                continue;
            }
            UnknownFeature entry{.path = fmt::format("algorithms[{}].params.features[{}]", a, f), .name = name};
            size_t best = kMaxSuggestionDistance + 1;
            auto consider = [&](std::string_view candidate) {
                const size_t distance = EditDistance(name, candidate);
                if (distance < best) {
                    best = distance;
                    entry.suggestion = std::string(candidate);
                }
            };
            for (const std::string_view candidate : derived) consider(candidate);
            for (const std::string& candidate : file_columns) consider(candidate);
            unknown.push_back(std::move(entry));
        }
    }
    return unknown;
}

Expected<void> CheckFeatures(const Strategy& strategy, std::span<const std::string> file_columns) {
    const std::vector<UnknownFeature> unknown = UnknownFeatures(strategy, file_columns);
    if (unknown.empty()) return {};
    Error error = InvalidInput("bad_feature", unknown.front().Message());
    error.column = unknown.front().path;
    return Unexpected(std::move(error));
}

std::optional<std::vector<std::string>> FileColumns(std::string_view upload_metadata) {
    const nlohmann::json report = nlohmann::json::parse(upload_metadata, nullptr, /*allow_exceptions=*/false);
    if (!report.is_object()) return std::nullopt;
    const auto headers = report.find("headers");
    if (headers == report.end() || !headers->is_array() || headers->empty()) return std::nullopt;
    std::vector<std::string> mapped;
    if (const auto mapping = report.find("mapping"); mapping != report.end() && mapping->is_object()) {
        for (const auto& [field, column] : mapping->items()) {
            if (column.is_string()) mapped.push_back(column.get<std::string>());
        }
    }
    // As ingest's row mapper names raw_data's keys.
    std::vector<std::string> columns;
    for (size_t i = 0; i < headers->size(); ++i) {
        const nlohmann::json& header = (*headers)[i];
        const std::string text = header.is_string() ? header.get<std::string>() : std::string();
        if (!text.empty() && std::find(mapped.begin(), mapped.end(), text) != mapped.end()) continue;
        const std::string base = text.empty() ? "column" : text;
        std::string name = text.empty() ? fmt::format("column_{}", i + 1) : text;
        for (int suffix = 2; std::find(columns.begin(), columns.end(), name) != columns.end(); ++suffix) {
            name = fmt::format("{}_{}", base, suffix);
        }
        columns.push_back(std::move(name));
    }
    return columns;
}

Expected<void> CheckUploadFeatures(const Strategy& strategy, std::string_view upload_metadata) {
    const auto columns = FileColumns(upload_metadata);
    if (!columns) return {};
    return CheckFeatures(strategy, *columns);
}

std::string_view CombineMethodName(CombineMethod method) {
    switch (method) {
        case CombineMethod::kMax: return "max";
        case CombineMethod::kNoisyOr: return "noisy_or";
        case CombineMethod::kAverageOfMaximum: return "average_of_maximum";
        case CombineMethod::kWeightedMean: break;
    }
    return "weighted_mean";
}

std::string_view ThresholdTypeName(ThresholdType type) {
    switch (type) {
        case ThresholdType::kTopPercent:
            return "top_percent";
        case ThresholdType::kTopK:
            return "top_k";
        case ThresholdType::kScore:
            return "score";
        case ThresholdType::kContamination:
            return "contamination";
    }
    return "top_percent";
}

std::string_view CalibrationName(Calibration calibration) {
    switch (calibration) {
        case Calibration::kGaussian: return "gaussian";
        case Calibration::kRank: return "rank";
        case Calibration::kNone: break;
    }
    return "none";
}

Expected<Strategy> ParseStrategy(std::string_view text, const detect::Registry& registry) {
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
        return Unexpected(BadStrategyField("", "The strategy is not valid JSON."));
    }
    if (!json.is_object()) return Unexpected(BadStrategyField("", "A strategy must be a JSON object."));
    for (const auto& [key, value] : json.items()) {
        if (key != "name" && key != "description" && key != "algorithms" && key != "combine" && key != "threshold") {
            return Unexpected(BadStrategyField(key, fmt::format("Unknown field '{}'; a strategy has name, description, "
                                                        "algorithms, combine and threshold.",
                                                        key)));
        }
    }

    Strategy strategy;
    if (const auto name = json.find("name"); name != json.end()) {
        if (!name->is_string() || name->get<std::string>().empty()) {
            return Unexpected(BadStrategyField("name", "'name' must be a non-empty string."));
        }
        strategy.name = name->get<std::string>();
    } else {
        return Unexpected(BadStrategyField("name", "A strategy needs a 'name'."));
    }
    if (const auto description = json.find("description"); description != json.end()) {
        if (!description->is_string()) return Unexpected(BadStrategyField("description", "'description' must be a string."));
        strategy.description = description->get<std::string>();
    }

    const auto algorithms = json.find("algorithms");
    if (algorithms == json.end() || !algorithms->is_array() || algorithms->empty()) {
        return Unexpected(BadStrategyField("algorithms", "'algorithms' must be a non-empty array of {name, weight, params}."));
    }
    nlohmann::json canonical_algorithms = nlohmann::json::array();
    for (size_t i = 0; i < algorithms->size(); ++i) {
        const nlohmann::json& entry = (*algorithms)[i];
        const std::string path = fmt::format("algorithms[{}]", i);
        if (!entry.is_object()) return Unexpected(BadStrategyField(path, "Each algorithm must be an object."));
        for (const auto& [key, value] : entry.items()) {
            if (key != "name" && key != "label" && key != "weight" && key != "params" && key != "calibration" &&
                key != "group" && key != "model_run") {
                return Unexpected(BadStrategyField(fmt::format("{}.{}", path, key),
                                           fmt::format("Unknown field '{}'; an algorithm has name, label, weight, "
                                                       "params, calibration, group and model_run.",
                                                       key)));
            }
        }
        AlgorithmSpec spec;
        const auto name = entry.find("name");
        if (name == entry.end() || !name->is_string()) {
            return Unexpected(BadStrategyField(path + ".name", "Each algorithm needs a 'name' string."));
        }
        spec.name = name->get<std::string>();
        spec.label = spec.name;
        std::string label_path = path + ".name";
        if (const auto label = entry.find("label"); label != entry.end()) {
            if (!label->is_string() || label->get<std::string>().empty()) {
                return Unexpected(BadStrategyField(path + ".label", "'label' must be a non-empty string."));
            }
            spec.label = label->get<std::string>();
            label_path = path + ".label";
        }
        for (const AlgorithmSpec& earlier : strategy.algorithms) {
            if (earlier.label == spec.label) {
                return Unexpected(BadStrategyField(label_path, fmt::format("'{}' is listed twice; give one of them a distinct "
                                                                   "\"label\" to run it with other parameters.",
                                                                   spec.label)));
            }
        }
        if (const auto weight = entry.find("weight"); weight != entry.end()) {
            if (!weight->is_number() || !(weight->get<double>() > 0) || !std::isfinite(weight->get<double>())) {
                return Unexpected(BadStrategyField(path + ".weight", "'weight' must be a number greater than 0."));
            }
            spec.weight = weight->get<double>();
        }
        const auto params_it = entry.find("params");
        const nlohmann::json params = params_it == entry.end() ? nlohmann::json::object() : *params_it;
        auto algorithm = registry.Create(spec.name, params, path);
        if (!algorithm) return Unexpected(std::move(algorithm).error());
        spec.algorithm = std::move(*algorithm);
        spec.params = params.dump();
        const detect::AlgorithmInfo& info = *registry.Find(spec.name);
        spec.type = info.type;
        const bool learns = spec.type == detect::AlgorithmType::kMlBased;
        spec.calibration = info.calibrated ? Calibration::kNone : Calibration::kGaussian;
        if (const auto calibration = entry.find("calibration"); calibration != entry.end()) {
            const std::string given = calibration->is_string() ? calibration->get<std::string>() : "";
            if (given == "none") {
                spec.calibration = Calibration::kNone;
            } else if (given == "gaussian") {
                spec.calibration = Calibration::kGaussian;
            } else if (given == "rank") {
                spec.calibration = Calibration::kRank;
            } else {
                return Unexpected(BadStrategyField(path + ".calibration",
                                           "'calibration' must be \"none\", \"gaussian\" or \"rank\"."));
            }
        }
        spec.group = std::string(detect::TypeName(spec.type));
        if (const auto group = entry.find("group"); group != entry.end()) {
            if (!group->is_string() || group->get<std::string>().empty()) {
                return Unexpected(BadStrategyField(path + ".group", "'group' must be a non-empty string."));
            }
            spec.group = group->get<std::string>();
        }
        if (const auto model_run = entry.find("model_run"); model_run != entry.end()) {
            if (!learns) {
                return Unexpected(BadStrategyField(path + ".model_run",
                                           fmt::format("'{}' fits no model: only ml_based algorithms take "
                                                       "'model_run'.",
                                                       spec.name)));
            }
            if (!model_run->is_string() || model_run->get<std::string>().empty()) {
                return Unexpected(BadStrategyField(path + ".model_run",
                                           "'model_run' must be the id of the analysis run whose model to use."));
            }
            spec.model_run = model_run->get<std::string>();
        }
        nlohmann::json canonical_entry = {{"name", spec.name},
                                          {"weight", spec.weight},
                                          {"params", params},
                                          {"calibration", CalibrationName(spec.calibration)},
                                          {"group", spec.group}};
        if (spec.label != spec.name) canonical_entry["label"] = spec.label;
        if (!spec.model_run.empty()) canonical_entry["model_run"] = spec.model_run;
        canonical_algorithms.push_back(std::move(canonical_entry));
        strategy.algorithms.push_back(std::move(spec));
    }

    if (const auto combine = json.find("combine"); combine != json.end()) {
        const auto method = combine->is_object() ? combine->find("method") : combine->end();
        if (!combine->is_object() || method == combine->end() || !method->is_string()) {
            return Unexpected(
                BadStrategyField("combine.method", R"('combine' must be {"method": "weighted_mean" | "max" | "noisy_or" | )"
                                           R"("average_of_maximum"}.)"));
        }
        const auto name = method->get<std::string>();
        if (name == "weighted_mean") {
            strategy.combine = CombineMethod::kWeightedMean;
        } else if (name == "max") {
            strategy.combine = CombineMethod::kMax;
        } else if (name == "noisy_or") {
            strategy.combine = CombineMethod::kNoisyOr;
        } else if (name == "average_of_maximum") {
            strategy.combine = CombineMethod::kAverageOfMaximum;
        } else {
            return Unexpected(BadStrategyField("combine.method",
                                       fmt::format("Unknown combine method '{}'; use \"weighted_mean\", \"max\", "
                                                   "\"noisy_or\" or \"average_of_maximum\".",
                                                   name)));
        }
        for (const auto& [key, value] : combine->items()) {
            if (key == "method") continue;
            if (key != "per_voucher") {
                return Unexpected(BadStrategyField(fmt::format("combine.{}", key),
                                           fmt::format("Unknown combine field '{}'; 'combine' takes method and per_voucher.", key)));
            }
            if (!value.is_boolean())
                return Unexpected(BadStrategyField("combine.per_voucher", "'combine.per_voucher' must be true or false."));
            strategy.per_voucher = value.get<bool>();
        }
    }

    if (const auto threshold = json.find("threshold"); threshold != json.end()) {
        const auto type = threshold->is_object() ? threshold->find("type") : threshold->end();
        const auto value = threshold->is_object() ? threshold->find("value") : threshold->end();
        if (!threshold->is_object() || type == threshold->end() || !type->is_string()) {
            return Unexpected(BadStrategyField("threshold.type", R"('threshold' must be {"type": "top_percent" | "top_k" | )"
                                                         R"("score" | "contamination", "value": n}.)"));
        }
        if (value == threshold->end() || !value->is_number()) {
            return Unexpected(BadStrategyField("threshold.value", "'threshold.value' must be a number."));
        }
        const auto type_name = type->get<std::string>();
        const double number = value->get<double>();
        if (type_name == "top_percent") {
            if (!(number > 0 && number <= 100))
                return Unexpected(BadStrategyField("threshold.value", "A top_percent threshold must be in (0, 100]."));
            strategy.threshold = {ThresholdType::kTopPercent, number};
        } else if (type_name == "top_k") {
            if (!(number >= 1) || std::floor(number) != number)
                return Unexpected(
                    BadStrategyField("threshold.value", "A top_k threshold must be a whole number of at least 1."));
            strategy.threshold = {ThresholdType::kTopK, number};
        } else if (type_name == "score") {
            if (!(number > 0 && number <= 1))
                return Unexpected(BadStrategyField("threshold.value", "A score threshold must be in (0, 1]."));
            strategy.threshold = {ThresholdType::kScore, number};
        } else if (type_name == "contamination") {
            if (!(number > 0 && number <= 0.5))
                return Unexpected(BadStrategyField("threshold.value",
                                           "A contamination threshold is the expected share of anomalies, in (0, 0.5]."));
            strategy.threshold = {ThresholdType::kContamination, number};
        } else {
            return Unexpected(BadStrategyField("threshold.type",
                                       fmt::format("Unknown threshold type '{}'; use \"top_percent\", \"top_k\", "
                                                   "\"score\" or \"contamination\".",
                                                   type_name)));
        }
    }

    nlohmann::json canonical = {
        {"name", strategy.name},
        {"algorithms", canonical_algorithms},
        {"combine", {{"method", CombineMethodName(strategy.combine)}, {"per_voucher", strategy.per_voucher}}},
        {"threshold", {{"type", ThresholdTypeName(strategy.threshold.type)}, {"value", strategy.threshold.value}}},
    };
    if (!strategy.description.empty()) canonical["description"] = strategy.description;
    strategy.json = canonical.dump();
    return strategy;
}

}  // namespace granska::strategy
