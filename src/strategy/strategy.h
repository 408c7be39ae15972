#pragma once
// A strategy (DESIGN.md JSON): which algorithms run, their weights and parameters, how scores combine
// and which share of transactions is flagged. Parsing validates everything against a Registry and names
// the bad field by its JSON path ("algorithms[1].params.threshold").

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "detect/registry.h"

namespace granska::strategy {

// How an algorithm's scores are made comparable before they are combined (the method and its fitted constants are
// recorded in the run's metadata):
//   none      as the algorithm gives them (rule-based and statistical scores already read as "how anomalous");
//   gaussian  Kriegel, Kröger, Schubert & Zimek (2011), "Interpreting and Unifying Outlier Scores": with the mean μ
//             and standard deviation σ of the scores, s' = max(0, erf((s − μ) / (σ √2))) — rows at or below the
//             mean score 0, a row 2σ above it 0.95;
//   rank      the share of rows scoring lower, ties counting half: s' = (below + ties / 2) / n; rows scoring 0
//             stay 0 (nothing against them).
// With a saved model (model_run), μ and σ are those of the run that fitted it, so a later upload is scaled alike.
enum class Calibration { kNone, kGaussian, kRank };

struct AlgorithmSpec {
    std::string name;
    // What its scores are stored and shown under: the name unless "label" is given. Unique within a strategy,
    // so the same algorithm can run twice with different parameters.
    std::string label;
    double weight = 1.0;
    std::string params;                            // the JSON object as given, "{}" when absent
    detect::AlgorithmType type = detect::AlgorithmType::kStatistical;
    // Default: gaussian for an algorithm whose scores have a baseline (AlgorithmInfo::calibrated false:
    // isolation_forest), none otherwise.
    Calibration calibration = Calibration::kNone;
    // average_of_maximum: the algorithms of a group count as one, by their highest score; default the type's name.
    std::string group;
    // ML algorithms: score with the model that run saved under this label instead of fitting one ("" = fit).
    std::string model_run;
    std::unique_ptr<detect::Algorithm> algorithm;  // configured, ready to run
};

// weighted_mean: Σ w·s / Σ w. max: the highest score. noisy_or: 1 − Π (1 − s)^w — each algorithm's score read as
// the chance that the row is anomalous, the weight as how much of that evidence counts (1 = all, 0.5 = half);
// one strong finding is enough to rank high, and weaker findings add up. average_of_maximum (Aggarwal & Sathe
// 2015, "Theoretical Foundations and Algorithms for Outlier Ensembles"): the highest score within each group, then
// the weighted mean of those maxima, a group weighing the mean of its members' weights.
enum class CombineMethod { kWeightedMean, kMax, kNoisyOr, kAverageOfMaximum };
// top_percent: the highest-scoring value % of rows; top_k: the value highest; score: every row scoring ≥ value;
// contamination: the expected share of anomalies, value in (0, 0.5] — the highest-scoring ceil(value · n) rows.
// Only rows scoring above 0 are ever flagged.
enum class ThresholdType { kTopPercent, kTopK, kScore, kContamination };

struct Threshold {
    ThresholdType type = ThresholdType::kTopPercent;
    double value = 1.0;  // percent of rows (0..100], a count (≥ 1), a score (0..1] or a share (0..0.5]
};

struct Strategy {
    std::string name;
    std::string description;
    std::vector<AlgorithmSpec> algorithms;
    CombineMethod combine = CombineMethod::kWeightedMean;
    // "combine": {"per_voucher": true}: a line scores at least as high as the highest line of its voucher
    // (journal entries are reviewed whole), taking that line's reason.
    bool per_voucher = false;
    Threshold threshold;
    std::string json;  // the canonical JSON of this strategy (what a run records)
};

Expected<Strategy> ParseStrategy(std::string_view json, const detect::Registry& registry);
// The error of a strategy field that is wrong (kInvalidInput, "bad_strategy"), naming it by its JSON path.
Error BadStrategyField(std::string path, std::string message);

// Built-in strategies by name; the first is the default.
struct Preset {
    std::string_view name;
    std::string_view description;
    std::string_view json;
};
std::span<const Preset> Presets();
const Preset* FindPreset(std::string_view name);
inline constexpr std::string_view kDefaultPreset = "quick-scan";
inline constexpr std::string_view kBankPreset = "bank-transactions";
inline constexpr std::string_view kLedgerPreset = "journal-entry-audit";

// The preset an analysis uses when none is named, from the upload's metadata (its validation report): the
// journal-entry audit for a ledger (an SIE file, or a file with a voucher-number column), bank-transactions for a
// statement (a camt.053/054 message, or a file with neither voucher numbers nor accounts), quick-scan otherwise.
std::string_view DefaultPresetFor(std::string_view upload_metadata);

// A name in an algorithm's params.features that is not a derived feature (transform::TransactionFrame::
// NumericFeatureNames) nor one of the file columns given.
struct UnknownFeature {
    std::string path;        // "algorithms[0].params.features[2]"
    std::string name;        // as the strategy wrote it
    std::string suggestion;  // the derived feature or column nearest to it (edit distance ≤ 2, case ignored); "" = none
    std::string Message() const;  // "'…' is "x": neither a derived feature nor a column of the file; did you mean …"
};
// Every such name, in strategy order. With no columns (a strategy saved without an upload), every name that is not a
// derived feature is listed: it may still be a column of the file the strategy runs on.
std::vector<UnknownFeature> UnknownFeatures(const Strategy& strategy, std::span<const std::string> file_columns);
// The first unknown feature as an error (kInvalidInput "bad_feature", column = its path), else nothing.
Expected<void> CheckFeatures(const Strategy& strategy, std::span<const std::string> file_columns);
// The columns of the uploaded file a strategy can name as features, from the upload's metadata (its validation
// report): the header's columns that were not mapped to a field, named as they are in raw_data (a blank header is
// "column_<n>", a repeated one "<name>_2"). nullopt when the report records no header row (an SIE file, whose rows
// have no columns of their own).
std::optional<std::vector<std::string>> FileColumns(std::string_view upload_metadata);
// CheckFeatures against the columns of an upload (its metadata, FileColumns); nothing to check when the report records
// no header row.
Expected<void> CheckUploadFeatures(const Strategy& strategy, std::string_view upload_metadata);

std::string_view CombineMethodName(CombineMethod method);
std::string_view CalibrationName(Calibration calibration);
std::string_view ThresholdTypeName(ThresholdType type);

}  // namespace granska::strategy
