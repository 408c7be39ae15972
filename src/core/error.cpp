#include "core/error.h"

#include <fmt/format.h>

namespace granska {

std::string Error::ToString() const {
    std::string out;
    if (!file.empty()) {
        out += file;
        if (line) out += fmt::format(":{}", *line);
        out += ": ";
    } else if (line) {
        out += fmt::format("line {}: ", *line);
    }
    if (!column.empty()) out += fmt::format("column '{}': ", column);
    out += message;
    return out;
}

Error InvalidInput(std::string code, std::string message) {
    return Error{.kind = ErrorKind::kInvalidInput, .code = std::move(code), .message = std::move(message)};
}

Error BadRequest(std::string code, std::string message) {
    return Error{.kind = ErrorKind::kBadRequest, .code = std::move(code), .message = std::move(message)};
}

Error NotFound(std::string what, std::string_view id) {
    auto message = fmt::format("No {} with id '{}' exists in this workspace.", what, id);
    return Error{.kind = ErrorKind::kNotFound, .code = "not_found", .message = std::move(message)};
}

Error Conflict(std::string code, std::string message) {
    return Error{.kind = ErrorKind::kConflict, .code = std::move(code), .message = std::move(message)};
}

Error Internal(std::string message) {
    return Error{.kind = ErrorKind::kInternal, .code = "internal", .message = std::move(message)};
}

Error UnsupportedMedia(std::string message) {
    return Error{.kind = ErrorKind::kUnsupportedMedia, .code = "unsupported_media_type", .message = std::move(message)};
}

int HttpStatus(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kInvalidInput:
            return 422;
        case ErrorKind::kBadRequest:
            return 400;
        case ErrorKind::kNotFound:
            return 404;
        case ErrorKind::kConflict:
            return 409;
        case ErrorKind::kTooLarge:
            return 413;
        case ErrorKind::kUnsupportedMedia:
            return 415;
        case ErrorKind::kInternal:
            return 500;
    }
    return 500;
}

int ExitCode(ErrorKind kind) { return kind == ErrorKind::kInternal ? 1 : 2; }

}  // namespace granska
