#pragma once
// Time-ordered UUIDv7 (RFC 9562) primary keys: index-friendly inserts, unique across processes.

#include <string>
#include <string_view>

namespace granska {

// A new UUIDv7 in canonical text form, "0192f0c4-7c1e-7a3b-9f2d-3c4b5a697887".
std::string NewUuidV7();

// True for the canonical 36-character form (any version): checked before ids reach SQL.
bool IsUuid(std::string_view text);

}  // namespace granska
