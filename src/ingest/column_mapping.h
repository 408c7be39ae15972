#pragma once
// Which column of a file feeds which transaction field: synonyms in English and Swedish, overridden by an
// explicit mapping from the user ({"amount": "Belopp SEK"}).

#include <array>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace granska::ingest {

enum class Field {
    kId,
    kDate,
    kRegistrationDate,
    kAccount,
    kAmount,
    kText,
    kUser,
    kCounterparty,
    kCurrency,
    kVoucherSeries,
    kVoucherNumber,
    kDebit,  // with kCredit, instead of kAmount: amount = debit - credit
    kCredit,
    kTime,  // time of day, when the date column has none
};
inline constexpr size_t kFieldCount = 14;

std::string_view FieldName(Field field);  // "id", "date", "registration_date", ..., "voucher_number"
std::optional<Field> FieldFromName(std::string_view name);

// Explicit choices: field name -> header name, as the user wrote them.
struct ColumnMapping {
    std::map<std::string, std::string> field_to_header;
};

// Parses {"amount": "Belopp", ...}. Unknown field names and non-string values are InvalidInput errors.
Expected<ColumnMapping> ParseColumnMapping(std::string_view json);

// The column index (into the header row) of each field, or nullopt when the file has none.
struct ResolvedMapping {
    std::array<std::optional<size_t>, kFieldCount> column{};
    std::optional<size_t> Of(Field field) const { return column[static_cast<size_t>(field)]; }
};

// Resolves the header row. Header names compare case-insensitively, ignoring surrounding spaces and treating
// ' ', '-' and '_' alike. Errors: a mapped header that does not exist; a missing date column, or neither an
// amount nor a debit/credit column (the message lists the headers found and how to map one).
Expected<ResolvedMapping> ResolveMapping(std::span<const std::string> headers, const ColumnMapping& explicit_mapping);

}  // namespace granska::ingest
