#pragma once
// Fixed instants for the directory's tests: office hours are about calendars, not "now".

#include <date/date.h>

#include <chrono>
#include <cstdint>

namespace confide::testing {

/// Milliseconds since the epoch of a UTC date and time.
inline std::int64_t utc(int y, unsigned m, unsigned d, int hh, int mm = 0) {
    using namespace std::chrono;
    const auto day = date::sys_days(date::year(y) / date::month(m) / date::day(d));
    return duration_cast<milliseconds>((day + hours(hh) + minutes(mm)).time_since_epoch()).count();
}

}  // namespace confide::testing
