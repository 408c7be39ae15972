#include "ingest/csv_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/date.h"
#include "core/money.h"
#include "ingest/detail/csv_tokenizer.h"
#include "ingest/detail/text.h"

namespace granska::ingest {

namespace {

using detail::Excerpt;
using detail::TrimSpaces;

constexpr size_t kTextCheckBytes = 8192;  // the prefix that must look like text
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string DelimiterName(char c) {
    switch (c) {
        case '\t':
            return "tab";
        case ',':
            return "',' (comma)";
        case ';':
            return "';' (semicolon)";
        default:
            return fmt::format("'{}'", c);
    }
}

std::string SeparatorName(char c) { return c == ',' ? "',' (decimal comma)" : "'.' (decimal point)"; }

// Counts ',' ';' and tab outside quotes on the first line; the most frequent wins, ties in that order.
char SniffDelimiter(std::string_view head) {
    constexpr char kCandidates[] = {',', ';', '\t'};
    size_t counts[3] = {0, 0, 0};
    bool in_quotes = false;
    for (const char c : head) {
        if (c == '"') {
            in_quotes = !in_quotes;
        } else if (!in_quotes) {
            if (c == '\n' || c == '\r') break;
            for (size_t i = 0; i < 3; ++i) counts[i] += c == kCandidates[i] ? 1 : 0;
        }
    }
    size_t best = 0;
    for (size_t i = 1; i < 3; ++i) {
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

// One unmapped column as it goes into raw_data.
struct RawColumn {
    size_t index;
    std::string key;  // JSON-escaped and quoted, followed by ':'
};

class CsvReader {
public:
    CsvReader(std::istream& in, const CsvOptions& options, const BatchSink& sink, const ByteProgress& progress)
        : options_(options),
          sink_(sink),
          progress_(progress),
          tokenizer_(in, options.chunk_bytes, options.max_record_bytes) {}

    Expected<CsvSummary> Read();

private:
    Expected<void> ValidateOptions() const;
    Expected<void> ReadPrelude();
    Expected<void> ReadHeader();
    Expected<void> MapRecord(Transaction& tx);
    Expected<void> Flush();
    Expected<bool> NextRecord();
    Expected<std::string_view> Required(Field field, std::string_view what);

    Error FileError(std::string code, std::string message, std::optional<int64_t> line, std::string column = {}) const {
        Error error = InvalidInput(std::move(code), std::move(message));
        error.file = options_.file_name;
        error.line = line;
        error.column = std::move(column);
        return error;
    }
    std::string_view FieldOf(Field field) const {
        const std::optional<size_t> column = summary_.mapping.Of(field);
        return column ? tokenizer_.Field(*column) : std::string_view{};
    }
    const std::string& HeaderOf(Field field) const { return summary_.headers[*summary_.mapping.Of(field)]; }

    const CsvOptions& options_;
    const BatchSink& sink_;
    const ByteProgress& progress_;
    detail::CsvTokenizer tokenizer_;
    CsvSummary summary_;
    int64_t header_line_ = 1;
    std::vector<RawColumn> raw_columns_;
    std::vector<Transaction> batch_;  // rows are reused from batch to batch so their strings keep capacity
    size_t filled_ = 0;
};

Expected<void> CsvReader::ValidateOptions() const {
    if (options_.delimiter && (*options_.delimiter == '"' || *options_.delimiter == '\n' ||
                               *options_.delimiter == '\r' || *options_.delimiter == '\0')) {
        return Unexpected(
            BadRequest("bad_option", fmt::format("The delimiter cannot be byte 0x{:02X}; use ',', ';' or tab.",
                                                 static_cast<unsigned char>(*options_.delimiter))));
    }
    if (options_.decimal_separator && *options_.decimal_separator != '.' && *options_.decimal_separator != ',') {
        return Unexpected(
            BadRequest("bad_option", fmt::format("The decimal separator must be '.' or ',', not byte 0x{:02X}.",
                                                 static_cast<unsigned char>(*options_.decimal_separator))));
    }
    if (options_.batch_size == 0) return Unexpected(BadRequest("bad_option", "The batch size must be at least 1."));
    return {};
}

Expected<void> CsvReader::ReadPrelude() {
    std::string_view head = tokenizer_.Peek(kTextCheckBytes + kUtf8Bom.size());
    if (head.empty()) {
        return Unexpected(
            FileError("empty_file", "The file is empty; upload a CSV file with a header row and data.", std::nullopt));
    }
    if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF")) {
        return Unexpected(FileError("bad_encoding",
                                    "The file is UTF-16 encoded; it must be UTF-8 (other encodings come later). "
                                    "Save it again as \"CSV UTF-8\".",
                                    1));
    }
    if (head.starts_with(kUtf8Bom)) {
        tokenizer_.Skip(kUtf8Bom.size());
        head.remove_prefix(kUtf8Bom.size());
    }
    if (const auto control = FindControlByte(head.substr(0, kTextCheckBytes))) {
        return Unexpected(FileError(
            "binary_data",
            fmt::format("The file does not look like text/CSV: it contains the control byte 0x{:02X} on line {}. "
                        "Upload a CSV file (comma- or semicolon-separated text).",
                        control->first, control->second),
            control->second));
    }
    summary_.delimiter = options_.delimiter.value_or(SniffDelimiter(head));
    summary_.decimal_separator = options_.decimal_separator.value_or(summary_.delimiter == ';' ? ',' : '.');
    tokenizer_.SetDelimiter(summary_.delimiter);
    return {};
}

Expected<bool> CsvReader::NextRecord() {
    Expected<bool> next = tokenizer_.Next();
    if (next) return next;
    Error error = std::move(next).error();
    error.file = options_.file_name;
    error.line = tokenizer_.ErrorLine();
    if (tokenizer_.ErrorField() < summary_.headers.size()) error.column = summary_.headers[tokenizer_.ErrorField()];
    return Unexpected(std::move(error));
}

Expected<void> CsvReader::ReadHeader() {
    const Expected<bool> has_header = NextRecord();
    if (!has_header) return Unexpected(has_header.error());
    if (!*has_header) {
        return Unexpected(
            FileError("empty_file",
                      "The file has no content (only a byte-order mark or blank lines); upload a CSV file with a "
                      "header row and data.",
                      std::nullopt));
    }
    header_line_ = tokenizer_.RecordLine();
    const size_t count = tokenizer_.FieldCount();
    summary_.headers.reserve(count);
    const bool all_valid = tokenizer_.RecordIsValidUtf8();
    for (size_t i = 0; i < count; ++i) {
        const std::string_view header = tokenizer_.Field(i);
        if (!all_valid && !detail::IsValidUtf8(header)) {
            return Unexpected(FileError(
                "bad_encoding",
                fmt::format("Header {} is not valid UTF-8; the file must be UTF-8 (other encodings come later). Save "
                            "it again as \"CSV UTF-8\".",
                            i + 1),
                header_line_));
        }
        summary_.headers.emplace_back(TrimSpaces(header));
    }

    Expected<ResolvedMapping> mapping = ResolveMapping(summary_.headers, options_.mapping);
    if (!mapping) {
        Error error = std::move(mapping).error();
        error.file = options_.file_name;
        error.line = header_line_;
        return Unexpected(std::move(error));
    }
    summary_.mapping = *mapping;

    // Keys are unique, so raw_data never has duplicate names.
    std::vector<bool> mapped(count, false);
    for (const std::optional<size_t>& column : summary_.mapping.column) {
        if (column) mapped[*column] = true;
    }
    std::vector<std::string> names;
    for (size_t i = 0; i < count; ++i) {
        if (mapped[i]) continue;
        std::string name = summary_.headers[i].empty() ? fmt::format("column_{}", i + 1) : summary_.headers[i];
        for (int suffix = 2; std::find(names.begin(), names.end(), name) != names.end(); ++suffix) {
            name = fmt::format("{}_{}", summary_.headers[i].empty() ? "column" : summary_.headers[i], suffix);
        }
        names.push_back(name);
        RawColumn raw{.index = i, .key = {}};
        detail::AppendJsonString(raw.key, name);
        raw.key.push_back(':');
        raw_columns_.push_back(std::move(raw));
    }
    return {};
}

Expected<std::string_view> CsvReader::Required(Field field, std::string_view what) {
    const std::string_view value = TrimSpaces(FieldOf(field));
    if (value.empty()) {
        return Unexpected(FileError(
            "missing_value", fmt::format("The {} is empty; every row needs one. Fill it in or remove the row.", what),
            tokenizer_.RecordLine(), HeaderOf(field)));
    }
    return value;
}

Expected<void> CsvReader::MapRecord(Transaction& tx) {
    const int64_t line = tokenizer_.RecordLine();
    const size_t count = tokenizer_.FieldCount();
    if (count != summary_.headers.size()) {
        return Unexpected(FileError(
            "wrong_column_count",
            fmt::format("The row has {} fields but the header has {}. Check that the delimiter is {} and that fields "
                        "containing it are quoted.",
                        count, summary_.headers.size(), DelimiterName(summary_.delimiter)),
            line));
    }
    if (!tokenizer_.RecordIsValidUtf8()) {
        for (size_t i = 0; i < count; ++i) {
            if (!detail::IsValidUtf8(tokenizer_.Field(i))) {
                return Unexpected(FileError("bad_encoding",
                                            "The value is not valid UTF-8; the file must be UTF-8 (other encodings "
                                            "come later). Save it again as \"CSV UTF-8\".",
                                            line, summary_.headers[i]));
            }
        }
    }

    const Expected<std::string_view> date_text = Required(Field::kDate, "date");
    if (!date_text) return Unexpected(date_text.error());
    const std::optional<DateTime> date = ParseIsoDateTime(*date_text);
    if (!date) {
        return Unexpected(FileError("bad_date",
                                    fmt::format("'{}' is not a date; expected the format YYYY-MM-DD (e.g. 2024-03-31), "
                                                "optionally with a time (2024-03-31 13:05).",
                                                Excerpt(*date_text)),
                                    line, HeaderOf(Field::kDate)));
    }
    tx.date = date->date;
    tx.time_seconds = date->seconds_of_day;

    tx.registration_date.reset();
    if (const std::string_view text = TrimSpaces(FieldOf(Field::kRegistrationDate)); !text.empty()) {
        const std::optional<DateTime> registration = ParseIsoDateTime(text);
        if (!registration) {
            return Unexpected(FileError(
                "bad_date",
                fmt::format("'{}' is not a registration date; expected the format YYYY-MM-DD (e.g. 2024-03-31), or "
                            "leave it empty.",
                            Excerpt(text)),
                line, HeaderOf(Field::kRegistrationDate)));
        }
        tx.registration_date = registration->date;
    }

    const Expected<std::string_view> amount_text = Required(Field::kAmount, "amount");
    if (!amount_text) return Unexpected(amount_text.error());
    const std::optional<Money> amount = ParseMoney(*amount_text, summary_.decimal_separator);
    if (!amount) {
        const char other = summary_.decimal_separator == ',' ? '.' : ',';
        return Unexpected(FileError(
            "bad_amount",
            fmt::format("'{}' is not an amount with {} as decimal separator (e.g. -1234{}50), at most two decimals "
                        "and thirteen integer digits. If the file uses {}, set the decimal separator to '{}'.",
                        Excerpt(*amount_text), SeparatorName(summary_.decimal_separator), summary_.decimal_separator,
                        SeparatorName(other), other),
            line, HeaderOf(Field::kAmount)));
    }
    tx.amount = *amount;

    tx.source_line = line;
    tx.external_id.assign(TrimSpaces(FieldOf(Field::kId)));
    tx.account.assign(TrimSpaces(FieldOf(Field::kAccount)));
    tx.currency.assign(TrimSpaces(FieldOf(Field::kCurrency)));
    tx.text.assign(TrimSpaces(FieldOf(Field::kText)));
    tx.user.assign(TrimSpaces(FieldOf(Field::kUser)));
    tx.counterparty.assign(TrimSpaces(FieldOf(Field::kCounterparty)));
    tx.voucher_series.assign(TrimSpaces(FieldOf(Field::kVoucherSeries)));
    tx.voucher_number.assign(TrimSpaces(FieldOf(Field::kVoucherNumber)));
    tx.processed_data.clear();

    tx.raw_data.clear();
    tx.raw_data.push_back('{');
    for (const RawColumn& raw : raw_columns_) {
        if (tx.raw_data.size() > 1) tx.raw_data.push_back(',');
        tx.raw_data += raw.key;
        detail::AppendJsonString(tx.raw_data, tokenizer_.Field(raw.index));
    }
    tx.raw_data.push_back('}');
    return {};
}

Expected<void> CsvReader::Flush() {
    if (filled_ == 0) return {};
    Expected<void> result = sink_(std::span<Transaction>(batch_.data(), filled_));
    filled_ = 0;
    if (!result) return result;
    if (progress_) progress_(tokenizer_.Offset());
    return {};
}

Expected<CsvSummary> CsvReader::Read() {
    if (auto valid = ValidateOptions(); !valid) return Unexpected(std::move(valid).error());
    if (auto prelude = ReadPrelude(); !prelude) return Unexpected(std::move(prelude).error());
    if (auto header = ReadHeader(); !header) return Unexpected(std::move(header).error());

    batch_.reserve(std::min<size_t>(options_.batch_size, 8192));
    for (;;) {
        const Expected<bool> next = NextRecord();
        if (!next) return Unexpected(next.error());
        if (!*next) break;
        bool all_empty = true;  // spreadsheets export empty rows as ";;;;": skipped like blank lines
        for (size_t i = 0; i < tokenizer_.FieldCount() && all_empty; ++i) {
            all_empty = TrimSpaces(tokenizer_.Field(i)).empty();
        }
        if (all_empty) continue;

        if (filled_ == batch_.size()) batch_.emplace_back();
        Transaction& tx = batch_[filled_];
        if (auto mapped = MapRecord(tx); !mapped) return Unexpected(std::move(mapped).error());
        tx.row_number = ++summary_.rows;
        ++filled_;
        if (filled_ == options_.batch_size) {
            if (auto flushed = Flush(); !flushed) return Unexpected(std::move(flushed).error());
        }
    }
    if (auto flushed = Flush(); !flushed) return Unexpected(std::move(flushed).error());
    if (summary_.rows == 0) {
        return Unexpected(FileError("no_data_rows",
                                    fmt::format("The file has a header row (line {}) but no data rows; upload a file "
                                                "with at least one transaction.",
                                                header_line_),
                                    header_line_));
    }
    return std::move(summary_);
}

}  // namespace

Expected<CsvSummary> ReadCsv(std::istream& in, const CsvOptions& options, const BatchSink& sink,
                             const ByteProgress& progress) {
    CsvReader reader(in, options, sink, progress);
    return reader.Read();
}

}  // namespace granska::ingest
