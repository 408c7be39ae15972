#include "ingest/sie/detail/sie_lexer.h"

#include <iconv.h>

#include <cstring>

namespace granska::ingest::detail {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The end of a quoted string that starts after the opening quote at `begin`: the index of the closing quote,
// or text.size() when there is none. Sets `escaped` when a `\"` was stepped over.
size_t QuoteEnd(std::string_view text, size_t begin, bool& escaped) {
    size_t k = begin;
    while (k < text.size()) {
        if (text[k] == '\\' && k + 1 < text.size() && text[k + 1] == '"') {
            escaped = true;
            k += 2;
            continue;
        }
        if (text[k] == '"') return k;
        ++k;
    }
    return text.size();
}

// Splits `text` from `pos` into fields; object lists are recognised only when `lists` is set.
void SplitFields(std::string_view text, size_t pos, bool lists, SieFields& fields, bool& unterminated_quote,
                 bool& unterminated_list) {
    const size_t n = text.size();
    while (true) {
        while (pos < n && IsBlank(text[pos])) ++pos;
        if (pos >= n) return;
        const char c = text[pos];
        if (c == '"') {
            bool escaped = false;
            const size_t end = QuoteEnd(text, pos + 1, escaped);
            fields.push_back({text.substr(pos + 1, end - pos - 1), SieFieldKind::kQuoted, escaped});
            if (end == n) {
                unterminated_quote = true;
                return;
            }
            pos = end + 1;
        } else if (c == '{' && lists) {
            size_t k = pos + 1;
            while (k < n && text[k] != '}') {
                if (text[k] == '"') {
                    bool escaped = false;
                    k = QuoteEnd(text, k + 1, escaped);
                    if (k == n) break;
                }
                ++k;
            }
            fields.push_back({text.substr(pos + 1, k - pos - 1), SieFieldKind::kList, false});
            if (k >= n) {
                unterminated_list = true;
                return;
            }
            pos = k + 1;
        } else {
            const size_t begin = pos;
            while (pos < n && !IsBlank(text[pos])) ++pos;
            fields.push_back({text.substr(begin, pos - begin), SieFieldKind::kPlain, false});
        }
    }
}

// [sign] digits [. digits], split into its parts.
struct Number {
    bool negative = false;
    std::string_view integer;   // without leading zeros
    std::string_view fraction;  // as written
};

std::optional<Number> ParseNumber(std::string_view s) {
    Number number;
    size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
        number.negative = s[i] == '-';
        ++i;
    }
    const size_t int_begin = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    const size_t int_end = i;
    size_t frac_begin = i;
    size_t frac_end = i;
    if (i < s.size() && s[i] == '.') {
        frac_begin = ++i;
        while (i < s.size() && IsDigit(s[i])) ++i;
        frac_end = i;
    }
    if (i != s.size() || (int_end == int_begin && frac_end == frac_begin)) return std::nullopt;
    size_t first = int_begin;
    while (first < int_end && s[first] == '0') ++first;
    number.integer = s.substr(first, int_end - first);
    number.fraction = s.substr(frac_begin, frac_end - frac_begin);
    return number;
}

}  // namespace

void SplitSieRecord(std::string_view line, SieRecord& record) {
    record.fields.clear();
    record.unterminated_quote = false;
    record.unterminated_list = false;
    size_t end = 0;
    while (end < line.size() && !IsBlank(line[end])) ++end;
    record.label = line.substr(0, end);
    SplitFields(line, end, /*lists=*/true, record.fields, record.unterminated_quote, record.unterminated_list);
}

void SplitSieList(std::string_view list, SieFields& tokens) {
    tokens.clear();
    bool unterminated_quote = false;
    bool unterminated_list = false;
    SplitFields(list, 0, /*lists=*/false, tokens, unterminated_quote, unterminated_list);
}

void AppendUnescaped(std::string& out, const SieField& field) {
    if (!field.escaped) {
        out.append(field.raw);
        return;
    }
    const std::string_view raw = field.raw;
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == '"') continue;
        out.push_back(raw[i]);
    }
}

std::optional<Money> ParseSieAmount(std::string_view text) {
    const auto number = ParseNumber(text);
    if (!number || number->integer.size() > 13) return std::nullopt;
    int64_t minor = 0;
    for (const char c : number->integer) minor = minor * 10 + (c - '0');
    const std::string_view fraction = number->fraction;
    for (size_t i = 0; i < 2; ++i) minor = minor * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
    for (size_t i = 2; i < fraction.size(); ++i) {
        if (fraction[i] != '0') return std::nullopt;
    }
    return Money{.minor = number->negative ? -minor : minor};
}

std::optional<std::string> NormalizeSieQuantity(std::string_view text) {
    constexpr size_t kMaxDigits = 30;
    const auto number = ParseNumber(text);
    if (!number || number->integer.size() + number->fraction.size() > kMaxDigits) return std::nullopt;
    std::string out;
    if (number->negative) out.push_back('-');
    if (number->integer.empty()) {
        out.push_back('0');
    } else {
        out.append(number->integer);
    }
    if (!number->fraction.empty()) {
        out.push_back('.');
        out.append(number->fraction);
    }
    return out;
}

std::optional<Date> ParseSieDate(std::string_view text) {
    if (text.size() != 8) return std::nullopt;
    int value[3] = {0, 0, 0};
    for (size_t i = 0; i < 8; ++i) {
        if (!IsDigit(text[i])) return std::nullopt;
        int& part = value[i < 4 ? 0 : i < 6 ? 1 : 2];
        part = part * 10 + (text[i] - '0');
    }
    if (value[0] < 1900) return std::nullopt;
    return Date::FromYmd(value[0], value[1], value[2]);
}

SieCrc32::SieCrc32() {
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t crc = i;
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        table_[i] = crc;
    }
}

void SieCrc32::Add(std::string_view bytes) {
    uint32_t crc = crc_;
    for (const char c : bytes) crc = (crc >> 8) ^ table_[(crc ^ static_cast<unsigned char>(c)) & 0xFFu];
    crc_ = crc;
}

void SieCrc32::AddField(const SieField& field) {
    if (!field.escaped) {
        Add(field.raw);
        return;
    }
    const std::string_view raw = field.raw;
    size_t run = 0;
    for (size_t i = 0; i + 1 < raw.size(); ++i) {
        if (raw[i] == '\\' && raw[i + 1] == '"') {
            Add(raw.substr(run, i - run));
            run = i + 1;
            ++i;
        }
    }
    Add(raw.substr(run));
}

void SieCrc32::AddRecord(const SieRecord& record) {
    Add(record.label);
    for (const SieField& field : record.fields) {
        if (field.kind != SieFieldKind::kList) {
            AddField(field);
            continue;
        }
        SplitSieList(field.raw, list_tokens_);
        for (const SieField& token : list_tokens_) AddField(token);
    }
}

Expected<Cp437Decoder> Cp437Decoder::Make() {
    iconv_t cd = iconv_open("UTF-8", "CP437");
    if (cd == reinterpret_cast<iconv_t>(-1)) {  // NOLINT(performance-no-int-to-ptr): iconv_open's failure value
        return Unexpected(Internal("iconv cannot convert CP437 to UTF-8 on this system (glibc gconv modules missing)"));
    }
    char input[128];
    for (int i = 0; i < 128; ++i) input[i] = static_cast<char>(0x80 + i);
    char output[128 * 4];
    char* in_ptr = input;
    size_t in_left = sizeof input;
    char* out_ptr = output;
    size_t out_left = sizeof output;
    const size_t converted = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    iconv_close(cd);
    if (converted == static_cast<size_t>(-1) || in_left != 0) {
        return Unexpected(Internal("iconv failed to convert the CP437 code page to UTF-8"));
    }

    Cp437Decoder decoder;
    const size_t produced = sizeof output - out_left;
    size_t pos = 0;
    for (size_t i = 0; i < 128; ++i) {
        if (pos >= produced) return Unexpected(Internal("iconv returned a short CP437 table"));
        const auto lead = static_cast<unsigned char>(output[pos]);
        const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        if (pos + length > produced || length > 3) return Unexpected(Internal("iconv returned a bad CP437 table"));
        for (size_t k = 0; k < length; ++k) decoder.utf8_[i][k] = output[pos + k];
        decoder.lengths_[i] = static_cast<uint8_t>(length);
        pos += length;
    }
    return decoder;
}

void Cp437Decoder::Append(std::string& out, std::string_view cp437) const {
    size_t ascii = 0;  // ASCII passes through: find where it ends, eight bytes at a time
    while (ascii + 8 <= cp437.size()) {
        uint64_t word = 0;
        std::memcpy(&word, cp437.data() + ascii, sizeof word);
        if ((word & 0x8080808080808080ull) != 0) break;
        ascii += 8;
    }
    size_t run = 0;
    for (size_t i = ascii; i < cp437.size(); ++i) {
        const auto c = static_cast<unsigned char>(cp437[i]);
        if (c < 0x80) continue;
        out.append(cp437.data() + run, i - run);
        out.append(utf8_[c - 0x80].data(), lengths_[c - 0x80]);
        run = i + 1;
    }
    out.append(cp437.data() + run, cp437.size() - run);
}

}  // namespace granska::ingest::detail
