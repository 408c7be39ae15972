#include "output.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

namespace granska::cli {

namespace {

std::string CsvField(std::string_view value) {
    if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
    std::string quoted = "\"";
    for (const char c : value) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

std::string JoinReasons(const std::vector<std::string>& reasons) { return fmt::format("{}", fmt::join(reasons, "; ")); }

}  // namespace

Expected<void> WriteOutput(const engine::AnalysisOutcome& outcome, const std::filesystem::path& path) {
    const std::string extension = path.extension().string();
    if (extension != ".csv" && extension != ".json") {
        return Unexpected(BadRequest(
            "bad_output", fmt::format("--output must end in .csv or .json, not '{}'.", path.filename().string())));
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Unexpected(BadRequest("bad_output", fmt::format("Cannot write '{}'.", path.string())));
    const auto& frame = outcome.frame;

    if (extension == ".csv") {
        out << "external_id,score,flagged";
        for (const auto& name : outcome.algorithm_names) out << ',' << CsvField(name);
        out << ",reasons\n";
        std::string line;
        for (size_t i = 0; i < frame.size(); ++i) {
            line = fmt::format("{},{:.6f},{}", CsvField(frame.external_id[i]), outcome.score[i],
                               outcome.flagged[i] != 0 ? "true" : "false");
            for (const auto& scores : outcome.algorithm_scores) line += fmt::format(",{:.6f}", scores[i]);
            line += ',';
            line += CsvField(JoinReasons(outcome.reasons[i]));
            line += '\n';
            out << line;
        }
    } else {
        out << "[";
        for (size_t i = 0; i < frame.size(); ++i) {
            nlohmann::ordered_json row = {{"external_id", frame.external_id[i]},
                                          {"score", outcome.score[i]},
                                          {"flagged", outcome.flagged[i] != 0}};
            for (size_t a = 0; a < outcome.algorithm_names.size(); ++a) {
                row[outcome.algorithm_names[a]] = outcome.algorithm_scores[a][i];
            }
            row["reasons"] = JoinReasons(outcome.reasons[i]);
            out << (i == 0 ? "\n" : ",\n") << row.dump();
        }
        out << "\n]\n";
    }
    out.close();
    if (!out) return Unexpected(Internal(fmt::format("Writing '{}' failed.", path.string())));
    return {};
}

void PrintTopAnomalies(const engine::AnalysisOutcome& outcome, size_t count, std::FILE* out) {
    const auto& frame = outcome.frame;
    std::vector<size_t> order(frame.size());
    std::iota(order.begin(), order.end(), size_t{0});
    const size_t shown = std::min(count, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                      [&](size_t a, size_t b) { return outcome.rank[a] < outcome.rank[b]; });
    fmt::print(out, "{:>4}  {:<14} {:>10}  {:>8}  {:>16}  {}\n", "rank", "id", "date", "account", "amount",
               "score  reason");
    for (size_t r = 0; r < shown; ++r) {
        const size_t i = order[r];
        const std::string reason = outcome.reasons[i].empty() ? "" : outcome.reasons[i].front();
        fmt::print(out, "{:>4}  {:<14} {:>10}  {:>8}  {:>16}  {:.3f}  {}\n", outcome.rank[i], frame.external_id[i],
                   Date{frame.date_days[i]}.ToString(), frame.account.values[frame.account.codes[i]],
                   Money{frame.amount_minor[i]}.ToString(), outcome.score[i], reason);
    }
}

namespace {

// 50080 -> "50 080", as Swedish and ISO 80000 write thousands.
std::string Count(int64_t n) {
    std::string digits = std::to_string(n < 0 ? -n : n);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), " ");
    return n < 0 ? "-" + digits : digits;
}

}  // namespace

void PrintParseReport(const ingest::ParseReport& report, std::string_view file_name, std::FILE* out,
                      size_t max_problems) {
    std::string dialect;
    for (const auto& [key, value] : report.dialect) dialect += fmt::format("; {} '{}'", key, value);
    fmt::print(out, "{}: {}{}{}{}\n", file_name, ingest::FormatName(report.format),
               report.format_detected ? "" : " (as chosen)", report.encoding.empty() ? "" : ", " + report.encoding,
               dialect);
    fmt::print(out, "  {} rows read, {} loaded, {} rejected", Count(report.rows_read), Count(report.rows_accepted),
               Count(report.rows_rejected));
    if (report.error_count + report.warning_count + report.info_count > 0) {
        fmt::print(out, "; {} errors, {} warnings, {} notes", Count(report.error_count), Count(report.warning_count),
                   Count(report.info_count));
    }
    fmt::print(out, "\n");
    if (!report.mapping.empty()) {
        std::string mapping;
        for (const auto& [field, column] : report.mapping) {
            mapping += fmt::format("{}{} <- \"{}\"", mapping.empty() ? "" : ", ", field, column);
        }
        fmt::print(out, "  columns: {}\n", mapping);
    }
    const size_t shown = std::min(max_problems, report.problems.size());
    for (size_t i = 0; i < shown; ++i) {
        const ingest::Problem& problem = report.problems[i];
        std::string place;
        if (problem.line) place = fmt::format("line {}", *problem.line);
        if (!problem.location.empty()) place += (place.empty() ? "" : ", ") + problem.location;
        if (!problem.field.empty()) place += (place.empty() ? "" : " ") + fmt::format("[{}]", problem.field);
        fmt::print(out, "  {} {}{}{}: {}\n", ingest::SeverityName(problem.severity), problem.code,
                   place.empty() ? "" : " at ", place, problem.message);
    }
    const int64_t total = report.error_count + report.warning_count + report.info_count;
    if (total > static_cast<int64_t>(shown)) {
        fmt::print(out, "  ... and {} more (the upload's report keeps the first {})\n",
                   Count(total - static_cast<int64_t>(shown)), ingest::ParseReport::kMaxProblems);
    }
}

}  // namespace granska::cli
