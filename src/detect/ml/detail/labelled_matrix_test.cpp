#include "detect/ml/detail/labelled_matrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace granska::detect {
namespace {

TEST(RocAucTest, CountsOrderedPairsAndHalfTies) {
    // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered (scikit-learn's example).
    EXPECT_DOUBLE_EQ(RocAuc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
    // A tie counts one half: (1 + 0.5) / 2.
    EXPECT_DOUBLE_EQ(RocAuc({0.5, 0.5, 0.2}, {1, 0, 0}), 0.75);
    EXPECT_TRUE(std::isnan(RocAuc({0.1, 0.2}, {0, 0})));
}

TEST(LabelledCsvTest, ReadsColumnsAndLabelsOrSaysWhereItFails) {
    const auto path = std::filesystem::temp_directory_path() / "granska_labelled.csv";
    std::ofstream(path) << "x0,label,x1\r\n1.5,0,-2\r\n3,1,4e-1\r\n";
    const auto read = ReadLabelledCsv(path.string());
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->x.rows, 2u);
    EXPECT_EQ(read->x.cols, 2u);
    EXPECT_EQ(read->x.names, (std::vector<std::string>{"x0", "x1"}));
    EXPECT_EQ(read->label, (std::vector<uint8_t>{0, 1}));
    EXPECT_FLOAT_EQ(read->x.At(1, 0), 3.0F);
    EXPECT_FLOAT_EQ(read->x.At(1, 1), 0.4F);

    std::ofstream(path) << "x0,label\n1,0\nabc,1\n";
    const auto bad = ReadLabelledCsv(path.string());
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().line, 3);
    EXPECT_NE(bad.error().message.find("\"abc\""), std::string::npos);
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace granska::detect
