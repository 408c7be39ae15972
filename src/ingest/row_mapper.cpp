#include "ingest/row_mapper.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "core/date.h"
#include "core/money.h"
#include "ingest/detail/text.h"
#include "ingest/detail/values.h"

namespace granska::ingest {

namespace {

using detail::DateOrder;
using detail::Excerpt;
using detail::TrimSpaces;

// One unmapped column as it goes into raw_data.
struct RawColumn {
    size_t index;
    std::string key;  // JSON-escaped and quoted, followed by ':'
};

// A row held back while the dialect is being decided.
struct StagedRow {
    std::vector<CellType> types;
    std::vector<std::string> texts;
    int64_t line = 0;
};

std::string DateOrderName(DateOrder order) {
    switch (order) {
        case DateOrder::kDayFirst:
            return "dmy";
        case DateOrder::kMonthFirst:
            return "mdy";
        case DateOrder::kYearFirst:
            return "iso";
    }
    return "iso";
}

std::string SeparatorName(char c) { return c == ',' ? "',' (decimal comma)" : "'.' (decimal point)"; }

std::string SeparatorText(char c) {
    switch (c) {
        case '\0':
            return "none";
        case ' ':
            return "space";
        default:
            return std::string(1, c);
    }
}

}  // namespace

class RowMapper::Impl {
public:
    Impl(const ParseOptions& options, ParseReport& report, const BatchSink& sink)
        : options_(options), report_(report), sink_(sink) {}

    void SetCellNamer(std::function<std::string(size_t, int64_t)> namer) { namer_ = std::move(namer); }
    void SetDefaultDecimalSeparator(char c) { default_decimal_ = c; }
    void SetWrongWidthHint(std::string hint) { wrong_width_hint_ = std::move(hint); }

    Expected<void> SetHeader(std::span<const std::string> headers, int64_t line);
    Expected<void> AddRow(std::span<const Cell> cells, int64_t line, bool allow_ragged);
    Expected<void> Finish();
    int64_t rows_read() const { return report_.rows_read; }

private:
    Expected<void> Decide();
    Expected<void> Convert(std::span<const Cell> cells, int64_t line);
    Expected<void> Flush();
    // A row that cannot be read: fails the file or is skipped and reported, by policy.
    Expected<void> BadRow(std::string code, std::string message, int64_t line, std::optional<size_t> column);
    std::string ColumnName(size_t column) const { return column < headers_.size() ? headers_[column] : ""; }
    Cell CellOf(std::span<const Cell> cells, Field field) const {
        const std::optional<size_t> column = mapping_.Of(field);
        return column && *column < cells.size() ? cells[*column] : Cell{};
    }
    Expected<std::optional<DateTime>> ReadDate(std::span<const Cell> cells, Field field, int64_t line, bool required,
                                               bool& rejected);
    Expected<std::optional<Money>> ReadAmount(const Cell& cell, Field field, int64_t line, bool& rejected);

    const ParseOptions& options_;
    ParseReport& report_;
    const BatchSink& sink_;
    std::function<std::string(size_t, int64_t)> namer_;
    char default_decimal_ = '.';
    std::string wrong_width_hint_ = "Check that the delimiter is right and that fields containing it are quoted.";
    int64_t header_line_ = 0;
    BadRowPolicy policy_ = BadRowPolicy::kSkipRow;

    std::vector<std::string> headers_;
    ResolvedMapping mapping_;
    std::vector<RawColumn> raw_columns_;
    bool header_set_ = false;

    bool decided_ = false;
    std::vector<StagedRow> staged_;
    DateOrder date_order_ = DateOrder::kDayFirst;
    char decimal_ = '.';
    std::optional<char> thousands_;  // a separator to strip before parsing, when the user named one

    struct LastDate {
        CellType type = CellType::kEmpty;
        std::string text;
        std::optional<DateTime> parsed;
    };
    std::array<LastDate, 2> last_dates_;  // date, registration date

    std::vector<Transaction> batch_;
    size_t filled_ = 0;
    std::optional<Problem> first_problem_;
};

Expected<void> RowMapper::Impl::SetHeader(std::span<const std::string> headers, int64_t line) {
    policy_ = options_.bad_rows == BadRowPolicy::kRejectFile ? BadRowPolicy::kRejectFile : BadRowPolicy::kSkipRow;
    headers_.clear();
    for (const std::string& header : headers) headers_.emplace_back(TrimSpaces(header));
    Expected<ResolvedMapping> mapping = ResolveMapping(headers_, options_.mapping);
    if (!mapping) {
        Error error = std::move(mapping).error();
        error.file = options_.file_name;
        error.line = line;
        return Unexpected(std::move(error));
    }
    mapping_ = *mapping;
    header_line_ = line;
    report_.headers = headers_;
    report_.mapping.clear();
    for (size_t i = 0; i < kFieldCount; ++i) {
        if (mapping_.column[i])
            report_.mapping[std::string(FieldName(static_cast<Field>(i)))] = headers_[*mapping_.column[i]];
    }

    // Keys are unique, so raw_data never has duplicate names.
    std::vector<bool> mapped(headers_.size(), false);
    for (const std::optional<size_t>& column : mapping_.column) {
        if (column) mapped[*column] = true;
    }
    std::vector<std::string> names;
    raw_columns_.clear();
    for (size_t i = 0; i < headers_.size(); ++i) {
        if (mapped[i]) continue;
        const std::string base = headers_[i].empty() ? "column" : headers_[i];
        std::string name = headers_[i].empty() ? fmt::format("column_{}", i + 1) : headers_[i];
        for (int suffix = 2; std::find(names.begin(), names.end(), name) != names.end(); ++suffix) {
            name = fmt::format("{}_{}", base, suffix);
        }
        names.push_back(name);
        RawColumn raw{.index = i, .key = {}};
        detail::AppendJsonString(raw.key, name);
        raw.key.push_back(':');
        raw_columns_.push_back(std::move(raw));
    }
    header_set_ = true;
    return {};
}

Expected<void> RowMapper::Impl::BadRow(std::string code, std::string message, int64_t line,
                                       std::optional<size_t> column) {
    const std::string field = column ? ColumnName(*column) : "";
    std::string location = column && namer_ ? namer_(*column, line) : "";
    if (policy_ == BadRowPolicy::kRejectFile) {
        if (!location.empty()) message = fmt::format("{} (cell {})", message, location);
        return Unexpected(FileError(options_, std::move(code), std::move(message), line, field));
    }
    ++report_.rows_rejected;
    Problem problem{.severity = Severity::kError,
                    .code = std::move(code),
                    .message = std::move(message),
                    .line = line,
                    .location = std::move(location),
                    .field = field};
    if (!first_problem_) first_problem_ = problem;
    report_.Add(std::move(problem));
    return {};
}

Expected<void> RowMapper::Impl::AddRow(std::span<const Cell> cells, int64_t line, bool allow_ragged) {
    if (!header_set_) return Unexpected(Internal("RowMapper::AddRow before SetHeader"));
    bool all_empty = true;  // spreadsheets export empty rows as ";;;;": skipped like blank lines
    for (const Cell& cell : cells) {
        if (cell.type != CellType::kEmpty && !TrimSpaces(cell.text).empty()) {
            all_empty = false;
            break;
        }
    }
    if (all_empty) return {};
    for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i].text.size() > options_.limits.max_field_bytes) {
            Error error = FileError(options_, "field_too_long",
                                    fmt::format("A value is {} bytes long; the limit is {} bytes per value. Check "
                                                "that the file is a ledger export and its quoting is right.",
                                                cells[i].text.size(), options_.limits.max_field_bytes),
                                    line, ColumnName(i));
            error.kind = ErrorKind::kTooLarge;
            return Unexpected(std::move(error));
        }
    }
    if (++report_.rows_read > static_cast<int64_t>(options_.limits.max_rows)) {
        Error error = FileError(options_, "too_many_rows",
                                fmt::format("The file has more than {} rows, the most one upload may have. Split it "
                                            "(e.g. by fiscal year) and upload the parts.",
                                            options_.limits.max_rows),
                                line);
        error.kind = ErrorKind::kTooLarge;
        return Unexpected(std::move(error));
    }
    const size_t width = headers_.size();
    if (cells.size() != width && !(allow_ragged && cells.size() < width)) {
        if (cells.size() > width && allow_ragged) {
            return BadRow("wrong_column_count",
                          fmt::format("The row has {} values but the header has {} columns.", cells.size(), width),
                          line, std::nullopt);
        }
        return BadRow(
            "wrong_column_count",
            fmt::format("The row has {} fields but the header has {}. {}", cells.size(), width, wrong_width_hint_),
            line, std::nullopt);
    }

    if (decided_) return Convert(cells, line);
    StagedRow row;
    row.line = line;
    row.types.reserve(cells.size());
    row.texts.reserve(cells.size());
    for (const Cell& cell : cells) {
        row.types.push_back(cell.type);
        row.texts.emplace_back(cell.text);
    }
    staged_.push_back(std::move(row));
    if (staged_.size() >= kSampleRows) return Decide();
    return {};
}

Expected<void> RowMapper::Impl::Decide() {
    // Date order: from every held-back date that says which it is (a first number above 12 means day first).
    size_t day_first = 0;
    size_t month_first = 0;
    size_t ambiguous = 0;
    std::string seen_format;
    std::array<size_t, 2> decimal_votes{};  // '.', ','
    bool saw_both_separators_grouping = false;
    for (const StagedRow& row : staged_) {
        for (const Field field : {Field::kDate, Field::kRegistrationDate}) {
            const std::optional<size_t> column = mapping_.Of(field);
            if (!column || *column >= row.texts.size() || row.types[*column] != CellType::kText) continue;
            const detail::DateShape shape = detail::ClassifyDate(TrimSpaces(row.texts[*column]));
            if (shape.kind == detail::DateShape::kDayMonthYear) {
                if (shape.first > 12 && shape.second <= 12) {
                    ++day_first;
                } else if (shape.second > 12 && shape.first <= 12) {
                    ++month_first;
                } else {
                    ++ambiguous;
                }
            }
            if (seen_format.empty() && shape.kind != detail::DateShape::kUnknown) seen_format = shape.Describe();
        }
        for (const Field field : {Field::kAmount, Field::kDebit, Field::kCredit}) {
            const std::optional<size_t> column = mapping_.Of(field);
            if (!column || *column >= row.texts.size() || row.types[*column] != CellType::kText) continue;
            const detail::DecimalVote vote = detail::VoteDecimal(TrimSpaces(row.texts[*column]));
            if (vote == detail::DecimalVote::kPoint || vote == detail::DecimalVote::kPointGrouped) ++decimal_votes[0];
            if (vote == detail::DecimalVote::kComma || vote == detail::DecimalVote::kCommaGrouped) ++decimal_votes[1];
            if (vote == detail::DecimalVote::kPointGrouped || vote == detail::DecimalVote::kCommaGrouped) {
                saw_both_separators_grouping = true;
            }
        }
    }

    if (options_.dialect.date_format) {
        const std::string& format = *options_.dialect.date_format;
        date_order_ = format == "mdy"   ? DateOrder::kMonthFirst
                      : format == "dmy" ? DateOrder::kDayFirst
                                        : DateOrder::kYearFirst;
        report_.dialect["date_format"] = format;
    } else if (day_first + month_first + ambiguous > 0) {
        if (month_first > day_first) {
            date_order_ = DateOrder::kMonthFirst;
        } else {
            date_order_ = DateOrder::kDayFirst;
        }
        report_.dialect["date_format"] = DateOrderName(date_order_) + " (" + seen_format + ")";
        if (day_first == 0 && month_first == 0) {
            report_.Add(Problem{.severity = Severity::kWarning,
                                .code = "ambiguous_date_order",
                                .message =
                                    "Every date in the first rows reads both as day/month and month/day; day first "
                                    "(DD/MM/YYYY) was assumed. If the file uses US order, set the date format to mdy.",
                                .line = staged_.empty() ? std::nullopt : std::optional<int64_t>(staged_.front().line),
                                .location = {},
                                .field = headers_[*mapping_.Of(Field::kDate)]});
        } else if (day_first > 0 && month_first > 0) {
            report_.Add(Problem{
                .severity = Severity::kWarning,
                .code = "mixed_date_order",
                .message = fmt::format("Some dates read only as day/month ({}) and others only as month/day ({}); "
                                       "{} first was assumed and the others are reported as bad dates.",
                                       day_first, month_first, date_order_ == DateOrder::kDayFirst ? "day" : "month"),
                .line = staged_.empty() ? std::nullopt : std::optional<int64_t>(staged_.front().line),
                .location = {},
                .field = headers_[*mapping_.Of(Field::kDate)]});
        }
    } else if (!seen_format.empty()) {
        report_.dialect["date_format"] = seen_format;
    }

    if (options_.dialect.decimal_separator) {
        decimal_ = *options_.dialect.decimal_separator;
    } else if (decimal_votes[0] != decimal_votes[1]) {
        decimal_ = decimal_votes[0] > decimal_votes[1] ? '.' : ',';
    } else {
        decimal_ = default_decimal_;
    }
    report_.dialect["decimal_separator"] = std::string(1, decimal_);
    if (options_.dialect.thousands_separator) {
        const char thousands = *options_.dialect.thousands_separator;
        if (thousands != '\0' && thousands != ' ' && thousands != (decimal_ == '.' ? ',' : '.')) thousands_ = thousands;
        report_.dialect["thousands_separator"] = SeparatorText(thousands);
    } else if (saw_both_separators_grouping) {
        report_.dialect["thousands_separator"] = decimal_ == '.' ? "," : ".";
    }

    decided_ = true;
    std::vector<Cell> cells;
    for (const StagedRow& row : staged_) {
        cells.clear();
        for (size_t i = 0; i < row.texts.size(); ++i) cells.push_back(Cell{row.types[i], row.texts[i]});
        if (auto converted = Convert(cells, row.line); !converted) return converted;
    }
    staged_.clear();
    staged_.shrink_to_fit();
    return {};
}

Expected<std::optional<DateTime>> RowMapper::Impl::ReadDate(std::span<const Cell> cells, Field field, int64_t line,
                                                            bool required, bool& rejected) {
    const Cell cell = CellOf(cells, field);
    const std::string_view text = TrimSpaces(cell.text);
    const size_t column = mapping_.Of(field).value_or(0);
    const std::string_view what = field == Field::kDate ? "date" : "registration date";
    if (cell.type == CellType::kEmpty || text.empty()) {
        if (!required) return std::optional<DateTime>{};
        rejected = true;
        auto bad = BadRow("missing_value", "The date is empty; every row needs one. Fill it in or remove the row.",
                          line, column);
        if (!bad) return Unexpected(std::move(bad).error());
        return std::optional<DateTime>{};
    }
    // Ledgers are sorted by date, so most rows repeat the previous row's date text: parse each text once.
    LastDate& last = last_dates_[field == Field::kDate ? 0 : 1];
    std::optional<DateTime> parsed;
    if (last.parsed && last.type == cell.type && last.text == text) {
        parsed = last.parsed;
    } else {
        if (cell.type == CellType::kDate) {
            parsed = ParseIsoDateTime(text);
        } else if (cell.type == CellType::kText) {
            parsed = detail::ParseDateText(text, date_order_);
        }
        last = LastDate{.type = cell.type, .text = std::string(text), .parsed = parsed};
    }
    if (!parsed) {
        rejected = true;
        std::string message =
            cell.type == CellType::kNumber
                ? fmt::format("{} is a number, not a {}. Format the column as dates, or write them as YYYY-MM-DD.",
                              Excerpt(text), what)
                : fmt::format(
                      "'{}' is not a {}; expected YYYY-MM-DD (e.g. 2024-03-31), YYYYMMDD or {}, optionally "
                      "with a time (13:05).",
                      Excerpt(text), what,
                      date_order_ == DateOrder::kMonthFirst ? "MM/DD/YYYY" : "DD/MM/YYYY or DD.MM.YYYY");
        auto bad = BadRow("bad_date", std::move(message), line, column);
        if (!bad) return Unexpected(std::move(bad).error());
        return std::optional<DateTime>{};
    }
    return parsed;
}

Expected<std::optional<Money>> RowMapper::Impl::ReadAmount(const Cell& cell, Field field, int64_t line,
                                                           bool& rejected) {
    const std::string_view text = TrimSpaces(cell.text);
    if (cell.type == CellType::kEmpty || text.empty()) return std::optional<Money>{};
    std::optional<Money> parsed;
    if (cell.type == CellType::kNumber) {
        parsed = detail::ParseNumberAmount(text);
    } else if (cell.type == CellType::kText) {
        if (thousands_) {
            std::string stripped(text);
            std::erase(stripped, *thousands_);
            parsed = ParseMoney(stripped, decimal_);
        } else {
            parsed = ParseMoney(text, decimal_);
        }
    }
    if (!parsed) {
        rejected = true;
        const char other = decimal_ == ',' ? '.' : ',';
        const std::string what = std::string(FieldName(field));
        std::string message =
            cell.type == CellType::kText
                ? fmt::format(
                      "'{}' is not an {} with {} as decimal separator (e.g. -1234{}50), at most two decimals "
                      "and thirteen integer digits. If the file uses {}, set the decimal separator to '{}'.",
                      Excerpt(text), what == "amount" ? "amount" : what + " amount", SeparatorName(decimal_), decimal_,
                      SeparatorName(other), other)
                : fmt::format("{} is not an amount of money: at most two decimals and thirteen integer digits.",
                              Excerpt(text));
        auto bad = BadRow("bad_amount", std::move(message), line, mapping_.Of(field));
        if (!bad) return Unexpected(std::move(bad).error());
        return std::optional<Money>{};
    }
    return parsed;
}

Expected<void> RowMapper::Impl::Convert(std::span<const Cell> cells, int64_t line) {
    if (filled_ == batch_.size()) batch_.emplace_back();
    Transaction& tx = batch_[filled_];
    bool rejected = false;

    auto date = ReadDate(cells, Field::kDate, line, true, rejected);
    if (!date) return Unexpected(std::move(date).error());
    if (rejected) return {};
    auto registration = ReadDate(cells, Field::kRegistrationDate, line, false, rejected);
    if (!registration) return Unexpected(std::move(registration).error());
    if (rejected) return {};

    std::optional<Money> amount;
    if (mapping_.Of(Field::kAmount)) {
        auto read = ReadAmount(CellOf(cells, Field::kAmount), Field::kAmount, line, rejected);
        if (!read) return Unexpected(std::move(read).error());
        if (rejected) return {};
        amount = *read;
    } else {
        auto debit = ReadAmount(CellOf(cells, Field::kDebit), Field::kDebit, line, rejected);
        if (!debit) return Unexpected(std::move(debit).error());
        if (rejected) return {};
        auto credit = ReadAmount(CellOf(cells, Field::kCredit), Field::kCredit, line, rejected);
        if (!credit) return Unexpected(std::move(credit).error());
        if (rejected) return {};
        if (*debit || *credit) {
            // A credit written as a negative number is taken as already signed.
            const int64_t debit_minor = debit->value_or(Money{}).minor;
            const int64_t credit_minor = credit->value_or(Money{}).minor;
            amount = Money{debit_minor - (credit_minor < 0 ? -credit_minor : credit_minor)};
        }
    }
    if (!amount) {
        const std::optional<size_t> column =
            mapping_.Of(Field::kAmount) ? mapping_.Of(Field::kAmount) : mapping_.Of(Field::kDebit);
        return BadRow("missing_value",
                      mapping_.Of(Field::kAmount)
                          ? "The amount is empty; every row needs one. Fill it in or remove the row."
                          : "Both the debit and the credit are empty; every row needs one of them.",
                      line, column);
    }

    tx.date = (*date)->date;
    tx.time_seconds = (*date)->seconds_of_day;
    if (!tx.time_seconds) {
        const Cell time = CellOf(cells, Field::kTime);
        if (time.type != CellType::kEmpty && !TrimSpaces(time.text).empty()) {
            const std::optional<int32_t> seconds = detail::ParseTimeOfDay(TrimSpaces(time.text));
            if (!seconds) {
                return BadRow("bad_time",
                              fmt::format("'{}' is not a time of day; expected HH:MM or HH:MM:SS (e.g. 13:05).",
                                          Excerpt(TrimSpaces(time.text))),
                              line, mapping_.Of(Field::kTime));
            }
            tx.time_seconds = seconds;
        }
    }
    tx.registration_date.reset();
    if (*registration) tx.registration_date = (*registration)->date;
    tx.amount = *amount;
    tx.source_line = line;

    auto text_of = [&](Field field, std::string& out) {
        const Cell cell = CellOf(cells, field);
        if (cell.type == CellType::kNumber) {
            out = detail::NumberAsText(TrimSpaces(cell.text));
        } else {
            out.assign(TrimSpaces(cell.text));
        }
    };
    text_of(Field::kId, tx.external_id);
    text_of(Field::kAccount, tx.account);
    text_of(Field::kCurrency, tx.currency);
    text_of(Field::kText, tx.text);
    text_of(Field::kUser, tx.user);
    text_of(Field::kCounterparty, tx.counterparty);
    text_of(Field::kVoucherSeries, tx.voucher_series);
    text_of(Field::kVoucherNumber, tx.voucher_number);
    tx.processed_data.clear();

    tx.raw_data.clear();
    tx.raw_data.push_back('{');
    for (const RawColumn& raw : raw_columns_) {
        if (tx.raw_data.size() > 1) tx.raw_data.push_back(',');
        tx.raw_data += raw.key;
        const Cell cell = raw.index < cells.size() ? cells[raw.index] : Cell{};
        switch (cell.type) {
            case CellType::kEmpty:
                tx.raw_data += "null";
                break;
            case CellType::kNumber:
                tx.raw_data += detail::JsonNumber(cell.text);
                break;
            case CellType::kBool:
                tx.raw_data += cell.text == "true" ? "true" : "false";
                break;
            case CellType::kText:
            case CellType::kDate:
                detail::AppendJsonString(tx.raw_data, cell.text);
                break;
        }
    }
    tx.raw_data.push_back('}');

    tx.row_number = ++report_.rows_accepted;
    ++filled_;
    if (filled_ >= options_.batch_size) return Flush();
    return {};
}

Expected<void> RowMapper::Impl::Flush() {
    if (filled_ == 0) return {};
    Expected<void> result = sink_(std::span<Transaction>(batch_.data(), filled_));
    filled_ = 0;
    return result;
}

Expected<void> RowMapper::Impl::Finish() {
    if (!header_set_) return Unexpected(Internal("RowMapper::Finish before SetHeader"));
    if (!decided_) {
        if (auto decided = Decide(); !decided) return decided;
    }
    if (auto flushed = Flush(); !flushed) return flushed;
    if (report_.rows_accepted == 0) {
        if (report_.rows_read == 0) {
            return Unexpected(FileError(options_, "no_data_rows",
                                        fmt::format("The file has a header row (line {}) but no data rows; upload a "
                                                    "file with at least one transaction.",
                                                    header_line_),
                                        header_line_));
        }
        const Problem& first = *first_problem_;
        return Unexpected(
            FileError(options_, "no_valid_rows",
                      fmt::format("None of the {} rows could be read. The first problem, on line {}{}: {}",
                                  report_.rows_read, first.line.value_or(0),
                                  first.field.empty() ? "" : fmt::format(" ({})", first.field), first.message),
                      first.line, first.field));
    }
    // Loading a minority of good rows hides a wrong dialect or mapping; better to say so than to load them.
    if (report_.rows_rejected >= 10 && report_.rows_rejected > report_.rows_accepted) {
        const Problem& first = *first_problem_;
        return Unexpected(FileError(
            options_, "too_many_bad_rows",
            fmt::format("{} of {} rows could not be read, so the file was not loaded; check the delimiter, decimal "
                        "separator, date format and column mapping. The first problem, on line {}: {}",
                        report_.rows_rejected, report_.rows_read, first.line.value_or(0), first.message),
            first.line, first.field));
    }
    return {};
}

RowMapper::RowMapper(const ParseOptions& options, ParseReport& report, const BatchSink& sink)
    : impl_(std::make_unique<Impl>(options, report, sink)) {}
RowMapper::~RowMapper() = default;

void RowMapper::SetCellNamer(std::function<std::string(size_t, int64_t)> namer) {
    impl_->SetCellNamer(std::move(namer));
}
void RowMapper::SetDefaultDecimalSeparator(char separator) { impl_->SetDefaultDecimalSeparator(separator); }
void RowMapper::SetWrongWidthHint(std::string hint) { impl_->SetWrongWidthHint(std::move(hint)); }
Expected<void> RowMapper::SetHeader(std::span<const std::string> headers, int64_t line) {
    return impl_->SetHeader(headers, line);
}
Expected<void> RowMapper::AddRow(std::span<const Cell> cells, int64_t line, bool allow_ragged) {
    return impl_->AddRow(cells, line, allow_ragged);
}
int64_t RowMapper::rows_read() const { return impl_->rows_read(); }
Expected<void> RowMapper::Finish() { return impl_->Finish(); }

}  // namespace granska::ingest
