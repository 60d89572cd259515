#pragma once
// Calendar helpers for the directory's client tests: office hours are about weekdays, so the
// tests name days relative to today (UTC) rather than fixed dates.

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

namespace confide::test {

/// Milliseconds since the epoch of UTC midnight `days` from today.
inline std::int64_t utc_midnight_ms(int days) {
    using namespace std::chrono;
    const auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    constexpr std::int64_t day = 24LL * 3600 * 1000;
    return (now / day + days) * day;
}

/// confide-admin's name of the UTC weekday `days` from today: "mon" .. "sun".
inline std::string weekday_name(int days) {
    static const char* names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    const std::time_t t = static_cast<std::time_t>(utc_midnight_ms(days) / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return names[tm.tm_wday];
}

/// The full English name of that weekday, as strftime's %A prints it in the C locale.
inline std::string weekday_full_name(int days) {
    static const char* names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                  "Thursday", "Friday", "Saturday"};
    const std::time_t t = static_cast<std::time_t>(utc_midnight_ms(days) / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return names[tm.tm_wday];
}

/// "YYYY-MM-DD" of the UTC day `days` from today.
inline std::string utc_date(int days) {
    const std::time_t t = static_cast<std::time_t>(utc_midnight_ms(days) / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

}  // namespace confide::test
