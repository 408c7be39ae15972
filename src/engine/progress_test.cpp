// A run's stored progress (per-algorithm state), its failure handling and the metadata it records, on a real
// (SQLite) store.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/analysis.h"
#include "engine/detail/run_algorithms.h"
#include "engine/detail/test_run.h"

namespace granska::engine {
namespace {

using nlohmann::json;
constexpr std::string_view kWorkspace = store::kDefaultWorkspaceId;

// A test algorithm: reports half its progress, then fails (or, with fail false, gives every row 0).
class Halfway final : public detect::Algorithm {
public:
    explicit Halfway(bool fail) : fail_(fail) {}
    std::string_view Name() const override { return fail_ ? "boom" : "halfway"; }
    Expected<detect::AlgorithmOutput> Run(const transform::TransactionFrame& frame,
                                          const detect::RunContext& context) const override {
        context.progress(0.5);
        if (fail_) return Unexpected(InvalidInput("boom_failed", "the test algorithm gives up"));
        return detect::AlgorithmOutput(frame.size());
    }

private:
    bool fail_;
};

// A test algorithm that works until it is cancelled (at most 20 s, then it gives every row 0).
class UntilCancelled final : public detect::Algorithm {
public:
    std::string_view Name() const override { return "until_cancelled"; }
    Expected<detect::AlgorithmOutput> Run(const transform::TransactionFrame& frame,
                                          const detect::RunContext& context) const override {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            if (context.cancelled != nullptr && context.cancelled->load()) {
                return Unexpected(InvalidInput("cancelled", "stopped"));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return detect::AlgorithmOutput(frame.size());
    }
};

// Registers a test algorithm under `name`; make() builds it.
template <typename Make>
void AddTestAlgorithm(detect::Registry& registry, std::string name, Make make) {
    registry.Add({.name = std::move(name),
                  .type = detect::AlgorithmType::kRuleBased,
                  .description = "test",
                  .params = {},
                  .create = [make](const json&, std::string_view) -> Expected<std::unique_ptr<detect::Algorithm>> {
                      return make();
                  }});
}

void AddTestAlgorithm(detect::Registry& registry, std::string name, bool fail) {
    AddTestAlgorithm(registry, std::move(name), [fail] { return std::make_unique<Halfway>(fail); });
}

// 40 lines of 100.00 … 139.00 on account 5460 and one of 50 000.00.
std::vector<Transaction> Rows() {
    std::vector<Transaction> rows;
    for (int i = 0; i < 41; ++i) {
        Transaction t;
        t.row_number = i + 1;
        t.external_id = "T" + std::to_string(i + 1);
        t.date = *Date::FromYmd(2024, 3, 1 + i % 28);
        t.account = "5460";
        t.amount = Money{i == 20 ? 5'000'000 : (100 + i) * 100};
        t.raw_data = "{}";
        t.processed_data = "{}";
        rows.push_back(std::move(t));
    }
    return rows;
}

class ProgressTest : public detail::EngineStoreTest {
protected:
    ProgressTest() : upload_id_(WriteUpload(Rows())) {
        AddTestAlgorithm(registry_, "boom", /*fail=*/true);
        AddTestAlgorithm(registry_, "halfway", /*fail=*/false);
        AddTestAlgorithm(registry_, "until_cancelled", [] { return std::make_unique<UntilCancelled>(); });
    }

    std::string NewRun(std::string configuration, std::string strategy_id = "") {
        return store_
            ->CreateRun({.workspace_id = std::string(kWorkspace),
                         .upload_id = upload_id_,
                         .strategy_id = std::move(strategy_id),
                         .strategy_name = "test",
                         .configuration = std::move(configuration)})
            .id;
    }

    json Detail(const std::string& run_id) { return json::parse(store_->GetRun(kWorkspace, run_id)->progress_detail); }

    std::string upload_id_;
};

std::map<std::string, std::string> States(const json& detail) {
    std::map<std::string, std::string> states;
    for (const json& entry : detail.value("algorithms", json::array())) {
        states[entry["label"].get<std::string>()] = entry["state"].get<std::string>();
    }
    return states;
}

// A job's cancel: the algorithms stop within a second, nothing is written and the run's status is left to the job.
TEST_F(ProgressTest, ACancelledRunStopsItsAlgorithmsAndWritesNothing) {
    const std::string run_id =
        NewRun(R"({"name": "t", "algorithms": [{"name": "until_cancelled"}, {"name": "zscore"}]})");
    std::atomic<bool> cancelled = false;
    std::jthread canceller([&cancelled] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        cancelled = true;
    });
    const auto start = std::chrono::steady_clock::now();
    const auto outcome = RunAnalysis(*store_, registry_, kWorkspace, run_id, {.cancelled = &cancelled});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, "cancelled") << outcome.error().message;
    EXPECT_LT(elapsed, std::chrono::seconds(2));
    const auto run = store_->GetRun(kWorkspace, run_id);
    ASSERT_TRUE(run);
    EXPECT_NE(run->status, "failed");
    EXPECT_NE(run->status, "completed");
    EXPECT_EQ(store_->ListResults(kWorkspace, run_id, {}).total, 0);
}

TEST_F(ProgressTest, StoredDetailFollowsEachAlgorithmFromPendingToDone) {
    const std::string run_id = NewRun(
        R"({"name": "t", "algorithms": [{"name": "halfway", "label": "first"}, {"name": "halfway", "label": "second"}]})");
    // Every report reads what the store holds at that moment (interval 0: every report is written).
    std::vector<std::map<std::string, std::string>> seen;
    std::vector<double> progress;
    const AnalysisOptions options{.max_threads = 1,
                                  .progress =
                                      [&](std::string_view, double) {
                                          const auto run = store_->GetRun(kWorkspace, run_id);
                                          seen.push_back(States(json::parse(run->progress_detail)));
                                          progress.push_back(run->progress);
                                      },
                                  .progress_interval = std::chrono::milliseconds(0)};
    ASSERT_TRUE(RunAnalysis(*store_, registry_, kWorkspace, run_id, options));

    // One thread: first runs and finishes before second starts. Reports: loading, first's stage, started(first),
    // 0.5, done, started(second), 0.5, done, combining, writing (stored); then the writer's (not stored).
    using States = std::map<std::string, std::string>;
    ASSERT_GE(seen.size(), 10u);
    EXPECT_EQ(seen[0], (States{{"first", "pending"}, {"second", "pending"}}));
    EXPECT_EQ(seen[2], (States{{"first", "running"}, {"second", "pending"}}));
    EXPECT_EQ(seen[3], (States{{"first", "running"}, {"second", "pending"}}));
    EXPECT_EQ(seen[4], (States{{"first", "done"}, {"second", "pending"}}));
    EXPECT_EQ(seen[5], (States{{"first", "done"}, {"second", "running"}}));
    EXPECT_EQ(seen[7], (States{{"first", "done"}, {"second", "done"}}));
    // 0.10 + 0.75 · (0.5 + 0) / 2 after first's half; 0.10 + 0.75 · (1 + 0.5) / 2 after second's.
    EXPECT_DOUBLE_EQ(progress[3], 0.2875);
    EXPECT_DOUBLE_EQ(progress[6], 0.6625);
    for (size_t i = 1; i < progress.size(); ++i) EXPECT_GE(progress[i], progress[i - 1]) << i;

    const json detail = Detail(run_id);
    ASSERT_EQ(detail["algorithms"].size(), 2u);
    EXPECT_EQ(detail["algorithms"][1]["label"], "second");
    EXPECT_EQ(detail["algorithms"][1]["name"], "halfway");
    EXPECT_EQ(detail["algorithms"][1]["state"], "done");
    EXPECT_EQ(detail["algorithms"][1]["progress"], 1.0);
    EXPECT_GE(detail["algorithms"][1]["ms"].get<double>(), 0.0);
    EXPECT_EQ(store_->GetRun(kWorkspace, run_id)->status, "completed");
}

TEST_F(ProgressTest, FailedAlgorithmFailsTheRunNamingItsLabelAndLeavesNoRows) {
    const std::string run_id =
        NewRun(R"({"name": "t", "algorithms": [{"name": "zscore"}, {"name": "boom", "label": "exploder"}]})");
    const auto outcome = RunAnalysis(*store_, registry_, kWorkspace, run_id, {.max_threads = 1});
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().message, "Algorithm 'exploder' failed: the test algorithm gives up");

    const auto run = store_->GetRun(kWorkspace, run_id);
    EXPECT_EQ(run->status, "failed");
    EXPECT_EQ(run->error_message, "Algorithm 'exploder' failed: the test algorithm gives up");
    EXPECT_EQ(States(json::parse(run->progress_detail)),
              (std::map<std::string, std::string>{{"zscore", "done"}, {"exploder", "failed"}}));
    EXPECT_EQ(store_->ListResults(kWorkspace, run_id, {}).total, 0);
    EXPECT_EQ(store_->ListRuleFlags(kWorkspace, run_id, 10, 0).total, 0);
}

TEST_F(ProgressTest, AlgorithmsAfterAFailureAreCancelledAndTheFailureIsTheOneReported) {
    const std::string run_id =
        NewRun(R"({"name": "t", "algorithms": [{"name": "boom"}, {"name": "zscore"}, {"name": "halfway"}]})");
    const auto outcome = RunAnalysis(*store_, registry_, kWorkspace, run_id, {.max_threads = 1});
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().message, "Algorithm 'boom' failed: the test algorithm gives up");
    EXPECT_EQ(States(Detail(run_id)), (std::map<std::string, std::string>{
                                          {"boom", "failed"}, {"zscore", "cancelled"}, {"halfway", "cancelled"}}));
}

TEST_F(ProgressTest, MetadataRecordsTheStrategyVersionEffectiveParametersSeedsAndTimings) {
    const store::Strategy saved = *store_->CreateStrategy(
        {.workspace_id = std::string(kWorkspace), .name = "audit", .configuration = R"({"name": "audit"})"});
    const std::string run_id = NewRun(
        R"({"name": "audit", "algorithms": [{"name": "zscore", "params": {"threshold": 4}},
            {"name": "isolation_forest", "params": {"n_trees": 10}}]})",
        saved.id);
    const auto outcome = RunAnalysis(*store_, registry_, kWorkspace, run_id, {.max_threads = 2});
    ASSERT_TRUE(outcome) << outcome.error().message;
    const auto run = store_->GetRun(kWorkspace, run_id);
    const json metadata = json::parse(run->metadata);

    EXPECT_EQ(metadata["strategy_id"], saved.id);
    EXPECT_EQ(metadata["strategy_version"], run->strategy_version);
    EXPECT_EQ(metadata["rows"], 41);
    const json& zscore = metadata["algorithms"][0];
    EXPECT_EQ(zscore["params"], json::parse(R"({"threshold": 4})"));
    // The given threshold, the registry's defaults for the rest.
    EXPECT_EQ(zscore["effective_params"]["threshold"], 4);
    EXPECT_EQ(zscore["effective_params"]["group_by"], "account");
    EXPECT_EQ(zscore["effective_params"]["min_group_size"], 10);
    EXPECT_EQ(zscore["effective_params"].size(), registry_.Find("zscore")->params.size());
    // isolation_forest's default seed is 42; zscore has none.
    EXPECT_EQ(metadata["seeds"], json::parse(R"({"isolation_forest": 42})"));
    EXPECT_EQ(metadata["algorithms"][1]["effective_params"]["n_trees"], 10);
    EXPECT_TRUE(metadata["timings"]["algorithms"]["zscore"].is_number());
    EXPECT_TRUE(metadata["timings"]["algorithms"]["isolation_forest"].is_number());
    EXPECT_TRUE(metadata["timings"]["load_ms"].is_number());
}

TEST(ProgressTrackerTest, WritesEveryStateChangeButThrottlesProgressWithinTheInterval) {
    detect::Registry registry;
    AddTestAlgorithm(registry, "halfway", /*fail=*/false);
    const auto strategy = strategy::ParseStrategy(R"({"name": "t", "algorithms": [{"name": "halfway"}]})", registry);
    ASSERT_TRUE(strategy) << strategy.error().message;
    std::vector<std::string> written;
    int reported = 0;
    detail::ProgressTracker tracker(
        *strategy, [&](std::string_view, double) { ++reported; },
        [&](std::string_view stage, double, const std::string& detail) {
            written.push_back(std::string(stage) + " " +
                              json::parse(detail)["algorithms"][0]["state"].get<std::string>());
        },
        std::chrono::hours(1));
    tracker.Stage("loading", 0.0, /*stored=*/true);
    tracker.Started(0);
    tracker.Progress(0, 0.25);  // within the hour of the last write: the caller only
    tracker.Progress(0, 0.5);
    tracker.Finished(0, detail::AlgorithmState::kDone, 3.0);
    tracker.Stage("writing", 0.9, /*stored=*/false);
    EXPECT_EQ(written, (std::vector<std::string>{"loading pending", "halfway running", "halfway done"}));
    EXPECT_EQ(reported, 6);
    EXPECT_EQ(json::parse(tracker.DetailJson())["algorithms"][0]["ms"], 3.0);
}

}  // namespace
}  // namespace granska::engine
