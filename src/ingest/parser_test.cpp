#include "ingest/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/parse_options.h"

namespace granska::ingest {
namespace {

using ::testing::HasSubstr;

TEST(DetectFormatTest, LooksAtTheContentNotTheName) {
    EXPECT_EQ(DetectFormat(std::string_view("PK\x03\x04\x14\x00", 6)), Format::kXlsx);
    EXPECT_EQ(DetectFormat("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), Format::kXls);
    EXPECT_EQ(DetectFormat("#FLAGGA 0\r\n#PROGRAM x\r\n"), Format::kSie);
    EXPECT_EQ(DetectFormat("\xEF\xBB\xBF  <?xml version=\"1.0\"?><Document/>"), Format::kXml);
    EXPECT_EQ(DetectFormat("\n [ {\"date\": \"2024-01-01\"} ]"), Format::kJson);
    EXPECT_EQ(DetectFormat("{\"date\": \"2024-01-01\"}\n{\"date\": \"2024-01-02\"}\n"), Format::kJson);
    EXPECT_EQ(DetectFormat(std::string_view("\xFF\xFE[\0{\0", 6)), Format::kJson);  // UTF-16 LE
    EXPECT_EQ(DetectFormat("date;amount\n2024-01-01;1\n"), Format::kCsv);
    EXPECT_EQ(DetectFormat("   \n"), Format::kCsv);
}

TEST(FormatNameTest, RoundTripsAndKnowsAliases) {
    for (const Format format : {Format::kCsv, Format::kJson, Format::kXlsx, Format::kXls, Format::kSie, Format::kXml}) {
        EXPECT_EQ(FormatFromName(FormatName(format)), format);
    }
    EXPECT_EQ(FormatFromName("SIE4"), Format::kSie);
    EXPECT_EQ(FormatFromName("ndjson"), Format::kJson);
    EXPECT_EQ(FormatFromName("camt"), Format::kXml);
    EXPECT_EQ(FormatFromName("pdf"), std::nullopt);
}

TEST(ParseReportTest, KeepsTheFirstHundredProblemsAndCountsAll) {
    ParseReport report;
    for (int i = 0; i < 150; ++i) {
        report.Add({.severity = i % 3 == 0 ? Severity::kWarning : Severity::kError, .code = "c", .message = "m"});
    }
    EXPECT_EQ(report.problems.size(), ParseReport::kMaxProblems);
    EXPECT_EQ(report.warning_count, 50);
    EXPECT_EQ(report.error_count, 100);
    const auto json = nlohmann::json::parse(ReportToJson(report));
    EXPECT_EQ(json["problems"].size(), 100u);
    EXPECT_EQ(json["problems_truncated"], true);
    EXPECT_EQ(json["error_count"], 100);
}

TEST(ParseReportTest, JsonCarriesEveryPartOfTheReport) {
    ParseReport report;
    report.format = Format::kSie;
    report.encoding = "cp437";
    report.dialect["delimiter"] = ";";
    report.mapping["amount"] = "Belopp";
    report.rows_read = 3;
    report.rows_accepted = 2;
    report.rows_rejected = 1;
    report.details = R"({"vouchers": 1})";
    report.Add({.severity = Severity::kInfo,
                .code = "unknown_label",
                .message = "ignored",
                .line = 7,
                .location = "voucher A 1",
                .field = "#FOO"});
    const auto json = nlohmann::json::parse(ReportToJson(report));
    EXPECT_EQ(json["format"], "sie");
    EXPECT_EQ(json["encoding"], "cp437");
    EXPECT_EQ(json["dialect"]["delimiter"], ";");
    EXPECT_EQ(json["mapping"]["amount"], "Belopp");
    EXPECT_EQ(json["rows_rejected"], 1);
    EXPECT_EQ(json["details"]["vouchers"], 1);
    EXPECT_EQ(json["problems"][0],
              nlohmann::json::parse(R"({"severity": "info", "code": "unknown_label", "message": "ignored", "line": 7,
                                        "location": "voucher A 1", "field": "#FOO"})"));
    EXPECT_EQ(json["problems_truncated"], false);
}

class ParseFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("granska_parse_file_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        RegisterBuiltinParsers(registry_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path Write(std::string_view name, std::string_view content) {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }
    ParseReport Parse(const std::filesystem::path& path, ParseOptions options = {}) {
        rows_ = 0;
        return ParseFile(registry_, path, options, [this](std::span<Transaction> batch) -> Expected<void> {
            rows_ += std::ssize(batch);
            return {};
        });
    }

    std::filesystem::path dir_;
    ParserRegistry registry_;
    int64_t rows_ = 0;
};

TEST_F(ParseFileTest, ReadsACsvFileWhateverItsName) {
    const auto report = Parse(Write("ledger.xlsx", "date,amount\n2024-01-01,1\n"));
    ASSERT_TRUE(report.ok()) << report.error->ToString();
    EXPECT_EQ(report.format, Format::kCsv);
    EXPECT_TRUE(report.format_detected);
    EXPECT_EQ(rows_, 1);
}

TEST_F(ParseFileTest, WholeFileDecidesTheEncoding) {
    // The only non-ASCII byte lies far beyond the first 64 KiB.
    std::string text = "date,amount,text\n";
    while (text.size() < 100'000) text += "2024-01-01,1,ok\n";
    text += "2024-01-02,2,K\xF6p\n";
    const auto report = Parse(Write("late.csv", text));
    ASSERT_TRUE(report.ok()) << report.error->ToString();
    EXPECT_EQ(report.encoding, "windows-1252");
}

TEST_F(ParseFileTest, FourByteCharacterAtTheEndOfACheckedChunkIsStillUtf8) {
    // The whole-file UTF-8 check reads 1 MiB chunks; this emoji's last byte is the chunk's last byte.
    const std::string emoji = "\xF0\x9F\x98\x80";
    std::string text = "date,amount,text\n";
    const std::string row = "2024-01-01,1,ok\n";
    const size_t chunk = size_t{1} << 20;
    while (text.size() + row.size() < chunk - 64) text += row;
    const std::string prefix = "2024-01-02,2,";
    text += prefix + std::string(chunk - text.size() - prefix.size() - emoji.size(), 'x') + emoji + "\n";
    ASSERT_EQ(text.substr(chunk - emoji.size(), emoji.size()), emoji);
    text += "2024-01-03,3," + emoji + "\n";
    const auto report = Parse(Write("emoji.csv", text));
    ASSERT_TRUE(report.ok()) << report.error->ToString();
    EXPECT_EQ(report.encoding, "utf-8");
}

TEST_F(ParseFileTest, MissingAndEmptyFilesAreErrors) {
    EXPECT_EQ(Parse(dir_ / "nope.csv").error->code, "unreadable_file");
    EXPECT_EQ(Parse(Write("empty.csv", "")).error->code, "empty_file");
}

TEST_F(ParseFileTest, ChosenFormatOverridesDetection) {
    const auto report = Parse(Write("odd.csv", "date,amount\n2024-01-01,1\n"), {.format = Format::kCsv});
    ASSERT_TRUE(report.ok());
    EXPECT_FALSE(report.format_detected);
    ParserRegistry empty;
    const auto none = ParseFile(empty, Write("a.csv", "date,amount\n"), {}, [](auto) -> Expected<void> { return {}; });
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error->code, "unsupported_format");
}

std::function<std::optional<std::string>(std::string_view)> Fields(std::map<std::string, std::string> fields) {
    return [fields = std::move(fields)](std::string_view name) -> std::optional<std::string> {
        const auto it = fields.find(std::string(name));
        return it == fields.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

TEST(ParseOptionsTest, ReadsEveryOption) {
    const auto options = ParseOptionsFromFields(Fields({{"format", "SIE"},
                                                        {"delimiter", "tab"},
                                                        {"quote", "'"},
                                                        {"decimal", ","},
                                                        {"thousands", "space"},
                                                        {"date_format", "DMY"},
                                                        {"encoding", "Windows-1252"},
                                                        {"sheet", "Huvudbok"},
                                                        {"element", "Rows/Row"},
                                                        {"lenient", "true"},
                                                        {"bad_rows", "reject_file"},
                                                        {"mapping", R"({"amount": "Belopp"})"},
                                                        {"max_rows", "1000"}}));
    ASSERT_TRUE(options) << options.error().ToString();
    EXPECT_EQ(options->format, Format::kSie);
    EXPECT_EQ(options->dialect.delimiter, '\t');
    EXPECT_EQ(options->dialect.quote, '\'');
    EXPECT_EQ(options->dialect.decimal_separator, ',');
    EXPECT_EQ(options->dialect.thousands_separator, ' ');
    EXPECT_EQ(options->dialect.date_format, "dmy");
    EXPECT_EQ(options->dialect.encoding, "Windows-1252");
    EXPECT_EQ(options->sheet, "Huvudbok");
    EXPECT_EQ(options->xml_element, "Rows/Row");
    EXPECT_TRUE(options->lenient);
    EXPECT_EQ(options->bad_rows, BadRowPolicy::kRejectFile);
    EXPECT_EQ(MappingJson(options->mapping), R"({"amount":"Belopp"})");
    EXPECT_EQ(options->limits.max_rows, 1000u);
}

TEST(ParseOptionsTest, NothingGivenMeansDetectEverything) {
    const auto options = ParseOptionsFromFields(Fields({}));
    ASSERT_TRUE(options);
    EXPECT_FALSE(options->format);
    EXPECT_FALSE(options->dialect.delimiter);
    EXPECT_FALSE(options->dialect.decimal_separator);
    EXPECT_EQ(options->bad_rows, BadRowPolicy::kFormatDefault);
    EXPECT_EQ(MappingJson(options->mapping), "{}");
}

TEST(ParseOptionsTest, EachBadValueNamesItsOption) {
    const std::pair<const char*, const char*> cases[] = {
        {"format", "pdf"},      {"delimiter", ";;"},    {"quote", "`"},         {"decimal", ";"},
        {"thousands", "_"},     {"date_format", "ydm"}, {"encoding", "ebcdic"}, {"lenient", "maybe"},
        {"bad_rows", "ignore"}, {"max_rows", "-5"},     {"max_rows", "0"}};
    for (const auto& [name, value] : cases) {
        const auto options = ParseOptionsFromFields(Fields({{name, value}}));
        ASSERT_FALSE(options) << name << "=" << value;
        EXPECT_EQ(options.error().kind, ErrorKind::kBadRequest) << name;
        EXPECT_EQ(options.error().code, "bad_parameter") << name;
        EXPECT_EQ(options.error().column, name);
        EXPECT_THAT(options.error().message, HasSubstr(value)) << name;
    }
    const auto mapping = ParseOptionsFromFields(Fields({{"mapping", "{not json"}}));
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(mapping.error().column, "mapping");
}

TEST(ParseOptionsTest, RequestCanOnlyLowerTheRowLimit) {
    const auto options = ParseOptionsFromFields(Fields({{"max_rows", "999999999999"}}));
    ASSERT_TRUE(options);
    EXPECT_EQ(options->limits.max_rows, Limits{}.max_rows);
}

}  // namespace
}  // namespace granska::ingest
