// granska_ml_bench: accuracy and speed of the ML detectors on plain matrices, for bench/ml_vs_sklearn.py.
//
//   granska_ml_bench odds FILE.csv [--seeds 10] [--algorithm isolation_forest] [--params JSON]
//       Fits and scores the algorithm once per seed 0..seeds-1 on an ODDS table (ml/detail/labelled_matrix.h) and
//       prints {"auc_mean", "auc_sd", "seconds_mean", ...} as JSON. The defaults are the published set-up
//       (isolation_forest: 100 trees, 256 samples); --params overrides them.
//   granska_ml_bench matrix [--rows 1000000] [--cols 10] [--seed 1] [--threads N] [--write FILE.npy|FILE.csv]
//                           [--reasons] [--algorithm isolation_forest] [--params JSON]
//       Generates Gaussian clusters with 1% uniform outliers (the same matrix for the same arguments), optionally
//       writes it for Python, then times fit and score (and, with --reasons, the deciding features of the rows that
//       get a reason) and prints the seconds, the peak RSS (VmHWM) and the AUC of the planted outliers.
//
// Each algorithm is one entry of kAlgorithms: a function that fits on a matrix and scores it through the
// algorithm's model class (IsolationForestModel::Fit / Score, ...). The answer is checked: matrix fails (exit 1)
// when the planted outliers' AUC is below 0.9.

#include <sys/resource.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "detect/ml/detail/labelled_matrix.h"
#include "detect/ml/isolation_forest.h"

namespace granska::bench {
namespace {

using detect::FeatureMatrix;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// User + system CPU seconds of the whole process so far (all threads): on a shared machine, less noisy than wall time.
double CpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Peak resident memory of this program: VmHWM from /proc/self/status, else getrusage's ru_maxrss. (Linux carries
// ru_maxrss across exec, so a child of a large Python process would report the parent's peak.)
double PeakRssMb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:  12345 kB"
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

// One run of an algorithm: the scores of x, and the time of each phase.
struct Scored {
    std::vector<double> score;
    double fit_seconds = 0.0;
    double score_seconds = 0.0;
    double reasons_seconds = 0.0;
    double cpu_seconds = 0.0;  // fit + score, all threads
    size_t explained = 0;      // rows given a reason
};

struct RunOptions {
    nlohmann::json params;  // the algorithm's params (its defaults for the benchmark merged with --params)
    int seed = 0;
    size_t threads = 1;
    bool reasons = false;
};

using RunFn = std::function<Expected<Scored>(const FeatureMatrix&, const RunOptions&)>;

struct AlgorithmEntry {
    std::string_view name;
    nlohmann::json defaults;  // the published set-up the ODDS figures are for
    RunFn run;
};

Expected<Scored> RunIsolationForest(const FeatureMatrix& x, const RunOptions& options) {
    nlohmann::json json = options.params;
    json["seed"] = options.seed;
    json["threads"] = options.threads;
    auto params = detect::IsolationForestParams::FromJson(json, "params");
    if (!params) return Unexpected(std::move(params).error());
    Scored out;
    const double cpu_start = CpuSeconds();
    auto start = Clock::now();
    auto model = detect::IsolationForestModel::Fit(x, *params);
    if (!model) return Unexpected(std::move(model).error());
    out.fit_seconds = Seconds(start);
    start = Clock::now();
    auto score = model->Score(x, options.threads);
    if (!score) return Unexpected(std::move(score).error());
    out.score = std::move(*score);
    out.score_seconds = Seconds(start);
    out.cpu_seconds = CpuSeconds() - cpu_start;
    if (options.reasons) {
        start = Clock::now();
        std::vector<size_t> rows;
        for (size_t r = 0; r < out.score.size(); ++r) {
            if (out.score[r] >= detect::kIsolationReasonScore) rows.push_back(r);
        }
        const auto deciding = model->DecidingColumns(x, rows, options.threads);
        out.explained = deciding.size();
        out.reasons_seconds = Seconds(start);
    }
    return out;
}

// Adding an algorithm: a Run function over its model class and one line here.
const std::vector<AlgorithmEntry>& Algorithms() {
    static const std::vector<AlgorithmEntry> algorithms = {
        {"isolation_forest", {{"n_trees", 100}, {"sample_size", 256}}, RunIsolationForest},
    };
    return algorithms;
}

const AlgorithmEntry* FindAlgorithm(std::string_view name) {
    for (const AlgorithmEntry& entry : Algorithms()) {
        if (entry.name == name) return &entry;
    }
    return nullptr;
}

Expected<nlohmann::json> Params(const AlgorithmEntry& entry, const std::string& text) {
    nlohmann::json params = entry.defaults;
    if (!text.empty()) {
        const nlohmann::json given = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (!given.is_object()) return Unexpected(InvalidInput("bad_params", "--params must be a JSON object."));
        params.update(given);
    }
    return params;
}

double Mean(const std::vector<double>& v) {
    double sum = 0.0;
    for (const double x : v) sum += x;
    return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

double SampleSd(const std::vector<double>& v) {
    if (v.size() < 2) return 0.0;
    const double mean = Mean(v);
    double sum = 0.0;
    for (const double x : v) sum += (x - mean) * (x - mean);
    return std::sqrt(sum / static_cast<double>(v.size() - 1));
}

int Odds(const AlgorithmEntry& entry, const std::string& file, int seeds, const std::string& params_text) {
    auto data = detect::ReadLabelledCsv(file);
    if (!data) {
        fmt::print(stderr, "{}\n", data.error().message);
        return 2;
    }
    auto params = Params(entry, params_text);
    if (!params) {
        fmt::print(stderr, "{}\n", params.error().message);
        return 2;
    }
    std::vector<double> aucs;
    std::vector<double> seconds;
    for (int seed = 0; seed < seeds; ++seed) {
        const RunOptions options{.params = *params, .seed = seed, .threads = std::thread::hardware_concurrency()};
        auto run = entry.run(data->x, options);
        if (!run) {
            fmt::print(stderr, "{}\n", run.error().message);
            return 2;
        }
        aucs.push_back(detect::RocAuc(run->score, data->label));
        seconds.push_back(run->fit_seconds + run->score_seconds);
    }
    const nlohmann::json out = {{"file", file},
                                {"algorithm", entry.name},
                                {"params", *params},
                                {"rows", data->x.rows},
                                {"cols", data->x.cols},
                                {"seeds", seeds},
                                {"auc", aucs},
                                {"auc_mean", Mean(aucs)},
                                {"auc_sd", SampleSd(aucs)},
                                {"seconds_mean", Mean(seconds)}};
    std::cout << out.dump() << '\n';
    return 0;
}

// Five Gaussian clusters (sd 1, centres uniform in [-10, 10]^cols) and 1% uniform outliers in [-15, 15]^cols, rows
// in random order; labels mark the outliers. Depends only on the arguments (std::mt19937_64 and libstdc++'s
// distributions).
struct Synthetic {
    FeatureMatrix x;
    std::vector<uint8_t> label;
};

Synthetic MakeMatrix(size_t rows, size_t cols, uint64_t seed) {
    constexpr size_t kClusters = 5;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> centre(-10.0, 10.0);
    std::uniform_real_distribution<double> anywhere(-15.0, 15.0);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::vector<double> centres(kClusters * cols);
    for (double& c : centres) c = centre(rng);
    Synthetic s;
    s.x.rows = rows;
    s.x.cols = cols;
    s.x.values.resize(rows * cols);
    for (size_t c = 0; c < cols; ++c) s.x.names.push_back(fmt::format("x{}", c));
    s.label.resize(rows);
    std::uniform_int_distribution<size_t> cluster(0, kClusters - 1);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (size_t r = 0; r < rows; ++r) {
        const bool outlier = unit(rng) < 0.01;
        s.label[r] = outlier ? 1 : 0;
        const size_t k = cluster(rng);
        for (size_t c = 0; c < cols; ++c) {
            const double v = outlier ? anywhere(rng) : centres[k * cols + c] + noise(rng);
            s.x.values[c * rows + r] = static_cast<float>(v);
        }
    }
    return s;
}

// NumPy .npy v1.0, float32, Fortran order: the column-major values as they are.
bool WriteNpy(const std::string& path, const FeatureMatrix& x) {
    std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': True, 'shape': ({}, {}), }}", x.rows, x.cols);
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header.push_back('\n');
    std::ofstream out(path, std::ios::binary);
    const auto length = static_cast<uint16_t>(header.size());
    out.write("\x93NUMPY\x01\x00", 8);
    out.put(static_cast<char>(length & 0xFF));
    out.put(static_cast<char>(length >> 8));
    out << header;
    out.write(reinterpret_cast<const char*>(x.values.data()),
              static_cast<std::streamsize>(x.values.size() * sizeof(float)));
    return static_cast<bool>(out);
}

bool WriteCsv(const std::string& path, const Synthetic& s) {
    std::ofstream out(path);
    for (size_t c = 0; c < s.x.cols; ++c) out << s.x.names[c] << ',';
    out << "label\n";
    std::string line;
    for (size_t r = 0; r < s.x.rows; ++r) {
        line.clear();
        for (size_t c = 0; c < s.x.cols; ++c) fmt::format_to(std::back_inserter(line), "{},", s.x.At(r, c));
        fmt::format_to(std::back_inserter(line), "{}\n", s.label[r]);
        out << line;
    }
    return static_cast<bool>(out);
}

struct MatrixOptions {
    size_t rows = 1'000'000;
    size_t cols = 10;
    uint64_t seed = 1;
    size_t threads = 0;
    std::string write;
    bool reasons = false;
};

int Matrix(const AlgorithmEntry& entry, const MatrixOptions& m, const std::string& params_text) {
    auto params = Params(entry, params_text);
    if (!params) {
        fmt::print(stderr, "{}\n", params.error().message);
        return 2;
    }
    auto start = Clock::now();
    const Synthetic s = MakeMatrix(m.rows, m.cols, m.seed);
    const double generate_seconds = Seconds(start);
    if (!m.write.empty()) {
        const bool written = m.write.ends_with(".npy") ? WriteNpy(m.write, s.x) : WriteCsv(m.write, s);
        if (!written) {
            fmt::print(stderr, "could not write {}\n", m.write);
            return 1;
        }
    }
    const double rss_data = PeakRssMb();
    const size_t threads = m.threads > 0 ? m.threads : std::max(1u, std::thread::hardware_concurrency());
    const RunOptions options{
        .params = *params, .seed = static_cast<int>(m.seed), .threads = threads, .reasons = m.reasons};
    auto run = entry.run(s.x, options);
    if (!run) {
        fmt::print(stderr, "{}\n", run.error().message);
        return 2;
    }
    const double auc = detect::RocAuc(run->score, s.label);
    const nlohmann::json out = {
        {"algorithm", entry.name},
        {"rows", m.rows},
        {"cols", m.cols},
        {"seed", m.seed},
        {"threads", threads},
        {"params", *params},
        {"generate_seconds", generate_seconds},
        {"fit_seconds", run->fit_seconds},
        {"score_seconds", run->score_seconds},
        {"reasons_seconds", run->reasons_seconds},
        {"explained_rows", run->explained},
        {"seconds", run->fit_seconds + run->score_seconds + run->reasons_seconds},
        {"cpu_seconds", run->cpu_seconds},
        {"auc", auc},
        {"peak_rss_mb_data", rss_data},
        {"peak_rss_mb", PeakRssMb()},
    };
    std::cout << out.dump() << '\n';
    if (!(auc >= 0.9)) {
        fmt::print(stderr, "the planted outliers' AUC is {:.4f} (< 0.9): the scores are wrong\n", auc);
        return 1;
    }
    return 0;
}

}  // namespace
}  // namespace granska::bench

int main(int argc, char** argv) {
    using namespace granska::bench;
    CLI::App app{"Accuracy and speed of Granska's ML detectors on plain matrices."};
    app.require_subcommand(1);
    std::string algorithm = "isolation_forest";
    std::string params;

    std::string file;
    int seeds = 10;
    CLI::App* odds = app.add_subcommand("odds", "AUC over seeds on an ODDS csv (x0..xn,label)");
    odds->add_option("file", file, "the csv")->required();
    odds->add_option("--seeds", seeds, "seeds 0..seeds-1")->check(CLI::Range(1, 1000));
    odds->add_option("--algorithm", algorithm, "algorithm name");
    odds->add_option("--params", params, "JSON object merged over the benchmark's defaults");

    MatrixOptions m;
    CLI::App* matrix = app.add_subcommand("matrix", "time fit + score on a generated matrix");
    matrix->add_option("--rows", m.rows, "rows")->check(CLI::Range(2, 1'000'000'000));
    matrix->add_option("--cols", m.cols, "columns")->check(CLI::Range(1, 10'000));
    matrix->add_option("--seed", m.seed, "data and model seed");
    matrix->add_option("--threads", m.threads, "worker threads (0 = all)");
    matrix->add_option("--write", m.write, "also write the matrix: FILE.npy (float32) or FILE.csv (with label)");
    matrix->add_flag("--reasons", m.reasons, "also time the reasons' deciding features");
    matrix->add_option("--algorithm", algorithm, "algorithm name");
    matrix->add_option("--params", params, "JSON object merged over the benchmark's defaults");

    CLI11_PARSE(app, argc, argv);
    const AlgorithmEntry* entry = FindAlgorithm(algorithm);
    if (entry == nullptr) {
        fmt::print(stderr, "unknown algorithm '{}'\n", algorithm);
        return 2;
    }
    if (odds->parsed()) return Odds(*entry, file, seeds, params);
    return Matrix(*entry, m, params);
}
