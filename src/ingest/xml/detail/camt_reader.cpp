#include "ingest/xml/detail/camt_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/date.h"
#include "core/money.h"
#include "ingest/detail/text.h"

namespace granska::ingest::detail {

namespace {

constexpr size_t kMaxDetailedStatements = 1000;  // statements described in report.details
constexpr size_t kMaxBalancesPerStatement = 20;

enum class EntryField {
    kAmount,
    kCreditDebit,
    kReversal,
    kStatus,
    kBookingDate,
    kValueDate,
    kServicerReference,
    kEntryReference,
    kAdditionalInfo,
    kDomain,
    kFamily,
    kSubFamily,
    kProprietaryCode,
    kEndToEndId,
    kUnstructured,
    kStructuredReference,
    kDebtorName,
    kCreditorName,
    kDebtorAccount,
    kCreditorAccount,
};

// Paths below Ntry, across versions (Sts became Sts/Cd and party names moved into Pty in version 08).
constexpr std::array<std::pair<std::string_view, EntryField>, 29> kEntryPaths = {{
    {"Amt", EntryField::kAmount},
    {"CdtDbtInd", EntryField::kCreditDebit},
    {"RvslInd", EntryField::kReversal},
    {"Sts", EntryField::kStatus},
    {"Sts/Cd", EntryField::kStatus},
    {"Sts/Prtry", EntryField::kStatus},
    {"BookgDt/Dt", EntryField::kBookingDate},
    {"BookgDt/DtTm", EntryField::kBookingDate},
    {"ValDt/Dt", EntryField::kValueDate},
    {"ValDt/DtTm", EntryField::kValueDate},
    {"AcctSvcrRef", EntryField::kServicerReference},
    {"NtryRef", EntryField::kEntryReference},
    {"AddtlNtryInf", EntryField::kAdditionalInfo},
    {"BkTxCd/Domn/Cd", EntryField::kDomain},
    {"BkTxCd/Domn/Fmly/Cd", EntryField::kFamily},
    {"BkTxCd/Domn/Fmly/SubFmlyCd", EntryField::kSubFamily},
    {"BkTxCd/Prtry/Cd", EntryField::kProprietaryCode},
    {"NtryDtls/TxDtls/Refs/EndToEndId", EntryField::kEndToEndId},
    {"NtryDtls/TxDtls/RmtInf/Ustrd", EntryField::kUnstructured},
    {"NtryDtls/TxDtls/RmtInf/Strd/CdtrRefInf/Ref", EntryField::kStructuredReference},
    {"NtryDtls/TxDtls/RmtInf/Strd/RfrdDocInf/Nb", EntryField::kStructuredReference},
    {"NtryDtls/TxDtls/RltdPties/Dbtr/Nm", EntryField::kDebtorName},
    {"NtryDtls/TxDtls/RltdPties/Dbtr/Pty/Nm", EntryField::kDebtorName},
    {"NtryDtls/TxDtls/RltdPties/Cdtr/Nm", EntryField::kCreditorName},
    {"NtryDtls/TxDtls/RltdPties/Cdtr/Pty/Nm", EntryField::kCreditorName},
    {"NtryDtls/TxDtls/RltdPties/DbtrAcct/Id/IBAN", EntryField::kDebtorAccount},
    {"NtryDtls/TxDtls/RltdPties/DbtrAcct/Id/Othr/Id", EntryField::kDebtorAccount},
    {"NtryDtls/TxDtls/RltdPties/CdtrAcct/Id/IBAN", EntryField::kCreditorAccount},
    {"NtryDtls/TxDtls/RltdPties/CdtrAcct/Id/Othr/Id", EntryField::kCreditorAccount},
}};

template <typename Field, size_t N>
std::optional<Field> Lookup(const std::array<std::pair<std::string_view, Field>, N>& table, std::string_view path) {
    for (const auto& [candidate, field] : table) {
        if (candidate == path) return field;
    }
    return std::nullopt;
}

enum class StatementField { kId, kAccount, kCurrency };
constexpr std::array<std::pair<std::string_view, StatementField>, 4> kStatementPaths = {{
    {"Id", StatementField::kId},
    {"Acct/Id/IBAN", StatementField::kAccount},
    {"Acct/Id/Othr/Id", StatementField::kAccount},
    {"Acct/Ccy", StatementField::kCurrency},
}};

enum class BalanceField { kType, kAmount, kCreditDebit, kDate };
constexpr std::array<std::pair<std::string_view, BalanceField>, 6> kBalancePaths = {{
    {"Tp/CdOrPrtry/Cd", BalanceField::kType},
    {"Tp/CdOrPrtry/Prtry", BalanceField::kType},
    {"Amt", BalanceField::kAmount},
    {"CdtDbtInd", BalanceField::kCreditDebit},
    {"Dt/Dt", BalanceField::kDate},
    {"Dt/DtTm", BalanceField::kDate},
}};

// ISO 20022 amounts: digits with an optional fraction, no sign (the sign is CdtDbtInd), no grouping.
std::optional<Money> ParseIsoAmount(std::string_view text) {
    const size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    const auto all_digits = [](std::string_view s) { return s.find_first_not_of("0123456789") == s.npos; };
    if (whole.empty() || !all_digits(whole) || !all_digits(fraction)) return std::nullopt;
    if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
    return ParseMoney(text, '.');
}

std::optional<int> SignOf(std::string_view credit_debit) {
    if (credit_debit == "CRDT") return 1;
    if (credit_debit == "DBIT") return -1;
    return std::nullopt;
}

void AppendJoined(std::string& out, std::string_view value) {
    if (value.empty()) return;
    if (!out.empty()) out.push_back(' ');
    out.append(value);
}

// Adds "key":"value" to a JSON object still open ("{" or "{...").
void AppendRaw(std::string& raw, std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (raw.size() > 1) raw.push_back(',');
    AppendJsonString(raw, key);
    raw.push_back(':');
    AppendJsonString(raw, value);
}

struct Entry {
    int64_t line = 0;
    std::string amount;
    std::string currency;
    std::string credit_debit;
    std::string reversal;
    std::string status;
    std::string booking_date;
    std::string value_date;
    std::string servicer_reference;
    std::string entry_reference;
    std::string additional_info;
    std::string domain;
    std::string family;
    std::string sub_family;
    std::string proprietary_code;
    std::string end_to_end_id;
    std::string unstructured;
    std::string structured_reference;
    std::string debtor_name;
    std::string creditor_name;
    std::string debtor_account;
    std::string creditor_account;

    // Empties every value but keeps the strings' capacity for the next entry.
    void Reset(int64_t start_line) {
        line = start_line;
        for (std::string* value : {&amount,
                                   &currency,
                                   &credit_debit,
                                   &reversal,
                                   &status,
                                   &booking_date,
                                   &value_date,
                                   &servicer_reference,
                                   &entry_reference,
                                   &additional_info,
                                   &domain,
                                   &family,
                                   &sub_family,
                                   &proprietary_code,
                                   &end_to_end_id,
                                   &unstructured,
                                   &structured_reference,
                                   &debtor_name,
                                   &creditor_name,
                                   &debtor_account,
                                   &creditor_account}) {
            value->clear();
        }
    }

    void Set(EntryField field, std::string_view value) {
        switch (field) {
            case EntryField::kAmount:
                amount = value;
                break;
            case EntryField::kCreditDebit:
                credit_debit = value;
                break;
            case EntryField::kReversal:
                reversal = value;
                break;
            case EntryField::kStatus:
                status = value;
                break;
            case EntryField::kBookingDate:
                booking_date = value;
                break;
            case EntryField::kValueDate:
                value_date = value;
                break;
            case EntryField::kServicerReference:
                servicer_reference = value;
                break;
            case EntryField::kEntryReference:
                entry_reference = value;
                break;
            case EntryField::kAdditionalInfo:
                AppendJoined(additional_info, value);
                break;
            case EntryField::kDomain:
                domain = value;
                break;
            case EntryField::kFamily:
                family = value;
                break;
            case EntryField::kSubFamily:
                sub_family = value;
                break;
            case EntryField::kProprietaryCode:
                proprietary_code = value;
                break;
            case EntryField::kEndToEndId:  // the first transaction's, when an entry batches several
                if (end_to_end_id.empty()) end_to_end_id = value;
                break;
            case EntryField::kUnstructured:
                AppendJoined(unstructured, value);
                break;
            case EntryField::kStructuredReference:
                AppendJoined(structured_reference, value);
                break;
            case EntryField::kDebtorName:
                if (debtor_name.empty()) debtor_name = value;
                break;
            case EntryField::kCreditorName:
                if (creditor_name.empty()) creditor_name = value;
                break;
            case EntryField::kDebtorAccount:
                if (debtor_account.empty()) debtor_account = value;
                break;
            case EntryField::kCreditorAccount:
                if (creditor_account.empty()) creditor_account = value;
                break;
        }
    }
};

struct Balance {
    std::string type;
    std::string amount;
    std::string currency;
    std::string credit_debit;
    std::string date;
};

struct Statement {
    int64_t index = 0;  // 1-based among the file's statements
    int64_t line = 0;
    std::string id;
    std::string account;
    std::string currency;
    int64_t entries = 0;
    int64_t booked_minor = 0;  // sum of the booked entries
    bool sum_overflowed = false;
    std::vector<nlohmann::ordered_json> balances;
    std::optional<Money> opening;  // OPBD, else PRCD
    bool opening_is_booked = false;
    std::optional<Money> closing;  // CLBD
};

}  // namespace

std::string_view CamtKindName(CamtKind kind) { return kind == CamtKind::kStatement ? "camt.053" : "camt.054"; }

class CamtReader::Impl {
public:
    Impl(CamtKind kind, const ParseOptions& options, ParseReport& report, const BatchSink& sink)
        : kind_(kind),
          options_(options),
          report_(report),
          sink_(sink),
          group_name_(kind == CamtKind::kStatement ? "BkToCstmrStmt" : "BkToCstmrDbtCdtNtfctn"),
          statement_name_(kind == CamtKind::kStatement ? "Stmt" : "Ntfctn"),
          reject_file_(options.bad_rows != BadRowPolicy::kSkipRow) {
        batch_.reserve(std::max<size_t>(options.batch_size, 1));
    }

    Expected<void> OnStart(const XmlStart& element);
    Expected<void> OnEnd(std::string_view text, bool leaf);
    Expected<void> Finish();

private:
    // The path below the element whose own path ends at prefix, e.g. "BookgDt/Dt" below Ntry.
    // "" for that element itself.
    std::string_view Below(size_t prefix) const {
        return path_.size() > prefix ? std::string_view(path_).substr(prefix + 1) : std::string_view{};
    }
    std::string Location() const {
        return fmt::format("{} {} / Ntry {}", statement_name_, statement_.index, statement_.entries);
    }
    Expected<void> EndEntry();
    void EndBalance();
    void EndStatement();
    Expected<void> BadEntry(std::string code, std::string message, std::string_view field);
    Expected<void> Flush();

    const CamtKind kind_;
    const ParseOptions& options_;
    ParseReport& report_;
    const BatchSink& sink_;
    const std::string_view group_name_;
    const std::string_view statement_name_;
    const bool reject_file_;

    std::string path_;            // local names of the open elements joined by '/'
    std::vector<size_t> starts_;  // where each open element's name starts in path_
    int group_depth_ = 0;         // depth of the open element, 0 when none is open
    int statement_depth_ = 0;
    int entry_depth_ = 0;
    int balance_depth_ = 0;
    size_t group_prefix_ = 0;  // path_ size up to and including the open element's name
    size_t statement_prefix_ = 0;
    size_t entry_prefix_ = 0;
    size_t balance_prefix_ = 0;

    std::string message_id_;
    int64_t statement_count_ = 0;
    Statement statement_;
    Entry entry_;
    Balance balance_;
    nlohmann::ordered_json statements_ = nlohmann::ordered_json::array();
    std::unordered_map<std::string, int64_t> id_lines_;  // external ids given so far -> line of their entry
    std::vector<Transaction> batch_;  // rows are reused from batch to batch so their strings keep capacity
    size_t filled_ = 0;
    std::string first_problem_;
};

Expected<void> CamtReader::Impl::OnStart(const XmlStart& element) {
    starts_.push_back(path_.empty() ? 0 : path_.size() + 1);
    if (!path_.empty()) path_.push_back('/');
    path_.append(element.name);

    if (statement_depth_ != 0 && entry_depth_ == 0 && balance_depth_ == 0 && element.depth == statement_depth_ + 1) {
        if (element.name == "Ntry") {
            if (report_.rows_read >= static_cast<int64_t>(options_.limits.max_rows)) {
                Error error = FileError(options_, "too_many_rows",
                                        fmt::format("The file has more than {} entries, the limit per file. Split "
                                                    "it into several files.",
                                                    options_.limits.max_rows),
                                        element.line);
                error.kind = ErrorKind::kTooLarge;
                return Unexpected(std::move(error));
            }
            ++report_.rows_read;
            ++statement_.entries;
            entry_.Reset(element.line);
            entry_depth_ = element.depth;
            entry_prefix_ = path_.size();
        } else if (element.name == "Bal") {
            balance_ = Balance{};
            balance_depth_ = element.depth;
            balance_prefix_ = path_.size();
        }
    } else if (group_depth_ != 0 && statement_depth_ == 0 && element.depth == group_depth_ + 1 &&
               element.name == statement_name_) {
        statement_ = Statement{.index = ++statement_count_, .line = element.line};
        statement_depth_ = element.depth;
        statement_prefix_ = path_.size();
    } else if (group_depth_ == 0 && element.name == group_name_) {
        group_depth_ = element.depth;
        group_prefix_ = path_.size();
    }

    const bool amount = element.name == "Amt" && ((entry_depth_ != 0 && element.depth == entry_depth_ + 1) ||
                                                  (balance_depth_ != 0 && element.depth == balance_depth_ + 1));
    if (amount) {
        for (const XmlAttribute& attribute : element.attributes) {
            if (attribute.name != "Ccy") continue;
            (entry_depth_ != 0 ? entry_.currency : balance_.currency) = TrimXmlSpace(attribute.value);
        }
    }
    return {};
}

Expected<void> CamtReader::Impl::OnEnd(std::string_view text, bool leaf) {
    const auto depth = static_cast<int>(starts_.size());
    if (leaf) {
        const std::string_view value = TrimXmlSpace(text);
        if (entry_depth_ != 0) {
            if (const auto field = Lookup(kEntryPaths, Below(entry_prefix_))) entry_.Set(*field, value);
        } else if (balance_depth_ != 0) {
            if (const auto field = Lookup(kBalancePaths, Below(balance_prefix_))) {
                switch (*field) {
                    case BalanceField::kType:
                        balance_.type = value;
                        break;
                    case BalanceField::kAmount:
                        balance_.amount = value;
                        break;
                    case BalanceField::kCreditDebit:
                        balance_.credit_debit = value;
                        break;
                    case BalanceField::kDate:
                        balance_.date = value;
                        break;
                }
            }
        } else if (statement_depth_ != 0) {
            if (const auto field = Lookup(kStatementPaths, Below(statement_prefix_))) {
                switch (*field) {
                    case StatementField::kId:
                        statement_.id = value;
                        break;
                    case StatementField::kAccount:
                        statement_.account = value;
                        break;
                    case StatementField::kCurrency:
                        statement_.currency = value;
                        break;
                }
            }
        } else if (group_depth_ != 0 && Below(group_prefix_) == "GrpHdr/MsgId") {
            message_id_ = value;
        }
    }

    Expected<void> result;
    if (depth == entry_depth_) {
        result = EndEntry();
        entry_depth_ = 0;
    } else if (depth == balance_depth_) {
        EndBalance();
        balance_depth_ = 0;
    } else if (depth == statement_depth_) {
        EndStatement();
        statement_depth_ = 0;
    } else if (depth == group_depth_) {
        group_depth_ = 0;
    }
    path_.resize(starts_.back() == 0 ? 0 : starts_.back() - 1);
    starts_.pop_back();
    return result;
}

Expected<void> CamtReader::Impl::BadEntry(std::string code, std::string message, std::string_view field) {
    if (reject_file_) {
        return Unexpected(FileError(options_, std::move(code),
                                    message + " The whole file is rejected (the policy for camt files); fix the entry "
                                              "or choose to skip bad rows to load the other entries.",
                                    entry_.line, std::string(field)));
    }
    if (first_problem_.empty()) first_problem_ = message;
    ++report_.rows_rejected;
    report_.Add({.severity = Severity::kError,
                 .code = std::move(code),
                 .message = std::move(message),
                 .line = entry_.line,
                 .location = Location(),
                 .field = std::string(field)});
    return {};
}

Expected<void> CamtReader::Impl::EndEntry() {
    const std::string where =
        fmt::format("Entry {} of {} {} (line {})", statement_.entries, statement_name_, statement_.index, entry_.line);
    const std::optional<Money> amount = ParseIsoAmount(entry_.amount);
    if (!amount) {
        return entry_.amount.empty()
                   ? BadEntry("bad_amount", fmt::format("{} has no amount (Amt).", where), "Amt")
                   : BadEntry("bad_amount",
                              fmt::format("{} has the amount '{}', which is not a decimal number like 1234.50 with at "
                                          "most two decimals.",
                                          where, Excerpt(entry_.amount)),
                              "Amt");
    }
    const std::optional<int> sign = SignOf(entry_.credit_debit);
    if (!sign) {
        return BadEntry("bad_credit_debit",
                        fmt::format("{} has the credit/debit indicator '{}'; it must be CRDT or DBIT.", where,
                                    Excerpt(entry_.credit_debit)),
                        "CdtDbtInd");
    }
    const bool has_booking_date = !entry_.booking_date.empty();
    const std::string& date_text = has_booking_date ? entry_.booking_date : entry_.value_date;
    const std::string_view date_field = has_booking_date ? "BookgDt" : "ValDt";
    if (date_text.empty()) {
        return BadEntry("bad_date", fmt::format("{} has no booking date (BookgDt) and no value date (ValDt).", where),
                        "BookgDt");
    }
    const std::optional<DateTime> date = ParseIsoDateTime(date_text);
    if (!date) {
        return BadEntry("bad_date",
                        fmt::format("{} has the date '{}' in {}, which is not an ISO date like 2024-03-31.", where,
                                    Excerpt(date_text), date_field),
                        date_field);
    }

    if (filled_ == batch_.size()) batch_.emplace_back();
    Transaction& tx = batch_[filled_++];
    tx.row_number = ++report_.rows_accepted;
    tx.source_line = entry_.line;
    tx.date = date->date;
    tx.time_seconds = date->seconds_of_day;
    tx.amount.minor = *sign * amount->minor;
    tx.registration_date.reset();
    tx.currency = entry_.currency;
    tx.account = statement_.account;
    const bool credit = *sign > 0;
    tx.counterparty = credit ? entry_.debtor_name : entry_.creditor_name;
    tx.user.clear();
    tx.voucher_series.clear();
    tx.voucher_number.clear();
    tx.processed_data.clear();
    if (!entry_.unstructured.empty()) {
        tx.text = entry_.unstructured;
    } else if (!entry_.structured_reference.empty()) {
        tx.text = entry_.structured_reference;
    } else {
        tx.text = entry_.additional_info;
    }

    tx.external_id.clear();
    const bool by_servicer = !entry_.servicer_reference.empty();
    const std::string& id = by_servicer ? entry_.servicer_reference : entry_.entry_reference;
    if (!id.empty()) {
        const auto [it, fresh] = id_lines_.try_emplace(id, entry_.line);
        if (fresh) {
            tx.external_id = id;
        } else {
            report_.Add(
                {.severity = Severity::kWarning,
                 .code = "duplicate_external_id",
                 .message = fmt::format("{} has the reference '{}' ({}) of the entry on line {}; ids must be "
                                        "unique, so this entry is loaded with a generated id.",
                                        where, Excerpt(id), by_servicer ? "AcctSvcrRef" : "NtryRef", it->second),
                 .line = entry_.line,
                 .location = Location(),
                 .field = by_servicer ? "AcctSvcrRef" : "NtryRef"});
        }
    }

    std::string& raw = tx.raw_data;
    raw = "{";
    AppendRaw(raw, "statement_id", statement_.id);
    AppendRaw(raw, "status", entry_.status);
    AppendRaw(raw, "value_date", entry_.value_date);
    AppendRaw(raw, "account_servicer_reference", entry_.servicer_reference);
    AppendRaw(raw, "entry_reference", entry_.entry_reference);
    if (!entry_.domain.empty()) {
        std::string code = entry_.domain;
        if (!entry_.family.empty()) code += "/" + entry_.family;
        if (!entry_.sub_family.empty()) code += "/" + entry_.sub_family;
        AppendRaw(raw, "bank_transaction_code", code);
    }
    AppendRaw(raw, "proprietary_code", entry_.proprietary_code);
    AppendRaw(raw, "end_to_end_id", entry_.end_to_end_id);
    AppendRaw(raw, "structured_reference", entry_.structured_reference);
    if (tx.text != entry_.additional_info) AppendRaw(raw, "additional_info", entry_.additional_info);
    AppendRaw(raw, "counterparty_account", credit ? entry_.debtor_account : entry_.creditor_account);
    if (entry_.reversal == "true" || entry_.reversal == "1") AppendRaw(raw, "reversal", "true");
    raw.push_back('}');

    const bool booked = entry_.status.empty() || entry_.status == "BOOK";
    if (booked) {
        statement_.sum_overflowed |=
            __builtin_add_overflow(statement_.booked_minor, tx.amount.minor, &statement_.booked_minor);
    } else {
        report_.Add({.severity = Severity::kInfo,
                     .code = "entry_not_booked",
                     .message = fmt::format("{} has the status {} (not booked); it is loaded, with its status in "
                                            "raw_data, and left out of the balance check.",
                                            where, Excerpt(entry_.status)),
                     .line = entry_.line,
                     .location = Location(),
                     .field = "Sts"});
    }
    if (!has_booking_date) {
        report_.Add({.severity = Severity::kInfo,
                     .code = "value_date_used",
                     .message = fmt::format("{} has no booking date (BookgDt); its value date is used.", where),
                     .line = entry_.line,
                     .location = Location(),
                     .field = "ValDt"});
    }
    if (filled_ >= options_.batch_size) return Flush();
    return {};
}

void CamtReader::Impl::EndBalance() {
    const std::optional<Money> amount = ParseIsoAmount(balance_.amount);
    const std::optional<int> sign = SignOf(balance_.credit_debit);
    if (!amount || !sign) {
        report_.Add({.severity = Severity::kWarning,
                     .code = "bad_balance",
                     .message = fmt::format("The {} balance of {} {} has the amount '{}' {}; it needs a decimal "
                                            "amount and CdtDbtInd CRDT or DBIT. The balance is not checked.",
                                            Excerpt(balance_.type), statement_name_, statement_.index,
                                            Excerpt(balance_.amount), Excerpt(balance_.credit_debit)),
                     .line = statement_.line,
                     .location = fmt::format("{} {}", statement_name_, statement_.index),
                     .field = "Bal"});
        return;
    }
    const Money signed_amount{*sign * amount->minor};
    if (balance_.type == "OPBD" || (balance_.type == "PRCD" && !statement_.opening_is_booked)) {
        statement_.opening = signed_amount;
        statement_.opening_is_booked = balance_.type == "OPBD";
    } else if (balance_.type == "CLBD") {
        statement_.closing = signed_amount;
    }
    if (statement_.balances.size() < kMaxBalancesPerStatement) {
        nlohmann::ordered_json item;
        item["type"] = balance_.type;
        item["amount"] = signed_amount.ToString();
        item["currency"] = balance_.currency;
        item["date"] = balance_.date;
        statement_.balances.push_back(std::move(item));
    }
}

void CamtReader::Impl::EndStatement() {
    std::string check = "not_checked";
    int64_t expected = 0;
    if (statement_.opening && statement_.closing && !statement_.sum_overflowed &&
        !__builtin_add_overflow(statement_.opening->minor, statement_.booked_minor, &expected)) {
        check = expected == statement_.closing->minor ? "ok" : "mismatch";
        if (check == "mismatch") {
            report_.Add(
                {.severity = Severity::kWarning,
                 .code = "balance_mismatch",
                 .message = fmt::format("{} {} (account {}): the opening balance {} plus the booked entries "
                                        "{} is {}, but the closing balance is {}. Entries may be missing from "
                                        "the file, or it was changed.",
                                        statement_name_, statement_.index, Excerpt(statement_.account),
                                        statement_.opening->ToString(), Money{statement_.booked_minor}.ToString(),
                                        Money{expected}.ToString(), statement_.closing->ToString()),
                 .line = statement_.line,
                 .location = fmt::format("{} {}", statement_name_, statement_.index),
                 .field = "Bal"});
        }
    }
    if (statements_.size() >= kMaxDetailedStatements) return;
    nlohmann::ordered_json item;
    item["index"] = statement_.index;
    item["id"] = statement_.id;
    item["account"] = statement_.account;
    item["currency"] = statement_.currency;
    item["entries"] = statement_.entries;
    item["booked_sum"] = statement_.sum_overflowed ? "" : Money{statement_.booked_minor}.ToString();
    item["balances"] = statement_.balances;
    item["balance_check"] = check;
    statements_.push_back(std::move(item));
}

Expected<void> CamtReader::Impl::Flush() {
    if (filled_ == 0) return {};
    Expected<void> sent = sink_(std::span<Transaction>(batch_.data(), filled_));
    filled_ = 0;
    return sent;
}

Expected<void> CamtReader::Impl::Finish() {
    if (Expected<void> flushed = Flush(); !flushed) return flushed;
    nlohmann::ordered_json details;
    details["mode"] = CamtKindName(kind_);
    details["message_id"] = message_id_;
    details["statement_count"] = statement_count_;
    details["statements"] = std::move(statements_);
    report_.details = details.dump();
    if (report_.rows_accepted > 0) return {};
    if (report_.rows_read == 0) {
        return Unexpected(FileError(options_, "no_entries",
                                    fmt::format("The {} file has no entries (Ntry) in {} {}/{}; there is nothing to "
                                                "load. Check that it is the statement you meant to upload.",
                                                CamtKindName(kind_), statement_count_, group_name_, statement_name_)));
    }
    return Unexpected(FileError(
        options_, "no_entries",
        fmt::format("None of the {} entries could be read; the first problem: {}", report_.rows_read, first_problem_)));
}

CamtReader::CamtReader(CamtKind kind, const ParseOptions& options, ParseReport& report, const BatchSink& sink)
    : impl_(std::make_unique<Impl>(kind, options, report, sink)) {}
CamtReader::~CamtReader() = default;

Expected<void> CamtReader::OnStart(const XmlStart& element) { return impl_->OnStart(element); }
Expected<void> CamtReader::OnEnd(std::string_view /*name*/, std::string_view text, bool leaf) {
    return impl_->OnEnd(text, leaf);
}
Expected<void> CamtReader::Finish() { return impl_->Finish(); }

}  // namespace granska::ingest::detail
