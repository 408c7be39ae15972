#include "transform/frame.h"

#include <array>
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

constexpr std::array<std::string_view, 17> kNumericFeatures = {"amount",
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

}  // namespace

struct FrameBuilder::Dictionaries {
    Interner accounts;
    Interner users;
    Interner counterparties;
    Interner vouchers;
    std::string voucher_key;  // reused
    HolidayCalendar calendar = *HolidayCalendar::ForCountry("SE");
};

FrameBuilder::FrameBuilder() : dictionaries_(std::make_unique<Dictionaries>()) {}
FrameBuilder::~FrameBuilder() = default;

TransactionFrame FrameBuilder::Finish() && {
    TransactionFrame& f = frame_;
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
    if (name == "account_frequency") return convert(account_frequency);
    if (name == "user_frequency") return convert(user_frequency);
    if (name == "counterparty_frequency") return convert(counterparty_frequency);
    if (name == "voucher_size") return convert(voucher_size);
    return {};
}

TransactionFrame LoadFrame(store::Store& store, std::string_view workspace_id, std::string_view upload_id) {
    FrameBuilder builder;
    store.ForEachTransaction(workspace_id, upload_id, 8192,
                             [&builder](std::span<const store::StoredTransaction> batch) { builder.Append(batch); });
    return std::move(builder).Finish();
}

}  // namespace granska::transform
