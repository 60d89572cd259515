#pragma once
// What every connection of a node shares: its configuration and the node-wide services.

#include "protocol/limits.hpp"
#include "routing/audit.hpp"
#include "routing/directory.hpp"
#include "routing/event_stream.hpp"
#include "routing/ports.hpp"
#include "routing/rate_limiter.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace confide::auth {
class token_verifier;
}

namespace confide::routing {

class presence_tracker;

/// "This chat is not for emergencies", with a crisis line: sent to clients with their inquiries.
struct safety_notice {
    std::string text;
    std::string crisis_line;
};

/// Limits and timings of a client session.
struct session_config {
    protocol::limits limits;
    std::chrono::milliseconds auth_timeout{10'000};
    /// Clients ping at least this often; 3 intervals of silence close the connection (4005).
    std::chrono::milliseconds heartbeat_interval{15'000};
    /// Automatic logoff: an authenticated connection without user activity (sends, reads,
    /// typing; not pings) for this long is closed with 4006. Zero: never.
    std::chrono::milliseconds idle_logoff{15 * 60'000};
    std::uint32_t max_connections_per_user = 10;
    double send_rate = 10;  ///< messages per second per user (sustained)
    double send_burst = 30;
    double typing_rate = 2;  ///< typing notices per second per connection
    double typing_burst = 5;
    double request_rate = 50;  ///< requests of any kind per second per connection
    double request_burst = 200;
    /// The event stream's batches, outbound thresholds (from the network layer's bound), stalled
    /// reader timeout, retry delay and unacked list. Every session's stream refers to it.
    event_stream::options stream;
    routing::safety_notice safety_notice;
    /// An inquiry the specialist neither answers nor accepts nor declines expires after this.
    std::chrono::milliseconds inquiry_expiry{std::chrono::hours(7 * 24)};
    /// Retention: messages older than this are deleted (told to clients in Limits). Zero: kept.
    std::chrono::seconds retention{0};
};

/// The node-wide services every session uses. All of them outlive every session.
///
/// Thread safety: the services are safe to use from any thread; `config` is read-only.
struct services {
    chat_store& chat;
    presence_store& presence;
    directory_cache& directory;
    notice_bus& bus;
    const auth::token_verifier& verifier;
    presence_tracker& tracker;
    user_rate_limits& send_limits;
    session_config config;
    audit_log& audit;
};

}  // namespace confide::routing
