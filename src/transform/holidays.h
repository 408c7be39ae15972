#pragma once
// Public holidays, computed (Easter and the days that move with it included), for the "entries on holidays" tests
// auditors run. Sweden: the public holidays of Lag (1989:253) om allmänna helgdagar, plus the eves that are
// non-working days in practice (påskafton, midsommarafton, julafton, nyårsafton) — banks are closed and nobody
// should be posting on them either.

#include <optional>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/expected.h"

namespace granska::transform {

class HolidayCalendar {
public:
    // "SE" (Sweden), or "none" for no holidays. Unknown codes are a kBadRequest error listing the known ones.
    static Expected<HolidayCalendar> ForCountry(std::string_view country);

    std::string_view country() const { return country_; }
    bool IsHoliday(Date date) const;
    // The holiday's name in the country's language ("Långfredagen"), or nullopt on an ordinary day.
    std::optional<std::string_view> Name(Date date) const;

private:
    explicit HolidayCalendar(std::string_view country);

    std::string_view country_;
    std::vector<bool> table_;  // one bit per day from kTableStart, for fast lookups on every row
};

// Easter Sunday of the Gregorian calendar (the anonymous algorithm in Meeus, Astronomical Algorithms).
Date EasterSunday(int year);

}  // namespace granska::transform
