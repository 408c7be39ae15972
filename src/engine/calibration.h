#pragma once
// Calibration of one algorithm's scores before they are combined (strategy::Calibration states the methods).
// A fit is kept in the run's metadata and, for an ML algorithm, inside its saved model, so that a later upload
// scored with that model is scaled with the training run's constants.

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <vector>

#include "strategy/strategy.h"

namespace granska::engine {

struct CalibrationFit {
    strategy::Calibration method = strategy::Calibration::kNone;
    double mean = 0.0;  // gaussian: of the scores it was fitted on
    double sd = 0.0;

    nlohmann::json ToJson() const;
    // A fit recorded by ToJson; nullopt when json is not one.
    static std::optional<CalibrationFit> FromJson(const nlohmann::json& json);
};

CalibrationFit FitCalibration(strategy::Calibration method, std::span<const double> scores);
// Replaces scores by calibrated ones (rank uses the scores themselves; gaussian the fit's constants).
void ApplyCalibration(const CalibrationFit& fit, std::vector<double>& scores);

}  // namespace granska::engine
