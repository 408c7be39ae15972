#include "detect/rules/numbering_gaps.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>

#include "detect/detail/stats.h"
#include "detect/rules/detail_rules2.h"

namespace granska::detect {

Expected<NumberingGapsParams> NumberingGapsParams::FromJson(const nlohmann::json& json, std::string_view path) {
    NumberingGapsParams params;
    ParamReader reader(json, path);
    reader.Read("gap_score", params.gap_score);
    reader.Read("tolerance_days", params.tolerance_days);
    reader.Read("neighbours", params.neighbours);
    if (!(params.gap_score > 0 && params.gap_score <= 1)) reader.Fail("gap_score", "'gap_score' must be in (0, 1].");
    if (params.tolerance_days < 0) reader.Fail("tolerance_days", "'tolerance_days' must be at least 0.");
    if (params.neighbours < 1 || params.neighbours > 50)
        reader.Fail("neighbours", "'neighbours' must be between 1 and 50.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo NumberingGaps::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Voucher numbering per series: missing numbers (gaps) and vouchers whose date does not fit "
            "between the dates of the vouchers numbered around them (out of order).",
        .params =
            {
                {"gap_score", "number", "0.3", "score of the vouchers next to a gap"},
                {"tolerance_days", "integer", "7",
                 "days a voucher's date may lie outside its neighbours' dates before it is out of order"},
                {"neighbours", "integer", "3", "vouchers on each side whose median date frames the expected date"},
            },
        .create = FactoryOf<NumberingGaps, NumberingGapsParams>(),
    };
}

namespace {

constexpr size_t kListedMissing = 20;

// One numbered voucher of one fiscal year.
struct Entry {
    int32_t series = 0;  // index into the series names
    int16_t fiscal_year = 0;
    int64_t number = 0;
    int32_t date = 0;     // earliest date of its rows
    int32_t voucher = 0;  // voucher code
};

std::optional<int64_t> ParseNumber(std::string_view text) {
    if (text.empty() || text.size() > 15) return std::nullopt;
    int64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || end != text.data() + text.size() || number < 0) return std::nullopt;
    return number;
}

std::string Numbered(std::string_view series, int64_t number) {
    return series.empty() ? fmt::format("{}", number) : fmt::format("{} {}", series, number);
}

int32_t MedianDate(std::span<const Entry> entries, std::vector<double>& scratch) {
    scratch.clear();
    for (const Entry& entry : entries) scratch.push_back(entry.date);
    return static_cast<int32_t>(std::lround(Median(scratch)));
}

}  // namespace

Expected<AlgorithmOutput> NumberingGaps::Run(const transform::TransactionFrame& frame,
                                             const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;

    // Numbered vouchers, one entry per (voucher, fiscal year): numbering restarts every fiscal year.
    std::map<std::string, int32_t, std::less<>> series_index;
    std::vector<std::string> series_names;
    std::vector<Entry> entries;
    const auto voucher_codes = static_cast<int32_t>(frame.voucher.values.size());
    for (int32_t v = 0; v < voucher_codes; ++v) {
        const std::string& value = frame.voucher.values[static_cast<size_t>(v)];
        if (value.empty()) continue;
        const size_t space = value.rfind(' ');
        const std::string_view series =
            space == std::string::npos ? std::string_view() : std::string_view(value).substr(0, space);
        const auto number = ParseNumber(space == std::string::npos ? value : value.substr(space + 1));
        if (!number) continue;
        auto [it, added] = series_index.try_emplace(std::string(series), static_cast<int32_t>(series_names.size()));
        if (added) series_names.emplace_back(series);
        const size_t first = entries.size();
        for (const int32_t row : frame.VoucherRows(v)) {
            const auto r = static_cast<size_t>(row);
            auto same_year = std::find_if(entries.begin() + static_cast<std::ptrdiff_t>(first), entries.end(),
                                          [&](const Entry& e) { return e.fiscal_year == frame.fiscal_year[r]; });
            if (same_year == entries.end()) {
                entries.push_back(Entry{it->second, frame.fiscal_year[r], *number, frame.date_days[r], v});
            } else {
                same_year->date = std::min(same_year->date, frame.date_days[r]);
            }
        }
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.series, a.fiscal_year, a.number, a.date) <
               std::tie(b.series, b.fiscal_year, b.number, b.date);
    });
    const bool many_years = frame.fiscal_years.size() > 1;

    // Applies a finding to the voucher's rows of the entry's fiscal year.
    auto apply = [&](const Entry& entry, double score, double confidence, const std::string& reason,
                     std::string_view rule, double value, const std::string& metadata) {
        for (const int32_t row : frame.VoucherRows(entry.voucher)) {
            const auto r = static_cast<size_t>(row);
            if (frame.fiscal_year[r] != entry.fiscal_year) continue;
            output.confidence[r] = std::max(output.confidence[r], confidence);
            if (score > output.score[r]) {
                output.score[r] = score;
                output.reason[r] = score >= 0.3 ? reason : std::string();
            }
            output.flags.push_back(RuleFlag{.row = r, .rule = std::string(rule), .value = value, .metadata = metadata});
        }
    };

    const auto tolerance = static_cast<double>(params_.tolerance_days);
    const auto neighbours = static_cast<size_t>(params_.neighbours);
    std::vector<double> scratch;
    for (size_t begin = 0; begin < entries.size();) {
        if (Cancelled(context)) return Unexpected(Internal("cancelled"));
        size_t end = begin;
        while (end < entries.size() && entries[end].series == entries[begin].series &&
               entries[end].fiscal_year == entries[begin].fiscal_year)
            ++end;
        const std::span<const Entry> run(entries.data() + begin, end - begin);
        const std::string& series = series_names[static_cast<size_t>(run[0].series)];
        const std::string in_series =
            (series.empty() ? std::string() : fmt::format(" in series {}", series)) +
            (many_years ? fmt::format(" of fiscal year {}", run[0].fiscal_year) : std::string());
        const double confidence = static_cast<double>(run.size()) / (static_cast<double>(run.size()) + 20.0);
        auto name = [&](const Entry& e) { return frame.voucher.values[static_cast<size_t>(e.voucher)]; };

        for (size_t k = 0; k < run.size(); ++k) {
            const Entry& entry = run[k];
            // Gap between this voucher and the next.
            if (k + 1 < run.size() && run[k + 1].number - entry.number > 1) {
                const Entry& next = run[k + 1];
                const int64_t first = entry.number + 1;
                const int64_t last = next.number - 1;
                const int64_t missing = last - first + 1;
                nlohmann::json listed = nlohmann::json::array();
                for (int64_t n = first; n <= last && listed.size() < kListedMissing; ++n) listed.push_back(n);
                nlohmann::json meta{{"series", series},         {"fiscal_year", entry.fiscal_year},
                                    {"before", name(entry)},    {"after", name(next)},
                                    {"missing_first", first},   {"missing_last", last},
                                    {"missing_count", missing}, {"missing", listed}};
                const std::string reason =
                    missing == 1 ? fmt::format("Voucher number {} is missing{} (between {} and {}).",
                                               Numbered(series, first), in_series, name(entry), name(next))
                                 : fmt::format("Voucher numbers {}–{} are missing{} (between {} and {}).",
                                               Numbered(series, first), Numbered(series, last), in_series, name(entry),
                                               name(next));
                meta["side"] = "before";
                apply(entry, params_.gap_score, confidence, reason, "gap", static_cast<double>(missing), meta.dump());
                meta["side"] = "after";
                apply(next, params_.gap_score, confidence, reason, "gap", static_cast<double>(missing), meta.dump());
            }
            // Out of order: the date against the medians of the neighbours' dates.
            if (run.size() < 3) continue;
            const size_t before_from = k >= neighbours ? k - neighbours : 0;
            const size_t after_to = std::min(run.size(), k + 1 + neighbours);
            const auto before = run.subspan(before_from, k - before_from);
            const auto after = run.subspan(k + 1, after_to - (k + 1));
            // The first voucher of a series may be dated any time before the next ones, the last any time after.
            int32_t lo = before.empty() ? std::numeric_limits<int32_t>::min() : MedianDate(before, scratch);
            int32_t hi = after.empty() ? std::numeric_limits<int32_t>::max() : MedianDate(after, scratch);
            if (lo > hi) std::swap(lo, hi);
            const double deviation = std::max(
                {0.0, static_cast<double>(lo) - entry.date, static_cast<double>(entry.date) - static_cast<double>(hi)});
            if (deviation <= tolerance) continue;
            std::string neighbours_text;
            nlohmann::json meta{
                {"series", series},
                {"fiscal_year", entry.fiscal_year},
                {"date", Date{entry.date}.ToString()},
                {"expected_from", before.empty() ? nlohmann::json() : nlohmann::json(Date{lo}.ToString())},
                {"expected_to", after.empty() ? nlohmann::json() : nlohmann::json(Date{hi}.ToString())},
                {"deviation_days", deviation},
                {"tolerance_days", params_.tolerance_days}};
            if (k > 0) {
                neighbours_text = fmt::format("{} is dated {}", name(run[k - 1]), Date{run[k - 1].date}.ToString());
                meta["previous"] = name(run[k - 1]);
            }
            if (k + 1 < run.size()) {
                neighbours_text += fmt::format("{}{} {}", k > 0 ? " and " : "", name(run[k + 1]),
                                               (k > 0 ? "" : "is dated ") + Date{run[k + 1].date}.ToString());
                meta["next"] = name(run[k + 1]);
            }
            const std::string reason = fmt::format("Voucher {} is dated {}, but {}.", name(entry),
                                                   Date{entry.date}.ToString(), neighbours_text);
            apply(entry, ExcessScore(deviation, std::max(tolerance, 1.0)), confidence, reason, "out_of_order",
                  deviation, meta.dump());
        }
        context.progress(static_cast<double>(end) / static_cast<double>(entries.size()));
        begin = end;
    }
    return output;
}

}  // namespace granska::detect
