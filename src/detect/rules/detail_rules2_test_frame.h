#pragma once
// Test support for the rules2 algorithm tests: a frame from a few hand-written lines.

#include <string>
#include <utility>
#include <vector>

#include "core/date.h"
#include "transform/frame.h"

namespace granska::detect::rules2_test {

struct TestLine {
    std::string account = "1930";
    int64_t minor = 10'000;  // öre
    std::string date = "2024-01-01";
    std::string series;  // voucher series; with number "" the line has no voucher
    std::string number;
    std::string text;
    std::string user;
    std::string counterparty;
};

inline Date ParseTestDate(const std::string& ymd) {
    return *Date::FromYmd(std::stoi(ymd.substr(0, 4)), std::stoi(ymd.substr(5, 2)), std::stoi(ymd.substr(8, 2)));
}

inline transform::TransactionFrame MakeTestFrame(const std::vector<TestLine>& lines) {
    std::vector<store::StoredTransaction> rows;
    for (size_t i = 0; i < lines.size(); ++i) {
        store::StoredTransaction row;
        row.id = "id-" + std::to_string(i);
        Transaction& t = row.transaction;
        t.row_number = static_cast<int64_t>(i + 1);
        t.external_id = std::to_string(i + 1);
        t.date = ParseTestDate(lines[i].date);
        t.account = lines[i].account;
        t.amount = Money{lines[i].minor};
        t.text = lines[i].text;
        t.user = lines[i].user;
        t.counterparty = lines[i].counterparty;
        t.voucher_series = lines[i].series;
        t.voucher_number = lines[i].number;
        rows.push_back(std::move(row));
    }
    transform::FrameBuilder builder;
    builder.Append(rows);
    return std::move(builder).Finish();
}

}  // namespace granska::detect::rules2_test
