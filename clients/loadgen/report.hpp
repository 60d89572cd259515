#pragma once
// What a run measured, the verdict on it, and its JSON report.

#include "histogram.hpp"
#include "options.hpp"
#include "stats.hpp"
#include "verifier.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace confide::loadgen {

/// One progress sample (cumulative counters at time t).
struct timeline_point {
    double t_s = 0;
    std::uint64_t live = 0;
    counter_values totals;
    std::uint64_t ack_p99_us = 0;       ///< over the second before t
    std::uint64_t delivery_p99_us = 0;  ///< over the second before t
};

/// Backlog mode's measurement.
struct backlog_result {
    std::uint64_t messages = 0;  ///< delivered to the specialists after they came back
    double drain_ms = 0;         ///< from reconnecting to the last delivery
};

/// Everything a run measured.
struct run_result {
    options opt;
    std::string started_at;  ///< UTC, ISO 8601
    double elapsed_s = 0;
    double measure_start_s = 0;  ///< the window the rates are computed over
    double measure_end_s = 0;
    counter_values at_measure_start;
    counter_values at_measure_end;
    counter_values totals;
    std::uint64_t peak_live = 0;
    std::uint64_t connections_failed = 0;  ///< never established, or gave up
    ledger_tally tally;
    std::uint64_t seq_holes = 0;
    histogram ack;
    histogram delivery;
    std::vector<timeline_point> timeline;
    bool drained = false;  ///< every message settled before the drain period ended
    double drain_s = 0;
    std::optional<backlog_result> backlog;
    std::map<std::string, std::uint64_t> notes;
};

/// The verdict: exit code 0 (good), 1 (messages lost, duplicated, reordered, corrupted or
/// misrouted) or 3 (more failed connections than allowed); the reasons in words.
struct verdict {
    int exit_code = 0;
    std::vector<std::string> reasons;
    std::vector<std::string> warnings;
};

/// Thread safety: safe.
verdict judge(const run_result& r);

/// The JSON report. Thread safety: safe.
boost::json::value to_json(const run_result& r, const verdict& v);

/// A few lines for a human. Thread safety: safe.
std::string summary_text(const run_result& r, const verdict& v);

/// "12.3 ms" / "850 us" style. Thread safety: safe.
std::string format_us(std::uint64_t us);

}  // namespace confide::loadgen
