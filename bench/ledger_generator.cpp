#include "ledger_generator.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace granska::bench {

namespace {

struct Account {
    std::string_view number;
    std::string_view name;
};

constexpr std::array<Account, 8> kCosts = {{{"4010", "Inköp material"},
                                            {"5010", "Lokalhyra"},
                                            {"5460", "Förbrukningsmaterial"},
                                            {"5611", "Drivmedel"},
                                            {"6110", "Kontorsmateriel"},
                                            {"6212", "Mobiltelefon"},
                                            {"6540", "IT-tjänster"},
                                            {"7010", "Löner"}}};
constexpr std::array<std::string_view, 5> kUsers = {"CÖ", "AL", "MK", "JS", "KASSA"};

// splitmix64: tiny, fast, and identical everywhere.
struct Random {
    uint64_t state;
    uint64_t Next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int64_t Between(int64_t low, int64_t high) {
        return low + static_cast<int64_t>(Next() % static_cast<uint64_t>(high - low + 1));
    }
};

std::string Amount(int64_t minor) {
    const int64_t magnitude = minor < 0 ? -minor : minor;
    return fmt::format("{}{}.{:02}", minor < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

}  // namespace

int64_t WriteLedgerCsv(const std::filesystem::path& path, int64_t rows, uint64_t seed) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    fmt::print(out.get(),
               "transaction_id,voucher_series,voucher_number,date,registration_date,account,account_name,"
               "amount,text,user\n");
    Random random{seed};
    int64_t written = 0;
    int64_t voucher = 0;
    int64_t total = 0;
    while (written < rows) {
        ++voucher;
        const int day_of_year = static_cast<int>(voucher * 365 / (rows / 3 + 1)) % 365;
        const int month = 1 + day_of_year / 31 % 12;
        const int day = 1 + day_of_year % 28;
        const std::string date = fmt::format("2024-{:02}-{:02}", month, day);
        const Account& cost = kCosts[random.Next() % kCosts.size()];
        const std::string_view user = kUsers[random.Next() % kUsers.size()];
        const int64_t net = random.Between(5'000, 2'500'000);
        const bool with_vat = written + 3 <= rows && random.Next() % 2 == 0;
        const int64_t vat = with_vat ? net / 4 : 0;
        struct Line {
            std::string_view account, name;
            int64_t minor;
        };
        std::array<Line, 3> lines = {
            {{cost.number, cost.name, net}, {"2640", "Ingående moms", vat}, {"1930", "Företagskonto", -(net + vat)}}};
        for (const Line& line : lines) {
            if (line.minor == 0 || written >= rows) continue;
            ++written;
            total += line.minor;
            fmt::print(out.get(), "{},A,{},{},{},{},{},{},Inköp {} nr {},{}\n", written, voucher, date, date,
                       line.account, line.name, Amount(line.minor), cost.name, voucher, user);
        }
    }
    return total;
}

}  // namespace granska::bench
