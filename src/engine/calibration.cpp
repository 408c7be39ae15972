#include "engine/calibration.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

namespace granska::engine {

nlohmann::json CalibrationFit::ToJson() const {
    nlohmann::json json = {{"method", strategy::CalibrationName(method)}};
    if (method == strategy::Calibration::kGaussian) {
        json["mean"] = mean;
        json["sd"] = sd;
    }
    return json;
}

std::optional<CalibrationFit> CalibrationFit::FromJson(const nlohmann::json& json) {
    if (!json.is_object() || !json.contains("method") || !json["method"].is_string()) return std::nullopt;
    const std::string method = json["method"].get<std::string>();
    if (method == "none") return CalibrationFit{};
    if (method == "rank") return CalibrationFit{.method = strategy::Calibration::kRank};
    if (method != "gaussian" || !json.contains("mean") || !json.contains("sd") || !json["mean"].is_number() ||
        !json["sd"].is_number()) {
        return std::nullopt;
    }
    return CalibrationFit{.method = strategy::Calibration::kGaussian,
                          .mean = json["mean"].get<double>(),
                          .sd = json["sd"].get<double>()};
}

CalibrationFit FitCalibration(strategy::Calibration method, std::span<const double> scores) {
    CalibrationFit fit{.method = method};
    if (method != strategy::Calibration::kGaussian || scores.empty()) return fit;
    const double n = static_cast<double>(scores.size());
    fit.mean = std::accumulate(scores.begin(), scores.end(), 0.0) / n;
    double squares = 0.0;
    for (const double s : scores) squares += (s - fit.mean) * (s - fit.mean);
    fit.sd = scores.size() > 1 ? std::sqrt(squares / (n - 1.0)) : 0.0;
    return fit;
}

void ApplyCalibration(const CalibrationFit& fit, std::vector<double>& scores) {
    switch (fit.method) {
        case strategy::Calibration::kNone: return;
        case strategy::Calibration::kGaussian:
            for (double& s : scores) {
                // Every score alike (sd 0): none stands out.
                s = fit.sd > 0.0 ? std::max(0.0, std::erf((s - fit.mean) / (fit.sd * std::sqrt(2.0)))) : 0.0;
            }
            return;
        case strategy::Calibration::kRank: {
            std::vector<size_t> order(scores.size());
            std::iota(order.begin(), order.end(), size_t{0});
            std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
            std::vector<double> ranked(scores.size(), 0.0);
            const auto n = static_cast<double>(scores.size());
            for (size_t i = 0; i < order.size();) {
                size_t j = i;
                while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
                const double share = (static_cast<double>(i) + static_cast<double>(j - i) / 2.0) / n;
                for (size_t k = i; k < j; ++k) ranked[order[k]] = scores[order[k]] > 0.0 ? share : 0.0;
                i = j;
            }
            scores = std::move(ranked);
            return;
        }
    }
}

}  // namespace granska::engine
