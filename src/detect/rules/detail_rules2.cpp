#include "detect/rules/detail_rules2.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "detect/detail/format.h"

namespace granska::detect {

std::string VoucherName(const transform::TransactionFrame& frame, size_t row) {
    const std::string& voucher = frame.voucher.values[static_cast<size_t>(frame.voucher.codes[row])];
    return voucher.empty() ? fmt::format("row {}", frame.row_number[row]) : voucher;
}

VoucherCounts CountVouchers(const transform::TransactionFrame& frame, const transform::CategoryColumn& column) {
    VoucherCounts counts;
    counts.per_code.assign(column.values.size(), 0);
    std::vector<int32_t> last_voucher(column.values.size(), -1);  // dedups a value within one voucher
    const auto voucher_codes = static_cast<int32_t>(frame.voucher.values.size());
    for (int32_t v = 0; v < voucher_codes; ++v) {
        const bool real = !frame.voucher.values[static_cast<size_t>(v)].empty();
        for (const int32_t row : frame.VoucherRows(v)) {
            const auto code = static_cast<size_t>(column.codes[static_cast<size_t>(row)]);
            if (!real) {
                ++counts.per_code[code];
                ++counts.vouchers;
            } else if (last_voucher[code] != v) {
                last_voucher[code] = v;
                ++counts.per_code[code];
            }
        }
        if (real) ++counts.vouchers;
    }
    return counts;
}

bool RarityRule::IsRare(int64_t count, int64_t total) const {
    return count >= 1 && count <= max_count && static_cast<double>(count) <= max_share * static_cast<double>(total);
}

double RarityRule::Score(int64_t count, int64_t total) const {
    if (!IsRare(count, total)) return 0.0;
    return static_cast<double>(max_count + 1 - count) / static_cast<double>(max_count);
}

void ReadRarityRule(ParamReader& reader, RarityRule& rule) {
    reader.Read("max_count", rule.max_count);
    reader.Read("max_share", rule.max_share);
    if (rule.max_count < 1) reader.Fail("max_count", "'max_count' must be at least 1.");
    if (!(rule.max_share > 0 && rule.max_share <= 1)) reader.Fail("max_share", "'max_share' must be in (0, 1].");
}

double RarityRule::Confidence(int64_t total) const {
    const double n = static_cast<double>(total);
    return n / (n + 100.0 * max_count);
}

Expected<AlgorithmOutput> RunRareCategory(const transform::TransactionFrame& frame, const RunContext& context,
                                          const RareCategoryRun& run) {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;
    const transform::CategoryColumn& column = *run.column;
    const VoucherCounts counts = CountVouchers(frame, column);
    const double confidence = run.rule.Confidence(counts.vouchers);
    auto metadata = [&](size_t code, int64_t count) {
        return nlohmann::json{{"value", column.values[code]},
                              {"vouchers", count},
                              {"total_vouchers", counts.vouchers},
                              {"max_count", run.rule.max_count},
                              {"max_share", run.rule.max_share}};
    };

    for (size_t i = 0; i < rows; ++i) {
        if (i % 65536 == 0) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            context.progress(0.8 * static_cast<double>(i) / static_cast<double>(rows));
        }
        const auto code = static_cast<size_t>(column.codes[i]);
        if (column.values[code].empty()) continue;  // nothing to judge: score 0, confidence 0
        output.confidence[i] = confidence;
        const int64_t count = counts.per_code[code];
        const double score = run.rule.Score(count, counts.vouchers);
        if (score <= 0) continue;
        output.score[i] = score;
        if (score >= 0.3) output.reason[i] = run.describe(column.values[code], count, counts.vouchers);
        output.flags.push_back(RuleFlag{.row = i,
                                        .rule = std::string(run.rule_name),
                                        .value = static_cast<double>(count),
                                        .metadata = metadata(code, count).dump()});
    }
    if (run.other_lines_weight <= 0) return output;

    // The voucher's other lines carry a share of its rarest line's score.
    const std::string voucher_rule = fmt::format("{}_voucher", run.rule_name);
    const auto voucher_codes = static_cast<int32_t>(frame.voucher.values.size());
    for (int32_t v = 0; v < voucher_codes; ++v) {
        if (frame.voucher.values[static_cast<size_t>(v)].empty()) continue;
        const auto members = frame.VoucherRows(v);
        size_t rarest = rows;
        for (const int32_t row : members) {
            const auto r = static_cast<size_t>(row);
            if (output.score[r] > 0 && (rarest == rows || output.score[r] > output.score[rarest])) rarest = r;
        }
        if (rarest == rows) continue;
        const auto code = static_cast<size_t>(column.codes[rarest]);
        const int64_t count = counts.per_code[code];
        const double score = run.other_lines_weight * output.score[rarest];
        for (const int32_t row : members) {
            const auto r = static_cast<size_t>(row);
            if (output.score[r] > 0 || column.values[static_cast<size_t>(column.codes[r])].empty()) continue;
            output.score[r] = score;
            if (score >= 0.3) {
                output.reason[r] = fmt::format("Voucher {} uses the rare {} {} (in {} of {} vouchers).",
                                               frame.voucher.values[static_cast<size_t>(v)], run.noun,
                                               column.values[code], FormatCount(count), FormatCount(counts.vouchers));
            }
            nlohmann::json meta = metadata(code, count);
            meta["rare_row"] = frame.row_number[rarest];
            output.flags.push_back(
                RuleFlag{.row = r, .rule = voucher_rule, .value = static_cast<double>(count), .metadata = meta.dump()});
        }
    }
    return output;
}

}  // namespace granska::detect
