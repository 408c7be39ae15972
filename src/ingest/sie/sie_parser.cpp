#include "ingest/sie/sie_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "ingest/detail/text.h"
#include "ingest/sie/detail/sie_lexer.h"

namespace granska::ingest {

namespace {

using detail::Cp437Decoder;
using detail::Excerpt;
using detail::SieField;
using detail::SieFieldKind;
using detail::SieRecord;

constexpr int64_t kMaxVoucherRows = 1'000'000;
constexpr size_t kMaxAccounts = 1'000'000;
constexpr size_t kMaxDimensions = 10'000;
constexpr size_t kMaxSeries = 10'000;
constexpr size_t kMaxFiscalYears = 100;
constexpr size_t kMaxRemovedRows = 100;
constexpr size_t kMaxUnknownLabels = 100;
constexpr size_t kSniffBytes = 16;     // of an over-long line, kept to see its label
constexpr size_t kMaxNameBytes = 200;  // kept of a name or other fact for the details (longer ones are cut)
constexpr size_t kMaxKeyBytes = 64;    // longest account, dimension, series or number that is tracked
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// What the encoding pass found.
struct EncodingScan {
    bool utf8 = false;  // valid UTF-8 with at least one non-ASCII byte
    bool bom = false;
};

EncodingScan ScanEncoding(std::istream& in, size_t chunk_bytes) {
    std::string chunk;
    std::string carry;  // an incomplete UTF-8 sequence at a chunk's end
    std::string head;   // the first bytes, for the byte-order mark
    bool non_ascii = false;
    EncodingScan scan;
    std::string buffer(chunk_bytes, '\0');
    while (true) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0) break;
        if (head.size() < kUtf8Bom.size()) head.append(buffer.data(), std::min(got, kUtf8Bom.size() - head.size()));
        chunk.assign(carry);
        chunk.append(buffer.data(), got);
        carry.clear();
        // Cut before a sequence that the next chunk completes.
        size_t cut = chunk.size();
        for (size_t back = 1; back <= 3 && back <= chunk.size(); ++back) {
            const auto c = static_cast<unsigned char>(chunk[chunk.size() - back]);
            if (c < 0x80) break;
            if (c >= 0xC0) {
                const size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (length > back) cut = chunk.size() - back;
                break;
            }
        }
        const std::string_view whole(chunk.data(), cut);
        if (!detail::IsValidUtf8(whole)) return {};
        unsigned char any = 0;
        for (const char c : whole) any |= static_cast<unsigned char>(c);
        non_ascii = non_ascii || (any & 0x80) != 0;
        carry.assign(chunk, cut);
    }
    if (!carry.empty()) return {};
    scan.utf8 = non_ascii;
    scan.bom = head == kUtf8Bom;
    return scan;
}

// The labels that structure vouchers, told apart once per line; the others are compared by name.
enum class LabelId : uint8_t { kOther, kVer, kTrans, kRtrans, kBtrans, kKsumma };

bool IsRowLabel(LabelId id) { return id == LabelId::kTrans || id == LabelId::kRtrans || id == LabelId::kBtrans; }

// Labels are compared in upper case; they are short ASCII words.
struct Label {
    std::array<char, 16> bytes{};
    size_t size = 0;
    bool valid = false;    // fits and is ASCII
    bool changed = false;  // was not upper case as written
    LabelId id = LabelId::kOther;
    std::string_view view() const { return {bytes.data(), size}; }
};

Label UpperLabel(std::string_view written) {
    Label label;
    if (written.size() > label.bytes.size()) return label;
    unsigned char bits = 0;
    bool changed = false;
    for (size_t i = 0; i < written.size(); ++i) {
        const auto c = static_cast<unsigned char>(written[i]);
        const bool lower = static_cast<unsigned char>(c - 'a') < 26;
        bits |= c;
        changed |= lower;
        label.bytes[i] = static_cast<char>(lower ? c - 0x20 : c);
    }
    if ((bits & 0x80) != 0) return label;
    label.size = written.size();
    label.valid = true;
    label.changed = changed;
    const char* b = label.bytes.data();
    switch (label.size) {
        case 4:
            if (std::memcmp(b, "#VER", 4) == 0) label.id = LabelId::kVer;
            break;
        case 6:
            if (std::memcmp(b, "#TRANS", 6) == 0) label.id = LabelId::kTrans;
            break;
        case 7:
            if (std::memcmp(b, "#RTRANS", 7) == 0) label.id = LabelId::kRtrans;
            if (std::memcmp(b, "#BTRANS", 7) == 0) label.id = LabelId::kBtrans;
            if (std::memcmp(b, "#KSUMMA", 7) == 0) label.id = LabelId::kKsumma;
            break;
        default:
            break;
    }
    return label;
}

bool IsBlankLine(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

bool IsDigits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// -1, 0 or 1 as voucher number `previous` sorts before, with or after `next`; numerically when both are digits.
int CompareNumbers(std::string_view previous, std::string_view next) {
    if (IsDigits(previous) && IsDigits(next)) {
        while (previous.size() > 1 && previous.front() == '0') previous.remove_prefix(1);
        while (next.size() > 1 && next.front() == '0') next.remove_prefix(1);
        if (previous.size() != next.size()) return previous.size() < next.size() ? -1 : 1;
    }
    const int order = previous.compare(next);
    return order < 0 ? -1 : order > 0 ? 1 : 0;
}

void AppendInt(std::string& out, int64_t value) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, result.ptr);
}

// A voucher's identity as a 64-bit FNV-1a hash of series and number.
uint64_t VoucherKey(std::string_view series, std::string_view number) {
    uint64_t hash = 14695981039346656037ull;
    const auto add = [&hash](std::string_view bytes) {
        for (const char c : bytes) {
            hash ^= static_cast<unsigned char>(c);
            hash *= 1099511628211ull;
        }
    };
    add(series);
    add(std::string_view("\0", 1));
    add(number);
    return hash;
}

// A set of 64-bit keys in one open-addressed table: 16 bytes or less per key, so keeping one per voucher stays
// cheap on large files.
class KeySet {
public:
    // False when the key was already there.
    bool Insert(uint64_t key) {
        if (key == 0) key = 1;  // 0 marks an empty slot
        if ((size_ + 1) * 2 > slots_.size()) Grow();
        size_t i = Slot(key);
        while (slots_[i] != 0) {
            if (slots_[i] == key) return false;
            i = (i + 1) & (slots_.size() - 1);
        }
        slots_[i] = key;
        ++size_;
        return true;
    }

private:
    size_t Slot(uint64_t key) const {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 7) & (slots_.size() - 1);
    }

    void Grow() {
        std::vector<uint64_t> old = std::move(slots_);
        slots_.assign(std::max<size_t>(old.size() * 2, 64), 0);
        for (const uint64_t key : old) {
            if (key == 0) continue;
            size_t i = Slot(key);
            while (slots_[i] != 0) i = (i + 1) & (slots_.size() - 1);
            slots_[i] = key;
        }
    }

    std::vector<uint64_t> slots_;
    size_t size_ = 0;
};

struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct AccountInfo {
    std::string name;
    std::string type;  // #KTYP: T, S, K or I
    std::string json;  // both as raw_data members: "account_name":"...","account_type":"T"
};

// A JSON object member `"name":"value"` appended after a comma when `out` already holds members.
void AppendMember(std::string& out, std::string_view name, std::string_view value) {
    if (!out.empty() && out.back() != '{') out.push_back(',');
    out.push_back('"');
    out.append(name);
    out.append("\":");
    detail::AppendJsonString(out, value);
}

enum class RowKind { kTrans, kRtrans, kBtrans };

// The state of #KSUMMA checking; kRunning at the end means the closing record is missing.
enum class Checksum { kAbsent, kRunning, kVerified, kMismatch };

std::string_view ChecksumName(Checksum checksum) {
    switch (checksum) {
        case Checksum::kAbsent:
            return "absent";
        case Checksum::kRunning:
            return "incomplete";
        case Checksum::kVerified:
            return "verified";
        case Checksum::kMismatch:
            return "mismatch";
    }
    return "absent";
}

// Whether an error rejects the file: a row that cannot be read follows the bad-row policy, most errors follow the
// strictness, and a file cut short (a missing closing #KSUMMA) is always rejected, as SIE requires.
enum class Scope { kFile, kRow, kAlways };

class SieReader {
public:
    SieReader(const ParseOptions& options, const BatchSink& sink, const ByteProgress& progress,
              const std::optional<Cp437Decoder>& decoder)
        : options_(options),
          sink_(sink),
          progress_(progress),
          decoder_(decoder),
          row_policy_(options.bad_rows != BadRowPolicy::kFormatDefault ? options.bad_rows
                      : options.lenient                                ? BadRowPolicy::kSkipRow
                                                                       : BadRowPolicy::kRejectFile),
          max_line_bytes_(options.limits.max_field_bytes) {}

    ParseReport Run(std::istream& in, const EncodingScan& scan);

private:
    struct Voucher {
        enum class State { kNone, kAwaitingBlock, kOpen };
        State state = State::kNone;
        bool implicit = false;  // rows followed the #VER without a '{'
        bool readable = true;   // has a valid date
        bool had_bad_row = false;
        std::string series;
        std::string number;
        std::string text;
        std::string sign;
        std::string location;   // "voucher A 12"
        std::string json;       // raw_data member "voucher_text":"..." when there is a text
        std::string id_prefix;  // "A-12-", set at the first loaded row
        int64_t ordinal = 0;    // 1-based position among the file's vouchers
        Date date;
        std::optional<Date> registration_date;
        int64_t line = 0;
        int64_t records = 0;
        int64_t loaded = 0;
        int64_t sum = 0;
        bool sum_overflow = false;
        // The last row was an #RTRANS, so the next #TRANS is its twin.
        bool twin_pending = false;
        int64_t twin_line = 0;
        std::string twin_account;
        std::optional<Money> twin_amount;
    };

    // One row's fields, decoded.
    struct Row {
        std::string account;
        Money amount;
        Date date;
        std::string text;
        std::string sign;
        std::optional<std::string> quantity;
        const SieField* objects = nullptr;  // its tokens are in list_tokens_
        bool own_date = false;
    };

    void ReadLines(std::istream& in);
    void OnLine(std::string_view line, bool too_long);
    void OnRecord(const Label& label);
    void OnAccount(std::string_view name);
    void OnDimension(std::string_view name);
    void OnFormat();
    void OnCurrency();
    void OnFiscalYear();
    void OnUnknownLabel();
    void OnKsumma();
    void OnVer();
    void OnOpenBrace();
    void OnCloseBrace();
    void OnRow(RowKind kind, std::string_view label);
    bool ReadRow(std::string_view label, bool loaded, Row& row);
    void EmitRow(RowKind kind, const Row& row);
    void RecordRemoved(const Row& row);
    void AssignVoucherId();
    void CloseVoucher(bool complete = true);
    void Finish();
    void Flush();
    void Fatal(ErrorKind kind, std::string code, std::string message, std::string field);

    void Diagnose(Severity severity, Scope scope, std::string code, std::string message, int64_t line,
                  std::string field, bool in_voucher = true);
    void Warn(std::string code, std::string message, std::string field) {
        Diagnose(Severity::kWarning, Scope::kFile, std::move(code), std::move(message), line_, std::move(field));
    }

    // Field access on the current record.
    const SieField* FieldAt(size_t index) const {
        return index < record_.fields.size() ? &record_.fields[index] : nullptr;
    }
    std::string Text(const SieField* field);
    void AppendText(std::string& out, const SieField& field);
    std::string TextAt(size_t index) { return Text(FieldAt(index)); }

    std::string FinalDetails() const;

    // ParseSieDate, remembering the last answer: consecutive rows mostly share their date.
    std::optional<Date> CachedDate(std::string_view text) {
        if (text != cached_date_text_) {
            cached_date_text_.assign(text);
            cached_date_ = detail::ParseSieDate(text);
        }
        return cached_date_;
    }

    const ParseOptions& options_;
    const BatchSink& sink_;
    const ByteProgress& progress_;
    const std::optional<Cp437Decoder> decoder_;  // empty when the file is UTF-8
    const BadRowPolicy row_policy_;
    const size_t max_line_bytes_;

    ParseReport report_;
    int64_t line_ = 0;
    bool crlf_seen_ = false;
    bool lf_seen_ = false;
    SieRecord record_;
    detail::SieFields list_tokens_;
    std::string unescaped_;
    bool stop_ = false;

    // The file's facts, for report.details.
    std::string program_name_;
    std::string program_version_;
    std::optional<std::string> declared_format_;
    std::string sie_type_;
    std::string generated_;
    std::string company_;
    std::string orgnr_;
    std::string currency_ = "SEK";
    std::string chart_type_;
    nlohmann::ordered_json fiscal_years_ = nlohmann::ordered_json::array();
    nlohmann::ordered_json removed_rows_ = nlohmann::ordered_json::array();
    std::map<std::string, int64_t> unknown_labels_;
    std::map<std::string, int64_t> balance_counts_;
    int64_t voucher_count_ = 0;
    int64_t trans_count_ = 0;
    int64_t rtrans_count_ = 0;
    int64_t btrans_count_ = 0;
    int64_t object_count_ = 0;
    bool label_case_reported_ = false;
    bool missing_list_reported_ = false;
    bool unnumbered_reported_ = false;

    std::unordered_map<std::string, AccountInfo, TransparentHash, std::equal_to<>> accounts_;
    std::map<std::string, std::string, std::less<>> dimensions_;
    std::map<std::string, std::string, std::less<>> last_number_by_series_;
    int64_t out_of_order_count_ = 0;
    KeySet voucher_keys_;                            // vouchers with loaded rows, by series and number
    std::unordered_map<uint64_t, int64_t> repeats_;  // of those seen more than once
    std::string cached_date_text_;
    std::optional<Date> cached_date_;
    // The account of the last row and its declaration (nullptr when undeclared); rows repeat accounts often.
    bool cached_valid_ = false;
    std::string cached_account_;
    const AccountInfo* cached_info_ = nullptr;

    Checksum checksum_ = Checksum::kAbsent;
    std::optional<detail::SieCrc32> crc_;
    int64_t ksumma_line_ = 0;
    bool after_ksumma_reported_ = false;

    Voucher voucher_;
    Row row_;

    // Output. After a rejecting error nothing more reaches the sink.
    std::vector<Transaction> batch_;
    size_t batch_used_ = 0;
    int64_t loadable_rows_ = 0;
    bool rejected_ = false;
    std::optional<Problem> first_rejecting_;
    Scope first_rejecting_scope_ = Scope::kFile;
    std::optional<Error> fatal_;
};

void SieReader::Diagnose(Severity severity, Scope scope, std::string code, std::string message, int64_t line,
                         std::string field, bool in_voucher) {
    Problem problem{.severity = severity,
                    .code = std::move(code),
                    .message = std::move(message),
                    .line = line > 0 ? std::optional<int64_t>(line) : std::nullopt,
                    .location = in_voucher && voucher_.state != Voucher::State::kNone ? voucher_.location : "",
                    .field = std::move(field)};
    if (severity == Severity::kError) {
        const bool rejects = scope == Scope::kAlways ||
                             (scope == Scope::kRow ? row_policy_ == BadRowPolicy::kRejectFile : !options_.lenient);
        if (rejects && !rejected_) {
            rejected_ = true;
            first_rejecting_ = problem;
            first_rejecting_scope_ = scope;
            report_.rows_rejected += static_cast<int64_t>(batch_used_);
            batch_used_ = 0;
        }
    }
    report_.Add(std::move(problem));
}

void SieReader::Fatal(ErrorKind kind, std::string code, std::string message, std::string field) {
    Diagnose(Severity::kError, Scope::kFile, code, message, line_, field);
    Error error = FileError(options_, std::move(code), std::move(message), line_, std::move(field));
    error.kind = kind;
    fatal_ = std::move(error);
    report_.rows_rejected += static_cast<int64_t>(batch_used_);
    batch_used_ = 0;
    stop_ = true;
}

void SieReader::AppendText(std::string& out, const SieField& field) {
    std::string_view bytes = field.raw;
    if (field.escaped) {
        unescaped_.clear();
        detail::AppendUnescaped(unescaped_, field);
        bytes = unescaped_;
    }
    if (decoder_) {
        decoder_->Append(out, bytes);
    } else {
        out.append(bytes);
    }
}

std::string SieReader::Text(const SieField* field) {
    std::string out;
    if (field != nullptr) AppendText(out, *field);
    return out;
}

ParseReport SieReader::Run(std::istream& in, const EncodingScan& scan) {
    report_.format = Format::kSie;
    report_.encoding = decoder_ ? "cp437" : scan.bom ? "utf-8-bom" : "utf-8";
    report_.dialect["decimal_separator"] = ".";
    report_.dialect["date_format"] = "ymd";
    batch_.resize(std::max<size_t>(options_.batch_size, 1));
    ReadLines(in);
    if (!stop_) Finish();
    report_.dialect["line_ending"] = crlf_seen_ && lf_seen_ ? "mixed" : crlf_seen_ ? "crlf" : "lf";
    if (!report_.error) {
        if (fatal_) {
            report_.error = fatal_;
        } else if (first_rejecting_) {
            const Problem& first = *first_rejecting_;
            const int64_t more = report_.error_count - 1;
            std::string message = first.message;
            if (more > 0) message += fmt::format(" ({} more error{} in the file.)", more, more == 1 ? "" : "s");
            switch (first_rejecting_scope_) {
                case Scope::kFile:
                    message +=
                        " Nothing was loaded: fix the file, or read it leniently to load what can be read "
                        "safely.";
                    break;
                case Scope::kRow:
                    message += " Nothing was loaded: fix the row, or choose to skip bad rows.";
                    break;
                case Scope::kAlways:
                    message += " Nothing was loaded.";
                    break;
            }
            report_.error = FileError(options_, first.code, std::move(message), first.line, first.field);
        }
    }
    report_.details = FinalDetails();
    return std::move(report_);
}

void SieReader::ReadLines(std::istream& in) {
    std::string chunk(std::max<size_t>(options_.chunk_bytes, 1), '\0');
    std::string pending;  // a line split across chunks
    bool pending_too_long = false;
    uint64_t consumed = 0;
    const auto append_pending = [&](std::string_view part) {
        if (pending_too_long) return;
        if (pending.size() + part.size() > max_line_bytes_) {
            pending_too_long = true;
            const size_t keep = pending.size() < kSniffBytes ? kSniffBytes - pending.size() : 0;
            pending.append(part.substr(0, keep));
            return;
        }
        pending.append(part);
    };
    while (!stop_) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0) break;
        const std::string_view data(chunk.data(), got);
        size_t pos = 0;
        while (pos < got && !stop_) {
            const void* found = std::memchr(data.data() + pos, '\n', got - pos);
            if (found == nullptr) {
                append_pending(data.substr(pos));
                break;
            }
            const size_t end = static_cast<size_t>(static_cast<const char*>(found) - data.data());
            const std::string_view segment = data.substr(pos, end - pos);
            if (pending.empty() && !pending_too_long) {
                OnLine(segment, segment.size() > max_line_bytes_);
            } else {
                append_pending(segment);
                OnLine(pending, pending_too_long);
                pending.clear();
                pending_too_long = false;
            }
            pos = end + 1;
        }
        consumed += got;
        if (progress_) progress_(consumed);
    }
    if (!stop_ && (!pending.empty() || pending_too_long)) OnLine(pending, pending_too_long);
}

void SieReader::OnLine(std::string_view line, bool too_long) {
    ++line_;
    if (line_ == 1 && line.starts_with(kUtf8Bom)) line.remove_prefix(kUtf8Bom.size());
    if (!too_long) {
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
            crlf_seen_ = true;
        } else {
            lf_seen_ = true;
        }
    }
    size_t start = 0;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    line.remove_prefix(start);
    if (too_long) {
        const std::string_view head = line.substr(0, line.find_first_of(" \t"));
        const Label label = UpperLabel(head);
        const bool row = IsRowLabel(label.id);
        Diagnose(Severity::kError, Scope::kFile, "line_too_long",
                 fmt::format("Line {} is longer than the limit of {} bytes; SIE records are short lines, so the file "
                             "is probably damaged or not SIE.",
                             line_, max_line_bytes_),
                 line_, row ? std::string(label.view()) : "");
        if (row) {
            ++report_.rows_read;
            ++report_.rows_rejected;
            voucher_.had_bad_row = true;
        }
        return;
    }
    if (line.empty()) return;
    if ((line[0] == '{' || line[0] == '}') && IsBlankLine(line.substr(1))) {
        if (line[0] == '{') {
            OnOpenBrace();
        } else {
            OnCloseBrace();
        }
        return;
    }
    if (line[0] != '#') {
        const SieField unrecognised{.raw = line};
        Diagnose(Severity::kError, Scope::kFile, "not_a_record",
                 fmt::format("Line {} is not a SIE record: records start with a #label, and '{{' and '}}' stand alone "
                             "on their lines (found '{}').",
                             line_, Excerpt(Text(&unrecognised), 40)),
                 line_, "");
        return;
    }
    detail::SplitSieRecord(line, record_);
    const Label label = UpperLabel(record_.label);
    if (label.valid && label.changed && !label_case_reported_) {
        label_case_reported_ = true;
        Warn("label_case",
             fmt::format("The label '{}' is not in upper case as SIE writes labels; it is read as {}.", record_.label,
                         label.view()),
             std::string(label.view()));
    }
    if (label.id == LabelId::kKsumma) {
        OnKsumma();
        return;
    }
    if (checksum_ == Checksum::kRunning) {
        crc_->AddRecord(record_);
    } else if ((checksum_ == Checksum::kVerified || checksum_ == Checksum::kMismatch) && !after_ksumma_reported_) {
        after_ksumma_reported_ = true;
        Warn("records_after_ksumma",
             "Records follow the closing #KSUMMA, so the checksum does not cover them; they are read anyway.",
             label.valid ? std::string(label.view()) : "");
    }
    OnRecord(label);
}

void SieReader::OnRecord(const Label& label) {
    const std::string_view name = label.valid ? label.view() : std::string_view();
    const bool row = IsRowLabel(label.id);
    if (record_.unterminated_quote && !row) {
        Warn("unterminated_quote", "A quoted field is not closed before the end of the line; it is read to the end.",
             std::string(name));
    }
    // A voucher whose rows came without braces ends at the first record that is not a row.
    if (voucher_.state == Voucher::State::kOpen && voucher_.implicit && !row) CloseVoucher();
    if (voucher_.state == Voucher::State::kAwaitingBlock && !row) {
        Diagnose(Severity::kError, Scope::kFile, "missing_voucher_block",
                 fmt::format("The #VER on line {} is not followed by a '{{' line with its rows.", voucher_.line),
                 voucher_.line, "#VER");
        CloseVoucher();
    }
    switch (label.id) {
        case LabelId::kTrans:
            return OnRow(RowKind::kTrans, name);
        case LabelId::kRtrans:
            return OnRow(RowKind::kRtrans, name);
        case LabelId::kBtrans:
            return OnRow(RowKind::kBtrans, name);
        case LabelId::kVer:
            return OnVer();
        default:
            break;
    }

    if (voucher_.state == Voucher::State::kOpen) {
        Warn("label_inside_voucher",
             fmt::format("{} is not a voucher row but stands inside the voucher's braces; it is read anyway.",
                         name.empty() ? "This record" : name),
             std::string(name));
    }
    if (name == "#KONTO" || name == "#KTYP") {
        OnAccount(name);
    } else if (name == "#DIM" || name == "#UNDERDIM") {
        OnDimension(name);
    } else if (name == "#OBJEKT") {
        ++object_count_;
    } else if (name == "#IB" || name == "#UB" || name == "#RES" || name == "#OIB" || name == "#OUB" ||
               name == "#PSALDO" || name == "#PBUDGET") {
        ++balance_counts_[std::string(name.substr(1))];
    } else if (name == "#FORMAT") {
        OnFormat();
    } else if (name == "#PROGRAM") {
        program_name_ = Excerpt(TextAt(0), kMaxNameBytes);
        program_version_ = Excerpt(TextAt(1), kMaxNameBytes);
    } else if (name == "#SIETYP") {
        sie_type_ = Excerpt(TextAt(0), kMaxNameBytes);
        if (sie_type_ != "4") {
            Warn("not_sie_type_4",
                 fmt::format("#SIETYP is '{}': only type 4 files carry vouchers; export SIE type 4 for transactions.",
                             Excerpt(sie_type_)),
                 "#SIETYP");
        }
    } else if (name == "#GEN") {
        const auto date = detail::ParseSieDate(FieldAt(0) ? FieldAt(0)->raw : "");
        generated_ = date ? date->ToString() : Excerpt(TextAt(0), kMaxNameBytes);
    } else if (name == "#FNAMN") {
        company_ = Excerpt(TextAt(0), kMaxNameBytes);
    } else if (name == "#ORGNR") {
        orgnr_ = Excerpt(TextAt(0), kMaxNameBytes);
    } else if (name == "#KPTYP") {
        chart_type_ = Excerpt(TextAt(0), kMaxNameBytes);
    } else if (name == "#VALUTA") {
        OnCurrency();
    } else if (name == "#RAR") {
        OnFiscalYear();
    } else if (!(name == "#FLAGGA" || name == "#FNR" || name == "#FTYP" || name == "#ADRESS" || name == "#BKOD" ||
                 name == "#PROSA" || name == "#TAXAR" || name == "#OMFATTN" || name == "#ENHET" || name == "#SRU")) {
        OnUnknownLabel();
    }
}

// #KONTO (name) and #KTYP (type T, S, K or I) of an account.
void SieReader::OnAccount(std::string_view name) {
    cached_valid_ = false;
    const std::string account = TextAt(0);
    if (account.size() > kMaxKeyBytes) {
        return Warn("bad_account",
                    fmt::format("{} has an account number longer than {} bytes; it is ignored.", name, kMaxKeyBytes),
                    std::string(name));
    }
    if (account.empty()) {
        return Warn("missing_field", fmt::format("{} has no account number.", name), std::string(name));
    }
    auto it = accounts_.find(account);
    if (it == accounts_.end()) {
        if (accounts_.size() >= kMaxAccounts) {
            return Warn(
                "too_many_accounts",
                fmt::format("More than {} accounts are declared; names of the rest are not kept.", kMaxAccounts),
                std::string(name));
        }
        it = accounts_.emplace(account, AccountInfo{}).first;
    }
    AccountInfo& info = it->second;
    (name == "#KONTO" ? info.name : info.type) = Excerpt(TextAt(1), kMaxNameBytes);
    info.json.clear();
    if (!info.name.empty()) AppendMember(info.json, "account_name", info.name);
    if (!info.type.empty()) AppendMember(info.json, "account_type", info.type);
}

// #DIM and #UNDERDIM name the dimensions of object lists.
void SieReader::OnDimension(std::string_view name) {
    std::string dimension = TextAt(0);
    if (dimension.empty()) {
        return Warn("missing_field", fmt::format("{} has no dimension number.", name), std::string(name));
    }
    if (dimension.size() <= kMaxKeyBytes && (dimensions_.size() < kMaxDimensions || dimensions_.contains(dimension))) {
        dimensions_[std::move(dimension)] = Excerpt(TextAt(1), kMaxNameBytes);
    }
}

// The declared character set; the bytes decided the encoding already, so this only checks the declaration.
void SieReader::OnFormat() {
    declared_format_ = Excerpt(TextAt(0), kMaxNameBytes);
    std::string upper = *declared_format_;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper != "PC8") {
        Warn("unknown_format",
             fmt::format("#FORMAT declares '{}', but SIE 4B only knows PC8 (CP437); the text is read as {}.",
                         Excerpt(*declared_format_), decoder_ ? "CP437" : "UTF-8"),
             "#FORMAT");
    } else if (!decoder_) {
        Warn("encoding_mismatch",
             "#FORMAT declares PC8 (CP437), but the file is valid UTF-8 with non-ASCII characters; it is read as "
             "UTF-8.",
             "#FORMAT");
    }
}

void SieReader::OnCurrency() {
    const std::string code = TextAt(0);
    const bool valid =
        code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (!valid) {
        return Warn("bad_currency",
                    fmt::format("#VALUTA '{}' is not an ISO 4217 code like SEK; the currency stays {}.", Excerpt(code),
                                currency_),
                    "#VALUTA");
    }
    if (loadable_rows_ > 0) {
        Warn("late_currency",
             fmt::format("#VALUTA comes after {} rows, which keep the currency {}; it belongs before the vouchers.",
                         loadable_rows_, currency_),
             "#VALUTA");
    }
    currency_ = code;
}

void SieReader::OnFiscalYear() {
    const auto start = detail::ParseSieDate(FieldAt(1) ? FieldAt(1)->raw : "");
    const auto end = detail::ParseSieDate(FieldAt(2) ? FieldAt(2)->raw : "");
    int year = 0;
    const std::string index = TextAt(0);
    const auto [ptr, ec] = std::from_chars(index.data(), index.data() + index.size(), year);
    if (!start || !end || ec != std::errc() || ptr != index.data() + index.size() || *end < *start) {
        return Warn("bad_fiscal_year",
                    "#RAR needs a year number and two YYYYMMDD dates (start, end); this one is ignored.", "#RAR");
    }
    if (fiscal_years_.size() < kMaxFiscalYears) {
        fiscal_years_.push_back({{"year", year}, {"start", start->ToString()}, {"end", end->ToString()}});
    }
}

// Reported once per label; the details count them all.
void SieReader::OnUnknownLabel() {
    const SieField written_label{.raw = record_.label};
    const std::string written = Excerpt(Text(&written_label), 40);
    auto it = unknown_labels_.find(written);
    if (it != unknown_labels_.end()) {
        ++it->second;
    } else if (unknown_labels_.size() < kMaxUnknownLabels) {
        unknown_labels_.emplace(written, 1);
        Diagnose(Severity::kInfo, Scope::kFile, "unknown_label",
                 fmt::format("The label '{}' is not part of SIE 4B; its records are ignored.", written), line_,
                 written);
    }
}

void SieReader::OnKsumma() {
    const SieField* value = FieldAt(0);
    if (value == nullptr || value->raw.empty()) {
        if (checksum_ != Checksum::kAbsent) {
            return Warn("unexpected_ksumma", "A second opening #KSUMMA is ignored; a file has one checksum.",
                        "#KSUMMA");
        }
        checksum_ = Checksum::kRunning;
        ksumma_line_ = line_;
        if (!crc_) crc_.emplace();
        return;
    }
    if (checksum_ != Checksum::kRunning) {
        return Warn("unexpected_ksumma",
                    "A closing #KSUMMA without an opening #KSUMMA (after #FLAGGA) cannot be checked; it is ignored.",
                    "#KSUMMA");
    }
    std::string_view digits = value->raw;
    const bool negative = digits.starts_with('-');
    if (negative) digits.remove_prefix(1);
    uint64_t expected = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expected);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || expected > 0xFFFFFFFFull) {
        checksum_ = Checksum::kMismatch;
        return Diagnose(Severity::kError, Scope::kFile, "bad_ksumma",
                        fmt::format("The closing #KSUMMA '{}' is not a number, so the checksum cannot be verified.",
                                    Excerpt(Text(value))),
                        line_, "#KSUMMA");
    }
    // Some programs write the CRC as a signed 32-bit number.
    const auto stated = static_cast<uint32_t>(negative ? 0x100000000ull - expected : expected);
    const uint32_t computed = crc_->Value();
    if (stated == computed) {
        checksum_ = Checksum::kVerified;
        return;
    }
    checksum_ = Checksum::kMismatch;
    Diagnose(
        Severity::kError, Scope::kFile, "bad_checksum",
        fmt::format("The #KSUMMA checksum {} does not match the file's content (computed {}): the file was changed "
                    "or damaged after it was exported; export it again.",
                    Excerpt(Text(value)), computed),
        line_, "#KSUMMA");
}

void SieReader::OnVer() {
    if (voucher_.state == Voucher::State::kOpen) {
        Diagnose(
            Severity::kError, Scope::kFile, "unterminated_voucher",
            fmt::format("The voucher starting on line {} has no closing '}}' before the next #VER.", voucher_.line),
            voucher_.line, "#VER");
        CloseVoucher();
    }
    ++voucher_count_;
    voucher_ = Voucher{.state = Voucher::State::kAwaitingBlock,
                       .series = TextAt(0),
                       .number = TextAt(1),
                       .text = TextAt(3),
                       .sign = TextAt(5),
                       .ordinal = voucher_count_,
                       .line = line_};
    // "voucher A 12"; a voucher without series or number (import files) by its position: "voucher #3".
    std::string& location = voucher_.location;
    location = "voucher";
    if (!voucher_.series.empty()) location.append(" ").append(Excerpt(voucher_.series));
    location += ' ';
    if (voucher_.number.empty()) {
        location += '#';
        AppendInt(location, voucher_count_);
    } else {
        location.append(Excerpt(voucher_.number));
    }
    if (!voucher_.text.empty()) AppendMember(voucher_.json, "voucher_text", voucher_.text);

    const SieField* date = FieldAt(2);
    const auto parsed = detail::ParseSieDate(date ? date->raw : "");
    if (!parsed) {
        voucher_.readable = false;
        const std::string what =
            date == nullptr || date->raw.empty()
                ? std::string("has no date")
                : fmt::format("has the date '{}', which is not a YYYYMMDD date", Excerpt(Text(date)));
        Diagnose(Severity::kError, Scope::kRow, date == nullptr || date->raw.empty() ? "missing_date" : "bad_date",
                 fmt::format("The #VER {} {}; its rows cannot be dated and are not loaded.", voucher_.location, what),
                 line_, "#VER");
    } else {
        voucher_.date = *parsed;
    }
    const SieField* registered = FieldAt(4);
    if (registered != nullptr && !registered->raw.empty()) {
        voucher_.registration_date = detail::ParseSieDate(registered->raw);
        if (!voucher_.registration_date) {
            Warn("bad_registration_date",
                 fmt::format("The registration date '{}' is not a YYYYMMDD date; it is ignored.",
                             Excerpt(Text(registered))),
                 "#VER");
        }
    }

    if (!voucher_.number.empty() && voucher_.series.size() <= kMaxKeyBytes && voucher_.number.size() <= kMaxKeyBytes) {
        auto it = last_number_by_series_.find(voucher_.series);
        if (it == last_number_by_series_.end()) {
            if (last_number_by_series_.size() < kMaxSeries) {
                last_number_by_series_.emplace(voucher_.series, voucher_.number);
            }
        } else {
            if (CompareNumbers(it->second, voucher_.number) > 0 && ++out_of_order_count_ == 1) {
                Warn("voucher_order",
                     fmt::format("Voucher {} {} comes after {} {}: SIE lists each series in ascending number order "
                                 "(reported once; the details count all).",
                                 voucher_.series, voucher_.number, voucher_.series, it->second),
                     "#VER");
            }
            it->second = voucher_.number;
        }
    }
}

void SieReader::AssignVoucherId() {
    std::string& prefix = voucher_.id_prefix;
    prefix = voucher_.series;
    prefix += '-';
    if (voucher_.number.empty()) {
        prefix += '#';
        AppendInt(prefix, voucher_.ordinal);
        if (!unnumbered_reported_) {
            unnumbered_reported_ = true;
            Diagnose(Severity::kInfo, Scope::kFile, "unnumbered_voucher",
                     fmt::format("Vouchers without a number (as in import files) get ids by their position in the "
                                 "file, e.g. '{}1'.",
                                 Excerpt(prefix) + "-"),
                     voucher_.line, "#VER");
        }
    } else {
        prefix += voucher_.number;
        const uint64_t key = VoucherKey(voucher_.series, voucher_.number);
        if (!voucher_keys_.Insert(key)) {
            const int64_t occurrence = ++repeats_[key] + 1;
            prefix += '(';
            AppendInt(prefix, occurrence);
            prefix += ')';
            Diagnose(Severity::kWarning, Scope::kFile, "duplicate_voucher",
                     fmt::format("Voucher {} {} appears more than once in the file; the rows of occurrence {} get "
                                 "ids like '{}-1' so that ids stay unique.",
                                 Excerpt(voucher_.series), Excerpt(voucher_.number), occurrence, Excerpt(prefix)),
                     voucher_.line, "#VER");
        }
    }
    prefix += '-';
}

void SieReader::OnOpenBrace() {
    if (voucher_.state == Voucher::State::kAwaitingBlock) {
        voucher_.state = Voucher::State::kOpen;
        return;
    }
    Diagnose(Severity::kError, Scope::kFile, "unexpected_brace",
             voucher_.state == Voucher::State::kOpen
                 ? fmt::format("A '{{' inside the voucher that starts on line {}: blocks do not nest.", voucher_.line)
                 : std::string("A '{' that does not follow a #VER; it is ignored."),
             line_, "{");
}

void SieReader::OnCloseBrace() {
    if (voucher_.state == Voucher::State::kOpen) {
        CloseVoucher();
        return;
    }
    Diagnose(Severity::kError, Scope::kFile, "unexpected_brace",
             voucher_.state == Voucher::State::kAwaitingBlock
                 ? fmt::format("A '}}' closes the #VER on line {}, which has no opening '{{'.", voucher_.line)
                 : std::string("A '}' without an open voucher block; it is ignored."),
             line_, "}");
    if (voucher_.state == Voucher::State::kAwaitingBlock) CloseVoucher();
}

// `complete` is false for a voucher cut off by the end of the file: its balance says nothing then.
void SieReader::CloseVoucher(bool complete) {
    if (voucher_.twin_pending) {
        Diagnose(Severity::kWarning, Scope::kFile, "missing_rtrans_twin",
                 "The #RTRANS is not followed by its #TRANS twin, which SIE requires for older readers; the row is "
                 "loaded once.",
                 voucher_.twin_line, "#RTRANS");
        voucher_.twin_pending = false;
    }
    if (complete && voucher_.readable && !voucher_.had_bad_row && (voucher_.sum != 0 || voucher_.sum_overflow)) {
        Diagnose(Severity::kError, Scope::kFile, "unbalanced_voucher",
                 voucher_.sum_overflow
                     ? fmt::format("The rows of {} add up beyond the range of amounts; a voucher must balance to 0.",
                                   voucher_.location)
                     : fmt::format("The rows of {} add up to {} instead of 0: a voucher must balance; correct it in "
                                   "the accounting program and export again.",
                                   voucher_.location, Money{.minor = voucher_.sum}.ToString()),
                 voucher_.line, "#VER");
    }
    voucher_.state = Voucher::State::kNone;
}

void SieReader::OnRow(RowKind kind, std::string_view label) {
    ++report_.rows_read;
    ++(kind == RowKind::kTrans ? trans_count_ : kind == RowKind::kRtrans ? rtrans_count_ : btrans_count_);
    if (voucher_.state == Voucher::State::kNone) {
        ++report_.rows_rejected;
        return Diagnose(Severity::kError, Scope::kRow, "row_outside_voucher",
                        fmt::format("{} stands outside a #VER voucher block, so it belongs to no voucher; it is not "
                                    "loaded.",
                                    label),
                        line_, std::string(label));
    }
    if (voucher_.state == Voucher::State::kAwaitingBlock) {
        Diagnose(Severity::kError, Scope::kFile, "missing_voucher_block",
                 fmt::format("The #VER on line {} is not followed by a '{{' line; its rows are read up to the next "
                             "record that is not a row.",
                             voucher_.line),
                 voucher_.line, "#VER");
        voucher_.state = Voucher::State::kOpen;
        voucher_.implicit = true;
    }
    if (++voucher_.records > kMaxVoucherRows) {
        ++report_.rows_rejected;
        return Fatal(ErrorKind::kTooLarge, "voucher_too_large",
                     fmt::format("{} has more than {} rows; no real voucher is that large, so the file is rejected.",
                                 voucher_.location, kMaxVoucherRows),
                     "#VER");
    }

    bool twin = false;
    if (voucher_.twin_pending) {
        if (kind == RowKind::kTrans) {
            twin = true;
        } else {
            Diagnose(Severity::kWarning, Scope::kFile, "missing_rtrans_twin",
                     "The #RTRANS is not followed by its #TRANS twin, which SIE requires for older readers; the row "
                     "is loaded once.",
                     voucher_.twin_line, "#RTRANS");
        }
        voucher_.twin_pending = false;
    }

    Row& row = row_;
    const bool readable = voucher_.readable && ReadRow(label, !twin && kind != RowKind::kBtrans, row);
    if (twin) {
        ++report_.rows_rejected;
        if (readable && voucher_.twin_amount &&
            (row.account != voucher_.twin_account || row.amount != *voucher_.twin_amount)) {
            Warn("rtrans_twin_mismatch",
                 fmt::format("The #TRANS after the #RTRANS on line {} should repeat it, but has account {} and amount "
                             "{} instead of {} and {}; the #RTRANS is loaded.",
                             voucher_.twin_line, Excerpt(row.account), row.amount.ToString(),
                             Excerpt(voucher_.twin_account), voucher_.twin_amount->ToString()),
                 "#TRANS");
        }
        return;
    }
    if (kind == RowKind::kRtrans) {
        voucher_.twin_pending = true;
        voucher_.twin_line = line_;
        voucher_.twin_account = readable ? row.account : std::string();
        voucher_.twin_amount = readable ? std::optional<Money>(row.amount) : std::nullopt;
    }
    if (kind == RowKind::kBtrans) {
        ++report_.rows_rejected;
        if (readable) RecordRemoved(row);
        return;
    }
    if (!readable) {
        ++report_.rows_rejected;
        voucher_.had_bad_row = true;
        return;
    }
    if (__builtin_add_overflow(voucher_.sum, row.amount.minor, &voucher_.sum)) voucher_.sum_overflow = true;
    if (++voucher_.loaded == 1) AssignVoucherId();
    if (++loadable_rows_ > static_cast<int64_t>(options_.limits.max_rows)) {
        ++report_.rows_rejected;
        return Fatal(ErrorKind::kTooLarge, "too_many_rows",
                     fmt::format("The file has more than {} transactions, the limit for one upload; split it by "
                                 "fiscal year or period.",
                                 options_.limits.max_rows),
                     std::string(label));
    }
    EmitRow(kind, row);
}

bool SieReader::ReadRow(std::string_view label, bool loaded, Row& row) {
    // A removed row or an #RTRANS twin is never loaded, so what is wrong with it is only a warning.
    const Severity severity = loaded ? Severity::kError : Severity::kWarning;
    const auto bad = [&](std::string code, std::string message) {
        Diagnose(severity, Scope::kRow, std::move(code), std::move(message), line_, std::string(label));
        return false;
    };
    const detail::SieFields& fields = record_.fields;
    if (record_.unterminated_list) {
        return bad("bad_object_list",
                   fmt::format("The object list of this {} has no closing '}}'; the row cannot be read.", label));
    }
    if (fields.empty() || fields[0].raw.empty() || fields[0].kind == SieFieldKind::kList) {
        return bad("missing_account", fmt::format("This {} has no account number.", label));
    }
    size_t next = 1;
    row.objects = nullptr;
    if (next < fields.size() && fields[next].kind == SieFieldKind::kList) {
        row.objects = &fields[next++];
    } else if (!missing_list_reported_) {
        missing_list_reported_ = true;
        Warn(
            "missing_object_list",
            fmt::format("This {} has no object list '{{}}' after the account; its fields are read without one.", label),
            std::string(label));
    }
    list_tokens_.clear();
    if (row.objects != nullptr) {
        detail::SplitSieList(row.objects->raw, list_tokens_);
        if (list_tokens_.size() % 2 != 0) {
            Warn("incomplete_object_list",
                 "The object list has a dimension without an object (it holds pairs of dimension and object); the "
                 "last one is left out.",
                 std::string(label));
        }
    }
    const SieField* amount = next < fields.size() ? &fields[next] : nullptr;
    if (amount == nullptr || amount->raw.empty()) {
        return bad("missing_amount", fmt::format("This {} has no amount.", label));
    }
    const auto money = detail::ParseSieAmount(amount->raw);
    if (!money) {
        return bad("bad_amount",
                   fmt::format("The amount '{}' is not a SIE amount (digits with a point and at most two decimals, "
                               "e.g. -1234.50, at most 13 integer digits).",
                               Excerpt(Text(amount))));
    }
    row.amount = *money;
    const SieField* date = next + 1 < fields.size() ? &fields[next + 1] : nullptr;
    row.own_date = date != nullptr && !date->raw.empty();
    if (row.own_date) {
        const auto parsed = CachedDate(date->raw);
        if (!parsed) {
            return bad("bad_date",
                       fmt::format("The transaction date '{}' is not a YYYYMMDD date.", Excerpt(Text(date))));
        }
        row.date = *parsed;
    } else {
        row.date = voucher_.date;
    }
    row.account.clear();
    AppendText(row.account, fields[0]);
    row.text.clear();
    if (next + 2 < fields.size()) AppendText(row.text, fields[next + 2]);
    row.quantity.reset();
    if (next + 3 < fields.size() && !fields[next + 3].raw.empty()) {
        row.quantity = detail::NormalizeSieQuantity(fields[next + 3].raw);
        if (!row.quantity) {
            Warn("bad_quantity",
                 fmt::format("The quantity '{}' is not a number; it is left out.", Excerpt(Text(&fields[next + 3]))),
                 std::string(label));
        }
    }
    row.sign.clear();
    if (next + 4 < fields.size()) AppendText(row.sign, fields[next + 4]);
    if (record_.unterminated_quote) {
        Warn("unterminated_quote", "A quoted field is not closed before the end of the line; it is read to the end.",
             std::string(label));
    }
    return true;
}

void SieReader::RecordRemoved(const Row& row) {
    if (removed_rows_.size() >= kMaxRemovedRows) return;
    nlohmann::ordered_json item;
    item["voucher"] = voucher_.location.substr(std::string_view("voucher ").size());
    item["line"] = line_;
    item["account"] = Excerpt(row.account, kMaxNameBytes);
    item["amount"] = row.amount.ToString();
    if (row.own_date) item["date"] = row.date.ToString();
    if (!row.text.empty()) item["text"] = Excerpt(row.text, kMaxNameBytes);
    if (!row.sign.empty()) item["sign"] = Excerpt(row.sign, kMaxNameBytes);
    removed_rows_.push_back(std::move(item));
}

void SieReader::EmitRow(RowKind kind, const Row& row) {
    if (rejected_) {
        ++report_.rows_rejected;
        return;
    }
    Transaction& tx = batch_[batch_used_++];
    tx.row_number = report_.rows_accepted + static_cast<int64_t>(batch_used_);
    tx.source_line = line_;
    tx.external_id = voucher_.id_prefix;
    AppendInt(tx.external_id, voucher_.loaded);
    tx.date = row.date;
    tx.registration_date = voucher_.registration_date;
    tx.time_seconds.reset();
    tx.account = row.account;
    tx.amount = row.amount;
    tx.currency = currency_;
    tx.text = row.text.empty() ? voucher_.text : row.text;
    tx.user = row.sign.empty() ? voucher_.sign : row.sign;
    tx.counterparty.clear();
    tx.voucher_series = voucher_.series;
    tx.voucher_number = voucher_.number;
    tx.processed_data.clear();

    std::string& raw = tx.raw_data;
    raw.assign("{");
    if (!cached_valid_ || cached_account_ != row.account) {
        const auto it = accounts_.find(std::string_view(row.account));
        cached_info_ = it == accounts_.end() ? nullptr : &it->second;
        cached_account_ = row.account;
        cached_valid_ = true;
    }
    const auto key = [&raw](std::string_view name) {
        if (raw.size() > 1) raw.push_back(',');
        raw.push_back('"');
        raw.append(name);
        raw.append("\":");
    };
    if (cached_info_ != nullptr) raw.append(cached_info_->json);
    if (!voucher_.json.empty()) {
        if (raw.size() > 1) raw.push_back(',');
        raw.append(voucher_.json);
    }
    if (list_tokens_.size() >= 2) {
        key("objects");
        raw.push_back('[');
        std::string dimension;
        std::string object;
        for (size_t i = 0; i + 1 < list_tokens_.size(); i += 2) {
            dimension.clear();
            object.clear();
            AppendText(dimension, list_tokens_[i]);
            AppendText(object, list_tokens_[i + 1]);
            if (i > 0) raw.push_back(',');
            raw.append("{\"dimension\":");
            detail::AppendJsonString(raw, dimension);
            const auto named = dimensions_.find(std::string_view(dimension));
            if (named != dimensions_.end()) {
                raw.append(",\"dimension_name\":");
                detail::AppendJsonString(raw, named->second);
            }
            raw.append(",\"object\":");
            detail::AppendJsonString(raw, object);
            raw.push_back('}');
        }
        raw.push_back(']');
    }
    if (row.quantity) {
        key("quantity");
        raw.append(*row.quantity);
    }
    if (kind == RowKind::kRtrans) {
        key("added_later");
        raw.push_back('{');
        size_t fields = 0;
        if (!row.sign.empty()) {
            raw.append("\"sign\":");
            detail::AppendJsonString(raw, row.sign);
            ++fields;
        }
        if (row.own_date) {
            if (fields > 0) raw.push_back(',');
            raw.append("\"date\":\"");
            raw.append(row.date.ToString());
            raw.push_back('"');
        }
        raw.push_back('}');
    }
    raw.push_back('}');
    if (batch_used_ == batch_.size()) Flush();
}

void SieReader::Flush() {
    if (batch_used_ == 0 || stop_) return;
    auto result = sink_(std::span<Transaction>(batch_.data(), batch_used_));
    if (!result) {
        report_.rows_rejected += static_cast<int64_t>(batch_used_);
        batch_used_ = 0;
        fatal_ = std::move(result).error();
        stop_ = true;
        return;
    }
    report_.rows_accepted += static_cast<int64_t>(batch_used_);
    batch_used_ = 0;
}

void SieReader::Finish() {
    if (voucher_.state == Voucher::State::kOpen && !voucher_.implicit) {
        Diagnose(Severity::kError, Scope::kFile, "unterminated_voucher",
                 fmt::format("The voucher starting on line {} has no closing '}}': the file ends inside it, so it is "
                             "probably cut off.",
                             voucher_.line),
                 voucher_.line, "#VER");
    } else if (voucher_.state == Voucher::State::kAwaitingBlock) {
        Diagnose(Severity::kError, Scope::kFile, "missing_voucher_block",
                 fmt::format("The #VER on line {} is not followed by a '{{' line with its rows.", voucher_.line),
                 voucher_.line, "#VER");
    }
    if (voucher_.state != Voucher::State::kNone)
        CloseVoucher(voucher_.state != Voucher::State::kOpen || voucher_.implicit);
    if (checksum_ == Checksum::kRunning) {
        Diagnose(Severity::kError, Scope::kAlways, "ksumma_missing_end",
                 fmt::format("The #KSUMMA on line {} starts a checksum, but the file has no closing #KSUMMA with the "
                             "sum: it is probably cut off.",
                             ksumma_line_),
                 ksumma_line_, "#KSUMMA", false);
    }
    if (!declared_format_) {
        Diagnose(Severity::kWarning, Scope::kFile, "missing_format",
                 fmt::format("The file has no #FORMAT record; it is read as {}.", decoder_ ? "PC8 (CP437)" : "UTF-8"),
                 0, "#FORMAT", false);
    }
    Flush();
    if (stop_) return;
    if (loadable_rows_ == 0) {
        // Even lenient reading fails here: there is nothing to analyse.
        Problem problem{.severity = Severity::kError,
                        .code = "no_transactions",
                        .message = report_.rows_read == 0
                                       ? std::string("The file has no #TRANS rows inside #VER vouchers; export a SIE "
                                                     "type 4 file (with vouchers) to analyse transactions.")
                                       : fmt::format("None of the file's {} voucher rows could be loaded; see the "
                                                     "other problems.",
                                                     report_.rows_read)};
        if (!first_rejecting_) {
            first_rejecting_ = problem;
            first_rejecting_scope_ = Scope::kAlways;
        }
        report_.Add(std::move(problem));
    }
}

std::string SieReader::FinalDetails() const {
    nlohmann::ordered_json details;
    details["program"] = {{"name", program_name_}, {"version", program_version_}};
    details["format"] = declared_format_.value_or("");
    details["encoding"] = report_.encoding;
    details["sie_type"] = sie_type_;
    details["generated"] = generated_;
    details["company"] = company_;
    details["orgnr"] = orgnr_;
    details["currency"] = currency_;
    details["chart_of_accounts"] = chart_type_;
    details["fiscal_years"] = fiscal_years_;
    details["counts"] = {{"vouchers", voucher_count_},
                         {"vouchers_out_of_order", out_of_order_count_},
                         {"trans", trans_count_},
                         {"rtrans", rtrans_count_},
                         {"btrans", btrans_count_},
                         {"accounts", accounts_.size()},
                         {"dimensions", dimensions_.size()},
                         {"objects", object_count_}};
    details["ksumma"] = ChecksumName(checksum_);
    details["removed_rows"] = removed_rows_;
    nlohmann::ordered_json balances;
    for (const char* label : {"IB", "UB", "RES", "OIB", "OUB", "PSALDO", "PBUDGET"}) {
        const auto it = balance_counts_.find(label);
        std::string key(label);
        for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        balances[key] = it == balance_counts_.end() ? 0 : it->second;
    }
    details["balances"] = std::move(balances);
    if (!unknown_labels_.empty()) details["unknown_labels"] = unknown_labels_;
    return details.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

class SieParser final : public Parser {
public:
    Format format() const override { return Format::kSie; }
    ParseReport Parse(const std::filesystem::path& path, const ParseOptions& options, const BatchSink& sink,
                      const ByteProgress& progress) const override {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            ParseReport report;
            report.format = Format::kSie;
            report.error =
                FileError(options, "unreadable_file", fmt::format("Cannot open the file '{}'.", path.string()));
            return report;
        }
        return ReadSie(in, options, sink, progress);
    }
};

}  // namespace

std::unique_ptr<Parser> MakeSieParser() { return std::make_unique<SieParser>(); }

ParseReport ReadSie(std::istream& in, const ParseOptions& options, const BatchSink& sink,
                    const ByteProgress& progress) {
    const size_t chunk_bytes = std::max<size_t>(options.chunk_bytes, 1);
    const EncodingScan scan = ScanEncoding(in, chunk_bytes);
    in.clear();
    in.seekg(0);
    ParseReport failed;
    failed.format = Format::kSie;
    if (!in) {
        failed.error = Internal("The SIE input cannot be read twice (it must be seekable).");
        return failed;
    }
    std::optional<Cp437Decoder> decoder;
    if (!scan.utf8) {
        auto made = Cp437Decoder::Make();
        if (!made) {
            failed.error = made.error();
            return failed;
        }
        decoder = *made;
    }
    SieReader reader(options, sink, progress, decoder);
    return reader.Run(in, scan);
}

}  // namespace granska::ingest
