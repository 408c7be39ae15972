#include "ingest/detail/csv_tokenizer.h"

#include <fmt/format.h>

#include <algorithm>

#include "ingest/detail/text.h"

namespace granska::ingest::detail {

namespace {

size_t Byte(char c) { return static_cast<unsigned char>(c); }

}  // namespace

CsvTokenizer::CsvTokenizer(std::istream& in, size_t chunk_bytes, size_t max_record_bytes)
    : in_(in), chunk_bytes_(std::max<size_t>(chunk_bytes, 1)), max_record_bytes_(max_record_bytes) {
    quoted_stop_[Byte(quote_)] = true;
    quoted_stop_[Byte('\n')] = true;
    quoted_stop_[Byte('\r')] = true;
    SetDelimiter(',');
}

void CsvTokenizer::SetDelimiter(char delimiter) {
    unquoted_stop_[Byte(delimiter_)] = false;
    delimiter_ = delimiter;
    unquoted_stop_[Byte('\n')] = true;
    unquoted_stop_[Byte('\r')] = true;
    unquoted_stop_[Byte(delimiter_)] = true;
}

void CsvTokenizer::SetQuote(char quote) {
    quoted_stop_[Byte(quote_)] = false;
    quote_ = quote;
    quoted_stop_[Byte('\n')] = true;
    quoted_stop_[Byte('\r')] = true;
    quoted_stop_[Byte(quote_)] = true;
}

void CsvTokenizer::ReadChunk() {
    if (buffer_.size() < size_ + chunk_bytes_) buffer_.resize(size_ + chunk_bytes_);
    in_.read(buffer_.data() + size_, static_cast<std::streamsize>(chunk_bytes_));
    const auto got = static_cast<size_t>(in_.gcount());
    size_ += got;
    if (got < chunk_bytes_) eof_ = true;
}

std::string_view CsvTokenizer::Peek(size_t bytes) {
    while (size_ - pos_ < bytes && !eof_) ReadChunk();
    return std::string_view(buffer_).substr(pos_, size_ - pos_);
}

void CsvTokenizer::Skip(size_t bytes) { pos_ = std::min(size_, pos_ + bytes); }

bool CsvTokenizer::Refill() {
    if (pos_ < size_) {
        window_end_ = std::min(size_, std::max(window_end_, pos_) + chunk_bytes_);
        return true;
    }
    if (eof_) return false;
    buffer_start_ += size_;
    size_ = 0;
    pos_ = 0;
    ReadChunk();
    window_end_ = std::min(size_, chunk_bytes_);
    return size_ > 0;
}

bool CsvTokenizer::RecordIsValidUtf8() const {
    if (!IsValidUtf8(record_)) return false;
    // Valid as a whole, so each field is valid unless a character straddles a field boundary; then the next
    // field would start with a continuation byte.
    for (const size_t end : ends_) {
        if (end < record_.size() && (static_cast<unsigned char>(record_[end]) & 0xC0) == 0x80) return false;
    }
    return true;
}

Error CsvTokenizer::TooLarge(State state) {
    if (state == State::kQuoted) {
        error_line_ = quote_line_;
        error_field_ = quote_field_;
        return InvalidInput("unterminated_quote",
                            fmt::format("The quoted field that opens on line {} runs on for more than {} bytes; a "
                                        "closing quote (\") is probably missing. Close the quote, or double "
                                        "quotes inside a quoted field (\"\").",
                                        quote_line_, max_record_bytes_));
    }
    error_line_ = record_line_;
    error_field_ = ends_.size();
    return InvalidInput("record_too_large",
                        fmt::format("The record on line {} is longer than {} bytes; this does not look like a "
                                    "CSV file with line breaks between rows. Check the file's format.",
                                    record_line_, max_record_bytes_));
}

Expected<bool> CsvTokenizer::Next() {
    record_.clear();
    ends_.clear();
    // Line breaks between records: blank lines and the LF of a CRLF.
    for (;;) {
        if (pos_ >= window_end_ && !Refill()) return false;
        const char c = buffer_[pos_];
        if (c != '\n' && c != '\r') break;
        CountLineBreak(c);
        ++pos_;
    }
    record_line_ = line_;

    State state = State::kFieldStart;
    for (;;) {
        if (pos_ >= window_end_ && !Refill()) {
            if (state == State::kQuoted) {
                error_line_ = quote_line_;
                error_field_ = quote_field_;
                return Unexpected(InvalidInput(
                    "unterminated_quote",
                    fmt::format("The quoted field that opens on line {} is never closed: the file ends inside it. "
                                "Add the closing quote (\"), and double quotes inside a quoted field (\"\").",
                                quote_line_)));
            }
            ends_.push_back(record_.size());
            return true;
        }
        const char* const data = buffer_.data();
        const char* p = data + pos_;
        const char* const end = data + window_end_;
        switch (state) {
            case State::kFieldStart:
                if (*p == quote_) {
                    state = State::kQuoted;
                    quote_line_ = line_;
                    quote_field_ = ends_.size();
                    last_was_cr_ = false;
                    ++p;
                    break;
                }
                state = State::kUnquoted;
                [[fallthrough]];
            case State::kUnquoted: {
                const char* const start = p;
                while (p < end && !unquoted_stop_[Byte(*p)]) ++p;
                if (p != start) {
                    record_.append(start, p);
                    last_was_cr_ = false;
                }
                if (p == end) break;
                if (*p == delimiter_) {
                    ends_.push_back(record_.size());
                    state = State::kFieldStart;
                    last_was_cr_ = false;
                    ++p;
                    break;
                }
                CountLineBreak(*p);
                pos_ = static_cast<size_t>(p + 1 - data);
                ends_.push_back(record_.size());
                if (record_.size() + ends_.size() > max_record_bytes_) return Unexpected(TooLarge(state));
                return true;
            }
            case State::kQuoted: {
                const char* const start = p;
                while (p < end && !quoted_stop_[Byte(*p)]) ++p;
                if (p != start) {
                    record_.append(start, p);
                    last_was_cr_ = false;
                }
                if (p == end) break;
                if (*p == quote_) {
                    state = State::kQuoteInQuoted;
                    last_was_cr_ = false;
                } else {
                    record_.push_back(*p);
                    CountLineBreak(*p);
                }
                ++p;
                break;
            }
            case State::kQuoteInQuoted:
                if (*p == quote_) {  // a doubled quote stands for one
                    record_.push_back(quote_);
                    state = State::kQuoted;
                    ++p;
                } else {
                    state = State::kUnquoted;  // the field's closing quote; what follows is read as unquoted
                }
                break;
        }
        pos_ = static_cast<size_t>(p - data);
        if (record_.size() + ends_.size() > max_record_bytes_) return Unexpected(TooLarge(state));
    }
}

}  // namespace granska::ingest::detail
