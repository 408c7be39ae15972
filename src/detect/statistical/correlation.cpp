#include "detect/statistical/correlation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/date.h"
#include "detect/detail/algorithm_support.h"
#include "detect/detail/format.h"
#include "detect/detail/params.h"
#include "detect/detail/stats.h"

namespace granska::detect {
namespace {

constexpr double kReasonFloor = 0.3;    // rows scoring less get no reason
constexpr size_t kCancelStride = 4096;  // vouchers between cancellation checks

// One account of a voucher with its net amount there.
struct VoucherAccount {
    int32_t account = 0;
    int64_t net_minor = 0;
};

// Every numbered voucher's accounts (net per account, zero nets dropped), largest |net| first, at most `cap`:
// the accounts of voucher slot s are entries[start[s] .. start[s + 1]).
struct VoucherAccounts {
    std::vector<int32_t> voucher;  // voucher code of each slot, in code order
    std::vector<size_t> start{0};
    std::vector<VoucherAccount> entries;
    std::vector<uint8_t> truncated;  // the voucher had more accounts than were kept

    size_t size() const { return voucher.size(); }
    std::span<const VoucherAccount> Of(size_t slot) const {
        return std::span<const VoucherAccount>(entries).subspan(start[slot], start[slot + 1] - start[slot]);
    }
};

VoucherAccounts CollectVoucherAccounts(const transform::TransactionFrame& frame, size_t cap) {
    VoucherAccounts out;
    std::vector<VoucherAccount> scratch;
    for (size_t code = 0; code < frame.voucher.values.size(); ++code) {
        if (frame.voucher.values[code].empty()) continue;
        scratch.clear();
        for (const int32_t row : frame.VoucherRows(static_cast<int32_t>(code))) {
            const auto r = static_cast<size_t>(row);
            scratch.push_back({frame.account.codes[r], frame.amount_minor[r]});
        }
        std::sort(scratch.begin(), scratch.end(),
                  [](const VoucherAccount& a, const VoucherAccount& b) { return a.account < b.account; });
        size_t kept = 0;
        for (size_t i = 0; i < scratch.size();) {
            VoucherAccount merged{scratch[i].account, 0};
            for (; i < scratch.size() && scratch[i].account == merged.account; ++i)
                merged.net_minor += scratch[i].net_minor;
            if (merged.net_minor != 0) scratch[kept++] = merged;
        }
        scratch.resize(kept);
        std::sort(scratch.begin(), scratch.end(), [](const VoucherAccount& a, const VoucherAccount& b) {
            const int64_t size_a = std::abs(a.net_minor);
            const int64_t size_b = std::abs(b.net_minor);
            return size_a != size_b ? size_a > size_b : a.account < b.account;
        });
        out.truncated.push_back(scratch.size() > cap ? 1 : 0);
        if (scratch.size() > cap) scratch.resize(cap);
        out.voucher.push_back(static_cast<int32_t>(code));
        out.entries.insert(out.entries.end(), scratch.begin(), scratch.end());
        out.start.push_back(out.entries.size());
    }
    return out;
}

uint64_t PairKey(int32_t a, int32_t b) {
    const auto lo = static_cast<uint32_t>(std::min(a, b));
    const auto hi = static_cast<uint32_t>(std::max(a, b));
    return (uint64_t{lo} << 32) | hi;
}

// An account pair within vouchers of one shape (number of accounts).
struct PatternKey {
    uint64_t pair = 0;
    int32_t shape = 0;
    bool operator==(const PatternKey&) const = default;
};
struct PatternKeyHash {
    size_t operator()(const PatternKey& key) const {
        return std::hash<uint64_t>{}(key.pair * 0x9E3779B97F4A7C15ULL ^ static_cast<uint64_t>(key.shape));
    }
};
struct PatternCount {
    int32_t vouchers = 0;
    int32_t index = -1;  // among the learnt patterns; -1 = too few vouchers
};

// x rounded to 3 significant digits (x > 0).
double RoundSignificant3(double x) {
    const double scale = std::pow(10.0, std::floor(std::log10(x)) - 2.0);
    return std::round(x / scale) * scale;
}

std::string Percent(double ratio) { return fmt::format("{:.1f}%", ratio * 100.0); }

// Digits dropped, whitespace runs made one space, trimmed: "Faktura 123 Kontorsmöbler AB" → "Faktura Kontorsmöbler AB".
std::string TextKey(std::string_view text) {
    std::string key;
    bool space = false;
    for (const char ch : text) {
        if (ch >= '0' && ch <= '9') continue;
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            space = !key.empty();
            continue;
        }
        if (space) key.push_back(' ');
        space = false;
        key.push_back(ch);
    }
    return key;
}

class Scorer {
public:
    Scorer(const transform::TransactionFrame& frame, AlgorithmOutput& output) : frame_(frame), output_(output) {}

    // Gives row the finding when it beats what the row has.
    void Offer(size_t row, double score, double confidence, const std::string& reason) {
        if (score <= output_.score[row]) return;
        output_.score[row] = score;
        output_.confidence[row] = confidence;
        output_.reason[row] = score >= kReasonFloor ? reason : std::string();
    }
    // Offers the finding to every line of the voucher booked on the account.
    void OfferAccountLines(int32_t voucher, int32_t account, double score, double confidence,
                           const std::string& reason) {
        for (const int32_t row : frame_.VoucherRows(voucher)) {
            const auto r = static_cast<size_t>(row);
            if (frame_.account.codes[r] == account) Offer(r, score, confidence, reason);
        }
    }

private:
    const transform::TransactionFrame& frame_;
    AlgorithmOutput& output_;
};

}  // namespace

Expected<CorrelationParams> CorrelationParams::FromJson(const nlohmann::json& json, std::string_view path) {
    CorrelationParams params;
    ParamReader reader(json, path);
    reader.Read("pairs", params.pairs);
    reader.Read("rare_pair_count", params.rare_pair_count);
    reader.Read("min_account_vouchers", params.min_account_vouchers);
    reader.Read("pair_surprise", params.pair_surprise);
    reader.Read("max_voucher_lines", params.max_voucher_lines);
    reader.Read("ratios", params.ratios);
    reader.Read("min_pair_vouchers", params.min_pair_vouchers);
    reader.Read("mode_coverage", params.mode_coverage);
    reader.Read("max_modes", params.max_modes);
    reader.Read("ratio_tolerance", params.ratio_tolerance);
    reader.Read("ratio_min_difference", params.ratio_min_difference);
    reader.Read("splits", params.splits);
    reader.Read("split_min_count", params.split_min_count);
    reader.Read("split_window_days", params.split_window_days);
    reader.Read("split_threshold", params.split_threshold);
    reader.Read("split_margin", params.split_margin);
    if (!params.pairs && !params.ratios && !params.splits)
        reader.Fail("pairs", "At least one of 'pairs', 'ratios' and 'splits' must be true.");
    if (params.rare_pair_count < 1) reader.Fail("rare_pair_count", "'rare_pair_count' must be at least 1.");
    if (params.min_account_vouchers < 1)
        reader.Fail("min_account_vouchers", "'min_account_vouchers' must be at least 1.");
    if (!(params.pair_surprise > 1.0)) reader.Fail("pair_surprise", "'pair_surprise' must be greater than 1.");
    if (params.max_voucher_lines < 2 || params.max_voucher_lines > 1000)
        reader.Fail("max_voucher_lines", "'max_voucher_lines' must be between 2 and 1000.");
    if (params.min_pair_vouchers < 2) reader.Fail("min_pair_vouchers", "'min_pair_vouchers' must be at least 2.");
    if (!(params.mode_coverage > 0.0 && params.mode_coverage <= 1.0))
        reader.Fail("mode_coverage", "'mode_coverage' must be greater than 0 and at most 1.");
    if (params.max_modes < 1) reader.Fail("max_modes", "'max_modes' must be at least 1.");
    if (!(params.ratio_tolerance > 0.0 && params.ratio_tolerance < 1.0))
        reader.Fail("ratio_tolerance", "'ratio_tolerance' must be greater than 0 and less than 1.");
    if (!(params.ratio_min_difference >= 0.0))
        reader.Fail("ratio_min_difference", "'ratio_min_difference' must be 0 or more.");
    if (params.split_min_count < 2) reader.Fail("split_min_count", "'split_min_count' must be at least 2.");
    if (params.split_window_days < 1) reader.Fail("split_window_days", "'split_window_days' must be at least 1.");
    if (!(params.split_threshold > 0.0 && params.split_threshold < 1e13))
        reader.Fail("split_threshold", "'split_threshold' must be greater than 0 and less than 1e13.");
    if (!(params.split_margin > 0.0 && params.split_margin < 1.0))
        reader.Fail("split_margin", "'split_margin' must be greater than 0 and less than 1.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo Correlation::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Relations between transactions: account pairs that almost never meet in a voucher though both "
            "accounts are common, amount ratios between related lines (such as VAT to cost) that break the "
            "usual pattern, and series of payments to one counterparty each just under an approval limit.",
        .params =
            {
                {"pairs", "boolean", "true", "score account pairs that rarely share a voucher"},
                {"rare_pair_count", "integer", "10", "a pair in at most this many vouchers is a candidate"},
                {"min_account_vouchers", "integer", "20", "both accounts must be in at least this many vouchers"},
                {"pair_surprise", "number", "3.0", "expected / observed co-occurrence (exp of −PMI) that scores 0.5"},
                {"max_voucher_lines", "integer", "20", "accounts per voucher paired (the largest by amount)"},
                {"ratios", "boolean", "true", "score amount ratios between accounts that usually go together"},
                {"min_pair_vouchers", "integer", "30", "vouchers with the pair needed to learn its ratio"},
                {"mode_coverage", "number", "0.8", "share of those vouchers the usual ratios must cover"},
                {"max_modes", "integer", "4", "at most this many usual ratios (e.g. VAT 25 %, 12 %, 6 %)"},
                {"ratio_tolerance", "number", "0.02", "relative distance from a usual ratio that is still normal"},
                {"ratio_min_difference", "number", "1.0", "and the amount must be at least this far off"},
                {"splits", "boolean", "true", "score series of amounts just under an approval limit"},
                {"split_min_count", "integer", "3", "amounts to one counterparty that make a series"},
                {"split_window_days", "integer", "7", "calendar days a series must fall within"},
                {"split_threshold", "number", "50000.0", "the approval limit"},
                {"split_margin", "number", "0.1", "\"just under\" = within this share below the limit"},
            },
        .create = FactoryOf<Correlation, CorrelationParams>(),
    };
}

Expected<AlgorithmOutput> Correlation::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;
    Scorer scorer(frame, output);

    const VoucherAccounts vouchers = CollectVoucherAccounts(frame, static_cast<size_t>(params_.max_voucher_lines));
    const auto voucher_count = static_cast<int64_t>(vouchers.size());
    const double base_confidence =
        static_cast<double>(voucher_count) / static_cast<double>(voucher_count + params_.min_account_vouchers);
    std::fill(output.confidence.begin(), output.confidence.end(), base_confidence);

    // 1. Account pairs: debit accounts against credit accounts of each voucher.
    if (params_.pairs && voucher_count > 0) {
        std::vector<int32_t> account_vouchers(frame.account.values.size(), 0);
        std::unordered_map<uint64_t, int32_t> pair_vouchers;
        for (size_t s = 0; s < vouchers.size(); ++s) {
            const auto accounts = vouchers.Of(s);
            for (size_t i = 0; i < accounts.size(); ++i) {
                ++account_vouchers[static_cast<size_t>(accounts[i].account)];
                for (size_t j = i + 1; j < accounts.size(); ++j)
                    if ((accounts[i].net_minor > 0) != (accounts[j].net_minor > 0))
                        ++pair_vouchers[PairKey(accounts[i].account, accounts[j].account)];
            }
        }
        if (Cancelled(context)) return Unexpected(Internal("cancelled"));
        const double n = static_cast<double>(voucher_count);
        std::vector<double> best;
        std::vector<size_t> partner;
        for (size_t s = 0; s < vouchers.size(); ++s) {
            if (s % kCancelStride == 0 && Cancelled(context)) return Unexpected(Internal("cancelled"));
            const auto accounts = vouchers.Of(s);
            best.assign(accounts.size(), 0.0);
            partner.assign(accounts.size(), 0);
            for (size_t i = 0; i < accounts.size(); ++i) {
                for (size_t j = i + 1; j < accounts.size(); ++j) {
                    if ((accounts[i].net_minor > 0) == (accounts[j].net_minor > 0)) continue;
                    const int32_t together = pair_vouchers.at(PairKey(accounts[i].account, accounts[j].account));
                    const int32_t n_i = account_vouchers[static_cast<size_t>(accounts[i].account)];
                    const int32_t n_j = account_vouchers[static_cast<size_t>(accounts[j].account)];
                    if (together > params_.rare_pair_count || std::min(n_i, n_j) < params_.min_account_vouchers)
                        continue;
                    const double expected = static_cast<double>(n_i) * static_cast<double>(n_j) / n;
                    const double surprise = expected / static_cast<double>(together);
                    if (surprise <= 1.0) continue;
                    const double score = ExcessScore(surprise, params_.pair_surprise);
                    if (score > best[i]) best[i] = score, partner[i] = j;
                    if (score > best[j]) best[j] = score, partner[j] = i;
                }
            }
            for (size_t i = 0; i < accounts.size(); ++i) {
                if (best[i] <= 0.0) continue;
                // Debit account first: "salary 7010 against payables 2440".
                const VoucherAccount& debit = accounts[i].net_minor > 0 ? accounts[i] : accounts[partner[i]];
                const VoucherAccount& credit = accounts[i].net_minor > 0 ? accounts[partner[i]] : accounts[i];
                const int32_t n_debit = account_vouchers[static_cast<size_t>(debit.account)];
                const int32_t n_credit = account_vouchers[static_cast<size_t>(credit.account)];
                const int32_t together = pair_vouchers.at(PairKey(debit.account, credit.account));
                const double expected = static_cast<double>(n_debit) * static_cast<double>(n_credit) / n;
                const int32_t evidence = std::min(n_debit, n_credit);
                const double confidence =
                    static_cast<double>(evidence) / static_cast<double>(evidence + params_.min_account_vouchers);
                std::string reason;
                if (best[i] >= kReasonFloor) {
                    const std::string_view debit_name = frame.account.values[static_cast<size_t>(debit.account)];
                    const std::string_view credit_name = frame.account.values[static_cast<size_t>(credit.account)];
                    reason = fmt::format(
                        "Account pair {}/{} appears in {} of {} vouchers, though {} is in {} and {} in {} "
                        "(about {} expected if they were unrelated).",
                        debit_name, credit_name, FormatCount(together), FormatCount(voucher_count), debit_name,
                        FormatCount(n_debit), credit_name, FormatCount(n_credit),
                        expected < 10 ? fmt::format("{:.1f}", expected) : FormatCount(std::llround(expected)));
                }
                scorer.OfferAccountLines(vouchers.voucher[s], accounts[i].account, best[i], confidence, reason);
            }
        }
    }
    context.progress(0.4);

    // 2. Ratios between accounts that usually go together, per voucher shape.
    if (params_.ratios && voucher_count > 0) {
        std::unordered_map<PatternKey, PatternCount, PatternKeyHash> patterns;
        const auto for_each_pair = [&](auto&& visit) {
            for (size_t s = 0; s < vouchers.size(); ++s) {
                const auto accounts = vouchers.Of(s);
                if (vouchers.truncated[s] != 0 || accounts.size() < 2) continue;
                for (size_t i = 0; i < accounts.size(); ++i)
                    for (size_t j = i + 1; j < accounts.size(); ++j)
                        visit(s, accounts, i, j,
                              PatternKey{PairKey(accounts[i].account, accounts[j].account),
                                         static_cast<int32_t>(accounts.size())});
            }
        };
        for_each_pair([&](size_t, auto, size_t, size_t, const PatternKey& key) { ++patterns[key].vouchers; });
        if (Cancelled(context)) return Unexpected(Internal("cancelled"));

        // Samples of learnt patterns; lo = the pair's account with the lower code, ratio = |net hi| / |net lo|.
        struct Sample {
            int32_t pattern;
            int32_t slot;
            uint16_t lo;
            uint16_t hi;
            double ratio;
        };
        std::vector<Sample> samples;
        int32_t learnt = 0;
        for_each_pair([&](size_t s, auto accounts, size_t i, size_t j, const PatternKey& key) {
            PatternCount& count = patterns.at(key);
            if (count.vouchers < params_.min_pair_vouchers) return;
            if (count.index < 0) count.index = learnt++;
            const bool i_lo = accounts[i].account < accounts[j].account;
            const auto lo = static_cast<uint16_t>(i_lo ? i : j);
            const auto hi = static_cast<uint16_t>(i_lo ? j : i);
            const double ratio = static_cast<double>(std::abs(accounts[hi].net_minor)) /
                                 static_cast<double>(std::abs(accounts[lo].net_minor));
            samples.push_back({count.index, static_cast<int32_t>(s), lo, hi, ratio});
        });
        std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) {
            return a.pattern != b.pattern ? a.pattern < b.pattern : a.slot < b.slot;
        });

        const double tolerance = std::log1p(params_.ratio_tolerance);
        struct Observation {
            double rounded;  // the ratio to 3 significant digits
            int64_t lo;
            int64_t hi;
            auto operator<=>(const Observation&) const = default;
        };
        std::vector<Observation> distinct;
        std::vector<std::pair<double, int64_t>> histogram;  // (rounded ratio, vouchers)
        std::vector<double> modes;
        for (size_t begin = 0; begin < samples.size();) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            size_t end = begin;
            while (end < samples.size() && samples[end].pattern == samples[begin].pattern) ++end;
            const auto group = std::span<const Sample>(samples).subspan(begin, end - begin);
            begin = end;

            // A voucher repeated with the same amounts (a monthly bill) is one observation, not many.
            distinct.clear();
            for (const Sample& sample : group) {
                const auto accounts = vouchers.Of(static_cast<size_t>(sample.slot));
                distinct.push_back({RoundSignificant3(sample.ratio), std::abs(accounts[sample.lo].net_minor),
                                    std::abs(accounts[sample.hi].net_minor)});
            }
            std::sort(distinct.begin(), distinct.end());
            distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
            const auto observations = std::ssize(distinct);
            if (observations < params_.min_pair_vouchers) continue;
            histogram.clear();
            for (const Observation& observation : distinct) {
                if (histogram.empty() || histogram.back().first != observation.rounded)
                    histogram.emplace_back(observation.rounded, 0);
                ++histogram.back().second;
            }
            std::sort(histogram.begin(), histogram.end(), [](const auto& a, const auto& b) {
                return a.second != b.second ? a.second > b.second : a.first < b.first;
            });
            modes.clear();
            int64_t covered = 0;
            const auto needed = static_cast<double>(observations) * params_.mode_coverage;
            for (const auto& [value, count] : histogram) {
                if (static_cast<double>(covered) >= needed || std::ssize(modes) >= params_.max_modes) break;
                modes.push_back(value);
                covered += count;
            }
            if (static_cast<double>(covered) < needed) continue;  // no stable ratio: nothing to compare with

            const auto pattern_vouchers = static_cast<int64_t>(group.size());
            const double confidence =
                static_cast<double>(observations) / static_cast<double>(observations + params_.min_pair_vouchers);
            const bool flip = modes.front() > 1.0;  // say "the smaller is x% of the larger"
            for (const Sample& sample : group) {
                const auto accounts = vouchers.Of(static_cast<size_t>(sample.slot));
                const double lo_amount = static_cast<double>(std::abs(accounts[sample.lo].net_minor)) / 100.0;
                const double hi_amount = static_cast<double>(std::abs(accounts[sample.hi].net_minor)) / 100.0;
                double distance = HUGE_VAL;
                double difference = HUGE_VAL;
                for (const double mode : modes) {
                    distance = std::min(distance, std::abs(std::log(sample.ratio / mode)));
                    difference = std::min(difference, std::abs(hi_amount - mode * lo_amount));
                }
                if (distance <= tolerance || difference < params_.ratio_min_difference) continue;
                const double score = ExcessScore(distance - tolerance, tolerance);
                std::string reason;
                if (score >= kReasonFloor) {
                    const VoucherAccount& part = accounts[flip ? sample.lo : sample.hi];
                    const VoucherAccount& whole = accounts[flip ? sample.hi : sample.lo];
                    std::vector<std::string> usual;
                    for (const double mode : modes) usual.push_back(Percent(flip ? 1.0 / mode : mode));
                    std::string alternatives;
                    if (usual.size() > 1)
                        alternatives =
                            fmt::format(" (or {})", fmt::join(std::span<const std::string>(usual).subspan(1), ", "));
                    reason = fmt::format(
                        "Account {} is {} of account {} in this voucher; in {} vouchers with both (and {} "
                        "accounts in all) it is {}{}.",
                        frame.account.values[static_cast<size_t>(part.account)],
                        Percent(flip ? 1.0 / sample.ratio : sample.ratio),
                        frame.account.values[static_cast<size_t>(whole.account)], FormatCount(pattern_vouchers),
                        accounts.size(), usual.front(), alternatives);
                }
                const int32_t voucher = vouchers.voucher[static_cast<size_t>(sample.slot)];
                scorer.OfferAccountLines(voucher, accounts[sample.lo].account, score, confidence, reason);
                scorer.OfferAccountLines(voucher, accounts[sample.hi].account, score, confidence, reason);
            }
        }
    }
    context.progress(0.8);

    // 3. Split sequences: amounts just under the limit to one counterparty, one per voucher.
    if (params_.splits) {
        const int64_t limit = std::llround(params_.split_threshold * 100.0);
        const int64_t floor = std::llround(params_.split_threshold * (1.0 - params_.split_margin) * 100.0);
        struct Candidate {
            std::string key;
            bool counterparty;
            int64_t voucher;  // the voucher code, or −1 − row for a row without one
            int32_t date;
            size_t row;
        };
        std::vector<Candidate> candidates;
        for (size_t i = 0; i < rows; ++i) {
            const int64_t size = std::abs(frame.amount_minor[i]);
            if (size < floor || size >= limit) continue;
            const std::string& party = frame.counterparty.values[static_cast<size_t>(frame.counterparty.codes[i])];
            Candidate candidate{
                .key = party, .counterparty = !party.empty(), .voucher = 0, .date = frame.date_days[i], .row = i};
            if (party.empty()) candidate.key = TextKey(frame.text[i]);
            if (candidate.key.empty()) continue;
            candidate.voucher = frame.HasVoucher(i) ? frame.voucher.codes[i] : -1 - static_cast<int64_t>(i);
            candidates.push_back(std::move(candidate));
        }
        const auto order = [](const Candidate& a, const Candidate& b) {
            if (a.counterparty != b.counterparty) return a.counterparty;
            if (a.key != b.key) return a.key < b.key;
            if (a.voucher != b.voucher) return a.voucher < b.voucher;
            return a.row < b.row;
        };
        std::sort(candidates.begin(), candidates.end(), order);

        // Events: one per (key, voucher): its first date, its largest amount and its candidate rows.
        struct Event {
            size_t first;  // candidates[first .. last)
            size_t last;
            int32_t date;
            int64_t amount;
        };
        std::vector<Event> events;
        for (size_t i = 0; i < candidates.size();) {
            Event event{i, i, candidates[i].date, 0};
            for (; event.last < candidates.size() && candidates[event.last].voucher == candidates[i].voucher &&
                   candidates[event.last].key == candidates[i].key &&
                   candidates[event.last].counterparty == candidates[i].counterparty;
                 ++event.last) {
                event.date = std::min(event.date, candidates[event.last].date);
                event.amount = std::max(event.amount, std::abs(frame.amount_minor[candidates[event.last].row]));
            }
            i = event.last;
            events.push_back(event);
        }
        std::sort(events.begin(), events.end(), [&](const Event& a, const Event& b) {
            const Candidate& ca = candidates[a.first];
            const Candidate& cb = candidates[b.first];
            if (ca.counterparty != cb.counterparty) return ca.counterparty;
            if (ca.key != cb.key) return ca.key < cb.key;
            return a.date != b.date ? a.date < b.date : a.first < b.first;
        });

        const auto same_key = [&](const Event& a, const Event& b) {
            return candidates[a.first].counterparty == candidates[b.first].counterparty &&
                   candidates[a.first].key == candidates[b.first].key;
        };
        const double t = static_cast<double>(params_.split_min_count - 1);
        struct Window {
            size_t start;  // first event; the window ends at its own index
            int64_t count;
            int64_t sum;
        };
        std::vector<Window> windows(events.size());
        std::deque<size_t> best;  // window ends, their counts decreasing
        for (size_t begin = 0; begin < events.size();) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            size_t end = begin + 1;
            while (end < events.size() && same_key(events[begin], events[end])) ++end;
            // The longest window ending at each event (count 0 unless it qualifies) ...
            size_t start = begin;
            int64_t sum = 0;
            for (size_t j = begin; j < end; ++j) {
                sum += events[j].amount;
                while (events[j].date - events[start].date >= params_.split_window_days) sum -= events[start++].amount;
                const auto count = static_cast<int64_t>(j - start + 1);
                const bool qualifies = count >= params_.split_min_count && sum > limit;
                windows[j] = {start, qualifies ? count : 0, sum};
            }
            // ... and, for each event, the largest qualifying window containing it (a sliding maximum: linear).
            best.clear();
            size_t next = begin;
            for (size_t k = begin; k < end; ++k) {
                for (; next < end && windows[next].start <= k; ++next) {
                    while (!best.empty() && windows[best.back()].count <= windows[next].count) best.pop_back();
                    best.push_back(next);
                }
                while (best.front() < k) best.pop_front();
                const size_t j = best.front();
                const Window& window = windows[j];
                if (window.count == 0) continue;
                const double score = ExcessScore(static_cast<double>(window.count), t);
                const Candidate& first = candidates[events[k].first];
                const int32_t span = events[j].date - events[window.start].date;
                const std::string when =
                    span == 0 ? std::string("on the same day") : fmt::format("within {} days", span + 1);
                const std::string reason =
                    fmt::format("{} payments {} {} {}, each just under {} (total {}).", FormatCount(window.count),
                                first.counterparty ? "to" : "with text",
                                first.counterparty ? first.key : fmt::format("\"{}\"", first.key), when,
                                FormatAmount(static_cast<double>(limit) / 100.0),
                                FormatAmount(static_cast<double>(window.sum) / 100.0));
                for (size_t c = events[k].first; c < events[k].last; ++c)
                    scorer.Offer(candidates[c].row, score, 1.0, reason);
            }
            begin = end;
        }
    }
    context.progress(1.0);
    return output;
}

}  // namespace granska::detect
