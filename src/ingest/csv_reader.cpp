#include "ingest/csv_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <utility>
#include <vector>

#include "ingest/detail/csv_tokenizer.h"
#include "ingest/detail/decoding_streambuf.h"
#include "ingest/detail/text.h"
#include "ingest/row_mapper.h"

namespace granska::ingest {

namespace {

using detail::TextEncoding;
using detail::TrimSpaces;

constexpr size_t kHeadBytes = size_t{64} << 10;  // decides the encoding of a stream without a byte-order mark
constexpr size_t kTextCheckBytes = 8192;         // the prefix that must look like text
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string DelimiterName(char c) {
    switch (c) {
        case '\t':
            return "tab";
        case ',':
            return "',' (comma)";
        case ';':
            return "';' (semicolon)";
        case '|':
            return "'|' (pipe)";
        default:
            return fmt::format("'{}'", c);
    }
}

std::string DelimiterValue(char c) { return c == '\t' ? "tab" : std::string(1, c); }

// Counts the candidates outside quotes on the first line; the most frequent wins, ties in this order.
char SniffDelimiter(std::string_view head, char quote) {
    constexpr char kCandidates[] = {',', ';', '\t', '|'};
    size_t counts[4] = {0, 0, 0, 0};
    bool in_quotes = false;
    for (const char c : head) {
        if (c == quote) {
            in_quotes = !in_quotes;
        } else if (!in_quotes) {
            if (c == '\n' || c == '\r') break;
            for (size_t i = 0; i < 4; ++i) counts[i] += c == kCandidates[i] ? 1 : 0;
        }
    }
    size_t best = 0;
    for (size_t i = 1; i < 4; ++i) {
        if (counts[i] > counts[best]) best = i;
    }
    return kCandidates[best];
}

// The first control byte other than tab, CR and LF, with its line, if any.
std::optional<std::pair<unsigned char, int64_t>> FindControlByte(std::string_view head) {
    int64_t line = 1;
    for (const char c : head) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == '\n') ++line;
        if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') return std::pair{byte, line};
    }
    return std::nullopt;
}

// A valid UTF-8 prefix of head, cut before a character the window may have split.
bool HeadIsUtf8(std::string_view head, bool complete) {
    return detail::IsValidUtf8(complete ? head : head.substr(0, detail::Utf8SafeCut(head)));
}

class CsvReader {
public:
    // utf8_checked: the caller has checked that the whole stream is valid UTF-8.
    CsvReader(std::istream& in, const ParseOptions& options, const BatchSink& sink, const ByteProgress& progress,
              bool utf8_checked)
        : in_(in),
          options_(options),
          progress_(progress),
          utf8_checked_(utf8_checked),
          mapper_(options, report_, sink) {}

    ParseReport Read() {
        if (auto read = ReadAll(); !read) report_.error = std::move(read).error();
        return std::move(report_);
    }

private:
    Expected<void> ValidateOptions() const;
    Expected<void> OpenDecoded();
    Expected<void> ReadHeader();
    Expected<void> ReadAll();
    Expected<bool> NextRecord();

    Error Fail(std::string code, std::string message, std::optional<int64_t> line, std::string column = {}) const {
        return FileError(options_, std::move(code), std::move(message), line, std::move(column));
    }

    std::istream& in_;
    const ParseOptions& options_;
    const ByteProgress& progress_;
    bool utf8_checked_;  // records need no UTF-8 check: the file was checked, or decoded from another encoding
    ParseReport report_;
    RowMapper mapper_;
    std::unique_ptr<detail::DecodingStreambuf> decoded_buffer_;
    std::unique_ptr<std::istream> decoded_;
    std::unique_ptr<detail::CsvTokenizer> tokenizer_;
    std::vector<std::string> headers_;
    char delimiter_ = ',';
};

Expected<void> CsvReader::ValidateOptions() const {
    const Dialect& dialect = options_.dialect;
    if (dialect.delimiter && (*dialect.delimiter == '\n' || *dialect.delimiter == '\r' || *dialect.delimiter == '\0' ||
                              *dialect.delimiter == dialect.quote.value_or('"'))) {
        return Unexpected(BadRequest("bad_option", fmt::format("The delimiter cannot be byte 0x{:02X}; use ',', ';', "
                                                               "'|' or tab.",
                                                               static_cast<unsigned char>(*dialect.delimiter))));
    }
    if (dialect.quote && *dialect.quote != '"' && *dialect.quote != '\'') {
        return Unexpected(BadRequest("bad_option", "The quote character must be '\"' or '''."));
    }
    if (dialect.decimal_separator && *dialect.decimal_separator != '.' && *dialect.decimal_separator != ',') {
        return Unexpected(
            BadRequest("bad_option", fmt::format("The decimal separator must be '.' or ',', not byte 0x{:02X}.",
                                                 static_cast<unsigned char>(*dialect.decimal_separator))));
    }
    if (dialect.date_format && *dialect.date_format != "iso" && *dialect.date_format != "ymd" &&
        *dialect.date_format != "dmy" && *dialect.date_format != "mdy") {
        return Unexpected(BadRequest("bad_option", fmt::format("The date format '{}' is unknown; use iso, ymd, dmy "
                                                               "or mdy.",
                                                               *dialect.date_format)));
    }
    if (dialect.encoding && !detail::TextEncodingFromName(*dialect.encoding)) {
        return Unexpected(BadRequest("bad_option", fmt::format("The encoding '{}' is unknown; use utf-8, utf-16le, "
                                                               "utf-16be or windows-1252 (latin-1).",
                                                               *dialect.encoding)));
    }
    if (options_.batch_size == 0) return Unexpected(BadRequest("bad_option", "The batch size must be at least 1."));
    return {};
}

// Reads the head of the raw stream, settles the encoding and puts a decoding stream in front of the tokenizer.
Expected<void> CsvReader::OpenDecoded() {
    std::string head(kHeadBytes, '\0');
    in_.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in_.gcount()));
    const bool complete = head.size() < kHeadBytes;
    if (head.empty()) {
        return Unexpected(
            Fail("empty_file", "The file is empty; upload a CSV file with a header row and data.", std::nullopt));
    }

    TextEncoding encoding = TextEncoding::kUtf8;
    if (head.starts_with("\xFF\xFE")) {
        encoding = TextEncoding::kUtf16Le;
        head.erase(0, 2);
        report_.encoding = "utf-16le";
    } else if (head.starts_with("\xFE\xFF")) {
        encoding = TextEncoding::kUtf16Be;
        head.erase(0, 2);
        report_.encoding = "utf-16be";
    } else if (head.starts_with(kUtf8Bom)) {
        head.erase(0, kUtf8Bom.size());
        report_.encoding = "utf-8-bom";
    } else if (options_.dialect.encoding) {
        encoding = *detail::TextEncodingFromName(*options_.dialect.encoding);
        report_.encoding = encoding == TextEncoding::kUtf8      ? "utf-8"
                           : encoding == TextEncoding::kUtf16Le ? "utf-16le"
                           : encoding == TextEncoding::kUtf16Be ? "utf-16be"
                                                                : "windows-1252";
    } else if (HeadIsUtf8(head, complete)) {
        report_.encoding = "utf-8";
    } else {
        encoding = TextEncoding::kWindows1252;
        report_.encoding = "windows-1252";
    }
    if (encoding != TextEncoding::kUtf8) utf8_checked_ = true;  // the decoder writes only valid UTF-8
    decoded_buffer_ = std::make_unique<detail::DecodingStreambuf>(in_, std::move(head), encoding, options_.chunk_bytes);
    decoded_ = std::make_unique<std::istream>(decoded_buffer_.get());
    tokenizer_ = std::make_unique<detail::CsvTokenizer>(*decoded_, options_.chunk_bytes, options_.max_record_bytes);

    const std::string_view text = tokenizer_->Peek(kTextCheckBytes);
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return Unexpected(Fail("empty_file",
                               "The file has no content (only a byte-order mark or blank lines); upload a CSV file "
                               "with a header row and data.",
                               std::nullopt));
    }
    if (const auto control = FindControlByte(text.substr(0, kTextCheckBytes))) {
        return Unexpected(
            Fail("binary_data",
                 fmt::format("The file does not look like text/CSV: it contains the control byte 0x{:02X} on line {}. "
                             "Upload a CSV file (comma- or semicolon-separated text), or an Excel, JSON, SIE or XML "
                             "file as it is.",
                             control->first, control->second),
                 control->second));
    }
    const char quote = options_.dialect.quote.value_or('"');
    delimiter_ = options_.dialect.delimiter.value_or(SniffDelimiter(text, quote));
    tokenizer_->SetDelimiter(delimiter_);
    tokenizer_->SetQuote(quote);
    report_.dialect["delimiter"] = DelimiterValue(delimiter_);
    report_.dialect["quote"] = std::string(1, quote);
    mapper_.SetDefaultDecimalSeparator(delimiter_ == ';' ? ',' : '.');
    mapper_.SetWrongWidthHint(fmt::format("Check that the delimiter is {} and that fields containing it are quoted.",
                                          DelimiterName(delimiter_)));
    return {};
}

Expected<bool> CsvReader::NextRecord() {
    Expected<bool> next = tokenizer_->Next();
    if (next) return next;
    Error error = std::move(next).error();
    error.file = options_.file_name;
    error.line = tokenizer_->ErrorLine();
    if (tokenizer_->ErrorField() < headers_.size()) error.column = headers_[tokenizer_->ErrorField()];
    return Unexpected(std::move(error));
}

Expected<void> CsvReader::ReadHeader() {
    const Expected<bool> has_header = NextRecord();
    if (!has_header) return Unexpected(has_header.error());
    if (!*has_header) {
        return Unexpected(Fail("empty_file",
                               "The file has no content (only a byte-order mark or blank lines); upload a CSV file "
                               "with a header row and data.",
                               std::nullopt));
    }
    const int64_t line = tokenizer_->RecordLine();
    const bool all_valid = tokenizer_->RecordIsValidUtf8();
    for (size_t i = 0; i < tokenizer_->FieldCount(); ++i) {
        const std::string_view header = tokenizer_->Field(i);
        if (!all_valid && !detail::IsValidUtf8(header)) {
            return Unexpected(Fail("bad_encoding",
                                   fmt::format("Header {} is not valid UTF-8 although the file was read as UTF-8. Set "
                                               "the encoding (e.g. windows-1252), or save the file as \"CSV UTF-8\".",
                                               i + 1),
                                   line));
        }
        headers_.emplace_back(TrimSpaces(header));
    }
    return mapper_.SetHeader(headers_, line);
}

Expected<void> CsvReader::ReadAll() {
    if (auto valid = ValidateOptions(); !valid) return valid;
    if (auto opened = OpenDecoded(); !opened) return opened;
    if (auto header = ReadHeader(); !header) return header;

    std::vector<Cell> cells;
    int64_t records = 0;
    for (;;) {
        const Expected<bool> next = NextRecord();
        if (!next) return Unexpected(next.error());
        if (!*next) break;
        const size_t count = tokenizer_->FieldCount();
        const int64_t line = tokenizer_->RecordLine();
        if (!utf8_checked_ && !tokenizer_->RecordIsValidUtf8()) {
            for (size_t i = 0; i < count; ++i) {
                if (detail::IsValidUtf8(tokenizer_->Field(i))) continue;
                return Unexpected(Fail("bad_encoding",
                                       fmt::format("The value is not valid UTF-8 although the file was read as {}. "
                                                   "Set the encoding (e.g. windows-1252), or save the file as \"CSV "
                                                   "UTF-8\".",
                                                   report_.encoding),
                                       line, i < headers_.size() ? headers_[i] : ""));
            }
        }
        cells.resize(count);
        for (size_t i = 0; i < count; ++i) cells[i] = Cell{CellType::kText, tokenizer_->Field(i)};
        if (auto added = mapper_.AddRow(cells, line); !added) return added;
        if (progress_ && ++records % options_.batch_size == 0) progress_(decoded_buffer_->raw_bytes_read());
    }
    if (auto finished = mapper_.Finish(); !finished) return finished;
    if (decoded_buffer_->replaced() > 0) {
        report_.Add(Problem{.severity = Severity::kWarning,
                            .code = "invalid_utf16",
                            .message = fmt::format("{} invalid UTF-16 code units were replaced by U+FFFD.",
                                                   decoded_buffer_->replaced()),
                            .line = std::nullopt,
                            .location = {},
                            .field = {}});
    }
    if (progress_) progress_(decoded_buffer_->raw_bytes_read());
    return {};
}

// True when the whole file is valid UTF-8 (checked in chunks; a character split by a chunk is carried over).
bool FileIsUtf8(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string buffer;
    std::string carry;
    constexpr size_t kChunk = size_t{1} << 20;
    for (;;) {
        buffer.assign(carry);
        const size_t offset = buffer.size();
        buffer.resize(offset + kChunk);
        in.read(buffer.data() + offset, static_cast<std::streamsize>(kChunk));
        buffer.resize(offset + static_cast<size_t>(in.gcount()));
        const bool last = static_cast<size_t>(in.gcount()) < kChunk;
        const size_t cut = last ? buffer.size() : detail::Utf8SafeCut(buffer);
        if (!detail::IsValidUtf8(std::string_view(buffer).substr(0, cut))) return false;
        if (last) return true;
        carry = buffer.substr(cut);
    }
}

class CsvParser final : public Parser {
public:
    Format format() const override { return Format::kCsv; }

    ParseReport Parse(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                      const ByteProgress& progress) const override {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            ParseReport report;
            report.error =
                FileError(options, "unreadable_file", fmt::format("Cannot open the file '{}'.", path.string()));
            return report;
        }
        char bom[3] = {0, 0, 0};
        in.read(bom, 3);
        const std::string_view head(bom, static_cast<size_t>(in.gcount()));
        in.seekg(0);
        const bool has_bom = head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF") || head == kUtf8Bom;
        if (options.dialect.encoding || has_bom) return ReadCsv(in, options, sink, progress);
        ParseOptions decided = options;
        const bool utf8 = FileIsUtf8(path);
        decided.dialect.encoding = utf8 ? "utf-8" : "windows-1252";
        CsvReader reader(in, decided, sink, progress, true);
        return reader.Read();
    }
};

}  // namespace

ParseReport ReadCsv(std::istream& in, const ParseOptions& options, const BatchSink& sink,
                    const ByteProgress& progress) {
    CsvReader reader(in, options, sink, progress, false);
    ParseReport report = reader.Read();
    report.format = Format::kCsv;
    return report;
}

std::unique_ptr<Parser> MakeCsvParser() { return std::make_unique<CsvParser>(); }

}  // namespace granska::ingest
