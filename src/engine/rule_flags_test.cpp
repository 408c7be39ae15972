// The engine stores the rule flags of rule-based algorithms: one store row per flag, named "<label>.<rule>",
// replaced on a re-run, counted in the run's metadata; a flag outside the frame fails the run. Runs against SQLite
// and, when GRANSKA_TEST_POSTGRES_URL is set (scripts/test.sh), PostgreSQL.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/uuid.h"
#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace granska::engine {
namespace {

// Flags every row whose amount is at least 10 000.00 (rule "big", value = the amount in kronor) and, on the last row,
// an untriggered "last" with its row number; or, broken, a row one past the end.
class FlagAlgorithm final : public detect::Algorithm {
public:
    explicit FlagAlgorithm(bool broken) : broken_(broken) {}
    std::string_view Name() const override { return "flagger"; }
    Expected<detect::AlgorithmOutput> Run(const transform::TransactionFrame& frame,
                                          const detect::RunContext& /*context*/) const override {
        detect::AlgorithmOutput output(frame.size());
        if (broken_) {
            output.flags.push_back({.row = frame.size(), .rule = "big"});
            return output;
        }
        // The last row first: the store orders by file order, whatever order the flags come in.
        output.flags.push_back({.row = frame.size() - 1,
                                .rule = "last",
                                .triggered = false,
                                .value = static_cast<double>(frame.row_number.back())});
        for (size_t i = 0; i < frame.size(); ++i) {
            if (frame.amount_minor[i] < 1'000'000) continue;
            output.score[i] = 1.0;
            output.flags.push_back({.row = i,
                                    .rule = "big",
                                    .value = static_cast<double>(frame.amount_minor[i]) / 100.0,
                                    .metadata = R"({"threshold": 10000})"});
        }
        return output;
    }

private:
    bool broken_;
};

void RegisterFlagger(detect::Registry& registry, std::string name, bool broken) {
    registry.Add(
        {.name = std::move(name),
         .type = detect::AlgorithmType::kRuleBased,
         .description = "test: flags large amounts",
         .create = [broken](const nlohmann::json&, std::string_view) -> Expected<std::unique_ptr<detect::Algorithm>> {
             return std::make_unique<FlagAlgorithm>(broken);
         }});
}

class EngineRuleFlagsTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("granska-engine-flags-" + NewUuidV7());
        std::filesystem::create_directories(dir_);
        if (GetParam() == "postgresql") {
            const char* url = std::getenv("GRANSKA_TEST_POSTGRES_URL");
            if (url == nullptr || *url == '\0') GTEST_SKIP() << "GRANSKA_TEST_POSTGRES_URL is not set";
            store_ = store::OpenPostgresStore(url);
        } else {
            store_ = store::OpenSqliteStore((dir_ / "granska.db").string());
        }
        store_->Migrate();
        workspace_ = store_->CreateWorkspace("engine rule flags").id;
        RegisterFlagger(registry_, "flagger", false);
        RegisterFlagger(registry_, "broken_flagger", true);
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    // Five rows: 100.00, 20 000.00, 300.00, 50 000.00, 10.00.
    std::string IngestLedger() {
        const auto path = dir_ / "flags.csv";
        std::ofstream(path, std::ios::binary) << "id,date,account,amount\n"
                                                 "A,2024-03-01,5460,100.00\n"
                                                 "B,2024-03-02,5460,20000.00\n"
                                                 "C,2024-03-03,5460,300.00\n"
                                                 "D,2024-03-04,5460,50000.00\n"
                                                 "E,2024-03-05,5460,10.00\n";
        const store::Upload upload =
            store_->CreateUpload({.workspace_id = workspace_, .filename = "flags.csv", .file_type = "csv"});
        const IngestReport report =
            IngestFile(*store_, workspace_, upload.id, path, {.parse = {.file_name = "flags.csv"}});
        EXPECT_TRUE(report.ok());
        return upload.id;
    }

    std::string NewRun(const std::string& upload_id, const std::string& configuration) {
        return store_
            ->CreateRun({.workspace_id = workspace_,
                         .upload_id = upload_id,
                         .strategy_name = "t",
                         .configuration = configuration})
            .id;
    }

    std::filesystem::path dir_;
    std::unique_ptr<store::Store> store_;
    std::string workspace_;
    detect::Registry registry_;
};

constexpr std::string_view kStrategy =
    R"({"name": "t", "algorithms": [{"name": "flagger", "label": "sizes"}], "threshold": {"type": "top_k", "value": 2}})";

TEST_P(EngineRuleFlagsTest, FlagsAreStoredUnderTheLabelInFileOrderAndCountedInTheMetadata) {
    const std::string run_id = NewRun(IngestLedger(), std::string(kStrategy));
    const auto outcome = RunAnalysis(*store_, registry_, workspace_, run_id, {});
    ASSERT_TRUE(outcome) << outcome.error().ToString();

    const store::Page<store::RuleFlag> page = store_->ListRuleFlags(workspace_, run_id, 50, 0);
    EXPECT_EQ(page.total, 3);
    ASSERT_EQ(page.items.size(), 3u);
    EXPECT_EQ(page.items[0].transaction_id, outcome->frame.id[1]);
    EXPECT_EQ(page.items[0].rule_name, "sizes.big");
    EXPECT_TRUE(page.items[0].triggered);
    EXPECT_EQ(page.items[0].flag_value, 20000.0);
    EXPECT_EQ(nlohmann::json::parse(page.items[0].metadata), nlohmann::json({{"threshold", 10000}}));
    EXPECT_EQ(page.items[1].transaction_id, outcome->frame.id[3]);
    EXPECT_EQ(page.items[1].rule_name, "sizes.big");
    EXPECT_EQ(page.items[1].flag_value, 50000.0);
    EXPECT_EQ(page.items[2].transaction_id, outcome->frame.id[4]);
    EXPECT_EQ(page.items[2].rule_name, "sizes.last");
    EXPECT_FALSE(page.items[2].triggered);
    EXPECT_EQ(page.items[2].flag_value, 5.0);  // data row 5
    EXPECT_EQ(nlohmann::json::parse(page.items[2].metadata), nlohmann::json::object());

    const auto run = store_->GetRun(workspace_, run_id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, "completed");
    const auto metadata = nlohmann::json::parse(run->metadata);
    EXPECT_EQ(metadata["flags"], 3);
    EXPECT_EQ(metadata["algorithms"][0]["flags"], 3);
    EXPECT_EQ(metadata["algorithms"][0]["label"], "sizes");
}

TEST_P(EngineRuleFlagsTest, ARunRunAgainKeepsOneSetOfFlags) {
    const std::string run_id = NewRun(IngestLedger(), std::string(kStrategy));
    ASSERT_TRUE(RunAnalysis(*store_, registry_, workspace_, run_id, {}));
    ASSERT_TRUE(RunAnalysis(*store_, registry_, workspace_, run_id, {}));
    EXPECT_EQ(store_->ListRuleFlags(workspace_, run_id, 50, 0).total, 3);
}

TEST_P(EngineRuleFlagsTest, AFlagOutsideTheFrameFailsTheRunAndStoresNothing) {
    const std::string run_id =
        NewRun(IngestLedger(), R"({"name": "t", "algorithms": [{"name": "broken_flagger"}, {"name": "flagger"}]})");
    const auto outcome = RunAnalysis(*store_, registry_, workspace_, run_id, {});
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().kind, ErrorKind::kInternal);
    EXPECT_NE(outcome.error().message.find("flagged row 5 of a frame of 5 rows"), std::string::npos)
        << outcome.error().message;
    const auto run = store_->GetRun(workspace_, run_id);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->status, "failed");
    EXPECT_EQ(store_->ListRuleFlags(workspace_, run_id, 50, 0).total, 0);
    EXPECT_EQ(store_->ListResults(workspace_, run_id, {}).total, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineRuleFlagsTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace granska::engine
