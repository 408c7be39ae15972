// granska_generate_ledger OUT.csv ROWS: writes the benchmark ledger (ledger_generator.h).

#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "ledger_generator.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        fmt::print(stderr, "usage: granska_generate_ledger OUT.csv ROWS\n");
        return 2;
    }
    const int64_t rows = std::stoll(argv[2]);
    granska::bench::WriteLedgerCsv(argv[1], rows);
    fmt::print("{}: {} rows\n", argv[1], rows);
    return 0;
}
