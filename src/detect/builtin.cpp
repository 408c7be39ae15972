#include "detect/registry.h"
#include "detect/statistical/moving_average.h"
#include "detect/statistical/timeseries.h"
#include "detect/statistical/zscore.h"

namespace granska::detect {

// The one list of built-in algorithms (DESIGN.md names).
void RegisterBuiltinAlgorithms(Registry& registry) {
    registry.Add(Zscore::Info());
    registry.Add(MovingAverage::Info());
    registry.Add(Timeseries::Info());
}

}  // namespace granska::detect
