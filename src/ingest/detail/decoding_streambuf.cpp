#include "ingest/detail/decoding_streambuf.h"

#include <algorithm>
#include <array>

#include "ingest/detail/text.h"
#include "ingest/detail/windows_1252.h"

namespace granska::ingest::detail {

namespace {

constexpr uint32_t kReplacement = 0xFFFD;

}  // namespace

std::optional<TextEncoding> TextEncodingFromName(std::string_view name) {
    std::string key = AsciiLower(name);
    std::erase(key, '-');
    std::erase(key, '_');
    if (key == "utf8") return TextEncoding::kUtf8;
    if (key == "utf16le" || key == "utf16") return TextEncoding::kUtf16Le;
    if (key == "utf16be") return TextEncoding::kUtf16Be;
    if (key == "windows1252" || key == "cp1252" || key == "ansi" || key == "latin1" || key == "iso88591") {
        return TextEncoding::kWindows1252;
    }
    return std::nullopt;
}

void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

DecodingStreambuf::DecodingStreambuf(std::istream& source, std::string head, TextEncoding encoding, size_t chunk_bytes)
    : source_(source), head_(std::move(head)), encoding_(encoding), chunk_bytes_(std::max<size_t>(chunk_bytes, 2)) {}

void DecodingStreambuf::Decode(const char* data, size_t size) {
    out_.clear();
    if (encoding_ == TextEncoding::kUtf8) {
        out_.assign(data, size);
        return;
    }
    if (encoding_ == TextEncoding::kWindows1252) {
        out_.reserve(size + size / 4);
        for (size_t i = 0; i < size; ++i) {
            const auto byte = static_cast<unsigned char>(data[i]);
            if (byte < 0x80) {
                out_.push_back(static_cast<char>(byte));
            } else if (byte < 0xA0) {
                // The five undefined bytes keep their Latin-1 (C1 control) meaning.
                const uint16_t code_point = kWindows1252High[byte - 0x80];
                AppendUtf8(out_, code_point == 0 ? byte : code_point);
            } else {
                AppendUtf8(out_, byte);
            }
        }
        return;
    }
    // UTF-16: pairs of bytes, surrogate pairs joined; a chunk may end inside either.
    std::string bytes = std::move(carry_);
    carry_.clear();
    bytes.append(data, size);
    const bool little = encoding_ == TextEncoding::kUtf16Le;
    auto unit_at = [&](size_t i) -> uint32_t {
        const auto a = static_cast<unsigned char>(bytes[i]);
        const auto b = static_cast<unsigned char>(bytes[i + 1]);
        return little ? (a | (b << 8)) : ((a << 8) | b);
    };
    out_.reserve(bytes.size());
    size_t i = 0;
    while (i + 1 < bytes.size()) {
        const uint32_t unit = unit_at(i);
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            if (i + 3 >= bytes.size()) break;  // the low half is in the next chunk
            const uint32_t low = unit_at(i + 2);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                AppendUtf8(out_, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
                i += 4;
            } else {
                AppendUtf8(out_, kReplacement);
                ++replaced_;
                i += 2;
            }
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            AppendUtf8(out_, kReplacement);
            ++replaced_;
            i += 2;
        } else {
            AppendUtf8(out_, unit);
            i += 2;
        }
    }
    carry_ = bytes.substr(i);
}

DecodingStreambuf::int_type DecodingStreambuf::underflow() {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    for (;;) {
        if (head_pos_ < head_.size()) {
            const size_t take = std::min(chunk_bytes_, head_.size() - head_pos_);
            raw_bytes_read_ += take;
            Decode(head_.data() + head_pos_, take);
            head_pos_ += take;
        } else {
            raw_.resize(chunk_bytes_);
            source_.read(raw_.data(), static_cast<std::streamsize>(raw_.size()));
            const auto got = static_cast<size_t>(source_.gcount());
            if (got == 0) {
                if (!carry_.empty()) {  // an odd trailing byte or a lone high surrogate
                    carry_.clear();
                    out_.clear();
                    AppendUtf8(out_, kReplacement);
                    ++replaced_;
                    setg(out_.data(), out_.data(), out_.data() + out_.size());
                    return traits_type::to_int_type(*gptr());
                }
                return traits_type::eof();
            }
            raw_bytes_read_ += got;
            Decode(raw_.data(), got);
        }
        if (!out_.empty()) {
            setg(out_.data(), out_.data(), out_.data() + out_.size());
            return traits_type::to_int_type(*gptr());
        }
    }
}

}  // namespace granska::ingest::detail
