#include "detect/registry.h"
#include "detect/statistical/correlation.h"
#include "detect/statistical/zscore.h"

namespace granska::detect {

// The one list of built-in algorithms (DESIGN.md names).
void RegisterBuiltinAlgorithms(Registry& registry) {
    registry.Add(Zscore::Info());
    registry.Add(Correlation::Info());
}

}  // namespace granska::detect
