#pragma once
// Labelled numeric tables for measuring the ML detectors (the ODDS benchmarks in ../shared/data/odds: a header,
// then one row of numbers per line; a "label" column is 1 for an outlier, 0 for an inlier), and ROC-AUC.

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.h"
#include "detect/ml/features.h"

namespace granska::detect {

struct LabelledMatrix {
    FeatureMatrix x;             // every column but the label, named by the header
    std::vector<uint8_t> label;  // 1 = outlier
};

// Reads a comma-separated file of numbers with a header; `label_column` is taken out as the labels.
Expected<LabelledMatrix> ReadLabelledCsv(const std::string& path, std::string_view label_column = "label");

// Area under the ROC curve of scores against labels (ties count one half); NaN without both classes.
double RocAuc(const std::vector<double>& scores, const std::vector<uint8_t>& labels);

}  // namespace granska::detect
