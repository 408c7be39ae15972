#pragma once
// autoencoder: a deep autoencoder over journal lines, as M. Schreyer, T. Sattarov, D. Borth, A. Dengel, B. Reimer,
// "Detection of Anomalies in Large-Scale Accounting Data using Deep Autoencoder Networks" (arXiv:1709.05254, 2017).
// A small fully connected network learns to squeeze each line's standardized features and one-hot categoricals
// (account, user, series; rare values pooled into "(other)") through a narrow middle layer and rebuild them; lines
// unlike the bulk of the ledger are rebuilt badly.
//
// Network: d inputs → hidden[0] → … → hidden[k−1] → … → hidden[0] → d outputs (the decoder mirrors the encoder);
// hidden layers use `activation`, the output layer is linear. Weights start uniform in ±sqrt(6 / fan_in) (relu,
// leaky_relu; He) or ±sqrt(6 / (fan_in + fan_out)) (tanh, sigmoid; Glorot), biases 0. Training minimises the mean
// squared reconstruction error with Adam (β1 0.9, β2 0.999, ε 1e-8) on mini-batches of batch_size lines, over at
// most `epochs` passes through at most `sample` lines drawn at random; a `validation` share of those is held out and
// training stops after `patience` epochs without a better validation loss, keeping the best weights.
//
// Reconstruction error of a line: e = (1/d) Σ_c (x_c − x̂_c)² over its standardized columns.
// Score (comparable across uploads: the reference is fitted on the training lines and saved with the model):
// with e50 and e99 the median and 99th percentile of the training lines' errors, x = (e − e50) / (e99 − e50) and
// score = x² / (x² + 1) for x > 0, else 0 — 0 for a typical line, 0.5 at the training lines' 99th percentile, 0.9 at
// three times that excess, towards 1 beyond.
// Reason (score ≥ 0.5): e against the typical line's (e50) and the features with the largest shares of the line's
// squared error, one-hot columns grouped by their field and named by the line's own value ("account=7010").
// Confidence = n / (n + 1000), n = training lines: the same for every line.
// Deterministic: all random draws from std::mt19937_64 seeded by `seed`; lines are scored in fixed blocks of 256,
// so scores are identical for any thread count and for a saved and reloaded model.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "detect/ml/features.h"
#include "detect/registry.h"

namespace granska::detect {

struct AutoencoderParams {
    std::vector<int> hidden = {32, 8};  // encoder widths; the decoder mirrors them
    std::string activation = "tanh";    // relu | tanh | sigmoid | leaky_relu
    double learning_rate = 1e-3;        // Adam step size
    int batch_size = 256;
    int epochs = 20;          // at most
    int patience = 3;         // epochs without a better validation loss before stopping
    double validation = 0.1;  // share of the sample held out for early stopping; 0 = train all epochs
    int sample = 200'000;     // lines trained on at most
    int seed = 42;
    int threads = 0;  // scoring threads; 0 = all hardware threads
    FeatureParams features = {.features = {"log_amount", "weekday", "day_of_month", "posting_lag_days",
                                           "days_to_period_end", "round_exponent"},
                              .categorical = {"account", "user", "series"}};

    static Expected<AutoencoderParams> FromJson(const nlohmann::json& params, std::string_view path);
    nlohmann::json ToJson() const;
};

// The fitted network on its own: fit on a (standardized) matrix, score a matrix, save and load (used by the
// algorithm, the ODDS measurements and tests).
class AutoencoderModel {
public:
    AutoencoderModel();
    ~AutoencoderModel();
    AutoencoderModel(AutoencoderModel&&) noexcept;
    AutoencoderModel& operator=(AutoencoderModel&&) noexcept;

    // Trains on x (cancellable through context; progress 0..1 of the fit) and fits the score reference on the
    // training lines' errors.
    static Expected<AutoencoderModel> Fit(const FeatureMatrix& x, const AutoencoderParams& params,
                                          const RunContext& context = {});
    // Reconstruction error e per row. Fails only when cancelled.
    Expected<std::vector<double>> Errors(const FeatureMatrix& x, size_t threads, const RunContext& context = {}) const;
    // The [0, 1] score of an error (header formula).
    double ScoreOf(double error) const;
    // Squared reconstruction error per column (row-major: k * x.cols + c) of the given rows.
    std::vector<float> ColumnErrors(const FeatureMatrix& x, std::span<const size_t> rows) const;

    // The typical (median) training line's error.
    double typical_error() const { return typical_; }
    size_t training_rows() const { return training_rows_; }
    int epochs_trained() const { return epochs_trained_; }
    std::vector<int> layer_sizes() const;  // d, hidden…, mirrored…, d

    nlohmann::json ToJson() const;
    static Expected<AutoencoderModel> FromJson(const nlohmann::json& json, size_t columns);

private:
    struct Network;
    std::unique_ptr<Network> network_;
    double typical_ = 0.0;  // e50
    double spread_ = 1.0;   // e99 − e50
    size_t training_rows_ = 0;
    int epochs_trained_ = 0;
};

class Autoencoder final : public Algorithm {
public:
    static constexpr std::string_view kName = "autoencoder";
    static constexpr AlgorithmType kType = AlgorithmType::kMlBased;

    explicit Autoencoder(AutoencoderParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    AutoencoderParams params_;
};

}  // namespace granska::detect
