#include "ingest/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include <utility>
#include "ingest/detail/text.h"

namespace granska::ingest {

namespace {

// The file's first 8 KiB (fewer when it is shorter); nullopt when it cannot be opened.
std::optional<std::string> ReadHead(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string head(8192, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    return head;
}

}  // namespace

std::string_view FormatName(Format format) {
    switch (format) {
        case Format::kCsv:
            return "csv";
        case Format::kJson:
            return "json";
        case Format::kXlsx:
            return "xlsx";
        case Format::kXls:
            return "xls";
        case Format::kSie:
            return "sie";
        case Format::kXml:
            return "xml";
    }
    return "csv";
}

std::optional<Format> FormatFromName(std::string_view name) {
    const std::string lower = detail::AsciiLower(name);
    if (lower == "csv" || lower == "tsv" || lower == "txt") return Format::kCsv;
    if (lower == "json" || lower == "ndjson" || lower == "jsonl") return Format::kJson;
    if (lower == "xlsx") return Format::kXlsx;
    if (lower == "xls") return Format::kXls;
    if (lower == "sie" || lower == "sie4" || lower == "se" || lower == "si") return Format::kSie;
    if (lower == "xml" || lower == "camt" || lower == "camt053" || lower == "camt054") return Format::kXml;
    return std::nullopt;
}

std::string_view SeverityName(Severity severity) {
    switch (severity) {
        case Severity::kError:
            return "error";
        case Severity::kWarning:
            return "warning";
        case Severity::kInfo:
            return "info";
    }
    return "error";
}

std::optional<BadRowPolicy> BadRowPolicyFromName(std::string_view name) {
    const std::string lower = detail::AsciiLower(name);
    if (lower.empty() || lower == "default") return BadRowPolicy::kFormatDefault;
    if (lower == "reject_file" || lower == "reject") return BadRowPolicy::kRejectFile;
    if (lower == "skip_row" || lower == "skip") return BadRowPolicy::kSkipRow;
    return std::nullopt;
}

void ParseReport::Add(Problem problem) {
    switch (problem.severity) {
        case Severity::kError:
            ++error_count;
            break;
        case Severity::kWarning:
            ++warning_count;
            break;
        case Severity::kInfo:
            ++info_count;
            break;
    }
    if (problems.size() < kMaxProblems) problems.push_back(std::move(problem));
}

std::string ReportToJson(const ParseReport& report) {
    nlohmann::ordered_json json;
    json["format"] = FormatName(report.format);
    json["format_detected"] = report.format_detected;
    json["encoding"] = report.encoding;
    json["dialect"] = report.dialect;
    json["headers"] = report.headers;
    json["mapping"] = report.mapping;
    json["rows_read"] = report.rows_read;
    json["rows_accepted"] = report.rows_accepted;
    json["rows_rejected"] = report.rows_rejected;
    json["error_count"] = report.error_count;
    json["warning_count"] = report.warning_count;
    json["info_count"] = report.info_count;
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    for (const Problem& problem : report.problems) {
        nlohmann::ordered_json item;
        item["severity"] = SeverityName(problem.severity);
        item["code"] = problem.code;
        item["message"] = problem.message;
        if (problem.line) item["line"] = *problem.line;
        if (!problem.location.empty()) item["location"] = problem.location;
        if (!problem.field.empty()) item["field"] = problem.field;
        problems.push_back(std::move(item));
    }
    json["problems"] = std::move(problems);
    json["problems_truncated"] =
        std::ssize(report.problems) < report.error_count + report.warning_count + report.info_count;
    json["details"] = nlohmann::ordered_json::parse(report.details.empty() ? "{}" : report.details);
    return json.dump();
}

void ParserRegistry::Register(std::unique_ptr<Parser> parser) {
    const Format format = parser->format();
    parsers_[format] = std::move(parser);
}

const Parser* ParserRegistry::Find(Format format) const {
    const auto it = parsers_.find(format);
    return it == parsers_.end() ? nullptr : it->second.get();
}

std::vector<Format> ParserRegistry::Formats() const {
    std::vector<Format> formats;
    for (const auto& [format, parser] : parsers_) formats.push_back(format);
    return formats;
}

Format DetectFormat(std::string_view head) {
    if (head.starts_with("PK\x03\x04")) return Format::kXlsx;
    if (head.starts_with("\xD0\xCF\x11\xE0")) return Format::kXls;
    // Text formats: skip a byte-order mark and leading whitespace. UTF-16 text is looked at through its low bytes.
    std::string narrowed;
    if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF")) {
        const size_t first = head.starts_with("\xFF\xFE") ? 2 : 3;
        for (size_t i = first; i < head.size(); i += 2) narrowed.push_back(head[i]);
        head = narrowed;
    } else if (head.starts_with("\xEF\xBB\xBF")) {
        head.remove_prefix(3);
    }
    const size_t start = head.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return Format::kCsv;
    switch (head[start]) {
        case '#':
            return Format::kSie;
        case '<':
            return Format::kXml;
        case '[':
        case '{':
            return Format::kJson;
        default:
            return Format::kCsv;
    }
}

std::optional<Format> DetectFileFormat(const std::filesystem::path& path) {
    const std::optional<std::string> head = ReadHead(path);
    if (!head) return std::nullopt;
    return DetectFormat(*head);
}

Error FileError(const ParseOptions& options, std::string code, std::string message, std::optional<int64_t> line,
                std::string column) {
    Error error = InvalidInput(std::move(code), std::move(message));
    error.file = options.file_name;
    error.line = line;
    error.column = std::move(column);
    return error;
}

ParseReport ParseFile(const ParserRegistry& registry, const std::filesystem::path& path, const ParseOptions& options,
                      const BatchSink& sink, const ByteProgress& progress) {
    ParseReport report;
    const std::optional<std::string> read = ReadHead(path);
    if (!read) {
        report.error = FileError(options, "unreadable_file", fmt::format("Cannot open the file '{}'.", path.string()));
        return report;
    }
    const std::string& head = *read;
    if (head.empty()) {
        report.error = FileError(options, "empty_file", "The file is empty; upload a file with transactions in it.");
        return report;
    }

    const Format format = options.format.value_or(DetectFormat(head));
    report.format = format;
    report.format_detected = !options.format.has_value();
    const Parser* parser = registry.Find(format);
    if (parser == nullptr) {
        report.error = BadRequest("unsupported_format",
                                  fmt::format("Reading {} files is not supported by this build.", FormatName(format)));
        return report;
    }
    ParseReport parsed = parser->Parse(path, options, sink, progress);
    parsed.format = format;
    parsed.format_detected = report.format_detected;
    return parsed;
}

}  // namespace granska::ingest
