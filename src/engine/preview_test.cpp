// The preview's sampler and report on a real (SQLite) store.

#include "engine/preview.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/detail/test_run.h"

namespace granska::engine {
namespace {

constexpr std::string_view kWorkspace = store::kDefaultWorkspaceId;

Transaction Row(int64_t row_number, std::string external_id, int64_t amount_minor, std::string voucher = "") {
    Transaction t;
    t.row_number = row_number;
    t.external_id = std::move(external_id);
    t.date = *Date::FromYmd(2024, 3, 1 + static_cast<int>(row_number % 28));
    t.account = "5460";
    t.amount = Money{amount_minor};
    if (!voucher.empty()) {
        t.voucher_series = "A";
        t.voucher_number = std::move(voucher);
    }
    t.raw_data = "{}";
    t.processed_data = "{}";
    return t;
}

// 100 vouchers of three lines (V1 … V100) and then 50 lines without a voucher (R1 … R50): 350 rows.
std::vector<Transaction> VoucherRows() {
    std::vector<Transaction> rows;
    for (int v = 1; v <= 100; ++v) {
        for (int line = 0; line < 3; ++line) {
            const auto n = static_cast<int64_t>(rows.size() + 1);
            rows.push_back(Row(n, "V" + std::to_string(v) + "-" + std::to_string(line), 10'000 + n, std::to_string(v)));
        }
    }
    for (int r = 1; r <= 50; ++r) {
        rows.push_back(Row(static_cast<int64_t>(rows.size() + 1), "R" + std::to_string(r), 500));
    }
    return rows;
}

class PreviewTest : public detail::EngineStoreTest {
protected:
    std::vector<std::string> SampledIds(const std::string& upload_id, const PreviewOptions& options) {
        std::vector<std::string> ids;
        for (const auto& row : SampleUpload(*store_, kWorkspace, upload_id, options)) {
            ids.push_back(row.transaction.external_id);
        }
        return ids;
    }

    strategy::Strategy Parse(std::string_view json) {
        auto parsed = strategy::ParseStrategy(json, registry_);
        EXPECT_TRUE(parsed) << parsed.error().message;
        return std::move(*parsed);
    }
};

TEST_F(PreviewTest, SampleOfASmallUploadIsEveryRowInFileOrder) {
    const std::string upload = WriteUpload(VoucherRows());
    const std::vector<std::string> ids = SampledIds(upload, {});
    ASSERT_EQ(ids.size(), 350u);
    EXPECT_EQ(ids.front(), "V1-0");
    EXPECT_EQ(ids.back(), "R50");
}

TEST_F(PreviewTest, SampleTakesWholeVouchersWithinTheCapAndIsTheSameEveryTime) {
    const std::string upload = WriteUpload(VoucherRows());
    const PreviewOptions options{.max_rows = 100};
    const std::vector<std::string> first = SampledIds(upload, options);
    EXPECT_EQ(SampledIds(upload, options), first);
    // Units are 3 or 1 rows: the bottom-k sample stops within 2 rows of the cap.
    EXPECT_LE(first.size(), 100u);
    EXPECT_GE(first.size(), 98u);
    std::map<std::string, int> lines_per_voucher;
    int without_voucher = 0;
    for (const std::string& id : first) {
        if (id[0] == 'V') {
            ++lines_per_voucher[id.substr(0, id.find('-'))];
        } else {
            ++without_voucher;
        }
    }
    for (const auto& [voucher, lines] : lines_per_voucher) EXPECT_EQ(lines, 3) << voucher;
    // Both kinds of unit are sampled (100 of 150 units' keys are vouchers).
    EXPECT_GT(lines_per_voucher.size(), 5u);
    EXPECT_GT(without_voucher, 0);

    // Another seed, another sample.
    EXPECT_NE(SampledIds(upload, {.max_rows = 100, .seed = 7}), first);
}

TEST_F(PreviewTest, SampleDoesNotDependOnTheFileOrder) {
    std::vector<Transaction> rows = VoucherRows();
    const std::string forward = WriteUpload(rows);
    std::reverse(rows.begin(), rows.end());
    for (size_t i = 0; i < rows.size(); ++i) rows[i].row_number = static_cast<int64_t>(i + 1);
    const std::string backward = WriteUpload(rows);
    std::vector<std::string> a = SampledIds(forward, {.max_rows = 60});
    std::vector<std::string> b = SampledIds(backward, {.max_rows = 60});
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b);
}

TEST_F(PreviewTest, SampleOfALargeUploadHasTenThousandRows) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 10'050; ++i) rows.push_back(Row(i, "R" + std::to_string(i), 100 * i));
    const std::string upload = WriteUpload(rows);
    const std::vector<std::string> ids = SampledIds(upload, {});
    EXPECT_EQ(ids.size(), 10'000u);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 10'000u);
}

// 39 lines of 100.00 and one of 10 000.00 (row 17, "OUT"). zscore on the signed amount over all lines, robust:
// median 100, MAD 0, so the scale is 1.2533 · mean |x − 100| = 1.2533 · 9900 / 40; the outlier's z = 40 / 1.2533
// and its score z² / (z² + 3²); every other line scores 0.
TEST_F(PreviewTest, ReportOfAPlantedOutlier) {
    std::vector<Transaction> rows;
    for (int i = 1; i <= 40; ++i) {
        rows.push_back(Row(i, i == 17 ? "OUT" : "T" + std::to_string(i), i == 17 ? 1'000'000 : 10'000));
    }
    const std::string upload = WriteUpload(rows);
    const strategy::Strategy strategy =
        Parse(R"({"name": "t", "algorithms": [{"name": "zscore", "params": {"group_by": "none", "value": "amount"}}],
                  "threshold": {"type": "score", "value": 0.5}})");
    const auto report = PreviewStrategy(*store_, kWorkspace, upload, strategy, {.max_threads = 1});
    ASSERT_TRUE(report) << report.error().message;

    const double z = 40.0 / 1.2533;
    const double score = z * z / (z * z + 9.0);  // 0.99124…
    EXPECT_EQ(report->upload_rows, 40);
    EXPECT_EQ(report->sample_rows, 40);
    EXPECT_EQ(report->flagged_in_sample, 1);
    EXPECT_DOUBLE_EQ(report->flagged_share, 0.025);
    EXPECT_EQ(report->expected_flagged, 1);
    std::array<int64_t, 20> histogram{};
    histogram[0] = 39;
    histogram[19] = 1;
    EXPECT_EQ(report->histogram, histogram);

    ASSERT_EQ(report->algorithms.size(), 1u);
    const PreviewAlgorithm& zscore = report->algorithms[0];
    EXPECT_EQ(zscore.label, "zscore");
    EXPECT_DOUBLE_EQ(zscore.score_share, 1.0);
    EXPECT_EQ(zscore.top_reason_count, 1);
    EXPECT_EQ(zscore.p50, 0.0);
    EXPECT_EQ(zscore.p90, 0.0);
    EXPECT_NEAR(zscore.p99, score, 1e-9);  // rank ⌈0.99 · 40⌉ = 40: the highest

    ASSERT_EQ(report->top.size(), 10u);
    const PreviewExample& top = report->top[0];
    EXPECT_EQ(top.external_id, "OUT");
    EXPECT_EQ(top.row_number, 17);
    EXPECT_EQ(top.date, "2024-03-18");
    EXPECT_EQ(top.account, "5460");
    EXPECT_EQ(top.amount, "10000.00");
    EXPECT_NEAR(top.score, score, 1e-9);
    ASSERT_EQ(top.reasons.size(), 1u);
    ASSERT_EQ(top.algorithm_scores.size(), 1u);
    EXPECT_EQ(top.algorithm_scores[0].first, "zscore");
    // The rest score 0 and follow in file order.
    EXPECT_EQ(report->top[1].external_id, "T1");
    EXPECT_EQ(report->top[1].score, 0.0);
    EXPECT_GT(report->estimate.total_ms, 0.0);
    EXPECT_EQ(report->estimate.total_ms, report->estimate.load_ms + report->estimate.algorithms_ms +
                                             report->estimate.combine_ms + report->estimate.write_ms);
}

TEST_F(PreviewTest, UploadThatIsNotCompletedIsAConflictAndAnUnknownOneNotFound) {
    const std::string pending = store_->CreateUpload({.workspace_id = std::string(kWorkspace), .filename = "p"}).id;
    const strategy::Strategy strategy = Parse(R"({"name": "t", "algorithms": [{"name": "zscore"}]})");
    EXPECT_EQ(PreviewStrategy(*store_, kWorkspace, pending, strategy).error().kind, ErrorKind::kConflict);
    EXPECT_EQ(PreviewStrategy(*store_, kWorkspace, "0190a000-0000-7000-8000-000000000000", strategy).error().kind,
              ErrorKind::kNotFound);
}

}  // namespace
}  // namespace granska::engine
