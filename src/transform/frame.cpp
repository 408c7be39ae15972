#include "transform/frame.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "transform/features.h"

namespace granska::transform {

namespace {

class Interner {
public:
    void Add(CategoryColumn& column, const std::string& value) {
        const auto [it, inserted] = index_.try_emplace(value, static_cast<int32_t>(column.values.size()));
        if (inserted) column.values.push_back(value);
        column.codes.push_back(it->second);
    }

private:
    std::unordered_map<std::string, int32_t> index_;
};

constexpr std::array<std::string_view, 20> kNumericFeatures = {"amount",
                                                               "log_amount",
                                                               "weekday",
                                                               "is_weekend",
                                                               "is_holiday",
                                                               "month",
                                                               "quarter",
                                                               "day_of_month",
                                                               "hour",
                                                               "posting_lag_days",
                                                               "round_exponent",
                                                               "first_digit",
                                                               "first_two_digits",
                                                               "fiscal_period",
                                                               "days_to_period_end",
                                                               "days_to_year_end",
                                                               "account_frequency",
                                                               "user_frequency",
                                                               "counterparty_frequency",
                                                               "voucher_size"};

// For each row, how many rows share its code.
std::vector<int32_t> Frequencies(const CategoryColumn& column) {
    std::vector<int32_t> counts(column.values.size(), 0);
    for (const int32_t code : column.codes) ++counts[static_cast<size_t>(code)];
    std::vector<int32_t> out(column.codes.size());
    for (size_t i = 0; i < column.codes.size(); ++i) out[i] = counts[static_cast<size_t>(column.codes[i])];
    return out;
}

// The fiscal year containing a date: a declared one, or the configured start's.
FiscalYear FiscalYearOf(Date date, const FrameOptions& options) {
    for (const FiscalYear& year : options.fiscal_years) {
        if (year.start <= date && date <= year.end) return year;
    }
    const int month = options.fiscal_year_start_month;
    const int day = options.fiscal_year_start_day;
    auto start_in = [&](int year) {
        // A 29 February start falls back to 1 March in other years.
        return Date::FromYmd(year, month, day).value_or(*Date::FromYmd(year, month + 1, 1));
    };
    Date start = start_in(date.Year());
    if (date < start) start = start_in(date.Year() - 1);
    const Date next = start_in(start.Year() + 1);
    return FiscalYear{.start = start, .end = Date{next.days - 1}};
}

Date LastDayOfMonth(Date date) {
    const int month = date.Month();
    const Date first_of_next = month == 12 ? *Date::FromYmd(date.Year() + 1, 1, 1)
                                           : *Date::FromYmd(date.Year(), month + 1, 1);
    return Date{first_of_next.days - 1};
}

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// "1234.5", "-0,25", "1 234,50" (spaces and no-break spaces group digits; a lone comma is the decimal sign).
std::optional<double> ParseNumber(std::string_view text) {
    std::string cleaned;
    cleaned.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '\t') continue;
        if (c == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0') {  // U+00A0
            ++i;
            continue;
        }
        if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' && text[i + 2] == '\xAF') {  // U+202F
            i += 2;
            continue;
        }
        cleaned.push_back(c);
    }
    if (cleaned.find('.') == std::string::npos) std::replace(cleaned.begin(), cleaned.end(), ',', '.');
    if (!cleaned.empty() && cleaned.front() == '+') cleaned.erase(0, 1);
    double value = 0.0;
    const auto [end, error] = std::from_chars(cleaned.data(), cleaned.data() + cleaned.size(), value);
    if (cleaned.empty() || error != std::errc() || end != cleaned.data() + cleaned.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

struct FrameBuilder::Dictionaries {
    explicit Dictionaries(FrameOptions frame_options)
        : options(std::move(frame_options)), calendar(CalendarFor(options.country)) {}
    // An unknown country (refused at upload) gets no holidays rather than a failed analysis.
    static HolidayCalendar CalendarFor(std::string_view country) {
        auto calendar = HolidayCalendar::ForCountry(country);
        return calendar ? *calendar : *HolidayCalendar::ForCountry("none");
    }
    FrameOptions options;
    HolidayCalendar calendar;
    Interner accounts;
    Interner users;
    Interner counterparties;
    Interner vouchers;
    std::string voucher_key;  // reused
    FiscalYear last_year{.start = Date{1}, .end = Date{0}};  // cache: rows come mostly in date order
    simdjson::ondemand::parser json;
    simdjson::padded_string raw;  // reused

    void ReadRawColumns(TransactionFrame& f, const Transaction& t);
};

void FrameBuilder::Dictionaries::ReadRawColumns(TransactionFrame& f, const Transaction& t) {
    for (RawColumn& column : f.raw_columns) column.values.push_back(kMissing);
    if (t.raw_data.size() <= 2) return;  // "{}" or ""
    if (raw.size() < t.raw_data.size()) raw = simdjson::padded_string(t.raw_data.size() * 2);
    std::copy(t.raw_data.begin(), t.raw_data.end(), raw.data());
    simdjson::ondemand::document document;
    simdjson::ondemand::object object;
    if (json.iterate(raw.data(), t.raw_data.size(), raw.size() + simdjson::SIMDJSON_PADDING).get(document) || document.get_object().get(object)) {
        return;
    }
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key)) return;
        const auto column = std::find_if(f.raw_columns.begin(), f.raw_columns.end(),
                                         [&](const RawColumn& c) { return c.name == key; });
        if (column == f.raw_columns.end()) continue;
        simdjson::ondemand::value value;
        if (field.value().get(value)) return;
        std::optional<double> number;
        std::string_view text;
        simdjson::ondemand::json_type type;
        if (value.type().get(type)) return;
        if (type == simdjson::ondemand::json_type::null) continue;
        if (type == simdjson::ondemand::json_type::number) {
            double parsed = 0.0;
            if (!value.get_double().get(parsed)) number = parsed;
            text = "(a number out of range)";
        } else if (type == simdjson::ondemand::json_type::string) {
            if (value.get_string().get(text)) return;
            if (text.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank: missing
            number = ParseNumber(text);
        } else {
            text = type == simdjson::ondemand::json_type::boolean ? "(true/false)" : "(a list or object)";
        }
        if (number) {
            column->values.back() = *number;
            ++column->present;
        } else if (column->bad_row == 0) {
            column->bad_row = t.row_number;
            column->bad_value = std::string(text);
        }
    }
}

FrameBuilder::FrameBuilder(FrameOptions options)
    : dictionaries_(std::make_unique<Dictionaries>(std::move(options))) {
    for (const std::string& name : dictionaries_->options.raw_columns) {
        if (!frame_.FindRawColumn(name)) frame_.raw_columns.push_back(RawColumn{.name = name});
    }
}
FrameBuilder::~FrameBuilder() = default;

TransactionFrame FrameBuilder::Finish() && {
    TransactionFrame& f = frame_;
    // Voucher index: counting sort of rows by voucher code, file order kept within a voucher.
    const size_t vouchers = f.voucher.values.size();
    f.voucher_start.assign(vouchers + 1, 0);
    for (const int32_t code : f.voucher.codes) ++f.voucher_start[static_cast<size_t>(code) + 1];
    for (size_t c = 0; c < vouchers; ++c) f.voucher_start[c + 1] += f.voucher_start[c];
    f.voucher_rows.assign(f.size(), 0);
    std::vector<int32_t> next(f.voucher_start.begin(), f.voucher_start.end() - 1);
    for (size_t i = 0; i < f.size(); ++i) {
        f.voucher_rows[static_cast<size_t>(next[static_cast<size_t>(f.voucher.codes[i])]++)] = static_cast<int32_t>(i);
    }
    std::sort(f.fiscal_years.begin(), f.fiscal_years.end(),
              [](const FiscalYear& a, const FiscalYear& b) { return a.start < b.start; });

    f.account_frequency = Frequencies(f.account);
    f.user_frequency = Frequencies(f.user);
    f.counterparty_frequency = Frequencies(f.counterparty);
    f.voucher_size = Frequencies(f.voucher);
    for (size_t i = 0; i < f.size(); ++i) {
        if (f.voucher.values[static_cast<size_t>(f.voucher.codes[i])].empty()) f.voucher_size[i] = 1;
    }
    return std::move(frame_);
}

void FrameBuilder::Append(std::span<const store::StoredTransaction> rows) {
    TransactionFrame& f = frame_;
    for (const store::StoredTransaction& stored : rows) {
        const Transaction& t = stored.transaction;
        const RowFeatures features = ComputeRowFeatures(t, dictionaries_->calendar);
        f.id.push_back(stored.id);
        f.external_id.push_back(t.external_id);
        f.row_number.push_back(t.row_number);
        f.date_days.push_back(t.date.days);
        f.amount_minor.push_back(t.amount.minor);
        dictionaries_->accounts.Add(f.account, t.account);
        dictionaries_->users.Add(f.user, t.user);
        dictionaries_->counterparties.Add(f.counterparty, t.counterparty);
        std::string& key = dictionaries_->voucher_key;
        key.clear();
        if (!t.voucher_number.empty()) key.append(t.voucher_series).append(" ").append(t.voucher_number);
        dictionaries_->vouchers.Add(f.voucher, key);
        f.text.push_back(t.text);
        f.weekday.push_back(static_cast<int8_t>(features.weekday));
        f.is_weekend.push_back(features.is_weekend ? 1 : 0);
        f.is_holiday.push_back(features.is_holiday ? 1 : 0);
        f.month.push_back(static_cast<int8_t>(features.month));
        f.quarter.push_back(static_cast<int8_t>(features.quarter));
        f.day_of_month.push_back(static_cast<int8_t>(features.day_of_month));
        f.hour.push_back(static_cast<int8_t>(features.hour.value_or(-1)));
        f.log_amount.push_back(features.log_amount);
        f.posting_lag_days.push_back(features.posting_lag_days);
        f.round_exponent.push_back(static_cast<int8_t>(features.round_exponent.value_or(-2)));
        f.first_digit.push_back(static_cast<int8_t>(features.first_digit));
        f.first_two_digits.push_back(static_cast<int8_t>(features.first_two_digits));

        f.registration_days.push_back(t.date.days + features.posting_lag_days);
        FiscalYear& year = dictionaries_->last_year;
        if (t.date < year.start || year.end < t.date) {
            year = FiscalYearOf(t.date, dictionaries_->options);
            const bool known = std::any_of(f.fiscal_years.begin(), f.fiscal_years.end(),
                                           [&](const FiscalYear& y) { return y.start == year.start; });
            if (!known) f.fiscal_years.push_back(year);
        }
        f.fiscal_year.push_back(static_cast<int16_t>(year.start.Year()));
        const int period = (t.date.Year() - year.start.Year()) * 12 + t.date.Month() - year.start.Month() + 1;
        f.fiscal_period.push_back(static_cast<int8_t>(std::clamp(period, 1, 99)));
        f.days_to_period_end.push_back(static_cast<int16_t>(LastDayOfMonth(t.date).days - t.date.days));
        f.days_to_year_end.push_back(static_cast<int16_t>(std::min(year.end.days - t.date.days, 32767)));
        if (!f.raw_columns.empty()) dictionaries_->ReadRawColumns(f, t);
    }
}

std::span<const std::string_view> TransactionFrame::NumericFeatureNames() { return kNumericFeatures; }

std::vector<double> TransactionFrame::NumericFeature(std::string_view name) const {
    auto convert = [](const auto& column) { return std::vector<double>(column.begin(), column.end()); };
    if (name == "amount") {
        std::vector<double> out(size());
        for (size_t i = 0; i < size(); ++i) out[i] = static_cast<double>(amount_minor[i]) / 100.0;
        return out;
    }
    if (name == "log_amount") return log_amount;
    if (name == "weekday") return convert(weekday);
    if (name == "is_weekend") return convert(is_weekend);
    if (name == "is_holiday") return convert(is_holiday);
    if (name == "month") return convert(month);
    if (name == "quarter") return convert(quarter);
    if (name == "day_of_month") return convert(day_of_month);
    if (name == "hour") return convert(hour);
    if (name == "posting_lag_days") return convert(posting_lag_days);
    if (name == "round_exponent") return convert(round_exponent);
    if (name == "first_digit") return convert(first_digit);
    if (name == "first_two_digits") return convert(first_two_digits);
    if (name == "fiscal_period") return convert(fiscal_period);
    if (name == "days_to_period_end") return convert(days_to_period_end);
    if (name == "days_to_year_end") return convert(days_to_year_end);
    if (name == "account_frequency") return convert(account_frequency);
    if (name == "user_frequency") return convert(user_frequency);
    if (name == "counterparty_frequency") return convert(counterparty_frequency);
    if (name == "voucher_size") return convert(voucher_size);
    const RawColumn* raw = FindRawColumn(name);
    if (raw != nullptr && raw->bad_row == 0) return raw->values;
    return {};
}

const RawColumn* TransactionFrame::FindRawColumn(std::string_view name) const {
    const auto it =
        std::find_if(raw_columns.begin(), raw_columns.end(), [&](const RawColumn& c) { return c.name == name; });
    return it == raw_columns.end() ? nullptr : &*it;
}

FrameOptions FrameOptionsFromMetadata(std::string_view upload_metadata) {
    FrameOptions options;
    const nlohmann::json metadata = nlohmann::json::parse(upload_metadata, nullptr, /*allow_exceptions=*/false);
    if (!metadata.is_object()) return options;
    if (const auto calendar = metadata.find("calendar"); calendar != metadata.end() && calendar->is_object()) {
        if (const auto country = calendar->find("country"); country != calendar->end() && country->is_string()) {
            options.country = country->get<std::string>();
        }
        if (const auto start = calendar->find("fiscal_year_start"); start != calendar->end() && start->is_string()) {
            if (const auto parsed = ParseMonthDay(start->get<std::string>())) {
                options.fiscal_year_start_month = parsed->first;
                options.fiscal_year_start_day = parsed->second;
            }
        }
    }
    const auto details = metadata.find("details");
    if (details == metadata.end() || !details->is_object()) return options;
    const auto years = details->find("fiscal_years");
    if (years == details->end() || !years->is_array()) return options;
    for (const nlohmann::json& year : *years) {
        if (!year.is_object() || !year.contains("start") || !year.contains("end")) continue;
        const auto start = ParseIsoDateTime(year["start"].get<std::string>());
        const auto end = ParseIsoDateTime(year["end"].get<std::string>());
        if (start && end && start->date <= end->date) options.fiscal_years.push_back({start->date, end->date});
    }
    return options;
}

std::optional<std::pair<int, int>> ParseMonthDay(std::string_view text) {
    // "MM-DD" (also "--MM-DD", ISO 8601's form of a day without a year).
    if (text.starts_with("--")) text.remove_prefix(2);
    if (text.size() != 5 || text[2] != '-') return std::nullopt;
    auto digits = [&](size_t at) -> int {
        const char a = text[at];
        const char b = text[at + 1];
        if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
        return (a - '0') * 10 + (b - '0');
    };
    const int month = digits(0);
    const int day = digits(3);
    // Checked against a leap year: 02-29 is a valid start (FiscalYearOf moves it in other years).
    if (month < 1 || day < 1 || !Date::FromYmd(2024, month, day)) return std::nullopt;
    return std::pair{month, day};
}

TransactionFrame LoadFrame(store::Store& store, std::string_view workspace_id, std::string_view upload_id,
                           std::span<const std::string> raw_columns) {
    auto upload = store.GetUpload(workspace_id, upload_id);
    if (!upload) throw std::invalid_argument(upload.error().message);
    FrameOptions options = FrameOptionsFromMetadata(upload->metadata);
    options.raw_columns.assign(raw_columns.begin(), raw_columns.end());
    FrameBuilder builder(std::move(options));
    store.ForEachTransaction(workspace_id, upload_id, 8192,
                             [&builder](std::span<const store::StoredTransaction> batch) { builder.Append(batch); });
    return std::move(builder).Finish();
}

}  // namespace granska::transform
