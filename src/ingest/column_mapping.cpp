#include "ingest/column_mapping.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ingest/detail/text.h"

namespace granska::ingest {

namespace {

using detail::TrimSpaces;

struct FieldInfo {
    Field field;
    std::string_view name;
    // Header names recognised without a mapping, in order of preference; lower case, as NormalizeHeader gives.
    std::span<const std::string_view> synonyms;
};

constexpr std::string_view kIdSynonyms[] = {"id", "transaction_id", "transaktionsid", "txn_id"};
constexpr std::string_view kDateSynonyms[] = {
    "date",          "transaction_date",  "booking_date",    "datum",        "bokföringsdatum",   "bokforingsdatum",
    "bokföringsdag", "transaktionsdatum", "transaktionsdag", "posting_date", "verifikationsdatum"};
constexpr std::string_view kRegistrationDateSynonyms[] = {"registration_date", "registreringsdatum", "reg_date",
                                                          "regdatum",          "entry_date",         "created"};
constexpr std::string_view kAccountSynonyms[] = {"account", "account_number", "konto", "kontonummer", "kontonr"};
constexpr std::string_view kAmountSynonyms[] = {"amount", "belopp", "summa", "value"};
constexpr std::string_view kTextSynonyms[] = {
    "text", "description", "beskrivning", "transaktionstext", "verifikationstext", "memo", "narrative"};
constexpr std::string_view kUserSynonyms[] = {"user", "användare", "anvandare", "created_by", "signatur", "sign"};
constexpr std::string_view kCounterpartySynonyms[] = {"counterparty", "motpart",  "leverantör", "kund",
                                                      "payee",        "supplier", "customer"};
constexpr std::string_view kCurrencySynonyms[] = {"currency", "valuta"};
constexpr std::string_view kVoucherSeriesSynonyms[] = {"voucher_series", "verifikationsserie", "serie", "series"};
constexpr std::string_view kVoucherNumberSynonyms[] = {"voucher_number", "verifikationsnummer", "verifikationsnr", "verifikation", "vernr", "ver_nr",
                                                       "voucher"};
constexpr std::string_view kDebitSynonyms[] = {"debit", "debet", "debit_amount", "debetbelopp", "debet_sek"};
constexpr std::string_view kCreditSynonyms[] = {"credit", "kredit", "credit_amount", "kreditbelopp", "kredit_sek"};
constexpr std::string_view kTimeSynonyms[] = {"time", "tid", "klockslag", "transaction_time", "booking_time"};

// In the order of the Field enum.
constexpr FieldInfo kFields[kFieldCount] = {
    {Field::kId, "id", kIdSynonyms},
    {Field::kDate, "date", kDateSynonyms},
    {Field::kRegistrationDate, "registration_date", kRegistrationDateSynonyms},
    {Field::kAccount, "account", kAccountSynonyms},
    {Field::kAmount, "amount", kAmountSynonyms},
    {Field::kText, "text", kTextSynonyms},
    {Field::kUser, "user", kUserSynonyms},
    {Field::kCounterparty, "counterparty", kCounterpartySynonyms},
    {Field::kCurrency, "currency", kCurrencySynonyms},
    {Field::kVoucherSeries, "voucher_series", kVoucherSeriesSynonyms},
    {Field::kVoucherNumber, "voucher_number", kVoucherNumberSynonyms},
    {Field::kDebit, "debit", kDebitSynonyms},
    {Field::kCredit, "credit", kCreditSynonyms},
    {Field::kTime, "time", kTimeSynonyms},
};

// Trimmed and lower-cased: ASCII, and the Latin-1 letters (Å, Ä, Ö, É, ...) as UTF-8, which covers Swedish headers;
// ' ' and '-' become '_', so "Transaction ID", "transaction-id" and "transaction_id" are one name.
std::string NormalizeHeader(std::string_view header) {
    std::string_view s = TrimSpaces(header);
    if (s.starts_with('@')) s.remove_prefix(1);  // an XML attribute field ("@amount") maps like an element
    std::string out(s);
    for (size_t i = 0; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        if (c >= 'A' && c <= 'Z') {
            out[i] = static_cast<char>(c + ('a' - 'A'));
        } else if (c == ' ' || c == '-') {
            out[i] = '_';
        } else if (c == 0xC3 && i + 1 < out.size()) {
            const auto next = static_cast<unsigned char>(out[i + 1]);
            if (next >= 0x80 && next <= 0x9E && next != 0x97) out[i + 1] = static_cast<char>(next + 0x20);  // not ×
            ++i;
        }
    }
    return out;
}

std::string ValidFieldNames() {
    std::string out;
    for (const FieldInfo& info : kFields) {
        if (!out.empty()) out += ", ";
        out += info.name;
    }
    return out;
}

std::string QuotedList(std::span<const std::string> items) {
    std::string out;
    for (const std::string& item : items) {
        if (!out.empty()) out += ", ";
        out += fmt::format("\"{}\"", item);
    }
    return out.empty() ? "(none)" : out;
}

std::string QuotedList(std::span<const std::string_view> items) {
    std::string out;
    for (const std::string_view item : items) {
        if (!out.empty()) out += ", ";
        out += fmt::format("\"{}\"", item);
    }
    return out;
}

Error BadMapping(std::string message, std::string column = {}) {
    Error error = InvalidInput("bad_mapping", std::move(message));
    error.column = std::move(column);
    return error;
}

}  // namespace

std::string_view FieldName(Field field) {
    const auto index = static_cast<size_t>(field);
    return index < kFieldCount ? kFields[index].name : std::string_view{};
}

std::optional<Field> FieldFromName(std::string_view name) {
    const std::string normalized = NormalizeHeader(name);
    for (const FieldInfo& info : kFields) {
        if (normalized == info.name) return info.field;
    }
    return std::nullopt;
}

Expected<ColumnMapping> ParseColumnMapping(std::string_view json) {
    // allow_exceptions = false: malformed input is a value, not an exception.
    const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
        return Unexpected(
            BadMapping("The column mapping is not valid JSON; write it as an object of field to header, "
                       "e.g. {\"amount\": \"Belopp\"}."));
    }
    if (!parsed.is_object()) {
        return Unexpected(BadMapping(fmt::format(
            "The column mapping must be a JSON object of field to header, e.g. {{\"amount\": \"Belopp\"}}, not {}.",
            parsed.type_name())));
    }
    ColumnMapping mapping;
    for (const auto& [key, value] : parsed.items()) {
        const std::optional<Field> field = FieldFromName(key);
        if (!field) {
            return Unexpected(BadMapping(
                fmt::format("'{}' is not a transaction field; valid fields are: {}.", key, ValidFieldNames()), key));
        }
        if (!value.is_string()) {
            return Unexpected(
                BadMapping(fmt::format("The header for '{}' must be a string (the column's name in the file), not {}.",
                                       key, value.type_name()),
                           key));
        }
        const auto& header = value.get_ref<const std::string&>();
        if (TrimSpaces(header).empty()) {
            return Unexpected(
                BadMapping(fmt::format("The header for '{}' is empty; give the column's name in the file.", key), key));
        }
        mapping.field_to_header[std::string(FieldName(*field))] = header;
    }
    return mapping;
}

Expected<ResolvedMapping> ResolveMapping(std::span<const std::string> headers, const ColumnMapping& explicit_mapping) {
    std::vector<std::string> normalized;
    normalized.reserve(headers.size());
    for (const std::string& header : headers) normalized.push_back(NormalizeHeader(header));

    ResolvedMapping resolved;
    std::vector<bool> used(headers.size(), false);

    for (const auto& [field_name, header] : explicit_mapping.field_to_header) {
        const std::optional<Field> field = FieldFromName(field_name);
        if (!field) {
            return Unexpected(BadMapping(
                fmt::format("'{}' is not a transaction field; valid fields are: {}.", field_name, ValidFieldNames()),
                field_name));
        }
        const std::string wanted = NormalizeHeader(header);
        std::optional<size_t> found;
        for (size_t i = 0; i < normalized.size() && !found; ++i) {
            if (normalized[i] == wanted) found = i;
        }
        if (!found) {
            Error error = InvalidInput(
                "unknown_header",
                fmt::format("The mapping names header \"{}\" for '{}', but the file has no such column. Headers "
                            "found: {}.",
                            header, FieldName(*field), QuotedList(headers)));
            error.column = header;
            return Unexpected(std::move(error));
        }
        resolved.column[static_cast<size_t>(*field)] = found;
        used[*found] = true;
    }

    for (const FieldInfo& info : kFields) {
        const auto index = static_cast<size_t>(info.field);
        if (resolved.column[index]) continue;
        for (const std::string_view synonym : info.synonyms) {
            for (size_t i = 0; i < normalized.size(); ++i) {
                if (!used[i] && normalized[i] == synonym) {
                    resolved.column[index] = i;
                    break;
                }
            }
            if (resolved.column[index]) {
                used[*resolved.column[index]] = true;
                break;
            }
        }
    }

    const bool has_amount = resolved.Of(Field::kAmount) || resolved.Of(Field::kDebit) || resolved.Of(Field::kCredit);
    for (const Field required : {Field::kDate, Field::kAmount}) {
        if (required == Field::kDate ? resolved.Of(required).has_value() : has_amount) continue;
        const FieldInfo& info = kFields[static_cast<size_t>(required)];
        const std::string_view alternative =
            required == Field::kAmount ? " (or separate debit and credit columns: \"debit\", \"debet\", \"credit\", "
                                         "\"kredit\")"
                                       : "";
        Error error = InvalidInput(
            "missing_column",
            fmt::format("No {} column found. Headers found: {}. Recognised names are {}{}; otherwise map one, "
                        "e.g. mapping={{\"{}\": \"<header>\"}}.",
                        info.name, QuotedList(headers), QuotedList(info.synonyms), alternative, info.name));
        error.column = std::string(info.name);
        return Unexpected(std::move(error));
    }
    return resolved;
}

}  // namespace granska::ingest
