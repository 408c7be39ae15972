#include "detect/registry.h"
#include "detect/rules/benford.h"
#include "detect/rules/duplicates.h"
#include "detect/rules/numbering_gaps.h"
#include "detect/rules/rare_account.h"
#include "detect/rules/rare_user.h"
#include "detect/statistical/zscore.h"

namespace granska::detect {

// The one list of built-in algorithms (DESIGN.md names).
void RegisterBuiltinAlgorithms(Registry& registry) {
    registry.Add(Zscore::Info());
    registry.Add(Benford::Info());
    registry.Add(Duplicates::Info());
    registry.Add(NumberingGaps::Info());
    registry.Add(RareAccount::Info());
    registry.Add(RareUser::Info());
}

}  // namespace granska::detect
