#pragma once
// time_of_day: entries booked outside working hours. Only rows with a time (hour ≥ 0) are judged; the others score 0
// with confidence 0. An hour h outside [`start_hour`, `end_hour`) lies d hours from the working window (19:xx → 1,
// 22:xx → 4, 02:xx → 5 before 07:00, whichever side is nearer); score = ExcessScore(d, 3): 0.10 at d = 1, 0.5 at 3,
// 0.74 at 5. With `weekends`, a timed entry on a weekend or public holiday adds 0.4: score = 1 − (1 − s)(1 − 0.4).
// Journal-entry testing practice: entries made outside business hours (the ISA 240 journal-entry risk factors).

#include <string>

#include "detect/registry.h"

namespace granska::detect {

struct TimeOfDayParams {
    int start_hour = 7;    // working hours begin at 07:00
    int end_hour = 19;     // and end at 19:00 (exclusive)
    bool weekends = true;  // timed entries on weekends and public holidays are off hours too

    static Expected<TimeOfDayParams> FromJson(const nlohmann::json& params, std::string_view path);
};

class TimeOfDay final : public Algorithm {
public:
    static constexpr std::string_view kName = "time_of_day";
    static constexpr AlgorithmType kType = AlgorithmType::kRuleBased;

    explicit TimeOfDay(TimeOfDayParams params) : params_(std::move(params)) {}
    std::string_view Name() const override { return kName; }
    Expected<AlgorithmOutput> Run(const transform::TransactionFrame& frame, const RunContext& context) const override;

    static AlgorithmInfo Info();

private:
    TimeOfDayParams params_;
};

}  // namespace granska::detect
