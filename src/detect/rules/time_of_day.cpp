#include "detect/rules/time_of_day.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "detect/detail/params.h"
#include "detect/detail/stats.h"
#include "detect/rules/detail_rules1.h"

namespace granska::detect {

namespace {

constexpr double kOffDayScore = 0.4;  // a timed entry on a weekend or holiday, in working hours
constexpr double kHoursAtHalf = 3.0;  // hours outside the window that score 0.5

}  // namespace

Expected<TimeOfDayParams> TimeOfDayParams::FromJson(const nlohmann::json& json, std::string_view path) {
    TimeOfDayParams params;
    ParamReader reader(json, path);
    reader.Read("start_hour", params.start_hour);
    reader.Read("end_hour", params.end_hour);
    reader.Read("weekends", params.weekends);
    if (params.start_hour < 0 || params.start_hour > 23) {
        reader.Fail("start_hour", "'start_hour' must lie between 0 and 23.");
    }
    if (params.end_hour < 1 || params.end_hour > 24) reader.Fail("end_hour", "'end_hour' must lie between 1 and 24.");
    if (params.end_hour <= params.start_hour) reader.Fail("end_hour", "'end_hour' must be after 'start_hour'.");
    if (auto finished = reader.Finish(); !finished) return Unexpected(std::move(finished).error());
    return params;
}

AlgorithmInfo TimeOfDay::Info() {
    return AlgorithmInfo{
        .name = std::string(kName),
        .type = kType,
        .description =
            "Entries booked outside working hours (and, optionally, on weekends and holidays); the score grows with "
            "the distance from the working window. Rows without a time are not judged.",
        .params =
            {
                {"start_hour", "integer", "7", "working hours begin (0..23)"},
                {"end_hour", "integer", "19", "working hours end, exclusive (1..24)"},
                {"weekends", "boolean", "true", "timed entries on weekends and public holidays are off hours too"},
            },
        .create = FactoryOf<TimeOfDay, TimeOfDayParams>(),
    };
}

Expected<AlgorithmOutput> TimeOfDay::Run(const transform::TransactionFrame& frame, const RunContext& context) const {
    const size_t rows = frame.size();
    AlgorithmOutput output(rows);
    const int start = params_.start_hour;
    const int end = params_.end_hour;
    for (size_t i = 0; i < rows; ++i) {
        if (i % 65'536 == 0) {
            if (Cancelled(context)) return Unexpected(Internal("cancelled"));
            context.progress(static_cast<double>(i) / static_cast<double>(rows));
        }
        const int hour = frame.hour[i];
        if (hour < 0) continue;
        output.confidence[i] = 1.0;
        const bool outside = hour < start || hour >= end;
        const bool off_day = params_.weekends && (frame.is_weekend[i] != 0 || frame.is_holiday[i] != 0);
        if (!outside && !off_day) continue;

        // Hours past the end (19:xx is 1) or before the start, around the clock, whichever is nearer.
        const int after = outside ? (hour - end + 24) % 24 + 1 : 0;
        const int before = outside ? (start - hour + 24) % 24 : 0;
        const int distance = outside ? std::min(after, before) : 0;
        const double hour_score = ExcessScore(distance, kHoursAtHalf);
        const double score = 1.0 - (1.0 - hour_score) * (1.0 - (off_day ? kOffDayScore : 0.0));
        output.score[i] = score;
        const std::string day =
            fmt::format("{} {}", rules1::WeekdayName(frame.weekday[i]), rules1::DateText(frame.date_days[i]));
        const std::string_view day_kind = frame.is_weekend[i] != 0 ? "a weekend" : "a public holiday";
        if (score >= 0.3) {
            const std::string when = fmt::format("Booked between {0:02}:00 and {0:02}:59 on {1}", hour, day);
            output.reason[i] =
                outside && off_day ? fmt::format("{} ({}), {} hours outside working hours {:02}–{:02}.", when, day_kind,
                                                 distance, start, end)
                : outside ? fmt::format("{}, {} hours outside working hours {:02}–{:02}.", when, distance, start, end)
                          : fmt::format("{} ({}).", when, day_kind);
        }
        const nlohmann::json metadata = {{"hour", hour},
                                         {"start_hour", start},
                                         {"end_hour", end},
                                         {"hours_outside", distance},
                                         {"off_day", off_day}};
        output.flags.push_back(RuleFlag{.row = i,
                                        .rule = outside ? "outside_hours" : "off_day",
                                        .triggered = true,
                                        .value = static_cast<double>(hour),
                                        .metadata = metadata.dump()});
    }
    context.progress(1.0);
    return output;
}

}  // namespace granska::detect
