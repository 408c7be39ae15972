#include "api/detail/upload_receiver.h"

#include <fmt/format.h>

#include <system_error>
#include <utility>

namespace granska::api::detail {

namespace {

constexpr size_t kMaxFileNameLength = 100;
constexpr std::string_view kFallbackFileName = "upload.csv";

Error TooLarge(std::string message) {
    return Error{.kind = ErrorKind::kTooLarge, .code = "too_large", .message = std::move(message)};
}

bool IsSafeChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
}

}  // namespace

std::string DisplayFileName(std::string_view name) {
    const size_t slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
    return std::string(name);
}

std::string SanitizeFileName(std::string_view name) {
    std::string safe;
    for (const char c : DisplayFileName(name)) safe += IsSafeChar(c) ? c : '_';
    const size_t first = safe.find_first_not_of('.');
    safe.erase(0, first == std::string::npos ? safe.size() : first);
    if (safe.size() > kMaxFileNameLength) safe.erase(0, safe.size() - kMaxFileNameLength);  // keeps the extension
    if (safe.empty() || safe.find_first_not_of('_') == std::string::npos) return std::string(kFallbackFileName);
    return safe;
}

UploadReceiver::UploadReceiver(std::filesystem::path dir, uint64_t max_file_bytes)
    : dir_(std::move(dir)), max_file_bytes_(max_file_bytes) {}

UploadReceiver::~UploadReceiver() {
    if (file_.is_open()) file_.close();
    if (!keep_) {
        std::error_code ignored;  // best effort: the request has already been answered
        std::filesystem::remove_all(dir_, ignored);
    }
}

bool UploadReceiver::Fail(Error error) {
    error_ = std::move(error);
    if (file_.is_open()) file_.close();
    return false;
}

bool UploadReceiver::BeginPart(std::string_view name, std::string_view filename) {
    current_name_ = std::string(name);
    if (name != kFilePart) {
        target_ = Target::kText;
        texts_[current_name_].clear();
        return true;
    }
    if (have_file_) return Fail(BadRequest("duplicate_file", "Send exactly one part named 'file'."));
    have_file_ = true;
    target_ = Target::kFile;
    file_name_ = DisplayFileName(filename);
    if (file_name_.empty()) file_name_ = std::string(kFallbackFileName);
    std::error_code error;
    std::filesystem::create_directories(dir_, error);
    if (error) return Fail(Internal(fmt::format("Cannot create the upload folder: {}.", error.message())));
    file_path_ = dir_ / SanitizeFileName(file_name_);
    file_.open(file_path_, std::ios::binary | std::ios::trunc);
    if (!file_) return Fail(Internal("Cannot create the upload file on the server's disk."));
    return true;
}

bool UploadReceiver::Append(const char* data, size_t size) {
    if (target_ == Target::kFile) {
        if (size > max_file_bytes_ - file_bytes_) {
            return Fail(TooLarge(fmt::format("The file is larger than the limit of {} bytes.", max_file_bytes_)));
        }
        file_.write(data, static_cast<std::streamsize>(size));
        if (!file_) return Fail(Internal("Writing the upload to the server's disk failed."));
        file_bytes_ += size;
        return true;
    }
    if (target_ == Target::kText) {
        std::string& text = texts_[current_name_];
        if (text.size() + size > kMaxTextPartBytes) {
            return Fail(
                TooLarge(fmt::format("The part '{}' is larger than {} bytes.", current_name_, kMaxTextPartBytes)));
        }
        text.append(data, size);
    }
    return true;
}

Expected<void> UploadReceiver::Finish() {
    if (error_) return Unexpected(*error_);
    if (!have_file_) {
        Error error = BadRequest("missing_file",
                                 "The upload needs a part named 'file' with the CSV file, "
                                 "e.g. curl -F file=@ledger.csv.");
        error.column = std::string(kFilePart);
        return Unexpected(std::move(error));
    }
    file_.close();
    if (!file_) return Unexpected(Internal("Writing the upload to the server's disk failed."));
    return {};
}

std::optional<std::string> UploadReceiver::Text(std::string_view name) const {
    const auto found = texts_.find(name);
    if (found == texts_.end() || found->second.empty()) return std::nullopt;
    return found->second;
}

}  // namespace granska::api::detail
