#include "store/store_metrics.hpp"

#include "store/redis/errc.hpp"

#include <array>

namespace confide::store::stats {
namespace {

metrics::registry& reg() {
    return metrics::registry::global();
}

constexpr const char* errors_help =
    "Redis commands that failed, by why: not_connected (Redis away, reconnecting), timeout (no "
    "reply within --redis-timeout-ms), disconnected (dropped in flight), oom (Redis out of "
    "memory), error (another error reply), other";

enum error_kind { not_connected, timeout, disconnected, oom, error_reply, other, kinds };

std::array<metrics::counter, kinds> make_errors() {
    constexpr std::array<const char*, kinds> names{"not_connected", "timeout", "disconnected",
                                                   "oom",           "error",   "other"};
    std::array<metrics::counter, kinds> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        out[i] = reg().add_counter("confide_redis_errors_total", errors_help, {{"kind", names[i]}});
    }
    return out;
}

const auto errors = make_errors();

}  // namespace

const metrics::histogram redis_command_latency = reg().add_histogram(
    "confide_redis_command_seconds",
    "Redis commands (and Lua scripts) of the request path, from submission to completion",
    metrics::latency_buckets());
const metrics::counter redis_connects = reg().add_counter(
    "confide_redis_connects_total",
    "Redis command connections established (one per I/O thread at start-up; more: reconnects)");
const metrics::counter bus_resets = reg().add_counter(
    "confide_notice_bus_resets_total",
    "Redis pub/sub reconnections after which the local connections re-read their streams (a "
    "notice may have been missed)");
const metrics::counter send_calls = reg().add_counter(
    "confide_redis_send_calls_total",
    "Calls that stored sends on one Redis (group commit: one per lone send, one per batch of the "
    "sends that queued while the previous call was in flight)");
const metrics::counter sends_called = reg().add_counter(
    "confide_redis_sends_total",
    "Sends carried by confide_redis_send_calls_total (retries included); the ratio of the two is "
    "the mean batch size");

void count_redis_error(const boost::system::error_code& ec, const redis::reply& r) noexcept {
    error_kind k = other;
    if (ec == redis::errc::not_connected) {
        k = not_connected;
    } else if (ec == redis::errc::timeout) {
        k = timeout;
    } else if (ec == redis::errc::disconnected) {
        k = disconnected;
    } else if (ec == redis::errc::server_error) {
        k = r.is_error() && r.str.starts_with("OOM") ? oom : error_reply;
    }
    errors[k].inc();
}

}  // namespace confide::store::stats
