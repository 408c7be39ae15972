#include "engine/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace granska::engine {
namespace {

using strategy::Calibration;

TEST(CalibrationTest, GaussianScalesByTheFittedMeanAndSpread) {
    // Scores 0.4, 0.5, 0.6: mean 0.5, sample sd 0.1. 0.6 is 1 sd above: erf(1/√2) = 0.682689.
    std::vector<double> scores = {0.4, 0.5, 0.6};
    const CalibrationFit fit = FitCalibration(Calibration::kGaussian, scores);
    EXPECT_DOUBLE_EQ(fit.mean, 0.5);
    EXPECT_NEAR(fit.sd, 0.1, 1e-15);
    ApplyCalibration(fit, scores);
    EXPECT_EQ(scores[0], 0.0);  // below the mean
    EXPECT_NEAR(scores[1], 0.0, 1e-12);
    EXPECT_NEAR(scores[2], 0.682689, 1e-6);

    // A later upload with the training constants: 0.7 is 2 sd above, erf(√2) = 0.954500.
    std::vector<double> later = {0.7};
    ApplyCalibration(*CalibrationFit::FromJson(fit.ToJson()), later);
    EXPECT_NEAR(later[0], 0.954500, 1e-6);

    std::vector<double> flat = {0.3, 0.3};
    ApplyCalibration(FitCalibration(Calibration::kGaussian, flat), flat);
    EXPECT_EQ(flat, (std::vector<double>{0.0, 0.0}));
}

TEST(CalibrationTest, RankIsTheShareScoringLowerWithHalfTiesAndZeroStaysZero) {
    // Sorted: 0, 0, 0.2, 0.2, 0.9 (n = 5). The zeros stay 0; 0.2 × 2: (2 + 2/2) / 5 = 0.6; 0.9: (4 + 0.5) / 5 = 0.9.
    std::vector<double> scores = {0.2, 0.0, 0.9, 0.0, 0.2};
    ApplyCalibration(FitCalibration(Calibration::kRank, scores), scores);
    EXPECT_EQ(scores, (std::vector<double>{0.6, 0.0, 0.9, 0.0, 0.6}));
}

TEST(CalibrationTest, ReadsOnlyFitsItWrote) {
    EXPECT_FALSE(CalibrationFit::FromJson(nlohmann::json::array()));
    EXPECT_FALSE(CalibrationFit::FromJson({{"method", "gaussian"}}));
    EXPECT_FALSE(CalibrationFit::FromJson({{"method", "cubic"}}));
    EXPECT_EQ(CalibrationFit::FromJson({{"method", "rank"}})->method, Calibration::kRank);
}

}  // namespace
}  // namespace granska::engine
