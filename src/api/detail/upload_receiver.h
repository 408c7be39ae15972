#pragma once
// Receives the parts of a multipart upload as they arrive: the "file" part is written straight to disk
// (never held in memory), the small text parts (mapping, strategy, delimiter, decimal) are kept as text, any
// other part is ignored. Knows nothing of HTTP: the server feeds it part headers and bytes.
//
// The file goes to <dir>/<sanitized file name>. Unless Keep() is called, the destructor deletes dir: a
// rejected or failed request leaves nothing behind.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/expected.h"

namespace granska::api::detail {

inline constexpr std::string_view kFilePart = "file";
inline constexpr size_t kMaxTextPartBytes = size_t{1} << 20;

// A file name safe to use on disk: the last path component, letters, digits, '.', '-', '_' kept, everything else
// '_', no leading dot, at most 100 characters; "upload.csv" when nothing is left.
std::string SanitizeFileName(std::string_view name);

// The name to show and store: the last path component of what the client sent ("C:\x\a.csv" → "a.csv").
std::string DisplayFileName(std::string_view name);

class UploadReceiver {
public:
    UploadReceiver(std::filesystem::path dir, uint64_t max_file_bytes);
    ~UploadReceiver();
    UploadReceiver(const UploadReceiver&) = delete;
    UploadReceiver& operator=(const UploadReceiver&) = delete;

    // Both return false to stop the transfer; error() then says why (too large, a second file part, disk failure).
    bool BeginPart(std::string_view name, std::string_view filename);
    bool Append(const char* data, size_t size);

    // After the last byte: flushes the file. Fails with 400 "missing_file" when no file part came.
    Expected<void> Finish();

    const std::optional<Error>& error() const { return error_; }
    // A text part's value; nullopt when the part was absent or empty.
    std::optional<std::string> Text(std::string_view name) const;
    // Every text part, by name.
    const std::map<std::string, std::string, std::less<>>& Texts() const { return texts_; }
    const std::filesystem::path& FilePath() const { return file_path_; }
    const std::string& FileName() const { return file_name_; }
    uint64_t FileSize() const { return file_bytes_; }

    void Keep() { keep_ = true; }

private:
    bool Fail(Error error);

    std::filesystem::path dir_;
    uint64_t max_file_bytes_;
    enum class Target { kNone, kFile, kText } target_ = Target::kNone;
    std::string current_name_;
    std::map<std::string, std::string, std::less<>> texts_;
    bool have_file_ = false;
    std::ofstream file_;
    std::filesystem::path file_path_;
    std::string file_name_;
    uint64_t file_bytes_ = 0;
    std::optional<Error> error_;
    bool keep_ = false;
};

}  // namespace granska::api::detail
