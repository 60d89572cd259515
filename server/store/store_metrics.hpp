#pragma once
// Storage's metrics (see docs/operations.md for the whole list).

#include "metrics/metrics.hpp"
#include "store/redis/reply.hpp"

#include <boost/system/error_code.hpp>

namespace confide::store::stats {

/// From a command's submission to its completion on the caller's executor, success or not.
extern const metrics::histogram redis_command_latency;
extern const metrics::counter redis_connects;  ///< command connections (re)established
extern const metrics::counter bus_resets;      ///< pub/sub reconnections: local streams re-read
/// Group commit on one Redis: the calls that stored sends, and the sends they carried (their
/// ratio is the mean batch size).
extern const metrics::counter send_calls;
extern const metrics::counter sends_called;

/// Counts a failed Redis command by what went wrong.
void count_redis_error(const boost::system::error_code& ec, const redis::reply& r) noexcept;

}  // namespace confide::store::stats
