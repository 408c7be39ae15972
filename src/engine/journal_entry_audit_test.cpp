// The journal-entry-audit preset on the labelled sample ledger (../shared/data/ledger): it must beat the Python
// baseline that folder's README names (pandas + IsolationForest + per-account z-score: ROC-AUC 0.82 / AP 0.17
// per line, 0.89 / 0.25 per voucher) and catch every anomaly kind among the top 1 % of lines.
// Skipped, saying so, where the data is absent (a user's clone has no ../shared).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include "engine/analysis.h"
#include "engine/ingest_upload.h"
#include "store/sqlite/sqlite_store.h"

namespace granska::engine {
namespace {

struct Label {
    std::string voucher;  // "<series> <number>"
    bool anomaly = false;
    std::string kind;
};

std::filesystem::path LedgerDir() {
    const char* source = std::getenv("GRANSKA_SOURCE_DIR");
    return std::filesystem::path(source != nullptr ? source : ".") / ".." / "shared" / "data" / "ledger";
}

// labels.csv: transaction_id,voucher_series,voucher_number,is_anomaly,kind (no quoted fields).
std::map<std::string, Label> ReadLabels(const std::filesystem::path& path) {
    std::map<std::string, Label> labels;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::stringstream stream(line);
        for (std::string cell; std::getline(stream, cell, ',');) cells.push_back(cell);
        if (cells.size() != 5) continue;
        labels[cells[0]] = Label{.voucher = cells[1] + " " + cells[2], .anomaly = cells[3] == "1", .kind = cells[4]};
    }
    return labels;
}

// ROC-AUC as the Mann-Whitney U statistic, ties counted half.
double RocAuc(const std::vector<double>& score, const std::vector<bool>& positive) {
    std::vector<size_t> order(score.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
    double rank_sum = 0.0;
    double positives = 0.0;
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && score[order[j + 1]] == score[order[i]]) ++j;
        const double average_rank = static_cast<double>(i + j) / 2.0 + 1.0;
        for (size_t k = i; k <= j; ++k) {
            if (positive[order[k]]) {
                rank_sum += average_rank;
                positives += 1.0;
            }
        }
        i = j + 1;
    }
    const double negatives = static_cast<double>(score.size()) - positives;
    return (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives);
}

// Average precision as scikit-learn computes it: equal scores form one threshold.
double AveragePrecision(const std::vector<double>& score, const std::vector<bool>& positive) {
    std::vector<size_t> order(score.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    const double positives = static_cast<double>(std::count(positive.begin(), positive.end(), true));
    double ap = 0.0;
    double found = 0.0;
    double previous_recall = 0.0;
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && score[order[j + 1]] == score[order[i]]) ++j;
        for (size_t k = i; k <= j; ++k) found += positive[order[k]] ? 1.0 : 0.0;
        const double recall = found / positives;
        ap += (recall - previous_recall) * found / static_cast<double>(j + 1);
        previous_recall = recall;
        i = j + 1;
    }
    return ap;
}

// Per kind, the share of its items among the top `share` of items by score (file order among equals).
std::map<std::string, double> RecallByKind(const std::vector<double>& score, const std::vector<std::string>& kind,
                                           double share) {
    std::vector<size_t> order(score.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    const auto top = static_cast<size_t>(std::llround(static_cast<double>(score.size()) * share));
    std::map<std::string, std::pair<double, double>> counts;  // kind → (caught, total)
    for (size_t r = 0; r < order.size(); ++r) {
        const std::string& k = kind[order[r]];
        if (k == "normal") continue;
        counts[k].second += 1.0;
        if (r < top) counts[k].first += 1.0;
    }
    std::map<std::string, double> recall;
    for (const auto& [k, c] : counts) recall[k] = c.first / c.second;
    return recall;
}

TEST(JournalEntryAuditTest, BeatsThePythonBaselineOnTheLabelledLedgerAndCatchesEveryKind) {
    const auto dir = LedgerDir();
    if (!std::filesystem::exists(dir / "ledger.csv") || !std::filesystem::exists(dir / "labels.csv")) {
        GTEST_SKIP() << "the labelled ledger is absent (" << dir.string() << "); nothing to measure";
    }
    const auto labels = ReadLabels(dir / "labels.csv");
    ASSERT_EQ(labels.size(), 50'080u);

    detect::Registry registry;
    detect::RegisterBuiltinAlgorithms(registry);
    const strategy::Preset* preset = strategy::FindPreset("journal-entry-audit");
    ASSERT_NE(preset, nullptr);

    auto store = store::OpenSqliteStore(":memory:");
    const std::string workspace(store::kDefaultWorkspaceId);
    const store::Upload upload =
        store->CreateUpload({.workspace_id = workspace, .filename = "ledger.csv", .file_type = "csv"});
    const IngestReport ingested =
        IngestFile(*store, workspace, upload.id, dir / "ledger.csv", {.parse = {.file_name = "ledger.csv"}});
    ASSERT_TRUE(ingested.ok());
    auto uploaded = store->GetUpload(workspace, upload.id);
    ASSERT_TRUE(uploaded);
    EXPECT_EQ(strategy::DefaultPresetFor(uploaded->metadata), "journal-entry-audit");
    const store::Run run = store->CreateRun({.workspace_id = workspace,
                                             .upload_id = upload.id,
                                             .strategy_name = std::string(preset->name),
                                             .configuration = std::string(preset->json)});
    auto outcome = RunAnalysis(*store, registry, workspace, run.id, {});
    ASSERT_TRUE(outcome) << outcome.error().message;

    // Reasons are sentences; "; " separates them in the CLI's output, so none may contain it.
    for (const auto& reasons : outcome->reasons) {
        for (const std::string& reason : reasons) EXPECT_EQ(reason.find("; "), std::string::npos) << reason;
    }

    // Lines, then vouchers (a voucher's score is its highest line's).
    const size_t rows = outcome->frame.size();
    ASSERT_EQ(rows, labels.size());
    std::vector<bool> line_anomaly(rows);
    std::vector<std::string> line_kind(rows);
    std::map<std::string, size_t> voucher_index;
    std::vector<double> voucher_score;
    std::vector<bool> voucher_anomaly;
    std::vector<std::string> voucher_kind;
    for (size_t i = 0; i < rows; ++i) {
        const Label& label = labels.at(outcome->frame.external_id[i]);
        line_anomaly[i] = label.anomaly;
        line_kind[i] = label.kind;
        const auto [it, added] = voucher_index.try_emplace(label.voucher, voucher_score.size());
        if (added) {
            voucher_score.push_back(0.0);
            voucher_anomaly.push_back(false);
            voucher_kind.emplace_back("normal");
        }
        voucher_score[it->second] = std::max(voucher_score[it->second], outcome->score[i]);
        if (label.anomaly) {
            voucher_anomaly[it->second] = true;
            voucher_kind[it->second] = label.kind;
        }
    }
    const double line_auc = RocAuc(outcome->score, line_anomaly);
    const double line_ap = AveragePrecision(outcome->score, line_anomaly);
    const double voucher_auc = RocAuc(voucher_score, voucher_anomaly);
    const double voucher_ap = AveragePrecision(voucher_score, voucher_anomaly);
    const auto line_recall = RecallByKind(outcome->score, line_kind, 0.01);
    const auto voucher_recall = RecallByKind(voucher_score, voucher_kind, 0.01);

    std::string table = fmt::format(
        "journal-entry-audit on {} lines / {} vouchers\n"
        "line ROC-AUC {:.3f} AP {:.3f}; voucher ROC-AUC {:.3f} AP {:.3f}\n"
        "| kind | recall of lines in the top 1 % | recall of vouchers in the top 1 % |\n|---|---|---|\n",
        rows, voucher_score.size(), line_auc, line_ap, voucher_auc, voucher_ap);
    for (const auto& [kind, recall] : line_recall) {
        table += fmt::format("| {} | {:.2f} | {:.2f} |\n", kind, recall, voucher_recall.at(kind));
    }
    std::cout << table;
    RecordProperty("line_auc", fmt::format("{:.3f}", line_auc));

    // The baseline's figures, beaten with a margin.
    EXPECT_GT(line_auc, 0.82);
    EXPECT_GT(line_ap, 0.17);
    EXPECT_GT(voucher_auc, 0.89);
    EXPECT_GT(voucher_ap, 0.25);
    // And its own level (measured 0.999 / 0.816 per line, 0.999 / 0.839 per voucher), so a regression shows.
    EXPECT_GT(line_auc, 0.98);
    EXPECT_GT(line_ap, 0.7);
    EXPECT_GT(voucher_ap, 0.7);
    // Every kind is caught: at least half of its vouchers among the top 1 % of vouchers.
    EXPECT_EQ(voucher_recall.size(), 10u);
    for (const auto& [kind, recall] : voucher_recall) EXPECT_GE(recall, 0.5) << kind;
}

}  // namespace
}  // namespace granska::engine
