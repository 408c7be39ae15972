#pragma once
// The error value of expected failures: bad input, unknown ids, conflicts. Bugs are assertions and
// lost infrastructure (a dropped database connection) is an exception; neither uses this type.

#include <cstdint>
#include <optional>
#include <string>

namespace granska {

enum class ErrorKind {
    kInvalidInput,  // the user's file, strategy or request is wrong: HTTP 422 / exit code 2
    kBadRequest,    // the request itself is malformed (missing field, bad query parameter): HTTP 400 / exit 2
    kNotFound,      // an id that does not exist in the workspace: HTTP 404
    kConflict,      // the state forbids it (e.g. analysing an upload that failed): HTTP 409
    kTooLarge,      // an upload over the size limit: HTTP 413
    kUnsupportedMedia,  // a request body of the wrong content type: HTTP 415
    kInternal,      // everything else: HTTP 500 / exit code 1
};

struct Error {
    ErrorKind kind = ErrorKind::kInternal;
    std::string code;     // stable machine-readable name, e.g. "bad_amount"
    std::string message;  // a sentence the user can act on
    std::string file;     // where, when the error is about a file
    std::optional<int64_t> line;
    std::string column;  // a column or field name (or a JSON path for strategies)

    // "file:line: column 'amount': message" — the one-line form for stderr.
    std::string ToString() const;
};

Error InvalidInput(std::string code, std::string message);
Error BadRequest(std::string code, std::string message);
Error NotFound(std::string what, std::string_view id);
Error Conflict(std::string code, std::string message);
Error Internal(std::string message);
Error UnsupportedMedia(std::string message);

int HttpStatus(ErrorKind kind);
int ExitCode(ErrorKind kind);

}  // namespace granska
