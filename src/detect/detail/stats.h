#pragma once
// Small statistics shared by the algorithms: median, robust and classic centre and scale, score shaping.

#include <cstdint>
#include <vector>

namespace granska::detect {

// Median of values (reordered: values is scratch space); 0 for none.
double Median(std::vector<double>& values);

struct Baseline {
    double center = 0.0;
    double scale = 0.0;  // 0 when the values do not spread
    int64_t count = 0;
};

// Robust: median and 1.4826 × MAD, falling back to 1.2533 × mean absolute deviation when MAD is 0
// (Iglewicz & Hoaglin). Classic: mean and sample standard deviation. values is scratch space: reordered.
Baseline ComputeBaseline(std::vector<double>& values, bool robust);

// The score of an excess over a threshold: x² / (x² + t²), 0 at 0, 0.5 at the threshold, towards 1 above.
inline double ExcessScore(double excess, double threshold) {
    if (excess <= 0) return 0.0;
    return excess * excess / (excess * excess + threshold * threshold);
}

}  // namespace granska::detect
