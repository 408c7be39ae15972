#include "detect/rules/benford.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

#include "detect/detail/format.h"
#include "detect/detail/stats.h"
#include "detect/rules/detail_rules2.h"

namespace granska::detect {

Expected<BenfordParams> BenfordParams::FromJson(const nlohmann::json& json, std::string_view path) {
    BenfordParams params;
    ParamReader reader(json, path);
    reader.Read("group_by", params.group_by, {"none", "account", "account_class"});
    reader.Read("test", params.test, {"first", "first_two", "both"});
    reader.Read("min_amount", params.min_amount);
    reader.Read("min_group_size", params.min_group_size);
    reader.Read("flag_level", params.flag_level, {"marginal", "nonconformity"});
    reader.Read("min_z", params.min_z);
    if (!(params.min_amount >= 0)) reader.Fail("min_amount", "'min_amount' must be at least 0.");
    if (params.min_group_size < 1) reader.Fail("min_group_size", "'min_group_size' must be at least 1.");
    if (!(params.min_z >= 0)) reader.Fail("min_z", "'min_z' must be at least 0.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo Benford::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Benford's law: whether the leading digits of the amounts (of all lines, per account or per "
            "account class) follow the expected distribution (MAD per Nigrini); in a nonconforming group, "
            "amounts whose digits are over-represented score.",
        .params =
            {
                {"group_by", "string", R"("account_class")",
                 "\"none\" tests all amounts together, \"account\" per account, \"account_class\" per first digit "
                 "of the account"},
                {"test", "string", R"("first_two")", "\"first\" digit, \"first_two\" digits, or \"both\""},
                {"min_amount", "number", "10.0", "smaller amounts (absolute, major units) are not tested"},
                {"min_group_size", "integer", "300", "smaller groups are tested as part of all amounts"},
                {"flag_level", "string", R"("nonconformity")",
                 "the MAD class from which a group's over-represented digits score: \"marginal\" or "
                 "\"nonconformity\""},
                {"min_z", "number", "1.96", "a digit bin's Z-statistic must exceed this for its rows to score"},
            },
        .create = FactoryOf<Benford, BenfordParams>(),
    };
}

namespace {

// One digit test: bins are first digits 1–9 or first two digits 10–99; Nigrini's MAD limits (2012, table 7.1).
struct DigitTest {
    std::string_view rule;
    std::string_view noun;  // "First digit occurs" / "First digits occur" in reasons
    std::string_view verb;
    int low = 1;
    int high = 9;
    std::array<double, 3> limits{};  // close, acceptable, marginal; above: nonconformity
};
constexpr DigitTest kFirstDigit{"first_digit", "First digit", "occurs", 1, 9, {0.006, 0.012, 0.015}};
constexpr DigitTest kFirstTwo{"first_two_digits", "First digits", "occur", 10, 99, {0.0012, 0.0018, 0.0022}};
constexpr std::array<std::string_view, 4> kConformity = {"close conformity", "acceptable conformity",
                                                         "marginally acceptable conformity", "nonconformity"};

// A group's digit counts (index = the digit bin, 0..99).
struct Group {
    std::string name;
    std::array<int64_t, 100> first{};
    std::array<int64_t, 100> first_two{};
    int64_t n = 0;
};

// The outcome of one test on one group: its MAD class and the score of each bin (0 = not flagged).
struct TestResult {
    double mad = 0.0;
    int conformity = 0;  // index into kConformity
    std::array<double, 100> score{};
    std::array<double, 100> ratio{};  // observed / expected
    std::array<double, 100> z{};
};

TestResult RunTest(const DigitTest& test, const std::array<int64_t, 100>& counts, int64_t n, int flag_level,
                   double min_z) {
    TestResult result;
    if (n == 0) return result;
    const double total = static_cast<double>(n);
    double deviation = 0.0;
    for (int d = test.low; d <= test.high; ++d) {
        const double expected = std::log10(1.0 + 1.0 / d);
        const double observed = static_cast<double>(counts[static_cast<size_t>(d)]) / total;
        deviation += std::abs(observed - expected);
        const double gap = std::abs(observed - expected);
        const double corrected = 1.0 / (2.0 * total) < gap ? gap - 1.0 / (2.0 * total) : gap;
        result.z[static_cast<size_t>(d)] = corrected / std::sqrt(expected * (1.0 - expected) / total);
        result.ratio[static_cast<size_t>(d)] = observed / expected;
    }
    result.mad = deviation / (test.high - test.low + 1);
    while (result.conformity < 3 && result.mad > test.limits[static_cast<size_t>(result.conformity)])
        ++result.conformity;
    if (result.conformity < flag_level) return result;
    const double group_factor = ExcessScore(result.mad, test.limits[2]);
    for (int d = test.low; d <= test.high; ++d) {
        const auto bin = static_cast<size_t>(d);
        if (result.ratio[bin] > 1.0 && result.z[bin] > min_z)
            result.score[bin] = group_factor * ExcessScore(result.ratio[bin] - 1.0, 1.0);
    }
    return result;
}

}  // namespace

Expected<AlgorithmOutput> Benford::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    if (rows == 0) return output;
    const auto min_minor = static_cast<int64_t>(std::llround(params_.min_amount * 100.0));

    // Group of each tested row: -1 untested; the last group is the whole upload.
    std::vector<Group> groups;
    std::vector<int32_t> group_of(rows, -1);
    std::vector<int32_t> group_of_code;  // per account code (account) or class digit (account_class)
    if (params_.group_by == "account") {
        group_of_code.resize(frame.account.values.size());
        for (size_t c = 0; c < frame.account.values.size(); ++c) {
            group_of_code[c] = static_cast<int32_t>(groups.size());
            groups.push_back(Group{.name = fmt::format("account {}", frame.account.values[c])});
        }
    } else if (params_.group_by == "account_class") {
        group_of_code.resize(10);
        for (int d = 0; d < 10; ++d) {
            group_of_code[static_cast<size_t>(d)] = static_cast<int32_t>(groups.size());
            groups.push_back(Group{.name = fmt::format("account class {}", d)});
        }
    }
    const auto whole = static_cast<int32_t>(groups.size());
    groups.push_back(Group{.name = "all amounts"});

    for (size_t i = 0; i < rows; ++i) {
        const int64_t minor = frame.amount_minor[i];
        if ((minor < 0 ? -minor : minor) < min_minor || frame.first_digit[i] <= 0) continue;
        int32_t g = whole;
        const std::string& account = frame.account.values[static_cast<size_t>(frame.account.codes[i])];
        if (params_.group_by == "account") {
            g = group_of_code[static_cast<size_t>(frame.account.codes[i])];
        } else if (params_.group_by == "account_class" && !account.empty() && account[0] >= '0' && account[0] <= '9') {
            g = group_of_code[static_cast<size_t>(account[0] - '0')];
        }
        group_of[i] = g;
        for (const int32_t counted : {g, whole}) {
            Group& group = groups[static_cast<size_t>(counted)];
            ++group.first[static_cast<size_t>(frame.first_digit[i])];
            ++group.first_two[static_cast<size_t>(frame.first_two_digits[i])];
            ++group.n;
            if (counted == whole) break;
        }
    }

    // Test every group large enough to stand alone, and the whole upload.
    const int flag_level = params_.flag_level == "marginal" ? 2 : 3;
    std::vector<const DigitTest*> tests;
    if (params_.test != "first_two") tests.push_back(&kFirstDigit);
    if (params_.test != "first") tests.push_back(&kFirstTwo);
    std::vector<std::vector<TestResult>> results(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) {
        if (Cancelled(context)) return Unexpected(Internal("cancelled"));
        const Group& group = groups[g];
        if (group.n < params_.min_group_size && static_cast<int32_t>(g) != whole) continue;
        for (const DigitTest* test : tests) {
            results[g].push_back(RunTest(*test, test == &kFirstDigit ? group.first : group.first_two, group.n,
                                         flag_level, params_.min_z));
        }
        context.progress(0.5 * static_cast<double>(g + 1) / static_cast<double>(groups.size()));
    }

    const double min_size = params_.min_group_size;
    for (size_t i = 0; i < rows; ++i) {
        if (group_of[i] < 0) continue;
        const auto own = static_cast<size_t>(group_of[i]);
        const bool pooled = results[own].empty();
        const size_t g = pooled ? static_cast<size_t>(whole) : own;
        const Group& group = groups[g];
        const double n = static_cast<double>(group.n);
        output.confidence[i] = (pooled ? 0.5 : 1.0) * n / (n + min_size);
        const std::string pooled_note = pooled && own != static_cast<size_t>(whole)
                                            ? fmt::format(" Only {} amounts are in {}, too few to test it alone.",
                                                          FormatCount(groups[own].n), groups[own].name)
                                            : std::string();
        for (size_t t = 0; t < tests.size(); ++t) {
            const DigitTest& test = *tests[t];
            const TestResult& result = results[g][t];
            const int digits = &test == &kFirstDigit ? frame.first_digit[i] : frame.first_two_digits[i];
            const auto bin = static_cast<size_t>(digits);
            const double score = result.score[bin];
            if (score <= 0) continue;
            const std::string_view conformity = kConformity[static_cast<size_t>(result.conformity)];
            if (score > output.score[i]) {
                output.score[i] = score;
                output.reason[i] = score >= 0.3 ? fmt::format(
                                                      "{} {} {} {:.1f}× as often as Benford's law expects in {} (MAD "
                                                      "{:.4f}, {}).{}",
                                                      test.noun, digits, test.verb, result.ratio[bin], group.name,
                                                      result.mad, conformity, pooled_note)
                                                : std::string();
            }
            const double expected = std::log10(1.0 + 1.0 / digits);
            output.flags.push_back(RuleFlag{.row = i,
                                            .rule = std::string(test.rule),
                                            .value = result.ratio[bin],
                                            .metadata = nlohmann::json{{"group", group.name},
                                                                       {"group_size", group.n},
                                                                       {"pooled", pooled},
                                                                       {"digits", digits},
                                                                       {"mad", result.mad},
                                                                       {"conformity", conformity},
                                                                       {"observed_share", result.ratio[bin] * expected},
                                                                       {"expected_share", expected},
                                                                       {"z", result.z[bin]}}
                                                            .dump()});
        }
        if (i % 65536 == 0) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            context.progress(0.5 + 0.5 * static_cast<double>(i) / static_cast<double>(rows));
        }
    }
    return output;
}

}  // namespace granska::detect
