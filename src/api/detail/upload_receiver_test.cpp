#include "api/detail/upload_receiver.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/uuid.h"

namespace granska::api::detail {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

class UploadReceiverTest : public ::testing::Test {
protected:
    void TearDown() override { fs::remove_all(root_); }
    fs::path root_ = fs::temp_directory_path() / ("granska-receiver-" + NewUuidV7());
    fs::path dir_ = root_ / "upload";
};

TEST(SanitizeFileNameTest, KeepsSafeNamesAndReplacesTheRest) {
    EXPECT_EQ(SanitizeFileName("ledger-2024_v1.csv"), "ledger-2024_v1.csv");
    EXPECT_EQ(SanitizeFileName("huvudbok år.csv"), "huvudbok___r.csv");
    EXPECT_EQ(SanitizeFileName("../../etc/passwd"), "passwd");
    EXPECT_EQ(SanitizeFileName("C:\\Users\\x\\.hidden.csv"), "hidden.csv");
    EXPECT_EQ(SanitizeFileName(".."), "upload.csv");
    EXPECT_EQ(SanitizeFileName(""), "upload.csv");
    EXPECT_EQ(SanitizeFileName(std::string(300, 'a') + ".csv").size(), 100u);
    EXPECT_TRUE(SanitizeFileName(std::string(300, 'a') + ".csv").ends_with(".csv"));
}

TEST_F(UploadReceiverTest, WritesTheFilePartToDiskAndKeepsTextParts) {
    {
        UploadReceiver receiver(dir_, 1000);
        ASSERT_TRUE(receiver.BeginPart("mapping", ""));
        ASSERT_TRUE(receiver.Append("{}", 2));
        ASSERT_TRUE(receiver.BeginPart("file", "dir/ledger.csv"));
        ASSERT_TRUE(receiver.Append("a,b\n", 4));
        ASSERT_TRUE(receiver.Append("1,2\n", 4));
        ASSERT_TRUE(receiver.BeginPart("other", ""));
        ASSERT_TRUE(receiver.Append("ignored", 7));
        ASSERT_TRUE(receiver.Finish());
        EXPECT_EQ(receiver.FileName(), "ledger.csv");
        EXPECT_EQ(receiver.FileSize(), 8u);
        EXPECT_EQ(receiver.FilePath(), dir_ / "ledger.csv");
        EXPECT_EQ(ReadFile(receiver.FilePath()), "a,b\n1,2\n");
        EXPECT_EQ(receiver.Text("mapping"), "{}");
        EXPECT_FALSE(receiver.Text("strategy").has_value());
        receiver.Keep();
    }
    EXPECT_TRUE(fs::exists(dir_ / "ledger.csv"));
}

TEST_F(UploadReceiverTest, StopsAtTheSizeLimitAndDeletesThePartialFile) {
    {
        UploadReceiver receiver(dir_, 6);
        ASSERT_TRUE(receiver.BeginPart("file", "big.csv"));
        ASSERT_TRUE(receiver.Append("1234", 4));
        EXPECT_FALSE(receiver.Append("567", 3));
        ASSERT_TRUE(receiver.error().has_value());
        EXPECT_EQ(receiver.error()->kind, ErrorKind::kTooLarge);
        EXPECT_EQ(receiver.error()->code, "too_large");
        EXPECT_FALSE(receiver.Finish());
    }
    EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(UploadReceiverTest, AcceptsAFileOfExactlyTheLimit) {
    UploadReceiver receiver(dir_, 4);
    ASSERT_TRUE(receiver.BeginPart("file", "x.csv"));
    EXPECT_TRUE(receiver.Append("1234", 4));
    EXPECT_TRUE(receiver.Finish());
}

TEST_F(UploadReceiverTest, MissingFilePartIsABadRequest) {
    UploadReceiver receiver(dir_, 100);
    ASSERT_TRUE(receiver.BeginPart("strategy", ""));
    ASSERT_TRUE(receiver.Append("quick-scan", 10));
    const auto finished = receiver.Finish();
    ASSERT_FALSE(finished);
    EXPECT_EQ(finished.error().kind, ErrorKind::kBadRequest);
    EXPECT_EQ(finished.error().code, "missing_file");
}

TEST_F(UploadReceiverTest, RejectsASecondFilePart) {
    UploadReceiver receiver(dir_, 100);
    ASSERT_TRUE(receiver.BeginPart("file", "a.csv"));
    EXPECT_FALSE(receiver.BeginPart("file", "b.csv"));
    ASSERT_TRUE(receiver.error().has_value());
    EXPECT_EQ(receiver.error()->kind, ErrorKind::kBadRequest);
}

TEST_F(UploadReceiverTest, RejectsAnOversizedTextPart) {
    UploadReceiver receiver(dir_, 100);
    ASSERT_TRUE(receiver.BeginPart("strategy", ""));
    const std::string chunk(kMaxTextPartBytes, 'x');
    ASSERT_TRUE(receiver.Append(chunk.data(), chunk.size()));
    EXPECT_FALSE(receiver.Append("x", 1));
    EXPECT_EQ(receiver.error()->kind, ErrorKind::kTooLarge);
}

TEST_F(UploadReceiverTest, RemovesTheFolderWhenNotKept) {
    {
        UploadReceiver receiver(dir_, 100);
        ASSERT_TRUE(receiver.BeginPart("file", "a.csv"));
        ASSERT_TRUE(receiver.Append("x", 1));
        ASSERT_TRUE(receiver.Finish());
        EXPECT_TRUE(fs::exists(dir_ / "a.csv"));
    }
    EXPECT_FALSE(fs::exists(dir_));
}

}  // namespace
}  // namespace granska::api::detail
