#pragma once
// The byte level of SIE 4B: one record line split into its label and fields, the scalar field formats
// (amounts, YYYYMMDD dates), the #KSUMMA CRC-32 and CP437 text decoding.
//
// A field is a quoted string (`\"` stands for a quote inside it), a run of non-blank bytes, or an object list
// `{dim obj ...}`. Fields are views into the line, so splitting a record allocates nothing once the field vector
// has grown. Text stays in the file's bytes until a caller decodes the fields it needs.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/expected.h"
#include "core/money.h"

namespace granska::ingest::detail {

enum class SieFieldKind : uint8_t {
    kPlain,   // unquoted bytes
    kQuoted,  // "..." ; raw excludes the quotes
    kList,    // {...} ; raw excludes the braces
};

struct SieField {
    std::string_view raw;
    SieFieldKind kind = SieFieldKind::kPlain;
    bool escaped = false;  // quoted and holds a `\"`
};

// The fields of one line in storage that only grows, so splitting a line allocates nothing once it has grown.
class SieFields {
public:
    void clear() { size_ = 0; }
    void push_back(SieField field) {
        if (size_ == storage_.size()) storage_.resize(size_ * 2 + 8);
        storage_[size_++] = field;
    }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const SieField& operator[](size_t index) const { return storage_[index]; }
    const SieField* begin() const { return storage_.data(); }
    const SieField* end() const { return storage_.data() + size_; }

private:
    std::vector<SieField> storage_;
    size_t size_ = 0;
};

struct SieRecord {
    std::string_view label;  // "#TRANS" as written (any case)
    SieFields fields;
    bool unterminated_quote = false;
    bool unterminated_list = false;
};

// Splits a line that starts with '#' (no line break). Spaces and tabs separate fields.
void SplitSieRecord(std::string_view line, SieRecord& record);

// Splits the inside of an object list into its tokens (quoted or plain; lists do not nest).
void SplitSieList(std::string_view list, SieFields& tokens);

// The field's text with `\"` unescaped, still in the file's encoding.
void AppendUnescaped(std::string& out, const SieField& field);

// A SIE amount: optional sign, digits, optionally '.' and decimals (more than two only if zeros). Point decimal
// only; at most thirteen integer digits.
std::optional<Money> ParseSieAmount(std::string_view text);

// A quantity: the same grammar with any number of decimals, as a JSON number ("-1.5", "0.25"); nullopt if bad.
std::optional<std::string> NormalizeSieQuantity(std::string_view text);

// YYYYMMDD, years 1900-9999.
std::optional<Date> ParseSieDate(std::string_view text);

// The CRC-32 of #KSUMMA (generator EDB88320, pre- and post-inverted), fed piece by piece.
class SieCrc32 {
public:
    SieCrc32();
    void Add(std::string_view bytes);
    // Adds what the checksum covers of one record: the label and the field contents, without separators,
    // enclosing quotes, braces or the backslash of `\"`.
    void AddRecord(const SieRecord& record);
    uint32_t Value() const { return ~crc_; }

private:
    void AddField(const SieField& field);

    std::array<uint32_t, 256> table_;
    uint32_t crc_ = 0xFFFFFFFFu;
    SieFields list_tokens_;
};

// CP437 (the PC8 of #FORMAT) to UTF-8, with the upper half of the code page converted once by iconv.
class Cp437Decoder {
public:
    static Expected<Cp437Decoder> Make();
    void Append(std::string& out, std::string_view cp437) const;

private:
    Cp437Decoder() = default;

    std::array<std::array<char, 4>, 128> utf8_{};  // byte 0x80 + i -> its UTF-8 form, NUL-padded
    std::array<uint8_t, 128> lengths_{};
};

}  // namespace granska::ingest::detail
