#pragma once
// A deterministic synthetic general ledger in Granska's CSV dialect, for benchmarks: balanced vouchers of
// two to four lines, BAS accounts, one fiscal year. Same seed, same bytes.

#include <cstdint>
#include <filesystem>

namespace granska::bench {

// Writes `rows` lines (plus the header) and returns the sum of their amounts in minor units.
int64_t WriteLedgerCsv(const std::filesystem::path& path, int64_t rows, uint64_t seed = 7);

}  // namespace granska::bench
