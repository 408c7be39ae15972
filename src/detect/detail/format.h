#pragma once
// Number formatting for reasons: "125 000.00" (space-grouped thousands, two decimals), "1 234".

#include <cstdint>
#include <string>

namespace granska::detect {

std::string FormatAmount(double major_units);
std::string FormatCount(int64_t count);

}  // namespace granska::detect
