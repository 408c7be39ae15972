#include "detect/ml/detail/labelled_matrix.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <numeric>

namespace granska::detect {
namespace {

std::vector<std::string_view> SplitComma(std::string_view line) {
    std::vector<std::string_view> fields;
    size_t start = 0;
    while (true) {
        const size_t comma = line.find(',', start);
        fields.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return fields;
}

}  // namespace

Expected<LabelledMatrix> ReadLabelledCsv(const std::string& path, std::string_view label_column) {
    std::ifstream in(path);
    if (!in) return Unexpected(NotFound("file", path));
    auto fail = [&](int64_t line, std::string message) {
        Error error = InvalidInput("bad_number", std::move(message));
        error.file = path;
        error.line = line;
        return Unexpected(std::move(error));
    };
    std::string line;
    if (!std::getline(in, line)) return fail(1, "The file is empty: a header line is expected.");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::vector<std::string_view> header = SplitComma(line);
    const auto label_at = std::find(header.begin(), header.end(), label_column);
    if (label_at == header.end()) return fail(1, fmt::format("The header has no \"{}\" column.", label_column));
    const auto label_index = static_cast<size_t>(label_at - header.begin());
    LabelledMatrix out;
    std::vector<std::vector<float>> columns(header.size() - 1);
    for (size_t c = 0; c < header.size(); ++c) {
        if (c != label_index) out.x.names.emplace_back(header[c]);
    }
    int64_t number = 1;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const std::vector<std::string_view> fields = SplitComma(line);
        if (fields.size() != header.size()) {
            return fail(number, fmt::format("{} fields where the header has {}.", fields.size(), header.size()));
        }
        for (size_t c = 0, k = 0; c < fields.size(); ++c) {
            double value = 0.0;
            const auto [end, error] = std::from_chars(fields[c].data(), fields[c].data() + fields[c].size(), value);
            if (error != std::errc() || end != fields[c].data() + fields[c].size()) {
                return fail(number, fmt::format("Column \"{}\" has \"{}\", not a number.", header[c], fields[c]));
            }
            if (c == label_index) {
                out.label.push_back(value != 0.0 ? 1 : 0);
            } else {
                columns[k++].push_back(static_cast<float>(value));
            }
        }
    }
    out.x.rows = out.label.size();
    out.x.cols = columns.size();
    for (const auto& column : columns) out.x.values.insert(out.x.values.end(), column.begin(), column.end());
    return out;
}

double RocAuc(const std::vector<double>& scores, const std::vector<uint8_t>& labels) {
    // Mann–Whitney U: the mean rank of the positives, ties sharing their average rank.
    std::vector<size_t> order(scores.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    double positive_rank_sum = 0.0;
    double positives = 0.0;
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
        const double rank = (static_cast<double>(i) + static_cast<double>(j) + 1.0) / 2.0;  // 1-based average
        for (size_t k = i; k < j; ++k) {
            if (labels[order[k]] != 0) {
                positive_rank_sum += rank;
                positives += 1.0;
            }
        }
        i = j;
    }
    const double negatives = static_cast<double>(scores.size()) - positives;
    if (positives == 0.0 || negatives == 0.0) return std::numeric_limits<double>::quiet_NaN();
    return (positive_rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives);
}

}  // namespace granska::detect
