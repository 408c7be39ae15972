#include "detect/ml/autoencoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>
#include <tuple>

#include "detect/ml/detail/labelled_matrix.h"
#include "detect/statistical/detail/test_support.h"

namespace granska::detect {
namespace {

using testing::TestLine;

std::unique_ptr<Algorithm> Make(const nlohmann::json& params) {
    return testing::MakeAlgorithm<AutoencoderParams, Autoencoder>(params);
}

// Small frames need more passes and smaller steps than a ledger's defaults, and a middle layer no wider than the
// data's 2 degrees of freedom (account, amount), else the network learns to copy every line.
nlohmann::json Small(nlohmann::json params = nlohmann::json::object()) {
    if (!params.contains("hidden")) params["hidden"] = {8, 2};
    params["features"] = {"log_amount"};
    params["categorical"] = {"account"};
    if (!params.contains("epochs")) params["epochs"] = 150;
    params["batch_size"] = 32;
    params["validation"] = 0;
    params["learning_rate"] = 0.01;
    return params;
}

TestLine Line(const std::string& account, double amount, int day) {
    return {account, amount, *Date::FromYmd(2024, 3, day)};
}

// 400 lines on three accounts, each with its own amounts (1910 about 100, 3010 about 5 000, 4010 about 300), days
// 1–28; then rows 400–402: an amount far from every account's, a 3010-sized amount on 1910 (unusual only in
// combination), and 1910's usual amount on 4010.
std::vector<TestLine> AccountsWithOutliers() {
    std::vector<TestLine> lines;
    const std::array<std::pair<const char*, double>, 3> accounts = {{{"1910", 100}, {"3010", 5000}, {"4010", 300}}};
    for (int i = 0; i < 400; ++i) {
        const auto& [account, typical] = accounts[static_cast<size_t>(i % 3)];
        lines.push_back(Line(account, typical * (0.8 + 0.4 * ((i * 37) % 100) / 100.0), 1 + (i * 11) % 28));
    }
    lines.push_back(Line("1910", 2'000'000, 14));
    lines.push_back(Line("1910", 5000, 14));
    lines.push_back(Line("4010", 100, 14));
    return lines;
}

// Scores a frame with a saved model; the algorithm's own params do not matter (the model brings its own).
Expected<AlgorithmOutput> RunSaved(const std::string& model, const std::vector<TestLine>& lines) {
    RunContext context;
    context.model = model;
    return Make({{"seed", 99}, {"hidden", {3}}})->Run(testing::MakeFrame(lines), context);
}

std::vector<size_t> TopRows(const std::vector<double>& score, size_t k) {
    std::vector<size_t> order(score.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    order.resize(k);
    std::sort(order.begin(), order.end());
    return order;
}

TEST(AutoencoderTest, PlantedOutliersScoreHighAndNormalLinesLow) {
    const auto output = Make(Small())->Run(testing::MakeFrame(AccountsWithOutliers()), {});
    ASSERT_TRUE(output) << output.error().message;
    EXPECT_EQ(TopRows(output->score, 3), (std::vector<size_t>{400, 401, 402}));
    EXPECT_GT(output->score[400], 0.9);
    EXPECT_GT(output->score[401], 0.5);
    std::vector<double> normal(output->score.begin(), output->score.begin() + 400);
    std::nth_element(normal.begin(), normal.begin() + 200, normal.end());
    EXPECT_LT(normal[200], 0.3);  // the median line
    std::nth_element(normal.begin(), normal.begin() + 380, normal.end());
    EXPECT_LT(normal[380], 0.5);  // 95% of the normal lines
    for (size_t r = 0; r < output->score.size(); ++r) {
        EXPECT_GE(output->score[r], 0.0);
        EXPECT_LE(output->score[r], 1.0);
        EXPECT_GT(output->confidence[r], 0.0);
        EXPECT_LE(output->confidence[r], 1.0);
    }
}

TEST(AutoencoderTest, ReasonNamesTheFeaturesWithTheLargestError) {
    const auto output = Make(Small())->Run(testing::MakeFrame(AccountsWithOutliers()), {});
    ASSERT_TRUE(output);
    const std::regex far(
        R"(Reconstruction error [0-9.]+ times the typical line's, mostly from log_amount \(\d+%\)(,? .+ \(\d+%\))*\.)");
    EXPECT_TRUE(std::regex_match(output->reason[400], far)) << output->reason[400];
    // The combination: the account's one-hot columns are named by the line's own account.
    const std::string& combination = output->reason[401];
    EXPECT_TRUE(combination.find("log_amount") != std::string::npos ||
                combination.find("account=1910") != std::string::npos)
        << combination;
    EXPECT_EQ(combination.find("account=3010"), std::string::npos) << combination;
    for (size_t r = 0; r < output->score.size(); ++r) {
        EXPECT_EQ(output->reason[r].empty(), output->score[r] < 0.5) << r;
        EXPECT_EQ(output->reason[r].find("; "), std::string::npos) << output->reason[r];
    }
}

TEST(AutoencoderTest, SameSeedGivesIdenticalScores) {
    const auto frame = testing::MakeFrame(AccountsWithOutliers());
    const auto first = Make(Small({{"seed", 7}, {"epochs", 20}}))->Run(frame, {});
    const auto second = Make(Small({{"seed", 7}, {"epochs", 20}}))->Run(frame, {});
    const auto other = Make(Small({{"seed", 8}, {"epochs", 20}}))->Run(frame, {});
    ASSERT_TRUE(first && second && other);
    EXPECT_EQ(first->score, second->score);
    EXPECT_EQ(first->reason, second->reason);
    EXPECT_EQ(first->model, second->model);
    EXPECT_NE(first->score, other->score);
}

TEST(AutoencoderTest, ThreadCountDoesNotChangeScores) {
    // 1 203 lines: five blocks of 256, the last one short, shared out between the threads.
    std::vector<TestLine> lines = AccountsWithOutliers();
    for (int i = 0; i < 800; ++i) lines.push_back(Line(i % 2 == 0 ? "1910" : "4010", 50 + (i * 53) % 400, 1 + i % 28));
    const auto frame = testing::MakeFrame(lines);
    const auto one = Make(Small({{"threads", 1}, {"epochs", 3}}))->Run(frame, {});
    const auto three = Make(Small({{"threads", 3}, {"epochs", 3}}))->Run(frame, {});
    ASSERT_TRUE(one && three);
    EXPECT_EQ(one->score, three->score);
    EXPECT_EQ(one->reason, three->reason);
}

TEST(AutoencoderTest, EveryActivationTrains) {
    for (const char* activation : {"relu", "tanh", "sigmoid", "leaky_relu"}) {
        const auto output = Make(Small({{"activation", activation}, {"epochs", 60}}))
                                ->Run(testing::MakeFrame(AccountsWithOutliers()), {});
        ASSERT_TRUE(output) << activation;
        EXPECT_EQ(TopRows(output->score, 1), (std::vector<size_t>{400})) << activation;
        const auto document = nlohmann::json::parse(output->model);
        EXPECT_EQ(document["model"]["activation"], activation);
        EXPECT_EQ(document["model"]["layers"], (std::vector<int>{5, 8, 2, 8, 5}));  // log_amount + 3 accounts + other
    }
}

TEST(AutoencoderTest, SampleAndEarlyStoppingLimitTraining) {
    const auto frame = testing::MakeFrame(AccountsWithOutliers());
    const auto output =
        Make(Small({{"epochs", 300}, {"sample", 100}}))->Run(frame, {});  // validation 0: every epoch runs
    ASSERT_TRUE(output);
    auto document = nlohmann::json::parse(output->model);
    EXPECT_EQ(document["model"]["training_rows"], 100);
    EXPECT_EQ(document["model"]["epochs_trained"], 300);
    nlohmann::json params = Small({{"epochs", 300}});
    params["validation"] = 0.2;
    params["patience"] = 2;
    const auto stopped = Make(params)->Run(frame, {});
    ASSERT_TRUE(stopped);
    document = nlohmann::json::parse(stopped->model);
    EXPECT_LT(document["model"]["epochs_trained"].get<int>(), 300);
}

TEST(AutoencoderTest, SaysWhenTrainingDiverges) {
    // Values near float's limit overflow the squared errors, as a diverging training would.
    FeatureMatrix x{.rows = 4, .cols = 1, .values = {0.0F, 1e30F, -1e30F, 3e38F}, .names = {"x"}};
    AutoencoderParams params{.learning_rate = 1.0, .epochs = 3, .validation = 0};
    params.features.path = "p";
    const auto model = AutoencoderModel::Fit(x, params);
    ASSERT_FALSE(model);
    EXPECT_EQ(model.error().column, "p.learning_rate");
}

TEST(AutoencoderTest, StopsWhenCancelled) {
    const std::atomic<bool> cancelled{true};
    RunContext context;
    context.cancelled = &cancelled;
    const auto output = Make(Small())->Run(testing::MakeFrame(AccountsWithOutliers()), context);
    ASSERT_FALSE(output);
    EXPECT_EQ(output.error().message, "cancelled");
}

TEST(AutoencoderTest, ReportsProgressUpToOne) {
    std::vector<double> reported;
    RunContext context;
    context.progress = [&reported](double f) { reported.push_back(f); };
    ASSERT_TRUE(Make(Small({{"epochs", 5}}))->Run(testing::MakeFrame(AccountsWithOutliers()), context));
    ASSERT_FALSE(reported.empty());
    EXPECT_TRUE(std::is_sorted(reported.begin(), reported.end()));
    EXPECT_LE(reported.back(), 1.0);
    EXPECT_GE(reported.back(), 0.8);
}

TEST(AutoencoderTest, DefaultsUseDerivedFeaturesAndCategoricals) {
    const auto params = AutoencoderParams::FromJson(nlohmann::json::object(), "p");
    ASSERT_TRUE(params);
    EXPECT_EQ(params->hidden, (std::vector<int>{32, 8}));
    EXPECT_EQ(params->activation, "tanh");
    EXPECT_DOUBLE_EQ(params->learning_rate, 1e-3);
    EXPECT_EQ(params->batch_size, 256);
    EXPECT_EQ(params->sample, 200'000);
    EXPECT_EQ(params->features.categorical, (std::vector<std::string>{"account", "user", "series"}));
    for (const std::string& name : params->features.features) {
        const auto known = transform::TransactionFrame::NumericFeatureNames();
        EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
    }
    // The defaults run on a frame that has only accounts, amounts and dates.
    const auto output = Make({{"epochs", 2}})->Run(testing::MakeFrame(AccountsWithOutliers()), {});
    ASSERT_TRUE(output) << output.error().message;
}

TEST(AutoencoderTest, RejectsBadParametersNamingTheField) {
    testing::ExpectRejected<AutoencoderParams>({
        {{{"hidden", nlohmann::json::array()}}, "p.hidden"},
        {{{"hidden", 4}}, "p.hidden"},
        {{{"hidden", {16, 0}}}, "p.hidden[1]"},
        {{{"hidden", {16, "four"}}}, "p.hidden[1]"},
        {{{"hidden", {1, 2, 3, 4, 5, 6, 7, 8, 9}}}, "p.hidden"},
        {{{"activation", "softmax"}}, "p.activation"},
        {{{"learning_rate", 0}}, "p.learning_rate"},
        {{{"learning_rate", "fast"}}, "p.learning_rate"},
        {{{"batch_size", 0}}, "p.batch_size"},
        {{{"epochs", 0}}, "p.epochs"},
        {{{"patience", 0}}, "p.patience"},
        {{{"validation", 0.9}}, "p.validation"},
        {{{"sample", 1}}, "p.sample"},
        {{{"seed", -1}}, "p.seed"},
        {{{"threads", -2}}, "p.threads"},
        {{{"features", {"log_amount", "log_amount"}}}, "p.features[1]"},
        {{{"categorical", {"colour"}}}, "p.categorical[0]"},
        {{{"max_categories", 0}}, "p.max_categories"},
        {{{"layers", {16, 4}}}, "p.layers"},
    });
}

TEST(AutoencoderTest, SavedModelScoresLikeTheFittedOne) {
    const auto fitted = Make(Small({{"seed", 3}}))->Run(testing::MakeFrame(AccountsWithOutliers()), {});
    ASSERT_TRUE(fitted);
    ASSERT_FALSE(fitted->model.empty());
    const auto document = nlohmann::json::parse(fitted->model);
    EXPECT_EQ(document["format"], "granska-model");
    EXPECT_EQ(document["algorithm"], "autoencoder");
    EXPECT_EQ(document["params"]["seed"], 3);
    EXPECT_EQ(document["features"]["standardize"], true);

    const auto reloaded = RunSaved(fitted->model, AccountsWithOutliers());
    ASSERT_TRUE(reloaded) << reloaded.error().message;
    EXPECT_EQ(reloaded->score, fitted->score);
    EXPECT_EQ(reloaded->reason, fitted->reason);
    EXPECT_EQ(reloaded->confidence, fitted->confidence);
    EXPECT_TRUE(reloaded->model.empty());

    // A later upload is scored against the training reference: a usual line stays low, a far amount is high, and a
    // line scores the same whichever upload it is in.
    const std::vector<TestLine> later = {Line("3010", 5000, 10), Line("1910", 100, 10), Line("3010", 3'000'000, 10)};
    const auto month = RunSaved(fitted->model, later);
    ASSERT_TRUE(month) << month.error().message;
    EXPECT_LT(month->score[0], 0.5);
    EXPECT_GT(month->score[2], 0.9);
    const auto alone = RunSaved(fitted->model, {later[2]});
    ASSERT_TRUE(alone);
    EXPECT_EQ(alone->score[0], month->score[2]);
}

TEST(AutoencoderTest, RefusesAnotherAlgorithmsOrABrokenModel) {
    const auto fitted = Make(Small({{"epochs", 2}}))->Run(testing::MakeFrame(AccountsWithOutliers()), {});
    ASSERT_TRUE(fitted);
    const auto document = nlohmann::json::parse(fitted->model);
    const auto refused = [](const nlohmann::json& changed) {
        const auto output = RunSaved(changed.dump(), AccountsWithOutliers());
        EXPECT_FALSE(output) << changed["model"].dump().substr(0, 200);
        return output ? std::string() : output.error().message;
    };
    nlohmann::json other = document;
    other["algorithm"] = "isolation_forest";
    EXPECT_NE(refused(other).find("fitted by 'isolation_forest'"), std::string::npos);
    nlohmann::json layers = document;
    layers["model"]["layers"][0] = 7;  // not the encoder's 5 columns
    EXPECT_NE(refused(layers).find("do not fit 5 feature columns"), std::string::npos);
    nlohmann::json weights = document;
    weights["model"]["weights"][1].erase(0);
    EXPECT_NE(refused(weights).find("layer 2"), std::string::npos);
    nlohmann::json activation = document;
    activation["model"]["activation"] = "softmax";
    EXPECT_NE(refused(activation).find("activation"), std::string::npos);
    nlohmann::json scale = document;
    scale["model"]["error_spread"] = 0;
    EXPECT_NE(refused(scale).find("reference"), std::string::npos);
}

// ODDS benchmark data (../shared/data/odds), standardized column by column as the FeatureEncoder does.
std::optional<LabelledMatrix> Odds(const std::string& name) {
    const char* source = std::getenv("GRANSKA_SOURCE_DIR");
    const auto path =
        std::filesystem::path(source != nullptr ? source : ".") / ".." / "shared" / "data" / "odds" / (name + ".csv");
    if (!std::filesystem::exists(path)) return std::nullopt;
    auto read = ReadLabelledCsv(path.string());
    if (!read) return std::nullopt;
    FeatureMatrix& x = read->x;
    for (size_t c = 0; c < x.cols; ++c) {
        float* column = x.values.data() + c * x.rows;
        const double mean = std::accumulate(column, column + x.rows, 0.0) / static_cast<double>(x.rows);
        double spread = 0.0;
        for (size_t r = 0; r < x.rows; ++r) spread += (column[r] - mean) * (column[r] - mean);
        const double sd = std::sqrt(spread / static_cast<double>(x.rows));
        for (size_t r = 0; r < x.rows; ++r) column[r] = static_cast<float>((column[r] - mean) / (sd > 0 ? sd : 1.0));
    }
    return std::move(*read);
}

TEST(AutoencoderTest, ShuttleRocAucAtLeastNinetyHundredths) {
    const auto shuttle = Odds("shuttle");
    if (!shuttle) GTEST_SKIP() << "../shared/data/odds/shuttle.csv is not there";
    // A small network trained briefly on a sample keeps this quick in a debug build; it does better (0.99) than the
    // defaults (0.94), as a network trained longer also learns to rebuild the outliers.
    AutoencoderParams params{.hidden = {8, 3}, .epochs = 4, .sample = 5'000};
    double sum = 0.0;
    const int seeds = 3;
    for (int seed = 1; seed <= seeds; ++seed) {
        params.seed = seed;
        const auto model = AutoencoderModel::Fit(shuttle->x, params);
        ASSERT_TRUE(model);
        const auto errors = model->Errors(shuttle->x, 2);
        ASSERT_TRUE(errors);
        sum += RocAuc(*errors, shuttle->label);
    }
    EXPECT_GE(sum / seeds, 0.90);
}

}  // namespace
}  // namespace granska::detect
