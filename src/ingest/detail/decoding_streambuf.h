#pragma once
// A read-only stream buffer that serves a source stream as UTF-8: the bytes already peeked from it first, then the
// rest, decoded from UTF-16 (LE or BE) or Windows-1252 on the way. UTF-8 passes through unchanged. Lets the CSV
// tokenizer read every encoding the same way, in chunks, without holding the file.

#include <cstdint>
#include <istream>
#include <optional>
#include <streambuf>
#include <string>

namespace granska::ingest::detail {

enum class TextEncoding { kUtf8, kUtf16Le, kUtf16Be, kWindows1252 };

// The encoding a user names: utf-8, utf-16le (also utf-16), utf-16be, windows-1252 (also cp1252, ansi, latin-1,
// iso-8859-1: Windows-1252 reads Latin-1 text the same); case, '-' and '_' do not matter. nullopt when unknown.
std::optional<TextEncoding> TextEncodingFromName(std::string_view name);

class DecodingStreambuf : public std::streambuf {
public:
    // head: bytes already read from source (after any byte-order mark), served first.
    DecodingStreambuf(std::istream& source, std::string head, TextEncoding encoding, size_t chunk_bytes);

    uint64_t raw_bytes_read() const { return raw_bytes_read_; }  // bytes taken from the source, head included
    int64_t replaced() const { return replaced_; }               // invalid UTF-16 units replaced by U+FFFD

protected:
    int_type underflow() override;

private:
    void Decode(const char* data, size_t size);

    std::istream& source_;
    std::string head_;
    size_t head_pos_ = 0;
    TextEncoding encoding_;
    size_t chunk_bytes_;
    std::string raw_;
    std::string out_;
    std::string carry_;  // an odd byte or a high surrogate left over from the previous chunk (UTF-16)
    uint64_t raw_bytes_read_ = 0;
    int64_t replaced_ = 0;
};

// Appends the code point as UTF-8.
void AppendUtf8(std::string& out, uint32_t code_point);

}  // namespace granska::ingest::detail
