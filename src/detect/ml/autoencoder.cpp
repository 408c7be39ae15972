#include "detect/ml/autoencoder.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <thread>

#include "detect/detail/algorithm_support.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/ml/detail/encoded_frame.h"
#include "detect/ml/model.h"

namespace granska::detect {
namespace {

constexpr double kReasonScore = 0.5;
constexpr double kReferenceQuantile = 0.99;  // the training error that scores one half
constexpr size_t kBlock = 256;               // lines scored together; fixed so scores do not depend on threads
constexpr float kLeakySlope = 0.01F;
constexpr float kBeta1 = 0.9F;
constexpr float kBeta2 = 0.999F;
constexpr float kAdamEpsilon = 1e-8F;

constexpr std::array<std::string_view, 4> kActivations = {"relu", "tanh", "sigmoid", "leaky_relu"};

using Matrix = Eigen::MatrixXf;
using Vector = Eigen::VectorXf;
using ConstMap = Eigen::Map<const Matrix>;

int ActivationIndex(std::string_view name) {
    const auto it = std::find(kActivations.begin(), kActivations.end(), name);
    return it == kActivations.end() ? -1 : static_cast<int>(it - kActivations.begin());
}

// Applies the hidden layers' activation in place.
void Activate(int activation, Matrix& a) {
    switch (activation) {
        case 0:
            a = a.cwiseMax(0.0F);
            break;
        case 1:
            a = a.array().tanh().matrix();
            break;
        case 2:
            a = (1.0F + (-a.array()).exp()).inverse().matrix();
            break;
        default:
            a = (a.array() > 0.0F).select(a.array(), kLeakySlope * a.array()).matrix();
            break;
    }
}

// Multiplies a gradient by the activation's derivative, given the activation's output a.
void Differentiate(int activation, const Matrix& a, Matrix& gradient) {
    switch (activation) {
        case 0:
            gradient = (a.array() > 0.0F).select(gradient.array(), 0.0F).matrix();
            break;
        case 1:
            gradient.array() *= 1.0F - a.array().square();
            break;
        case 2:
            gradient.array() *= a.array() * (1.0F - a.array());
            break;
        default:
            gradient = (a.array() > 0.0F).select(gradient.array(), kLeakySlope * gradient.array()).matrix();
            break;
    }
}

// Layer l maps weight[l].cols() inputs to weight[l].rows() outputs; every layer but the last is activated.
struct Net {
    int activation = 0;
    std::vector<Matrix> weight;
    std::vector<Vector> bias;

    size_t inputs() const { return weight.empty() ? 0 : static_cast<size_t>(weight.front().cols()); }

    // Runs a batch (one line per column) through the network; out[l] = layer l's output.
    void Forward(const Eigen::Ref<const Matrix>& input, std::vector<Matrix>& out) const {
        out.resize(weight.size());
        for (size_t l = 0; l < weight.size(); ++l) {
            if (l == 0) {
                out[l].noalias() = weight[l] * input;
            } else {
                out[l].noalias() = weight[l] * out[l - 1];
            }
            out[l].colwise() += bias[l];
            if (l + 1 < weight.size()) Activate(activation, out[l]);
        }
    }

    // Per line of the batch, the mean squared difference between it and its reconstruction; squares (optional,
    // columns × lines) receives each column's squared difference.
    void BatchErrors(const Eigen::Ref<const Matrix>& input, std::vector<Matrix>& scratch, std::span<double> errors,
                     Matrix* squares = nullptr) const {
        Forward(input, scratch);
        Matrix& diff = scratch.back();
        diff -= input;
        const auto d = static_cast<float>(input.rows());
        for (Eigen::Index k = 0; k < input.cols(); ++k) {
            errors[static_cast<size_t>(k)] = static_cast<double>(diff.col(k).squaredNorm() / d);
        }
        if (squares != nullptr) *squares = diff.array().square().matrix();
    }
};

// Adam's moment estimates for every weight and bias.
struct Adam {
    std::vector<Matrix> m_weight, v_weight;
    std::vector<Vector> m_bias, v_bias;
    int64_t step = 0;

    explicit Adam(const Net& net) {
        for (size_t l = 0; l < net.weight.size(); ++l) {
            m_weight.push_back(Matrix::Zero(net.weight[l].rows(), net.weight[l].cols()));
            v_weight.push_back(Matrix::Zero(net.weight[l].rows(), net.weight[l].cols()));
            m_bias.push_back(Vector::Zero(net.bias[l].size()));
            v_bias.push_back(Vector::Zero(net.bias[l].size()));
        }
    }

    template <class Param, class Moment>
    static void Update(Param& param, const Param& gradient, Moment& m, Moment& v, float step_size) {
        m = kBeta1 * m + (1.0F - kBeta1) * gradient;
        v = kBeta2 * v + (1.0F - kBeta2) * gradient.cwiseProduct(gradient);
        param.array() -= step_size * m.array() / (v.array().sqrt() + kAdamEpsilon);
    }
};

Net InitialNetwork(size_t inputs, const AutoencoderParams& params, std::mt19937_64& rng) {
    std::vector<int> sizes = {static_cast<int>(inputs)};
    sizes.insert(sizes.end(), params.hidden.begin(), params.hidden.end());
    sizes.insert(sizes.end(), params.hidden.rbegin() + 1, params.hidden.rend());
    sizes.push_back(static_cast<int>(inputs));
    Net net;
    net.activation = ActivationIndex(params.activation);
    const bool rectified = net.activation == 0 || net.activation == 3;
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
        const auto fan_in = static_cast<double>(sizes[l]);
        const auto fan_out = static_cast<double>(sizes[l + 1]);
        const double limit =
            rectified && l + 2 < sizes.size() ? std::sqrt(6.0 / fan_in) : std::sqrt(6.0 / (fan_in + fan_out));
        std::uniform_real_distribution<float> uniform(static_cast<float>(-limit), static_cast<float>(limit));
        Matrix w(sizes[l + 1], sizes[l]);
        for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = uniform(rng);
        net.weight.push_back(std::move(w));
        net.bias.push_back(Vector::Zero(sizes[l + 1]));
    }
    return net;
}

// One Adam step on a batch (one line per column); out holds the forward pass's layer outputs.
void TrainStep(Net& net, Adam& adam, const Eigen::Ref<const Matrix>& batch, std::vector<Matrix>& out,
               std::vector<Matrix>& weight_gradient, std::vector<Vector>& bias_gradient, float learning_rate) {
    net.Forward(batch, out);
    const size_t layers = net.weight.size();
    weight_gradient.resize(layers);
    bias_gradient.resize(layers);
    Matrix gradient = out.back() - batch;  // d loss / d output, loss = mean over lines and columns
    gradient *= 2.0F / static_cast<float>(batch.rows() * batch.cols());
    Matrix next;
    for (size_t l = layers; l-- > 0;) {
        if (l == 0) {
            weight_gradient[l].noalias() = gradient * batch.transpose();
        } else {
            weight_gradient[l].noalias() = gradient * out[l - 1].transpose();
        }
        bias_gradient[l] = gradient.rowwise().sum();
        if (l > 0) {
            next.noalias() = net.weight[l].transpose() * gradient;
            Differentiate(net.activation, out[l - 1], next);
            gradient.swap(next);
        }
    }
    ++adam.step;
    const auto t = static_cast<double>(adam.step);
    const auto step_size =
        static_cast<float>(learning_rate * std::sqrt(1.0 - std::pow(kBeta2, t)) / (1.0 - std::pow(kBeta1, t)));
    for (size_t l = 0; l < layers; ++l) {
        Adam::Update(net.weight[l], weight_gradient[l], adam.m_weight[l], adam.v_weight[l], step_size);
        Adam::Update(net.bias[l], bias_gradient[l], adam.m_bias[l], adam.v_bias[l], step_size);
    }
}

// Errors of lines stored one per column (each line's values contiguous), in blocks of kBlock.
std::vector<double> SampleErrors(const Net& net, const Matrix& lines, Eigen::Index first, Eigen::Index count) {
    std::vector<double> errors(static_cast<size_t>(count));
    std::vector<Matrix> scratch;
    for (Eigen::Index begin = 0; begin < count; begin += static_cast<Eigen::Index>(kBlock)) {
        const Eigen::Index width = std::min(static_cast<Eigen::Index>(kBlock), count - begin);
        net.BatchErrors(lines.middleCols(first + begin, width), scratch,
                        std::span<double>(errors).subspan(static_cast<size_t>(begin), static_cast<size_t>(width)));
    }
    return errors;
}

}  // namespace

struct AutoencoderModel::Network : Net {};

namespace {

// Copies rows of the column-major x into out, one line per column.
void GatherRows(const FeatureMatrix& x, std::span<const size_t> rows, Matrix& out) {
    out.resize(static_cast<Eigen::Index>(x.cols), static_cast<Eigen::Index>(rows.size()));
    for (size_t c = 0; c < x.cols; ++c) {
        const float* column = x.Column(c);
        for (size_t k = 0; k < rows.size(); ++k) {
            out(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(k)) = column[rows[k]];
        }
    }
}

}  // namespace

Expected<AutoencoderParams> AutoencoderParams::FromJson(const nlohmann::json& json, std::string_view path) {
    AutoencoderParams params;
    ParamReader reader(json, path);
    if (const nlohmann::json* hidden = reader.Raw("hidden"); hidden != nullptr) {
        if (!hidden->is_array() || hidden->empty() || hidden->size() > 8) {
            reader.Fail("hidden", "'hidden' must be a list of 1 to 8 layer widths, e.g. [16, 4].");
        } else {
            params.hidden.clear();
            for (size_t i = 0; i < hidden->size(); ++i) {
                const nlohmann::json& width = (*hidden)[i];
                if (!width.is_number_integer() || width.get<int64_t>() < 1 || width.get<int64_t>() > 1024) {
                    reader.Fail(fmt::format("hidden[{}]", i),
                                fmt::format("'hidden[{}]' must be a whole number between 1 and 1024.", i));
                    break;
                }
                params.hidden.push_back(width.get<int>());
            }
        }
    }
    reader.Read("activation", params.activation, {"relu", "tanh", "sigmoid", "leaky_relu"});
    reader.Read("learning_rate", params.learning_rate);
    reader.Read("batch_size", params.batch_size);
    reader.Read("epochs", params.epochs);
    reader.Read("patience", params.patience);
    reader.Read("validation", params.validation);
    reader.Read("sample", params.sample);
    reader.Read("seed", params.seed);
    params.features.Read(reader);
    reader.Read("threads", params.threads);
    if (!(params.learning_rate > 0.0 && params.learning_rate <= 1.0))
        reader.Fail("learning_rate", "'learning_rate' must be above 0 and at most 1.");
    if (params.batch_size < 1 || params.batch_size > 65'536)
        reader.Fail("batch_size", "'batch_size' must be between 1 and 65 536.");
    if (params.epochs < 1 || params.epochs > 10'000) reader.Fail("epochs", "'epochs' must be between 1 and 10 000.");
    if (params.patience < 1 || params.patience > 10'000)
        reader.Fail("patience", "'patience' must be between 1 and 10 000.");
    if (!(params.validation >= 0.0 && params.validation <= 0.5))
        reader.Fail("validation", "'validation' must be between 0 (no early stopping) and 0.5.");
    if (params.sample < 2) reader.Fail("sample", "'sample' must be at least 2.");
    if (params.seed < 0) reader.Fail("seed", "'seed' must be 0 or more.");
    if (params.threads < 0 || params.threads > 1024)
        reader.Fail("threads", "'threads' must be between 0 (= all hardware threads) and 1024.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

nlohmann::json AutoencoderParams::ToJson() const {
    nlohmann::json json = {{"hidden", hidden},         {"activation", activation}, {"learning_rate", learning_rate},
                           {"batch_size", batch_size}, {"epochs", epochs},         {"patience", patience},
                           {"validation", validation}, {"sample", sample},         {"seed", seed}};
    features.AddTo(json);
    return json;
}

AutoencoderModel::AutoencoderModel() : network_(std::make_unique<Network>()) {}
AutoencoderModel::~AutoencoderModel() = default;
AutoencoderModel::AutoencoderModel(AutoencoderModel&&) noexcept = default;
AutoencoderModel& AutoencoderModel::operator=(AutoencoderModel&&) noexcept = default;

std::vector<int> AutoencoderModel::layer_sizes() const {
    std::vector<int> sizes;
    if (network_->weight.empty()) return sizes;
    sizes.push_back(static_cast<int>(network_->inputs()));
    for (const Matrix& w : network_->weight) sizes.push_back(static_cast<int>(w.rows()));
    return sizes;
}

Expected<AutoencoderModel> AutoencoderModel::Fit(const FeatureMatrix& x, const AutoencoderParams& params,
                                                 const RunContext& context) {
    AutoencoderModel model;
    std::mt19937_64 rng(static_cast<uint64_t>(params.seed));
    Net& net = *model.network_;
    net = InitialNetwork(x.cols, params, rng);
    if (x.rows == 0 || x.cols == 0) return model;

    // The lines trained on: at most `sample`, drawn without replacement (a partial Fisher–Yates shuffle), one per
    // column of `lines`; the last n_validation are held out.
    const size_t n = std::min(x.rows, static_cast<size_t>(params.sample));
    std::vector<size_t> drawn(x.rows);
    std::iota(drawn.begin(), drawn.end(), size_t{0});
    for (size_t i = 0; i < n; ++i) {
        std::swap(drawn[i], drawn[std::uniform_int_distribution<size_t>(i, x.rows - 1)(rng)]);
    }
    drawn.resize(n);
    Matrix lines;
    GatherRows(x, drawn, lines);
    drawn = {};
    const auto n_validation = static_cast<size_t>(std::floor(params.validation * static_cast<double>(n)));
    const bool validate = n_validation >= 1 && n_validation < n;
    const size_t n_train = validate ? n - n_validation : n;

    Adam adam(net);
    std::vector<Matrix> out, weight_gradient;
    std::vector<Vector> bias_gradient;
    Matrix batch(static_cast<Eigen::Index>(x.cols), 0);
    std::vector<size_t> order(n_train);
    std::iota(order.begin(), order.end(), size_t{0});
    const auto batch_size = static_cast<size_t>(params.batch_size);
    const auto learning_rate = static_cast<float>(params.learning_rate);
    std::optional<Net> best;
    double best_loss = std::numeric_limits<double>::infinity();
    int stale = 0;
    for (int epoch = 0; epoch < params.epochs; ++epoch) {
        for (size_t i = n_train; i > 1; --i) {
            std::swap(order[i - 1], order[std::uniform_int_distribution<size_t>(0, i - 1)(rng)]);
        }
        for (size_t begin = 0; begin < n_train; begin += batch_size) {
            if ((begin / batch_size) % 64 == 0 && Cancelled(context)) return Unexpected(Internal("cancelled"));
            const size_t width = std::min(batch_size, n_train - begin);
            batch.resize(static_cast<Eigen::Index>(x.cols), static_cast<Eigen::Index>(width));
            for (size_t k = 0; k < width; ++k) {
                batch.col(static_cast<Eigen::Index>(k)) = lines.col(static_cast<Eigen::Index>(order[begin + k]));
            }
            TrainStep(net, adam, batch, out, weight_gradient, bias_gradient, learning_rate);
        }
        model.epochs_trained_ = epoch + 1;
        context.progress(static_cast<double>(epoch + 1) / static_cast<double>(params.epochs));
        if (!validate) continue;
        const std::vector<double> held_out =
            SampleErrors(net, lines, static_cast<Eigen::Index>(n_train), static_cast<Eigen::Index>(n_validation));
        const double loss = std::accumulate(held_out.begin(), held_out.end(), 0.0) / static_cast<double>(n_validation);
        if (loss < best_loss * (1.0 - 1e-4)) {
            best_loss = loss;
            best = net;
            stale = 0;
        } else if (++stale >= params.patience) {
            break;
        }
    }
    if (best) net = std::move(*best);
    if (Cancelled(context)) return Unexpected(Internal("cancelled"));

    // The score reference: the median and 99th percentile of the errors of every line drawn.
    std::vector<double> errors = SampleErrors(net, lines, 0, static_cast<Eigen::Index>(n));
    if (!std::all_of(errors.begin(), errors.end(), [](double e) { return std::isfinite(e); })) {
        Error error = InvalidInput("bad_parameter", "The autoencoder's training diverged: lower 'learning_rate'.");
        error.column = params.features.path + ".learning_rate";
        return Unexpected(std::move(error));
    }
    const auto at = [&errors](double q) {
        const auto k = static_cast<size_t>(std::floor(q * static_cast<double>(errors.size() - 1)));
        std::nth_element(errors.begin(), errors.begin() + static_cast<std::ptrdiff_t>(k), errors.end());
        return errors[k];
    };
    model.typical_ = at(0.5);
    model.spread_ = std::max(at(kReferenceQuantile) - model.typical_, std::max(model.typical_, 1e-12) * 1e-3);
    model.training_rows_ = n;
    return model;
}

Expected<std::vector<double>> AutoencoderModel::Errors(const FeatureMatrix& x, size_t threads,
                                                       const RunContext& context) const {
    std::vector<double> errors(x.rows, 0.0);
    if (x.rows == 0 || network_->weight.empty()) return errors;
    const size_t blocks = (x.rows + kBlock - 1) / kBlock;
    const size_t workers = std::clamp<size_t>(threads, 1, blocks);
    std::atomic<bool> stopped{false};
    // Worker w scores the contiguous blocks [blocks·w/workers, blocks·(w+1)/workers); worker 0 reports progress.
    const auto work = [&](size_t w) {
        std::vector<Matrix> scratch;
        Matrix batch;
        std::array<size_t, kBlock> rows{};
        const size_t first = blocks * w / workers;
        const size_t last = blocks * (w + 1) / workers;
        for (size_t b = first; b < last; ++b) {
            if (stopped.load(std::memory_order_relaxed)) return;
            if (Cancelled(context)) {
                stopped = true;
                return;
            }
            const size_t count = std::min(kBlock, x.rows - b * kBlock);
            std::iota(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(count), b * kBlock);
            GatherRows(x, std::span<const size_t>(rows.data(), count), batch);
            network_->BatchErrors(batch, scratch, std::span<double>(errors).subspan(b * kBlock, count));
            if (w == 0 && (b - first) % 64 == 63) {
                context.progress(static_cast<double>(b + 1 - first) / static_cast<double>(last - first));
            }
        }
    };
    {
        std::vector<std::jthread> pool;
        for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
        work(0);
    }
    if (stopped.load()) return Unexpected(Internal("cancelled"));
    return errors;
}

double AutoencoderModel::ScoreOf(double error) const { return ExcessScore((error - typical_) / spread_, 1.0); }

std::vector<float> AutoencoderModel::ColumnErrors(const FeatureMatrix& x, std::span<const size_t> rows) const {
    std::vector<float> squares(rows.size() * x.cols, 0.0F);
    if (network_->weight.empty()) return squares;
    std::vector<Matrix> scratch;
    Matrix batch, block_squares;
    std::vector<double> unused(kBlock);
    for (size_t begin = 0; begin < rows.size(); begin += kBlock) {
        const auto block = rows.subspan(begin, std::min(kBlock, rows.size() - begin));
        GatherRows(x, block, batch);
        network_->BatchErrors(batch, scratch, unused, &block_squares);
        // block_squares is columns × lines, column-major: line k's values are contiguous.
        std::copy_n(block_squares.data(), block_squares.size(),
                    squares.begin() + static_cast<std::ptrdiff_t>(begin * x.cols));
    }
    return squares;
}

nlohmann::json AutoencoderModel::ToJson() const {
    nlohmann::json weights = nlohmann::json::array();
    nlohmann::json biases = nlohmann::json::array();
    for (size_t l = 0; l < network_->weight.size(); ++l) {
        const Matrix& w = network_->weight[l];
        weights.push_back(std::vector<float>(w.data(), w.data() + w.size()));  // column-major, outputs × inputs
        biases.push_back(
            std::vector<float>(network_->bias[l].data(), network_->bias[l].data() + network_->bias[l].size()));
    }
    return {{"activation", kActivations[static_cast<size_t>(network_->activation)]},
            {"layers", layer_sizes()},
            {"weights", weights},
            {"biases", biases},
            {"error_median", typical_},
            {"error_spread", spread_},
            {"training_rows", training_rows_},
            {"epochs_trained", epochs_trained_}};
}

Expected<AutoencoderModel> AutoencoderModel::FromJson(const nlohmann::json& json, size_t columns) {
    AutoencoderModel model;
    Net& net = *model.network_;
    const auto refuse = [](std::string message) { return Unexpected(InvalidInput("bad_model", std::move(message))); };
    try {
        net.activation = ActivationIndex(json.at("activation").get<std::string>());
        const auto layers = json.at("layers").get<std::vector<int>>();
        const auto weights = json.at("weights").get<std::vector<std::vector<float>>>();
        const auto biases = json.at("biases").get<std::vector<std::vector<float>>>();
        model.typical_ = json.at("error_median").get<double>();
        model.spread_ = json.at("error_spread").get<double>();
        model.training_rows_ = json.at("training_rows").get<size_t>();
        model.epochs_trained_ = json.at("epochs_trained").get<int>();
        if (net.activation < 0) return refuse("The autoencoder's activation is unknown.");
        if (layers.size() < 3 || static_cast<size_t>(layers.front()) != columns ||
            static_cast<size_t>(layers.back()) != columns || weights.size() != layers.size() - 1 ||
            biases.size() != layers.size() - 1) {
            return refuse(fmt::format("The autoencoder's layers do not fit {} feature columns.", columns));
        }
        for (size_t l = 0; l + 1 < layers.size(); ++l) {
            const int in = layers[l];
            const int out = layers[l + 1];
            if (in < 1 || out < 1 || weights[l].size() != static_cast<size_t>(in) * static_cast<size_t>(out) ||
                biases[l].size() != static_cast<size_t>(out)) {
                return refuse(fmt::format("The autoencoder's layer {} does not have {} × {} weights.", l + 1, out, in));
            }
            net.weight.push_back(Eigen::Map<const Matrix>(weights[l].data(), out, in));
            net.bias.push_back(Eigen::Map<const Vector>(biases[l].data(), out));
            if (!net.weight.back().allFinite() || !net.bias.back().allFinite()) {
                return refuse(fmt::format("The autoencoder's layer {} has a weight that is not a number.", l + 1));
            }
        }
    } catch (const nlohmann::json::exception& e) {
        return refuse(fmt::format("The autoencoder is not readable: {}", e.what()));
    }
    if (!(model.typical_ >= 0.0) || !std::isfinite(model.typical_) || !(model.spread_ > 0.0) ||
        !std::isfinite(model.spread_)) {
        return refuse("The autoencoder's error reference is not a finite median and a positive spread.");
    }
    return model;
}

namespace {

std::vector<ParamInfo> Params() {
    std::vector<ParamInfo> params = {
        {"hidden", "integer list", "[32,8]", "encoder layer widths, outermost first; the decoder mirrors them"},
        {"activation", "string", "\"tanh\"", "hidden layers' activation: relu, tanh, sigmoid or leaky_relu"},
        {"learning_rate", "number", "0.001", "Adam step size"},
        {"batch_size", "integer", "256", "lines per training step"},
        {"epochs", "integer", "20", "passes over the training lines at most"},
        {"patience", "integer", "3", "epochs without a better validation loss before training stops"},
        {"validation", "number", "0.1", "share of the drawn lines held out for early stopping; 0 = none"},
        {"sample", "integer", "200000", "lines drawn at random to train on, at most"},
        {"seed", "integer", "42", "random seed; the same seed gives the same scores"},
        {"threads", "integer", "0", "scoring threads; 0 = all hardware threads (scores do not depend on it)"},
    };
    const std::vector<ParamInfo> features = FeatureParamInfo(AutoencoderParams{}.features);
    params.insert(params.end(), features.begin(), features.end());
    return params;
}

// "a (61%)", "a (61%) and b (22%)", "a (50%), b (20%) and c (10%)".
std::string JoinShares(const std::vector<std::pair<std::string, double>>& parts) {
    std::string text;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) text += i + 1 == parts.size() ? " and " : ", ";
        text += fmt::format("{} ({:.0f}%)", parts[i].first, 100.0 * parts[i].second);
    }
    return text;
}

// The reason for one line: its error against the typical line's, and the feature groups (by encoder source) with
// the largest shares of its squared error, until 80% is covered (three at most, none under 5%).
std::string Reason(double error, double typical, std::span<const float> squares, std::span<const float> values,
                   const FeatureEncoder& encoder) {
    const std::vector<std::string> sources = encoder.SourceNames();
    const std::vector<size_t>& source = encoder.source();
    const std::vector<std::string>& names = encoder.names();
    std::vector<double> share(sources.size(), 0.0);
    std::vector<std::string> label(sources);
    std::vector<float> own(sources.size(), -std::numeric_limits<float>::infinity());
    double total = 0.0;
    for (size_t c = 0; c < squares.size(); ++c) {
        share[source[c]] += squares[c];
        total += squares[c];
        // A one-hot group is named by the line's own value: its column is the group's largest.
        const std::string& name = sources[source[c]];
        const bool one_hot = names[c] != name && names[c] != name + " missing";
        if (one_hot && values[c] > own[source[c]]) {
            own[source[c]] = values[c];
            label[source[c]] = names[c];
        }
    }
    std::vector<size_t> order(sources.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return share[a] > share[b]; });
    std::vector<std::pair<std::string, double>> parts;
    double covered = 0.0;
    for (const size_t s : order) {
        const double part = total > 0.0 ? share[s] / total : 0.0;
        if (parts.size() == 3 || covered >= 0.8 || (!parts.empty() && part < 0.05) || part <= 0.0) break;
        parts.emplace_back(label[s], part);
        covered += part;
    }
    std::string text = typical > 0.0
                           ? fmt::format("Reconstruction error {:.1f} times the typical line's", error / typical)
                           : fmt::format("Reconstruction error {:.3g} where the typical line's is 0", error);
    if (!parts.empty()) text += ", mostly from " + JoinShares(parts);
    text += ".";
    for (size_t at = text.find("; "); at != std::string::npos; at = text.find("; ", at)) text[at] = ',';
    return text;
}

}  // namespace

AlgorithmInfo Autoencoder::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Deep autoencoder (Schreyer et al. 2017): a small neural network learns to rebuild each line's "
            "standardized features and one-hot account, user and series; lines it rebuilds badly score high. The "
            "reason names the features with the largest reconstruction error.",
        .params = Params(),
        .create = FactoryOf<Autoencoder, AutoencoderParams>(),
    };
}

Expected<AlgorithmOutput> Autoencoder::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows < 2 && context.model.empty()) return output;
    const size_t threads =
        params_.threads > 0 ? static_cast<size_t>(params_.threads) : std::max(1u, std::thread::hardware_concurrency());

    // A saved model brings its own encoding and network; otherwise both are fitted here and saved with the run.
    auto encoded = EncodeFrame(frame, context, kName, params_.features, /*standardize=*/true);
    if (!encoded) return Unexpected(std::move(encoded).error());
    const FeatureEncoder& encoder = encoded->encoder;
    const FeatureMatrix* x = &encoded->x;
    auto network = encoded->saved ? AutoencoderModel::FromJson(*encoded->saved, x->cols)
                                  : AutoencoderModel::Fit(*x, params_, ScaledProgress(context, 0.0, 0.8));
    if (!network) return Unexpected(std::move(network).error());
    const AutoencoderModel& model = *network;
    if (!encoded->saved) output.model = WriteModelDocument(kName, params_.ToJson(), encoder, model.ToJson());

    auto errors = model.Errors(*x, threads, ScaledProgress(context, 0.8, 1.0));
    if (!errors) return Unexpected(std::move(errors).error());
    std::vector<size_t> explain;
    for (size_t r = 0; r < rows; ++r) {
        output.score[r] = model.ScoreOf((*errors)[r]);
        if (output.score[r] >= kReasonScore) explain.push_back(r);
    }
    const auto n = static_cast<double>(model.training_rows());
    std::fill(output.confidence.begin(), output.confidence.end(), n / (n + 1000.0));

    const std::vector<float> squares = model.ColumnErrors(*x, explain);
    std::vector<float> values(x->cols);
    for (size_t k = 0; k < explain.size(); ++k) {
        for (size_t c = 0; c < x->cols; ++c) values[c] = x->At(explain[k], c);
        output.reason[explain[k]] =
            Reason((*errors)[explain[k]], model.typical_error(),
                   std::span<const float>(squares).subspan(k * x->cols, x->cols), values, encoder);
    }
    return output;
}

}  // namespace granska::detect
