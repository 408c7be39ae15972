#include "detect/rules/duplicates.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "detect/detail/format.h"
#include "detect/rules/detail_rules2.h"

namespace granska::detect {

Expected<DuplicatesParams> DuplicatesParams::FromJson(const nlohmann::json& json, std::string_view path) {
    DuplicatesParams params;
    ParamReader reader(json, path);
    reader.Read("window_days", params.window_days);
    reader.Read("min_similarity", params.min_similarity);
    if (params.window_days < 0 || params.window_days > 3660)
        reader.Fail("window_days", "'window_days' must be between 0 and 3660.");
    if (!(params.min_similarity > 0 && params.min_similarity <= 1))
        reader.Fail("min_similarity", "'min_similarity' must be in (0, 1].");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo Duplicates::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "The same amount on the same account for the same party (counterparty or text) again within a "
            "few days: the later copy scores, a whole repeated voucher scores on every line; regularly "
            "recurring postings (monthly rent) score low.",
        .params =
            {
                {"window_days", "integer", "30", "the copy is at most this many days after the first"},
                {"min_similarity", "number", "0.8",
                 "word overlap (Jaccard) of the texts, digits masked, that counts as similar text"},
            },
        .create = FactoryOf<Duplicates, DuplicatesParams>(),
    };
}

namespace {

constexpr size_t kMaxCandidates = 64;
constexpr double kReferenceLevel = 0.9;  // the same text with a reference number
constexpr double kGenericLevel = 0.4;    // the same text without one ("Kontantförsäljning")
constexpr double kNearLevel = 0.5;       // similar text, or the same counterparty
constexpr double kSameDayBonus = 0.1;    // added on the same date
constexpr size_t kReferenceDigits = 3;   // a run of this many digits is a reference number (invoice, OCR)
constexpr double kRecurringFactor = 0.2;
constexpr int32_t kPeriodSlackDays = 3;
constexpr int32_t kMinPeriodDays = 5;  // copies closer together than this are no schedule
constexpr int32_t kMonthMinDays = 27;
constexpr int32_t kMonthMaxDays = 33;

enum class TextMatch { kNone, kCounterparty, kSimilar, kSame };

// A line's text, normalised: lower case (ASCII and Latin-1 letters such as Å Ä Ö), single spaces, trimmed.
// masked_words: its words with every run of digits replaced by '#', sorted and unique.
struct NormalText {
    std::string text;
    bool has_reference = false;
    std::vector<std::string> masked_words;
};

NormalText Normalise(std::string_view raw) {
    NormalText out;
    std::string masked;
    bool space = false;
    size_t digit_run = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
        auto c = static_cast<unsigned char>(raw[i]);
        if (c < '0' || c > '9') digit_run = 0;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !out.text.empty();
            continue;
        }
        if (space) {
            out.text.push_back(' ');
            masked.push_back(' ');
            space = false;
        }
        if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
        if (c == 0xC3 && i + 1 < raw.size()) {  // UTF-8 À..Þ (except ×) → à..þ
            auto next = static_cast<unsigned char>(raw[i + 1]);
            if (next >= 0x80 && next <= 0x9E && next != 0x97) next = static_cast<unsigned char>(next + 0x20);
            out.text.push_back(static_cast<char>(c));
            out.text.push_back(static_cast<char>(next));
            masked.push_back(static_cast<char>(c));
            masked.push_back(static_cast<char>(next));
            ++i;
            continue;
        }
        out.text.push_back(static_cast<char>(c));
        if (c >= '0' && c <= '9') {
            if (masked.empty() || masked.back() != '#') masked.push_back('#');
            if (++digit_run >= kReferenceDigits) out.has_reference = true;
        } else {
            masked.push_back(static_cast<char>(c));
        }
    }
    for (size_t start = 0; start < masked.size();) {
        const size_t end = std::min(masked.find(' ', start), masked.size());
        out.masked_words.emplace_back(masked, start, end - start);
        start = end + 1;
    }
    std::sort(out.masked_words.begin(), out.masked_words.end());
    out.masked_words.erase(std::unique(out.masked_words.begin(), out.masked_words.end()), out.masked_words.end());
    return out;
}

double Jaccard(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a.empty() && b.empty()) return 1.0;
    size_t common = 0;
    for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
        if (a[i] == b[j]) {
            ++common, ++i, ++j;
        } else if (a[i] < b[j]) {
            ++i;
        } else {
            ++j;
        }
    }
    return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

// The best earlier line a line repeats.
struct Match {
    int32_t earlier = -1;  // frame row, -1 = none
    int32_t days = 0;
    TextMatch text = TextMatch::kNone;
    bool reference = false;    // the same text, with a reference number
    int32_t amount_count = 0;  // lines with this account and amount in the upload
    double similarity = 0.0;
    double raw_score = 0.0;  // before the recurring damping
};

}  // namespace

Expected<AlgorithmOutput> Duplicates::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;

    // Rows with an amount, by (account, amount, date, file order): a match's candidates are the rows just before it.
    std::vector<int32_t> order;
    order.reserve(rows);
    for (size_t i = 0; i < rows; ++i) {
        if (frame.amount_minor[i] == 0) continue;
        order.push_back(static_cast<int32_t>(i));
        output.confidence[i] = 1.0;
    }
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        const auto x = static_cast<size_t>(a), y = static_cast<size_t>(b);
        return std::tie(frame.account.codes[x], frame.amount_minor[x], frame.date_days[x], a) <
               std::tie(frame.account.codes[y], frame.amount_minor[y], frame.date_days[y], b);
    });

    const double window = params_.window_days;
    std::vector<Match> matches(rows);
    std::vector<NormalText> texts;  // of the current group, by position in it
    size_t groups = 0;
    for (size_t begin = 0; begin < order.size();) {
        if (groups++ % 4096 == 0) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            context.progress(0.8 * static_cast<double>(begin) / static_cast<double>(order.size()));
        }
        const auto first = static_cast<size_t>(order[begin]);
        size_t end = begin + 1;
        while (end < order.size() &&
               frame.account.codes[static_cast<size_t>(order[end])] == frame.account.codes[first] &&
               frame.amount_minor[static_cast<size_t>(order[end])] == frame.amount_minor[first])
            ++end;
        if (end - begin > 1) {
            // An amount that recurs k times on the account is likelier a price or a fee than a copy: 2 / k.
            const double commonness = 2.0 / static_cast<double>(end - begin);
            texts.clear();
            for (size_t p = begin; p < end; ++p) texts.push_back(Normalise(frame.text[static_cast<size_t>(order[p])]));
            for (size_t p = begin + 1; p < end; ++p) {
                const auto j = static_cast<size_t>(order[p]);
                Match& best = matches[j];
                for (size_t q = p; q-- > begin && p - q <= kMaxCandidates;) {
                    const auto i = static_cast<size_t>(order[q]);
                    const int32_t days = frame.date_days[j] - frame.date_days[i];
                    if (days > params_.window_days) break;
                    if (frame.voucher.codes[i] == frame.voucher.codes[j] && frame.HasVoucher(i)) continue;
                    const std::string& party_i =
                        frame.counterparty.values[static_cast<size_t>(frame.counterparty.codes[i])];
                    const std::string& party_j =
                        frame.counterparty.values[static_cast<size_t>(frame.counterparty.codes[j])];
                    const bool both_parties = !party_i.empty() && !party_j.empty();
                    if (both_parties && party_i != party_j) continue;
                    const NormalText& a = texts[q - begin];
                    const NormalText& b = texts[p - begin];
                    TextMatch text = TextMatch::kNone;
                    double similarity = 1.0;
                    if (a.text == b.text) {
                        text = TextMatch::kSame;
                    } else if (similarity = Jaccard(a.masked_words, b.masked_words);
                               similarity >= params_.min_similarity) {
                        text = TextMatch::kSimilar;
                    } else if (both_parties) {
                        text = TextMatch::kCounterparty;
                    } else {
                        continue;
                    }
                    const bool reference = text == TextMatch::kSame && a.has_reference;
                    const double level = (text != TextMatch::kSame ? kNearLevel
                                          : reference              ? kReferenceLevel
                                                                   : kGenericLevel) +
                                         (days == 0 ? kSameDayBonus : 0.0);
                    const double score = level * (window > 0 ? 1.0 - 0.5 * days / window : 1.0) * commonness;
                    if (score > best.raw_score)
                        best = Match{static_cast<int32_t>(i),           days,       text, reference,
                                     static_cast<int32_t>(end - begin), similarity, score};
                }
            }
        }
        begin = end;
    }

    // Recurring: the gap of a pair repeats the gap of the pair before it or after it in the same chain.
    std::vector<int32_t> next_days(rows, -1);  // days to the first later line that repeats this one
    for (size_t j = 0; j < rows; ++j) {
        const Match& m = matches[j];
        if (m.earlier >= 0 && next_days[static_cast<size_t>(m.earlier)] < 0)
            next_days[static_cast<size_t>(m.earlier)] = m.days;
    }
    auto recurring = [&](size_t j) {
        const Match& m = matches[j];
        const Match& previous = matches[static_cast<size_t>(m.earlier)];
        auto same_period = [&](int32_t other) {
            return other >= kMinPeriodDays && m.days >= kMinPeriodDays && std::abs(other - m.days) <= kPeriodSlackDays;
        };
        if (previous.earlier >= 0 && same_period(previous.days)) return true;
        if (same_period(next_days[j])) return true;
        return !m.reference && m.days >= kMonthMinDays && m.days <= kMonthMaxDays;
    };
    std::vector<uint8_t> is_recurring(rows, 0);
    for (size_t j = 0; j < rows; ++j) {
        if (matches[j].earlier < 0) continue;
        is_recurring[j] = recurring(j) ? 1 : 0;
        output.score[j] = matches[j].raw_score * (is_recurring[j] ? kRecurringFactor : 1.0);
    }

    // Whole vouchers: every line with an amount repeats a line of the same earlier voucher, of the same size.
    std::vector<int32_t> repeated_voucher(frame.voucher.values.size(), -1);
    const auto voucher_codes = static_cast<int32_t>(frame.voucher.values.size());
    for (int32_t v = 0; v < voucher_codes; ++v) {
        if (frame.voucher.values[static_cast<size_t>(v)].empty()) continue;
        int32_t earlier = -1;
        size_t lines = 0;
        double top = 0.0;
        bool whole = true;
        for (const int32_t row : frame.VoucherRows(v)) {
            const auto r = static_cast<size_t>(row);
            if (frame.amount_minor[r] == 0) continue;
            ++lines;
            if (matches[r].earlier < 0) {
                whole = false;
                break;
            }
            const int32_t w = frame.voucher.codes[static_cast<size_t>(matches[r].earlier)];
            if (earlier >= 0 && w != earlier) {
                whole = false;
                break;
            }
            earlier = w;
            top = std::max(top, output.score[r]);
        }
        if (!whole || earlier < 0 || frame.voucher.values[static_cast<size_t>(earlier)].empty()) continue;
        size_t earlier_lines = 0;
        for (const int32_t row : frame.VoucherRows(earlier))
            earlier_lines += frame.amount_minor[static_cast<size_t>(row)] != 0;
        if (earlier_lines != lines) continue;
        repeated_voucher[static_cast<size_t>(v)] = earlier;
        for (const int32_t row : frame.VoucherRows(v)) output.score[static_cast<size_t>(row)] = top;
    }

    // Reasons and flags.
    for (size_t j = 0; j < rows; ++j) {
        if (output.score[j] <= 0) continue;
        const Match& m = matches[j];
        const int32_t repeated = repeated_voucher[static_cast<size_t>(frame.voucher.codes[j])];
        nlohmann::json meta{{"window_days", params_.window_days}};
        std::string rule = "voucher";
        double value = static_cast<double>(frame.amount_minor[j]) / 100.0;
        if (m.earlier >= 0) {
            const auto i = static_cast<size_t>(m.earlier);
            const bool exact = m.text == TextMatch::kSame && m.days == 0;
            rule = is_recurring[j] ? "recurring" : exact ? "exact" : "near";
            const std::string_view how = m.text == TextMatch::kSame      ? "same_text"
                                         : m.text == TextMatch::kSimilar ? "similar_text"
                                                                         : "same_counterparty";
            meta.update({{"match_row", frame.row_number[i]},
                         {"match_id", frame.external_id[i]},
                         {"match_voucher", frame.voucher.values[static_cast<size_t>(frame.voucher.codes[i])]},
                         {"days", m.days},
                         {"match", how},
                         {"similarity", m.similarity},
                         {"reference", m.reference},
                         {"amount_count", m.amount_count},
                         {"recurring", is_recurring[j] != 0}});
            if (output.score[j] >= 0.3) {
                const std::string with =
                    m.text == TextMatch::kSame ? "the same text"
                    : m.text == TextMatch::kSimilar
                        ? "similar text"
                        : fmt::format("the same counterparty {}",
                                      frame.counterparty.values[static_cast<size_t>(frame.counterparty.codes[j])]);
                const std::string when = m.days == 0   ? "the same day"
                                         : m.days == 1 ? "1 day earlier"
                                                       : fmt::format("{} days earlier", m.days);
                const std::string voucher =
                    frame.HasVoucher(i) ? fmt::format(" (voucher {})", VoucherName(frame, i)) : std::string();
                output.reason[j] =
                    fmt::format("Same amount {} on account {} with {} as row {}{}, {}.", FormatAmount(value),
                                frame.account.values[static_cast<size_t>(frame.account.codes[j])], with,
                                FormatCount(frame.row_number[i]), voucher, when);
            }
        }
        if (repeated >= 0) {
            meta["repeats_voucher"] = frame.voucher.values[static_cast<size_t>(repeated)];
            if (output.score[j] >= 0.3) {
                if (!output.reason[j].empty()) output.reason[j] += ' ';
                output.reason[j] += fmt::format("The whole voucher {} repeats voucher {}.",
                                                frame.voucher.values[static_cast<size_t>(frame.voucher.codes[j])],
                                                frame.voucher.values[static_cast<size_t>(repeated)]);
            }
        }
        output.flags.push_back(RuleFlag{
            .row = j, .rule = rule, .triggered = rule != "recurring", .value = value, .metadata = meta.dump()});
    }
    context.progress(1.0);
    return output;
}

}  // namespace granska::detect
