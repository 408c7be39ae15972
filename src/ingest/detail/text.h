#pragma once
// Byte-level text helpers shared by the ingest parsers: UTF-8 validation and JSON string escaping.

#include <string>
#include <string_view>

namespace granska::ingest::detail {

// True when s is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Appends s as a JSON string literal (quotes included); s must be valid UTF-8, which passes through unescaped.
void AppendJsonString(std::string& out, std::string_view s);

// The length of s without its last character when that one is not ASCII, so a buffer cut at an arbitrary byte
// ends before any character the cut may have split (a lead byte and up to three continuation bytes). Such a
// character, even when complete, belongs to the next buffer.
size_t Utf8SafeCut(std::string_view s);

// ASCII letters lower-cased, every other byte kept: for option and encoding names.
std::string AsciiLower(std::string_view s);

// Spaces and tabs removed from both ends.
inline std::string_view TrimSpaces(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// s cut to at most max_bytes on a UTF-8 character boundary, with "..." when cut: for quoting values in messages.
std::string Excerpt(std::string_view s, size_t max_bytes = 60);

}  // namespace granska::ingest::detail
