#include "detect/ml/clustering.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <tuple>

#include "detect/ml/detail/labelled_matrix.h"
#include "detect/statistical/detail/test_support.h"

namespace granska::detect {
namespace {

using testing::TestLine;

const std::vector<std::string> kMethods = {"kmeans", "gmm", "dbscan"};
const nlohmann::json kTwoFeatures = {"log_amount", "day_of_month"};

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    return testing::MakeAlgorithm<ClusteringParams, Clustering>(params);
}

TestLine Line(double amount, int day) { return {"1910", amount, *Date::FromYmd(2024, 3, day)}; }

// Two groups of 200 lines each (small amounts on days 3–8, larger ones on days 10–15), then three far points:
// rows 400–402.
std::vector<TestLine> ClustersWithOutliers() {
    std::vector<TestLine> lines;
    for (int i = 0; i < 200; ++i) lines.push_back(Line(100 + ((i * 37) % 200) * 0.5, 3 + i % 6));
    for (int i = 0; i < 200; ++i) lines.push_back(Line(5'000 + ((i * 53) % 200) * 10.0, 10 + i % 6));
    lines.push_back(Line(1'000'000, 5));  // far in amount
    lines.push_back(Line(0.50, 14));      // far in both
    lines.push_back(Line(6'000, 28));     // far in day only
    return lines;
}

std::vector<size_t> TopRows(const std::vector<double>& score, size_t count) {
    std::vector<size_t> order(score.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    order.resize(count);
    std::sort(order.begin(), order.end());
    return order;
}

TEST(ClusteringTest, EachMethodRanksPlantedOutliersHighest) {
    const auto frame = testing::MakeFrame(ClustersWithOutliers());
    for (const std::string& method : kMethods) {
        const auto output = Make({{"features", kTwoFeatures}, {"method", method}, {"k", 2}, {"components", 2}})
                                ->Run(frame, {});
        ASSERT_TRUE(output) << method << ": " << output.error().message;
        EXPECT_EQ(TopRows(output->score, 3), (std::vector<size_t>{400, 401, 402})) << method;
        for (size_t r = 400; r < 403; ++r) {
            EXPECT_GE(output->score[r], 0.5) << method << " row " << r;
            EXPECT_FALSE(output->reason[r].empty()) << method << " row " << r;
        }
        std::vector<double> ordinary(output->score.begin(), output->score.begin() + 400);
        std::nth_element(ordinary.begin(), ordinary.begin() + 200, ordinary.end());
        EXPECT_LT(ordinary[200], 0.2) << method;  // the typical line scores low
        for (const double s : output->score) EXPECT_TRUE(s >= 0.0 && s <= 1.0) << method;
    }
}

TEST(ClusteringTest, KMeansReasonSaysHowFarAndWhichFeature) {
    const auto output = Make({{"features", kTwoFeatures}, {"method", "kmeans"}, {"k", 2}})
                            ->Run(testing::MakeFrame(ClustersWithOutliers()), {});
    ASSERT_TRUE(output);
    const std::string& amount = output->reason[400];
    EXPECT_NE(amount.find(" times farther from the nearest cluster centre (cluster "), std::string::npos) << amount;
    EXPECT_NE(amount.find(" of 2, "), std::string::npos) << amount;
    EXPECT_TRUE(amount.ends_with("than that cluster's typical line, mostly in log_amount.")) << amount;
    const std::string& day = output->reason[402];
    EXPECT_TRUE(day.ends_with(", mostly in day_of_month.")) << day;
    for (const std::string& reason : output->reason) EXPECT_EQ(reason.find("; "), std::string::npos) << reason;
    size_t quiet = 0;
    for (size_t r = 0; r < 400; ++r) quiet += output->reason[r].empty() ? 1 : 0;
    EXPECT_GT(quiet, 380u);
}

TEST(ClusteringTest, GmmAndDbscanReasonsNameTheirMeasure) {
    const auto frame = testing::MakeFrame(ClustersWithOutliers());
    const auto gmm = Make({{"features", kTwoFeatures}, {"method", "gmm"}, {"components", 2}})->Run(frame, {});
    const auto dbscan = Make({{"features", kTwoFeatures}, {"method", "dbscan"}})->Run(frame, {});
    ASSERT_TRUE(gmm && dbscan);
    EXPECT_TRUE(gmm->reason[400].starts_with("Unlikely under the fitted mixture: negative log-likelihood "))
        << gmm->reason[400];
    EXPECT_TRUE(gmm->reason[400].ends_with(", mostly in log_amount.")) << gmm->reason[400];
    EXPECT_TRUE(dbscan->reason[400].starts_with("Outside every dense cluster: ")) << dbscan->reason[400];
    EXPECT_NE(dbscan->reason[400].find(" times eps ("), std::string::npos) << dbscan->reason[400];
}

TEST(ClusteringTest, SmallClusterOfOutliersIsNoReference) {
    // Ten identical far lines would be a k-means cluster of their own; with 2.4 % of the rows they are measured
    // against the nearest large cluster instead, and score high.
    std::vector<TestLine> lines = ClustersWithOutliers();
    lines.resize(400);
    for (int i = 0; i < 10; ++i) lines.push_back(Line(900'000, 15));
    const auto frame = testing::MakeFrame(lines);
    const auto output = Make({{"features", kTwoFeatures}, {"method", "kmeans"}, {"k", 3}})->Run(frame, {});
    ASSERT_TRUE(output);
    std::vector<size_t> planted(10);
    std::iota(planted.begin(), planted.end(), size_t{400});
    EXPECT_EQ(TopRows(output->score, 10), planted);
    for (size_t r = 400; r < 410; ++r) EXPECT_GE(output->score[r], 0.5) << r;
    // Without the rule they are a cluster of their own, at its centre.
    const auto plain =
        Make({{"features", kTwoFeatures}, {"method", "kmeans"}, {"k", 3}, {"min_cluster_share", 0}})->Run(frame, {});
    ASSERT_TRUE(plain);
    for (size_t r = 400; r < 410; ++r) EXPECT_LT(plain->score[r], 0.1) << r;
}

TEST(ClusteringTest, SameSeedGivesIdenticalScores) {
    const auto frame = testing::MakeFrame(ClustersWithOutliers());
    for (const std::string& method : kMethods) {
        const nlohmann::json params = {{"features", kTwoFeatures}, {"method", method}, {"seed", 7}, {"sample", 300}};
        const auto first = Make(params)->Run(frame, {});
        const auto second = Make(params)->Run(frame, {});
        ASSERT_TRUE(first && second) << method;
        EXPECT_EQ(first->score, second->score) << method;
        EXPECT_EQ(first->reason, second->reason) << method;
        nlohmann::json other = params;
        other["seed"] = 8;
        const auto third = Make(other)->Run(frame, {});
        ASSERT_TRUE(third);
        EXPECT_NE(first->score, third->score) << method;  // another sample of 300 rows
    }
}

TEST(ClusteringTest, ThreadCountDoesNotChangeScores) {
    // 10 003 rows: three blocks of 4 096 rows, so the threads share the sums of every iteration.
    std::vector<TestLine> lines = ClustersWithOutliers();
    for (int i = 0; i < 9'600; ++i) lines.push_back(Line(50 + (i * 53) % 4'000, 1 + (i * 11) % 28));
    const auto frame = testing::MakeFrame(lines);
    for (const std::string& method : kMethods) {
        const nlohmann::json params = {
            {"method", method}, {"max_iter", 10}, {"sample", method == "dbscan" ? 1'000 : 0}};
        nlohmann::json one = params, four = params;
        one["threads"] = 1;
        four["threads"] = 4;
        const auto a = Make(one)->Run(frame, {});
        const auto b = Make(four)->Run(frame, {});
        ASSERT_TRUE(a && b) << method;
        EXPECT_EQ(a->score, b->score) << method;
        EXPECT_EQ(a->reason, b->reason) << method;
        EXPECT_EQ(a->model, b->model) << method;
    }
}

TEST(ClusteringTest, SavedModelScoresLikeTheFittedOne) {
    const auto train = testing::MakeFrame(ClustersWithOutliers());
    for (const std::string& method : kMethods) {
        for (const std::string covariance : {"diagonal", "full"}) {
            if (method != "gmm" && covariance == "full") continue;
            const auto algorithm = Make({{"features", kTwoFeatures},
                                         {"categorical", {"account"}},
                                         {"method", method},
                                         {"covariance", covariance},
                                         {"seed", 3}});
            const auto fitted = algorithm->Run(train, {});
            ASSERT_TRUE(fitted) << method << ": " << fitted.error().message;
            const auto document = nlohmann::json::parse(fitted->model);
            EXPECT_EQ(document["algorithm"], "clustering");
            EXPECT_EQ(document["params"]["method"], method);
            EXPECT_EQ(document["model"]["method"], method);

            RunContext saved;
            saved.model = fitted->model;
            const auto reloaded = Make({{"method", "dbscan"}, {"seed", 99}})->Run(train, saved);
            ASSERT_TRUE(reloaded) << method << ": " << reloaded.error().message;
            EXPECT_EQ(reloaded->score, fitted->score) << method << " " << covariance;
            EXPECT_EQ(reloaded->reason, fitted->reason) << method << " " << covariance;
            EXPECT_TRUE(reloaded->model.empty());

            // A later upload: an ordinary line, the same on an account never seen, and a far amount.
            std::vector<TestLine> later = {Line(150, 5), {"7010", 150, *Date::FromYmd(2024, 3, 5)},
                                           Line(2'000'000, 5)};
            const auto month = Make({})->Run(testing::MakeFrame(later), saved);
            ASSERT_TRUE(month) << month.error().message;
            EXPECT_LT(month->score[0], 0.5) << method;
            EXPECT_GT(month->score[2], 0.9) << method;
            EXPECT_GT(month->score[1], month->score[0]) << method;  // an account never seen is a difference
        }
    }
}

TEST(ClusteringTest, RefusesAnotherAlgorithmsOrABrokenModel) {
    const auto frame = testing::MakeFrame(ClustersWithOutliers());
    const auto fitted = Make({{"features", kTwoFeatures}, {"method", "kmeans"}})->Run(frame, {});
    ASSERT_TRUE(fitted);
    auto document = nlohmann::json::parse(fitted->model);
    nlohmann::json other = document;
    other["algorithm"] = "isolation_forest";
    std::string text = other.dump();
    RunContext context;
    context.model = text;
    auto output = Make({})->Run(frame, context);
    ASSERT_FALSE(output);
    EXPECT_NE(output.error().message.find("fitted by 'isolation_forest'"), std::string::npos);
    for (const auto& [field, value] : std::vector<std::pair<std::string, nlohmann::json>>{
             {"centers", nlohmann::json::array({1.0})}, {"method", "spectral"}, {"typical", {0.0, 0.0}}}) {
        nlohmann::json broken = document;
        broken["model"][field] = value;
        text = broken.dump();
        context.model = text;
        output = Make({})->Run(frame, context);
        ASSERT_FALSE(output) << field;
        EXPECT_EQ(output.error().kind, ErrorKind::kInvalidInput) << field;
    }
}

TEST(ClusteringTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    RunContext context;
    context.cancelled = &cancelled;
    for (const std::string& method : kMethods) {
        const auto output = Make({{"method", method}})->Run(testing::MakeFrame(ClustersWithOutliers()), context);
        ASSERT_FALSE(output) << method;
        EXPECT_EQ(output.error().message, "cancelled") << method;
    }
}

TEST(ClusteringTest, Defaults) {
    const auto params = ClusteringParams::FromJson(nlohmann::json::object(), "p");
    ASSERT_TRUE(params);
    EXPECT_EQ(params->method, "gmm");
    EXPECT_EQ(params->covariance, "diagonal");
    EXPECT_EQ(params->components, 8);
    EXPECT_EQ(params->k, 8);
    EXPECT_EQ(params->seed, 42);
    for (const std::string& name : params->features.features) {
        const auto known = transform::TransactionFrame::NumericFeatureNames();
        EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
    }
}

TEST(ClusteringTest, RejectsBadParametersNamingTheField) {
    testing::ExpectRejected<ClusteringParams>({
        {{{"method", "spectral"}}, "p.method"},
        {{{"k", 0}}, "p.k"},
        {{{"k", "eight"}}, "p.k"},
        {{{"components", 101}}, "p.components"},
        {{{"covariance", "spherical"}}, "p.covariance"},
        {{{"max_iter", 0}}, "p.max_iter"},
        {{{"tolerance", -1}}, "p.tolerance"},
        {{{"eps", -0.5}}, "p.eps"},
        {{{"min_samples", 0}}, "p.min_samples"},
        {{{"min_cluster_share", 1.0}}, "p.min_cluster_share"},
        {{{"sample", 1}}, "p.sample"},
        {{{"seed", -1}}, "p.seed"},
        {{{"threads", -2}}, "p.threads"},
        {{{"features", nlohmann::json::array()}}, "p.features"},
        {{{"clusters", 4}}, "p.clusters"},
    });
}

// ---- ODDS benchmarks (skipped without ../shared/data/odds) ----

std::filesystem::path OddsDir() {
    const char* source = std::getenv("GRANSKA_SOURCE_DIR");
    return std::filesystem::path(source != nullptr ? source : ".") / ".." / "shared" / "data" / "odds";
}

// The matrix standardized by its own mean and standard deviation, as FeatureEncoder does for a frame.
FeatureMatrix Standardized(FeatureMatrix x) {
    for (size_t c = 0; c < x.cols; ++c) {
        float* column = x.values.data() + c * x.rows;
        double mean = 0.0, square = 0.0;
        for (size_t r = 0; r < x.rows; ++r) mean += column[r];
        mean /= static_cast<double>(x.rows);
        for (size_t r = 0; r < x.rows; ++r) square += (column[r] - mean) * (column[r] - mean);
        const double sd = std::sqrt(square / static_cast<double>(x.rows));
        for (size_t r = 0; r < x.rows; ++r) column[r] = static_cast<float>((column[r] - mean) / (sd > 1e-12 ? sd : 1.0));
    }
    return x;
}

double OddsAuc(const std::string& name, const nlohmann::json& params_json) {
    auto data = ReadLabelledCsv((OddsDir() / (name + ".csv")).string());
    EXPECT_TRUE(data) << data.error().message;
    if (!data) return 0.0;
    const FeatureMatrix x = Standardized(std::move(data->x));
    const auto params = ClusteringParams::FromJson(params_json, "p");
    EXPECT_TRUE(params);
    auto model = ClusteringModel::Fit(x, *params);
    EXPECT_TRUE(model);
    auto scores = model->Score(x, 2);
    EXPECT_TRUE(scores);
    return RocAuc(scores->score, data->label);
}

TEST(ClusteringOddsTest, DefaultMethodReachesAucOnShuttle) {
    if (!std::filesystem::exists(OddsDir() / "shuttle.csv")) GTEST_SKIP() << "no ODDS data at " << OddsDir();
    const double auc = OddsAuc("shuttle", nlohmann::json::object());
    std::cout << "clustering (defaults) shuttle ROC-AUC " << auc << "\n";
    EXPECT_GE(auc, 0.90);
}

// Slow under the sanitizers: runs when GRANSKA_ODDS_REPORT is set.
TEST(ClusteringOddsTest, ReportsEveryMethod) {
    if (std::getenv("GRANSKA_ODDS_REPORT") == nullptr) GTEST_SKIP() << "set GRANSKA_ODDS_REPORT=1 to run";
    if (!std::filesystem::exists(OddsDir() / "shuttle.csv")) GTEST_SKIP() << "no ODDS data at " << OddsDir();
    for (const std::string name : {"cardio", "shuttle", "thyroid"}) {
        for (const std::string& method : kMethods) {
            const double auc = OddsAuc(name, {{"method", method}});
            std::cout << "clustering " << method << " " << name << " ROC-AUC " << auc << "\n";
            EXPECT_GE(auc, 0.5) << method << " " << name;
        }
    }
}

}  // namespace
}  // namespace granska::detect
