#pragma once
// Helpers shared by the XML parser tests: fixture paths, temporary files and a parse that keeps every row.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/transaction.h"
#include "ingest/parser.h"
#include "ingest/xml/xml_parser.h"

namespace granska::ingest::testing {

// tests/fixtures/xml/<name>, or nullopt when GRANSKA_SOURCE_DIR is not set (the test then skips).
inline std::optional<std::filesystem::path> XmlFixture(std::string_view name) {
    const char* source_dir = std::getenv("GRANSKA_SOURCE_DIR");
    if (source_dir == nullptr) return std::nullopt;
    return std::filesystem::path(source_dir) / "tests/fixtures/xml" / name;
}

// A file with the given bytes, removed at the end of the test.
class TempXml {
public:
    explicit TempXml(std::string_view content) {
        const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = std::filesystem::temp_directory_path() /
                fmt::format("granska-xml-{}-{}-{}.xml", test->test_suite_name(), test->name(), NextId());
        std::ofstream(path_, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    ~TempXml() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    TempXml(const TempXml&) = delete;
    TempXml& operator=(const TempXml&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    static int NextId() {
        static int next = 0;
        return next++;
    }
    std::filesystem::path path_;
};

struct Parsed {
    ParseReport report;
    std::vector<Transaction> rows;
    std::vector<size_t> batch_sizes;
    uint64_t last_progress = 0;
};

inline Parsed ParseXml(const std::filesystem::path& path, ParseOptions options = {}) {
    Parsed out;
    if (options.file_name.empty()) options.file_name = path.filename().string();
    const auto parser = MakeXmlParser();
    out.report = parser->Parse(
        path, options,
        [&out](std::span<Transaction> batch) -> Expected<void> {
            out.batch_sizes.push_back(batch.size());
            for (Transaction& tx : batch) out.rows.push_back(std::move(tx));
            return {};
        },
        [&out](uint64_t bytes) { out.last_progress = bytes; });
    return out;
}

// Parses the content as the file "upload.xml".
inline Parsed ParseXmlText(std::string_view content, ParseOptions options = {}) {
    const TempXml file(content);
    if (options.file_name.empty()) options.file_name = "upload.xml";
    return ParseXml(file.path(), std::move(options));
}

}  // namespace granska::ingest::testing
