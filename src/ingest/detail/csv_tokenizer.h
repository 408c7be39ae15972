#pragma once
// Splits an RFC 4180 byte stream into records of fields, reading the stream in chunks into one reused buffer.
// Quoted fields may hold delimiters, doubled quotes and line breaks; records end at LF, CRLF or a lone CR;
// blank lines are skipped. Lenient where RFC 4180 is silent: a quote inside an unquoted field, or text after a
// closing quote, is kept literally. Field bytes are copied into one reused record buffer, so a record costs no
// allocation once the buffers have grown to the longest record.

#include <array>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace granska::ingest::detail {

class CsvTokenizer {
public:
    // chunk_bytes: bytes per read; max_record_bytes: a longer record is an error (bounds memory).
    CsvTokenizer(std::istream& in, size_t chunk_bytes, size_t max_record_bytes);

    // The unread bytes, after reading ahead until at least `bytes` are buffered or the stream ends. Only before
    // the first Next(): for BOM, encoding and delimiter sniffing.
    std::string_view Peek(size_t bytes);
    // Drops `bytes` of the peeked bytes (a BOM) without counting them as a line.
    void Skip(size_t bytes);
    void SetDelimiter(char delimiter);
    void SetQuote(char quote);  // '"' unless set

    // Reads the next record: true when there is one, false at the end of the input. Errors (code and message
    // only; the caller adds file and column): "unterminated_quote", "record_too_large".
    Expected<bool> Next();

    size_t FieldCount() const { return ends_.size(); }
    std::string_view Field(size_t index) const {
        const size_t begin = index == 0 ? 0 : ends_[index - 1];
        return std::string_view(record_).substr(begin, ends_[index] - begin);
    }
    // True when every field of the current record is valid UTF-8 (one pass over the record, not one per field).
    bool RecordIsValidUtf8() const;
    // 1-based physical line where the current record starts.
    int64_t RecordLine() const { return record_line_; }
    // Line of the opening quote and index of the field of the last error, for unterminated quotes.
    int64_t ErrorLine() const { return error_line_; }
    size_t ErrorField() const { return error_field_; }
    // Bytes of the stream consumed so far.
    uint64_t Offset() const { return buffer_start_ + pos_; }

private:
    enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };

    bool Refill();
    void ReadChunk();  // appends one chunk to the buffer
    void CountLineBreak(char c) {
        if (c == '\r' || !last_was_cr_) ++line_;  // the LF of a CRLF is the same line break
        last_was_cr_ = c == '\r';
    }
    Error TooLarge(State state);

    std::istream& in_;
    size_t chunk_bytes_;
    size_t max_record_bytes_;
    char delimiter_ = ',';
    char quote_ = '"';
    std::array<bool, 256> unquoted_stop_{};
    std::array<bool, 256> quoted_stop_{};

    std::string buffer_;  // bytes [0, size_) are valid; its capacity is reused
    size_t size_ = 0;
    size_t pos_ = 0;
    size_t window_end_ = 0;      // bytes are handed out chunk by chunk, even when read ahead by Peek
    uint64_t buffer_start_ = 0;  // stream offset of buffer_[0]
    bool eof_ = false;

    std::string record_;        // the current record's field bytes, unescaped and concatenated
    std::vector<size_t> ends_;  // end offset of each field in record_
    int64_t line_ = 1;
    bool last_was_cr_ = false;
    int64_t record_line_ = 0;
    int64_t quote_line_ = 0;
    size_t quote_field_ = 0;
    int64_t error_line_ = 0;
    size_t error_field_ = 0;
};

}  // namespace granska::ingest::detail
