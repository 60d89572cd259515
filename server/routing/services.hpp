#pragma once
// What every connection of a node shares: its configuration and the node-wide services.

#include "protocol/limits.hpp"
#include "routing/ports.hpp"
#include "routing/rate_limiter.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace confide::auth {
class token_verifier;
}

namespace confide::routing {

class presence_tracker;

/// Limits and timings of a client session.
struct session_config {
    protocol::limits limits;
    std::chrono::milliseconds auth_timeout{10'000};
    /// Clients ping at least this often; 3 intervals of silence close the connection (4005).
    std::chrono::milliseconds heartbeat_interval{15'000};
    std::uint32_t max_connections_per_user = 10;
    double send_rate = 10;  ///< messages per second per user (sustained)
    double send_burst = 30;
    double typing_rate = 2;  ///< typing notices per second per connection
    double typing_burst = 5;
    double request_rate = 50;  ///< requests of any kind per second per connection
    double request_burst = 200;
    std::uint32_t event_batch = 100;  ///< events read from storage per round trip
    /// The network layer's outbound bound; the event pump pauses at 1/4 of it and resumes
    /// at 1/8, so catch-up never grows the queue past its bound.
    std::size_t max_outbound_bytes = 4 * 1024 * 1024;
    /// A client that reads nothing for this long while events wait is closed with 4003.
    std::chrono::milliseconds stalled_reader_timeout{30'000};
    /// How long the event pump waits before reading storage again after a failure.
    std::chrono::milliseconds storage_retry{1'000};
    /// Unacked message events remembered for delivered receipts. A client that never acks loses
    /// receipts for the oldest ones only; marks are "up to seq", so a later ack covers them.
    std::size_t max_unacked = 10'000;
};

/// The node-wide services every session uses. All of them outlive every session.
///
/// Thread safety: the services are safe to use from any thread; `config` is read-only.
struct services {
    chat_store& chat;
    presence_store& presence;
    notice_bus& bus;
    const auth::token_verifier& verifier;
    presence_tracker& tracker;
    user_rate_limits& send_limits;
    session_config config;
};

}  // namespace confide::routing
