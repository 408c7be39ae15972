#pragma once
// What `granska analyze` writes: the --output file (DESIGN.md contract) and the top-anomalies table.

#include <cstdio>
#include <filesystem>

#include "core/expected.h"
#include "engine/analysis.h"
#include "ingest/parser.h"

namespace granska::cli {

// OUT.csv: external_id,score,flagged,<algorithm...>,reasons — one row per transaction in file order.
// OUT.json: the same as an array of objects. Other extensions are a usage error.
Expected<void> WriteOutput(const engine::AnalysisOutcome& outcome, const std::filesystem::path& path);

void PrintTopAnomalies(const engine::AnalysisOutcome& outcome, size_t count, std::FILE* out);

// The validation report in a few lines: format and dialect, counts, mapping, and the first problems.
void PrintParseReport(const ingest::ParseReport& report, std::string_view file_name, std::FILE* out,
                      size_t max_problems = 10);

}  // namespace granska::cli
