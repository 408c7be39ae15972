#include "detect/ml/autoencoder.h"
#include "detect/ml/clustering.h"
#include "detect/ml/isolation_forest.h"
#include "detect/registry.h"
#include "detect/rules/account_rules.h"
#include "detect/rules/benford.h"
#include "detect/rules/duplicates.h"
#include "detect/rules/numbering_gaps.h"
#include "detect/rules/periodization.h"
#include "detect/rules/rare_account.h"
#include "detect/rules/rare_user.h"
#include "detect/rules/round_amount.h"
#include "detect/rules/time_of_day.h"
#include "detect/rules/weekend_threshold.h"
#include "detect/statistical/correlation.h"
#include "detect/statistical/moving_average.h"
#include "detect/statistical/timeseries.h"
#include "detect/statistical/zscore.h"

namespace granska::detect {

// The one list of built-in algorithms (DESIGN.md names), statistical, rule-based, then ML.
void RegisterBuiltinAlgorithms(Registry& registry) {
    registry.Add(Zscore::Info());
    registry.Add(MovingAverage::Info());
    registry.Add(Timeseries::Info());
    registry.Add(Correlation::Info());
    registry.Add(WeekendThreshold::Info());
    registry.Add(Periodization::Info());
    registry.Add(AccountRules::Info());
    registry.Add(TimeOfDay::Info());
    registry.Add(RoundAmount::Info());
    registry.Add(Benford::Info());
    registry.Add(Duplicates::Info());
    registry.Add(NumberingGaps::Info());
    registry.Add(RareAccount::Info());
    registry.Add(RareUser::Info());
    registry.Add(IsolationForest::Info());
    registry.Add(Autoencoder::Info());
    registry.Add(Clustering::Info());
}

}  // namespace granska::detect
