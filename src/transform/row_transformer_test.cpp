#include "transform/row_transformer.h"

#include <gtest/gtest.h>

#include <vector>

namespace granska::transform {
namespace {

Transaction Row(int64_t row_number, std::string id = "", std::string series = "", std::string number = "") {
    Transaction t;
    t.row_number = row_number;
    t.source_line = row_number + 1;
    t.date = *Date::FromYmd(2024, 5, 2);
    t.external_id = std::move(id);
    t.voucher_series = std::move(series);
    t.voucher_number = std::move(number);
    return t;
}

TEST(RowTransformerTest, KeepsTheFilesOwnIds) {
    std::vector<Transaction> rows = {Row(1, "T-9"), Row(2, "T-7")};
    RowTransformer transformer("a.csv");
    ASSERT_TRUE(transformer.Apply(rows));
    EXPECT_EQ(rows[0].external_id, "T-9");
    EXPECT_EQ(rows[1].external_id, "T-7");
}

TEST(RowTransformerTest, NumbersLinesWithinVouchersAcrossBatches) {
    std::vector<Transaction> first = {Row(1, "", "A", "1"), Row(2, "", "A", "1"), Row(3, "", "B", "1")};
    std::vector<Transaction> second = {Row(4, "", "A", "1"), Row(5, "", "A", "2")};
    RowTransformer transformer("a.csv");
    ASSERT_TRUE(transformer.Apply(first));
    ASSERT_TRUE(transformer.Apply(second));
    EXPECT_EQ(first[0].external_id, "A-1-1");
    EXPECT_EQ(first[1].external_id, "A-1-2");
    EXPECT_EQ(first[2].external_id, "B-1-1");
    EXPECT_EQ(second[0].external_id, "A-1-3");
    EXPECT_EQ(second[1].external_id, "A-2-1");
}

TEST(RowTransformerTest, FallsBackToTheRowNumber) {
    std::vector<Transaction> rows = {Row(1), Row(2)};
    RowTransformer transformer("a.csv");
    ASSERT_TRUE(transformer.Apply(rows));
    EXPECT_EQ(rows[0].external_id, "1");
    EXPECT_EQ(rows[1].external_id, "2");
}

TEST(RowTransformerTest, SameFileGetsSameIds) {
    auto run = [] {
        std::vector<Transaction> rows = {Row(1, "", "A", "7"), Row(2, "", "A", "7"), Row(3)};
        RowTransformer transformer("a.csv");
        EXPECT_TRUE(transformer.Apply(rows));
        return std::vector<std::string>{rows[0].external_id, rows[1].external_id, rows[2].external_id};
    };
    EXPECT_EQ(run(), run());
}

TEST(RowTransformerTest, RejectsARepeatedIdWithItsLine) {
    std::vector<Transaction> first = {Row(1, "X1"), Row(2, "X2")};
    std::vector<Transaction> second = {Row(3, "X1")};
    RowTransformer transformer("ledger.csv");
    ASSERT_TRUE(transformer.Apply(first));
    const auto result = transformer.Apply(second);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, "duplicate_id");
    EXPECT_EQ(result.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(result.error().file, "ledger.csv");
    EXPECT_EQ(result.error().line, 4);
    EXPECT_EQ(result.error().column, "id");
    EXPECT_NE(result.error().message.find("first in data row 1"), std::string::npos);
}

TEST(RowTransformerTest, FillsProcessedData) {
    std::vector<Transaction> rows = {Row(1)};
    RowTransformer transformer("a.csv");
    ASSERT_TRUE(transformer.Apply(rows));
    EXPECT_NE(rows[0].processed_data.find(R"("weekday":4)"), std::string::npos);  // 2024-05-02 is a Thursday
}

}  // namespace
}  // namespace granska::transform
