#include "store/store.h"

namespace granska::store {

void Store::CompleteRun(std::string_view workspace_id, std::string_view id, std::span<const AlgorithmScore> scores,
                        std::span<const AnalysisResult> results, std::string_view metadata) {
    const std::unique_ptr<RunResultWriter> writer = BeginRunResults(workspace_id, id);
    writer->WriteScores(scores);
    writer->WriteResults(results);
    writer->Commit(metadata);
}

}  // namespace granska::store
