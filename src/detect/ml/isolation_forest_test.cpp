#include "detect/ml/isolation_forest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <tuple>

#include "detect/statistical/detail/test_support.h"

namespace granska::detect {
namespace {

using testing::TestLine;

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    return testing::MakeAlgorithm<IsolationForestParams, IsolationForest>(params);
}

const nlohmann::json kTwoFeatures = {"log_amount", "day_of_month"};

TestLine Line(double amount, int day) { return {"1910", amount, *Date::FromYmd(2024, 3, day)}; }

// A 2-D cluster of 200 distinct lines (amounts 100.00–199.50, days 10–19), then three far points: rows 200–202.
std::vector<TestLine> ClusterWithOutliers() {
    std::vector<TestLine> lines;
    for (int i = 0; i < 200; ++i) lines.push_back(Line(100 + ((i * 37) % 200) * 0.5, 10 + i % 10));
    lines.push_back(Line(1'000'000, 15));  // far in amount only
    lines.push_back(Line(0.50, 1));        // far in both
    lines.push_back(Line(150, 28));        // far in day only
    return lines;
}

TEST(IsolationForestTest, AveragePathLengthFollowsThePaper) {
    EXPECT_EQ(IsolationAveragePathLength(1), 0.0);
    EXPECT_EQ(IsolationAveragePathLength(2), 1.0);
    // 2 (ln 255 + 0.5772156649) − 2 · 255 / 256 = 2 · 6.1184804 − 1.9921875
    EXPECT_NEAR(IsolationAveragePathLength(256), 10.2448, 1e-4);
    // 2 (ln 2 + 0.5772156649) − 4 / 3
    EXPECT_NEAR(IsolationAveragePathLength(3), 2.0 * (std::log(2.0) + 0.5772156649) - 4.0 / 3.0, 1e-12);
}

TEST(IsolationForestTest, TwoRowsScoreOneHalf) {
    // ψ = 2, height limit 1: every tree splits the two rows apart, h = 1 = c(2), score 2^−1.
    const auto output = Make({{"features", kTwoFeatures}})->Run(testing::MakeFrame({Line(10, 1), Line(20, 2)}), {});
    ASSERT_TRUE(output);
    EXPECT_DOUBLE_EQ(output->score[0], 0.5);
    EXPECT_DOUBLE_EQ(output->score[1], 0.5);
}

TEST(IsolationForestTest, ExternalNodeAddsAveragePathLengthOfItsSize) {
    // Rows a, a, b; ψ = 3, height limit ceil(log2 3) = 2. The root splits b off (h = 1); the two a's cannot be
    // split, so their external node at depth 1 holds 2 rows: h = 1 + c(2) = 2. c(3) = 2 (ln 2 + γ) − 4/3.
    const auto frame = testing::MakeFrame({Line(10, 5), Line(10, 5), Line(1000, 5)});
    const auto output = Make({{"features", {"log_amount"}}, {"n_trees", 7}})->Run(frame, {});
    ASSERT_TRUE(output);
    const double c3 = 2.0 * (std::log(2.0) + 0.5772156649) - 4.0 / 3.0;
    EXPECT_NEAR(output->score[0], std::exp2(-2.0 / c3), 1e-12);
    EXPECT_NEAR(output->score[1], std::exp2(-2.0 / c3), 1e-12);
    EXPECT_NEAR(output->score[2], std::exp2(-1.0 / c3), 1e-12);
    // b scores 2^(−1 / 1.2074) = 0.563 ≥ 0.55; the typical path is the median of {2, 2, 1}.
    EXPECT_EQ(output->reason[2],
              "Isolated after 1.0 splits on average (typical 2.0), decided by the feature log_amount.");
    EXPECT_EQ(output->reason[0], "");  // 0.317
}

TEST(IsolationForestTest, PlantedOutliersRankHighest) {
    const auto output = Make({{"features", kTwoFeatures}})->Run(testing::MakeFrame(ClusterWithOutliers()), {});
    ASSERT_TRUE(output);
    std::vector<size_t> order(output->score.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return output->score[a] > output->score[b]; });
    std::vector<size_t> top(order.begin(), order.begin() + 3);
    std::sort(top.begin(), top.end());
    EXPECT_EQ(top, (std::vector<size_t>{200, 201, 202}));
    for (size_t r = 200; r < 203; ++r) EXPECT_GE(output->score[r], 0.6) << r;
    std::vector<double> cluster(output->score.begin(), output->score.begin() + 200);
    std::nth_element(cluster.begin(), cluster.begin() + 100, cluster.end());
    EXPECT_LT(cluster[100], 0.5);  // the typical line scores below one half
}

TEST(IsolationForestTest, ReasonNamesTheFeatureThatIsolatedTheRow) {
    const auto output = Make({{"features", kTwoFeatures}})->Run(testing::MakeFrame(ClusterWithOutliers()), {});
    ASSERT_TRUE(output);
    const std::string& amount = output->reason[200];
    EXPECT_TRUE(amount.starts_with("Isolated after ")) << amount;
    EXPECT_NE(amount.find("(typical "), std::string::npos) << amount;
    EXPECT_TRUE(amount.ends_with(", decided by the feature log_amount.")) << amount;
    const std::string& day = output->reason[202];
    EXPECT_TRUE(day.ends_with(", decided by the feature day_of_month.")) << day;
    EXPECT_NE(output->reason[201].find("log_amount"), std::string::npos) << output->reason[201];
    // A reason for every row scoring >= 0.55 and for the top 5 % above 0.5 (ceil(0.05 · 203) = 11 rows at most, with
    // ties); none for the rest.
    size_t quiet = 0;
    for (size_t r = 0; r < 200; ++r) {
        if (output->score[r] >= 0.55) {
            EXPECT_NE(output->reason[r], "") << r;
        }
        if (output->score[r] <= 0.5) {
            EXPECT_EQ(output->reason[r], "") << r;
        }
        if (output->reason[r].empty()) ++quiet;
    }
    EXPECT_GT(quiet, 150u);  // most of the cluster has nothing to say
}

TEST(IsolationForestTest, SameSeedGivesIdenticalScores) {
    const auto frame = testing::MakeFrame(ClusterWithOutliers());
    const auto first = Make({{"features", kTwoFeatures}, {"seed", 7}})->Run(frame, {});
    const auto second = Make({{"features", kTwoFeatures}, {"seed", 7}})->Run(frame, {});
    const auto other = Make({{"features", kTwoFeatures}, {"seed", 8}})->Run(frame, {});
    ASSERT_TRUE(first && second && other);
    EXPECT_EQ(first->score, second->score);
    EXPECT_EQ(first->reason, second->reason);
    EXPECT_NE(first->score, other->score);
}

TEST(IsolationForestTest, ThreadCountDoesNotChangeScores) {
    // 1 500 rows: six blocks of 256 rows, so the threads share both the trees and the rows.
    std::vector<TestLine> lines = ClusterWithOutliers();
    for (int i = 0; i < 1'297; ++i) lines.push_back(Line(50 + (i * 53) % 400, 1 + (i * 11) % 28));
    const auto frame = testing::MakeFrame(lines);
    const auto one = Make({{"threads", 1}, {"sample_size", 300}})->Run(frame, {});
    const auto four = Make({{"threads", 4}, {"sample_size", 300}})->Run(frame, {});
    ASSERT_TRUE(one && four);
    EXPECT_EQ(one->score, four->score);
    EXPECT_EQ(one->reason, four->reason);
}

TEST(IsolationForestTest, SampleSizeAboveRowCountUsesAllRows) {
    // ψ = min(sample_size, rows): the normalisation c(ψ) uses the rows there are, so two rows still score 0.5.
    const auto output = Make({{"features", kTwoFeatures}, {"sample_size", 1000}, {"max_depth", 5}})
                            ->Run(testing::MakeFrame({Line(10, 1), Line(20, 2)}), {});
    ASSERT_TRUE(output);
    EXPECT_DOUBLE_EQ(output->score[0], 0.5);
}

TEST(IsolationForestTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    RunContext context;
    context.cancelled = &cancelled;
    const auto output = Make({})->Run(testing::MakeFrame(ClusterWithOutliers()), context);
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().message, "cancelled");
}

TEST(IsolationForestTest, DefaultsAreThePapers) {
    const auto params = IsolationForestParams::FromJson(nlohmann::json::object(), "p");
    ASSERT_TRUE(params);
    EXPECT_EQ(params->n_trees, 100);
    EXPECT_EQ(params->sample_size, 256);
    EXPECT_EQ(params->max_depth, 0);
    EXPECT_EQ(params->seed, 42);
    EXPECT_EQ(params->extension_level, 0);
    EXPECT_EQ(params->features.features.size(), 6u);
    for (const std::string& name : params->features.features) {
        const auto known = transform::TransactionFrame::NumericFeatureNames();
        EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
    }
}

TEST(IsolationForestTest, RejectsBadParametersNamingTheField) {
    testing::ExpectRejected<IsolationForestParams>({
        {{{"n_trees", 0}}, "p.n_trees"},
        {{{"n_trees", "many"}}, "p.n_trees"},
        {{{"sample_size", 1}}, "p.sample_size"},
        {{{"max_depth", -1}}, "p.max_depth"},
        {{{"max_depth", 65}}, "p.max_depth"},
        {{{"seed", -3}}, "p.seed"},
        {{{"extension_level", -1}}, "p.extension_level"},
        {{{"extension_level", 1025}}, "p.extension_level"},
        {{{"threads", -1}}, "p.threads"},
        {{{"features", nlohmann::json::array()}}, "p.features"},
        {{{"features", "log_amount"}}, "p.features"},
        {{{"features", {"log_amount", "log_amount"}}}, "p.features[1]"},
        {{{"categorical", {"account", "colour"}}}, "p.categorical[1]"},
        {{{"categorical", {"user", "user"}}}, "p.categorical[1]"},
        {{{"max_categories", 0}}, "p.max_categories"},
        {{{"min_category_share", 1.0}}, "p.min_category_share"},
        {{{"missing", "drop"}}, "p.missing"},
        {{{"trees", 10}}, "p.trees"},
    });
}

TEST(IsolationForestTest, RejectsUnknownFeatureWhenRunNamingItsIndex) {
    // Any name may be a column of the uploaded file, so the name is checked against the frame it runs on.
    const auto output =
        Make({{"features", {"log_amount", "amount_squared"}}})->Run(testing::MakeFrame(ClusterWithOutliers()), {});
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(output.error().column, "algorithms[0].params.features[1]");
    EXPECT_NE(output.error().message.find("amount_squared"), std::string::npos) << output.error().message;
}

TEST(IsolationForestTest, SavedModelScoresLikeTheFittedOne) {
    const auto train = testing::MakeFrame(ClusterWithOutliers());
    const auto algorithm = Make({{"features", kTwoFeatures}, {"categorical", {"account"}}, {"seed", 3}});
    const auto fitted = algorithm->Run(train, {});
    ASSERT_TRUE(fitted);
    ASSERT_FALSE(fitted->model.empty());
    const auto document = nlohmann::json::parse(fitted->model);
    EXPECT_EQ(document["format"], "granska-model");
    EXPECT_EQ(document["version"], 1);
    EXPECT_EQ(document["algorithm"], "isolation_forest");
    EXPECT_EQ(document["params"]["seed"], 3);

    // Scoring the training frame with the saved model gives the very same scores and reasons; the parameters of
    // the scoring algorithm do not matter (the model brings its own).
    RunContext saved;
    saved.model = fitted->model;
    const auto reloaded = Make({{"seed", 99}})->Run(train, saved);
    ASSERT_TRUE(reloaded) << reloaded.error().message;
    EXPECT_EQ(reloaded->score, fitted->score);
    EXPECT_EQ(reloaded->reason, fitted->reason);
    EXPECT_TRUE(reloaded->model.empty());  // nothing new was fitted

    // A later upload, with an account the model never saw ("(other)", constant in training: no split uses it);
    // a far amount still scores high.
    std::vector<TestLine> later = {Line(150, 15), {"7010", 150, *Date::FromYmd(2024, 3, 15)}, Line(2'000'000, 15)};
    const auto month = Make({})->Run(testing::MakeFrame(later), saved);
    ASSERT_TRUE(month) << month.error().message;
    EXPECT_LT(month->score[0], 0.55);
    EXPECT_GT(month->score[2], 0.6);
    EXPECT_DOUBLE_EQ(month->score[1], month->score[0]);
}

TEST(IsolationForestTest, RefusesAnotherAlgorithmsOrANewerModel) {
    const auto frame = testing::MakeFrame(ClusterWithOutliers());
    const auto fitted = Make({{"features", kTwoFeatures}})->Run(frame, {});
    ASSERT_TRUE(fitted);
    auto document = nlohmann::json::parse(fitted->model);
    for (const auto& [field, value, expected] : std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
             {"algorithm", "autoencoder", "fitted by 'autoencoder'"},
             {"version", 2, "format version 2"},
             {"format", "pickle", "not a Granska model"}}) {
        nlohmann::json changed = document;
        changed[field] = value;
        const std::string text = changed.dump();
        RunContext context;
        context.model = text;
        const auto output = Make({})->Run(frame, context);
        ASSERT_FALSE(output) << field;
        EXPECT_EQ(output.error().kind, ErrorKind::kInvalidInput);
        EXPECT_NE(output.error().message.find(expected), std::string::npos) << output.error().message;
    }
    nlohmann::json broken = document;
    broken["model"]["left"][0] = 1'000'000;  // a child outside the forest
    const std::string text = broken.dump();
    RunContext context;
    context.model = text;
    EXPECT_FALSE(Make({})->Run(frame, context));
}

// Extended isolation forest (extension_level > 0): hyperplane splits.

std::vector<size_t> TopThree(const std::vector<double>& score) {
    std::vector<size_t> order(score.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                      [&](size_t a, size_t b) { return score[a] > score[b]; });
    std::vector<size_t> top(order.begin(), order.begin() + 3);
    std::sort(top.begin(), top.end());
    return top;
}

TEST(IsolationForestTest, ExtensionLevelZeroIsTheStandardForest) {
    const auto frame = testing::MakeFrame(ClusterWithOutliers());
    const auto standard = Make({{"features", kTwoFeatures}})->Run(frame, {});
    const auto zero = Make({{"features", kTwoFeatures}, {"extension_level", 0}})->Run(frame, {});
    ASSERT_TRUE(standard && zero);
    EXPECT_EQ(standard->score, zero->score);
    EXPECT_FALSE(nlohmann::json::parse(zero->model)["model"].contains("plane_width"));
}

TEST(IsolationForestTest, ExtendedPlantedOutliersRankHighestWithAReason) {
    const auto output =
        Make({{"features", kTwoFeatures}, {"extension_level", 1}})->Run(testing::MakeFrame(ClusterWithOutliers()), {});
    ASSERT_TRUE(output);
    EXPECT_EQ(TopThree(output->score), (std::vector<size_t>{200, 201, 202}));
    for (size_t r = 200; r < 203; ++r) {
        EXPECT_GE(output->score[r], 0.6) << r;
        EXPECT_TRUE(output->reason[r].starts_with("Isolated after ")) << output->reason[r];
    }
    EXPECT_NE(output->reason[200].find("log_amount"), std::string::npos) << output->reason[200];
    EXPECT_NE(output->reason[202].find("day_of_month"), std::string::npos) << output->reason[202];
    const auto standard = Make({{"features", kTwoFeatures}})->Run(testing::MakeFrame(ClusterWithOutliers()), {});
    ASSERT_TRUE(standard);
    EXPECT_NE(output->score, standard->score);  // hyperplanes, not axis-parallel splits
}

TEST(IsolationForestTest, ExtendedThreadCountDoesNotChangeScores) {
    std::vector<TestLine> lines = ClusterWithOutliers();
    for (int i = 0; i < 1'297; ++i) lines.push_back(Line(50 + (i * 53) % 400, 1 + (i * 11) % 28));
    const auto frame = testing::MakeFrame(lines);
    const nlohmann::json params = {{"sample_size", 300}, {"extension_level", 2}};
    nlohmann::json one_thread = params;
    one_thread["threads"] = 1;
    nlohmann::json four_threads = params;
    four_threads["threads"] = 4;
    const auto one = Make(one_thread)->Run(frame, {});
    const auto four = Make(four_threads)->Run(frame, {});
    ASSERT_TRUE(one && four);
    EXPECT_EQ(one->score, four->score);
    EXPECT_EQ(one->reason, four->reason);
}

TEST(IsolationForestTest, ExtendedSavedModelScoresLikeTheFittedOne) {
    const auto train = testing::MakeFrame(ClusterWithOutliers());
    const auto fitted = Make({{"features", kTwoFeatures}, {"extension_level", 1}, {"seed", 5}})->Run(train, {});
    ASSERT_TRUE(fitted);
    const auto document = nlohmann::json::parse(fitted->model);
    EXPECT_EQ(document["params"]["extension_level"], 1);
    EXPECT_EQ(document["model"]["plane_width"], 2);
    RunContext saved;
    saved.model = fitted->model;
    const auto reloaded = Make({})->Run(train, saved);
    ASSERT_TRUE(reloaded) << reloaded.error().message;
    EXPECT_EQ(reloaded->score, fitted->score);
    EXPECT_EQ(reloaded->reason, fitted->reason);

    nlohmann::json broken = document;
    broken["model"]["plane_feature"][0] = 7;  // the model has two feature columns
    const std::string text = broken.dump();
    RunContext context;
    context.model = text;
    const auto refused = Make({})->Run(train, context);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidInput);
}

}  // namespace
}  // namespace granska::detect
