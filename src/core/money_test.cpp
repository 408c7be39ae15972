#include "core/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>

namespace granska {
namespace {

std::optional<int64_t> Minor(std::string_view text, char decimal_separator) {
    const std::optional<Money> money = ParseMoney(text, decimal_separator);
    return money ? std::optional<int64_t>(money->minor) : std::nullopt;
}

TEST(ParseMoneyTest, ReadsOneDecimalAsTens) { EXPECT_EQ(Minor("1234.5", '.'), 123450); }

TEST(ParseMoneyTest, ReadsTwoDecimals) { EXPECT_EQ(Minor("1234.56", '.'), 123456); }

TEST(ParseMoneyTest, ReadsIntegerWithoutDecimals) { EXPECT_EQ(Minor("42", '.'), 4200); }

TEST(ParseMoneyTest, ReadsNegativeWithSpaceGroupingAndDecimalComma) { EXPECT_EQ(Minor("-1 234,56", ','), -123456); }

TEST(ParseMoneyTest, ReadsDotGroupingWithDecimalComma) { EXPECT_EQ(Minor("1.234,56", ','), 123456); }

TEST(ParseMoneyTest, ReadsCommaGroupingWithDecimalPoint) { EXPECT_EQ(Minor("1,234,567.89", '.'), 123456789); }

TEST(ParseMoneyTest, ReadsNoBreakSpaceGrouping) {
    EXPECT_EQ(Minor("1\xC2\xA0"
                    "234,50",
                    ','),
              123450);
}

TEST(ParseMoneyTest, ReadsNarrowNoBreakSpaceGrouping) {
    EXPECT_EQ(Minor("12\xE2\x80\xAF"
                    "345",
                    ','),
              1234500);
}

TEST(ParseMoneyTest, ReadsExplicitPlus) { EXPECT_EQ(Minor("+12", '.'), 1200); }

TEST(ParseMoneyTest, ReadsParenthesesAsNegative) { EXPECT_EQ(Minor("(12.00)", '.'), -1200); }

TEST(ParseMoneyTest, ReadsTrailingMinusAsNegative) { EXPECT_EQ(Minor("12.00-", '.'), -1200); }

TEST(ParseMoneyTest, ReadsUnicodeMinusSign) {
    EXPECT_EQ(Minor("\xE2\x88\x92"
                    "5,25",
                    ','),
              -525);
}

TEST(ParseMoneyTest, IgnoresSurroundingSpacesAndTabs) { EXPECT_EQ(Minor(" \t7.10 ", '.'), 710); }

TEST(ParseMoneyTest, ReadsLeadingDecimalSeparator) { EXPECT_EQ(Minor(".5", '.'), 50); }

TEST(ParseMoneyTest, ReadsTrailingDecimalSeparator) { EXPECT_EQ(Minor("3.", '.'), 300); }

TEST(ParseMoneyTest, ReadsZeroAndNegativeZero) {
    EXPECT_EQ(Minor("0", '.'), 0);
    EXPECT_EQ(Minor("-0.00", '.'), 0);
}

TEST(ParseMoneyTest, LeadingZerosDoNotCountAsIntegerDigits) { EXPECT_EQ(Minor("0000000000000012.00", '.'), 1200); }

TEST(ParseMoneyTest, AcceptsExtraDecimalsThatAreZeros) { EXPECT_EQ(Minor("0.010", '.'), 1); }

TEST(ParseMoneyTest, RejectsSubCentPrecision) { EXPECT_EQ(Minor("0.001", '.'), std::nullopt); }

// With a decimal comma, "12,345" means 12.345: three significant decimals, so it is rejected, not read as 12345.
TEST(ParseMoneyTest, RejectsThreeDecimalsAfterDecimalComma) { EXPECT_EQ(Minor("12,345", ','), std::nullopt); }

// With a decimal point the same text is comma grouping.
TEST(ParseMoneyTest, ReadsCommaAsGroupingWhenDecimalIsPoint) { EXPECT_EQ(Minor("12,345", '.'), 1234500); }

TEST(ParseMoneyTest, RejectsTwoDecimalSeparators) {
    EXPECT_EQ(Minor("1.234.5", '.'), std::nullopt);
    EXPECT_EQ(Minor("1.234.5", ','), std::nullopt);
}

TEST(ParseMoneyTest, RejectsGroupsNotOfThreeDigits) {
    EXPECT_EQ(Minor("1 23", '.'), std::nullopt);
    EXPECT_EQ(Minor("1,2345.00", '.'), std::nullopt);
    EXPECT_EQ(Minor("12 34,5", ','), std::nullopt);
}

TEST(ParseMoneyTest, RejectsGroupingAfterDecimalSeparator) { EXPECT_EQ(Minor("1.234,567", '.'), std::nullopt); }

TEST(ParseMoneyTest, RejectsText) {
    EXPECT_EQ(Minor("abc", '.'), std::nullopt);
    EXPECT_EQ(Minor("12abc", '.'), std::nullopt);
    EXPECT_EQ(Minor("1e5", '.'), std::nullopt);
    EXPECT_EQ(Minor("SEK 12", '.'), std::nullopt);
}

TEST(ParseMoneyTest, RejectsEmptyAndBlank) {
    EXPECT_EQ(Minor("", '.'), std::nullopt);
    EXPECT_EQ(Minor("   ", '.'), std::nullopt);
}

TEST(ParseMoneyTest, RejectsLoneSignsAndSeparators) {
    EXPECT_EQ(Minor("-", '.'), std::nullopt);
    EXPECT_EQ(Minor("+", '.'), std::nullopt);
    EXPECT_EQ(Minor(".", '.'), std::nullopt);
    EXPECT_EQ(Minor("()", '.'), std::nullopt);
}

TEST(ParseMoneyTest, RejectsDoubleSigns) {
    EXPECT_EQ(Minor("--1", '.'), std::nullopt);
    EXPECT_EQ(Minor("(-12)", '.'), std::nullopt);
    EXPECT_EQ(Minor("-12-", '.'), std::nullopt);
}

TEST(ParseMoneyTest, AcceptsThirteenIntegerDigits) { EXPECT_EQ(Minor("9999999999999.99", '.'), Money::kMaxMinor); }

TEST(ParseMoneyTest, RejectsFourteenIntegerDigits) {
    EXPECT_EQ(Minor("12345678901234", '.'), std::nullopt);
    EXPECT_EQ(Minor("-10000000000000.00", '.'), std::nullopt);
}

TEST(ParseMoneyTest, ReadsTheSmallestAmount) { EXPECT_EQ(Minor("-9 999 999 999 999,99", ','), -Money::kMaxMinor); }

TEST(MoneyToStringTest, WritesTwoDecimalsWithDot) { EXPECT_EQ(Money{.minor = 123450}.ToString(), "1234.50"); }

TEST(MoneyToStringTest, WritesZero) { EXPECT_EQ(Money{}.ToString(), "0.00"); }

TEST(MoneyToStringTest, WritesNegativeCents) { EXPECT_EQ(Money{.minor = -5}.ToString(), "-0.05"); }

TEST(MoneyToStringTest, WritesTheLargestAmount) {
    EXPECT_EQ(Money{.minor = Money::kMaxMinor}.ToString(), "9999999999999.99");
}

// Sums can leave the DECIMAL(15,2) range; ToString must still not overflow.
TEST(MoneyToStringTest, WritesInt64Minimum) {
    EXPECT_EQ(Money{.minor = std::numeric_limits<int64_t>::min()}.ToString(), "-92233720368547758.08");
}

TEST(MoneyToStringTest, RoundTripsThroughParseMoney) {
    for (const int64_t minor : {int64_t{0}, int64_t{1}, int64_t{-99}, int64_t{100}, int64_t{-123456789}}) {
        EXPECT_EQ(Minor(Money{.minor = minor}.ToString(), '.'), minor);
    }
}

}  // namespace
}  // namespace granska
