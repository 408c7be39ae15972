#include "transform/frame.h"

#include <algorithm>
#include <array>
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
};

FrameBuilder::FrameBuilder(FrameOptions options)
    : dictionaries_(std::make_unique<Dictionaries>(std::move(options))) {}
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
    return {};
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

TransactionFrame LoadFrame(store::Store& store, std::string_view workspace_id, std::string_view upload_id) {
    auto upload = store.GetUpload(workspace_id, upload_id);
    if (!upload) throw std::invalid_argument(upload.error().message);
    FrameBuilder builder(FrameOptionsFromMetadata(upload->metadata));
    store.ForEachTransaction(workspace_id, upload_id, 8192,
                             [&builder](std::span<const store::StoredTransaction> batch) { builder.Append(batch); });
    return std::move(builder).Finish();
}

}  // namespace granska::transform
