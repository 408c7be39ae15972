#include "ingest/column_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace granska::ingest {
namespace {

using ::testing::HasSubstr;

constexpr Field kAllFields[] = {Field::kId,
                                Field::kDate,
                                Field::kRegistrationDate,
                                Field::kAccount,
                                Field::kAmount,
                                Field::kText,
                                Field::kUser,
                                Field::kCounterparty,
                                Field::kCurrency,
                                Field::kVoucherSeries,
                                Field::kVoucherNumber,
                                Field::kDebit,
                                Field::kCredit,
                                Field::kTime};

Expected<ResolvedMapping> Resolve(std::vector<std::string> headers, ColumnMapping mapping = {}) {
    return ResolveMapping(headers, mapping);
}

TEST(FieldNameTest, NamesEveryField) {
    EXPECT_EQ(FieldName(Field::kId), "id");
    EXPECT_EQ(FieldName(Field::kRegistrationDate), "registration_date");
    EXPECT_EQ(FieldName(Field::kVoucherNumber), "voucher_number");
}

TEST(FieldNameTest, RoundTripsThroughFieldFromName) {
    static_assert(std::size(kAllFields) == kFieldCount);
    for (const Field field : kAllFields) EXPECT_EQ(FieldFromName(FieldName(field)), field) << FieldName(field);
}

TEST(FieldFromNameTest, IgnoresCaseAndSpaces) { EXPECT_EQ(FieldFromName(" Amount "), Field::kAmount); }

TEST(FieldFromNameTest, RejectsUnknownNames) {
    EXPECT_EQ(FieldFromName("belopp"), std::nullopt);
    EXPECT_EQ(FieldFromName(""), std::nullopt);
}

TEST(ParseColumnMappingTest, ReadsFieldToHeaderObject) {
    const auto mapping = ParseColumnMapping(R"({"amount": "Belopp SEK", "date": "Bokf.datum"})");
    ASSERT_TRUE(mapping) << mapping.error().message;
    EXPECT_EQ(mapping->field_to_header.size(), 2u);
    EXPECT_EQ(mapping->field_to_header.at("amount"), "Belopp SEK");
    EXPECT_EQ(mapping->field_to_header.at("date"), "Bokf.datum");
}

TEST(ParseColumnMappingTest, AcceptsEmptyObject) {
    const auto mapping = ParseColumnMapping("{}");
    ASSERT_TRUE(mapping);
    EXPECT_TRUE(mapping->field_to_header.empty());
}

TEST(ParseColumnMappingTest, RejectsNonObject) {
    const auto mapping = ParseColumnMapping(R"(["amount", "Belopp"])");
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(mapping.error().code, "bad_mapping");
    EXPECT_THAT(mapping.error().message, HasSubstr("object"));
}

TEST(ParseColumnMappingTest, RejectsMalformedJsonWithoutThrowing) {
    const auto mapping = ParseColumnMapping(R"({"amount": )");
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().code, "bad_mapping");
}

TEST(ParseColumnMappingTest, RejectsUnknownFieldListingValidOnes) {
    const auto mapping = ParseColumnMapping(R"({"belopp": "Belopp"})");
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(mapping.error().code, "bad_mapping");
    EXPECT_EQ(mapping.error().column, "belopp");
    EXPECT_THAT(mapping.error().message, HasSubstr("'belopp'"));
    EXPECT_THAT(mapping.error().message, HasSubstr("id, date, registration_date, account, amount, text, user, "
                                                   "counterparty, currency, voucher_series, voucher_number"));
}

TEST(ParseColumnMappingTest, RejectsNonStringValue) {
    const auto mapping = ParseColumnMapping(R"({"amount": 7})");
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().code, "bad_mapping");
    EXPECT_EQ(mapping.error().column, "amount");
    EXPECT_THAT(mapping.error().message, HasSubstr("string"));
}

TEST(ParseColumnMappingTest, RejectsEmptyHeader) {
    const auto mapping = ParseColumnMapping(R"({"amount": " "})");
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().code, "bad_mapping");
}

TEST(ResolveMappingTest, FindsEnglishHeaders) {
    const auto mapping = Resolve({"transaction_id", "voucher_series", "voucher_number", "date", "registration_date",
                                  "account", "amount", "text", "user", "counterparty", "currency"});
    ASSERT_TRUE(mapping) << mapping.error().message;
    EXPECT_EQ(mapping->Of(Field::kId), 0u);
    EXPECT_EQ(mapping->Of(Field::kVoucherSeries), 1u);
    EXPECT_EQ(mapping->Of(Field::kVoucherNumber), 2u);
    EXPECT_EQ(mapping->Of(Field::kDate), 3u);
    EXPECT_EQ(mapping->Of(Field::kRegistrationDate), 4u);
    EXPECT_EQ(mapping->Of(Field::kAccount), 5u);
    EXPECT_EQ(mapping->Of(Field::kAmount), 6u);
    EXPECT_EQ(mapping->Of(Field::kText), 7u);
    EXPECT_EQ(mapping->Of(Field::kUser), 8u);
    EXPECT_EQ(mapping->Of(Field::kCounterparty), 9u);
    EXPECT_EQ(mapping->Of(Field::kCurrency), 10u);
}

TEST(ResolveMappingTest, FindsSwedishHeaders) {
    const auto mapping =
        Resolve({"verifikationsserie", "verifikationsnummer", "bokföringsdatum", "registreringsdatum", "kontonr",
                 "belopp", "beskrivning", "användare", "leverantör", "valuta", "transaktionsid"});
    ASSERT_TRUE(mapping) << mapping.error().message;
    EXPECT_EQ(mapping->Of(Field::kVoucherSeries), 0u);
    EXPECT_EQ(mapping->Of(Field::kVoucherNumber), 1u);
    EXPECT_EQ(mapping->Of(Field::kDate), 2u);
    EXPECT_EQ(mapping->Of(Field::kRegistrationDate), 3u);
    EXPECT_EQ(mapping->Of(Field::kAccount), 4u);
    EXPECT_EQ(mapping->Of(Field::kAmount), 5u);
    EXPECT_EQ(mapping->Of(Field::kText), 6u);
    EXPECT_EQ(mapping->Of(Field::kUser), 7u);
    EXPECT_EQ(mapping->Of(Field::kCounterparty), 8u);
    EXPECT_EQ(mapping->Of(Field::kCurrency), 9u);
    EXPECT_EQ(mapping->Of(Field::kId), 10u);
}

TEST(ResolveMappingTest, ComparesCaseInsensitivelyIncludingSwedishLetters) {
    const auto mapping = Resolve({"BOKFÖRINGSDATUM", "Belopp", "ANVÄNDARE"});
    ASSERT_TRUE(mapping) << mapping.error().message;
    EXPECT_EQ(mapping->Of(Field::kDate), 0u);
    EXPECT_EQ(mapping->Of(Field::kAmount), 1u);
    EXPECT_EQ(mapping->Of(Field::kUser), 2u);
}

TEST(ResolveMappingTest, AcceptsSwedishHeadersWrittenWithoutDiacritics) {
    const auto mapping = Resolve({"bokforingsdatum", "summa", "anvandare"});
    ASSERT_TRUE(mapping) << mapping.error().message;
    EXPECT_EQ(mapping->Of(Field::kDate), 0u);
    EXPECT_EQ(mapping->Of(Field::kAmount), 1u);
    EXPECT_EQ(mapping->Of(Field::kUser), 2u);
}

TEST(ResolveMappingTest, IgnoresSurroundingSpaces) {
    const auto mapping = Resolve({"  Date ", "\tAmount\t", " transaction id "});
    ASSERT_TRUE(mapping) << mapping.error().message;
    EXPECT_EQ(mapping->Of(Field::kDate), 0u);
    EXPECT_EQ(mapping->Of(Field::kAmount), 1u);
    EXPECT_EQ(mapping->Of(Field::kId), 2u);
}

TEST(ResolveMappingTest, LeavesFieldsWithoutColumnUnset) {
    const auto mapping = Resolve({"date", "amount", "kontonamn"});
    ASSERT_TRUE(mapping);
    EXPECT_EQ(mapping->Of(Field::kId), std::nullopt);
    EXPECT_EQ(mapping->Of(Field::kAccount), std::nullopt);
    EXPECT_EQ(mapping->Of(Field::kText), std::nullopt);
}

TEST(ResolveMappingTest, FirstDuplicateHeaderWinsForSynonyms) {
    const auto mapping = Resolve({"date", "amount", "Amount"});
    ASSERT_TRUE(mapping);
    EXPECT_EQ(mapping->Of(Field::kAmount), 1u);
}

TEST(ResolveMappingTest, EarlierSynonymWinsOverLaterOne) {
    const auto mapping = Resolve({"datum", "date", "amount"});
    ASSERT_TRUE(mapping);
    EXPECT_EQ(mapping->Of(Field::kDate), 1u);
}

TEST(ResolveMappingTest, ExplicitMappingWinsOverSynonym) {
    const auto mapping = Resolve({"date", "amount", "Belopp SEK"}, {.field_to_header = {{"amount", "Belopp SEK"}}});
    ASSERT_TRUE(mapping);
    EXPECT_EQ(mapping->Of(Field::kAmount), 2u);
}

TEST(ResolveMappingTest, ExplicitMappingComparesCaseInsensitively) {
    const auto mapping = Resolve({"date", "Belopp SEK"}, {.field_to_header = {{"amount", " belopp sek"}}});
    ASSERT_TRUE(mapping);
    EXPECT_EQ(mapping->Of(Field::kAmount), 1u);
}

TEST(ResolveMappingTest, HeaderUsedByExplicitMappingIsNotAlsoMatchedBySynonym) {
    // "text" is taken for the account, so the text field falls to the next synonym.
    const auto mapping = Resolve({"date", "amount", "text", "beskrivning"}, {.field_to_header = {{"account", "text"}}});
    ASSERT_TRUE(mapping);
    EXPECT_EQ(mapping->Of(Field::kAccount), 2u);
    EXPECT_EQ(mapping->Of(Field::kText), 3u);
}

TEST(ResolveMappingTest, HeaderUsedByExplicitMappingLeavesItsSynonymFieldUnset) {
    const auto mapping = Resolve({"date", "amount", "user"}, {.field_to_header = {{"text", "user"}}});
    ASSERT_TRUE(mapping);
    EXPECT_EQ(mapping->Of(Field::kText), 2u);
    EXPECT_EQ(mapping->Of(Field::kUser), std::nullopt);
}

TEST(ResolveMappingTest, RejectsMappedHeaderMissingFromFile) {
    const auto mapping = Resolve({"date", "amount"}, {.field_to_header = {{"account", "Konto nr"}}});
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(mapping.error().code, "unknown_header");
    EXPECT_EQ(mapping.error().column, "Konto nr");
    EXPECT_THAT(mapping.error().message, HasSubstr("\"Konto nr\""));
    EXPECT_THAT(mapping.error().message, HasSubstr("\"date\", \"amount\""));
}

TEST(ResolveMappingTest, RejectsUnknownFieldInExplicitMapping) {
    const auto mapping = Resolve({"date", "amount"}, {.field_to_header = {{"sum", "amount"}}});
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().code, "bad_mapping");
}

TEST(ResolveMappingTest, RejectsFileWithoutAmountColumn) {
    const auto mapping = Resolve({"datum", "konto", "kr"});
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(mapping.error().code, "missing_column");
    EXPECT_EQ(mapping.error().column, "amount");
    EXPECT_THAT(mapping.error().message, HasSubstr("\"datum\", \"konto\", \"kr\""));
    EXPECT_THAT(mapping.error().message, HasSubstr(R"(mapping={"amount": "<header>"})"));
}

TEST(ResolveMappingTest, RejectsFileWithoutDateColumn) {
    const auto mapping = Resolve({"when", "amount"});
    ASSERT_FALSE(mapping);
    EXPECT_EQ(mapping.error().code, "missing_column");
    EXPECT_EQ(mapping.error().column, "date");
    EXPECT_THAT(mapping.error().message, HasSubstr(R"(mapping={"date": "<header>"})"));
}

TEST(ResolveMappingTest, ExplicitMappingSuppliesMissingRequiredColumn) {
    const auto mapping = Resolve({"when", "amount"}, {.field_to_header = {{"date", "when"}}});
    ASSERT_TRUE(mapping);
    EXPECT_EQ(mapping->Of(Field::kDate), 0u);
}

}  // namespace
}  // namespace granska::ingest
