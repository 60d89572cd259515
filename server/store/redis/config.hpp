#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace confide::store::redis {

/// Where and how to reach Redis.
struct config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string unix_socket;  ///< when set, used instead of host/port
    std::string password;     ///< AUTH after connecting, when set (never logged)
    std::chrono::milliseconds connect_timeout{2000};
    /// Deadline of every command. hiredis 0.14 has none: past it, the connection is failed
    /// (every pending command completes with errc::timeout or errc::disconnected) and reconnected.
    std::chrono::milliseconds command_timeout{2000};
    /// A connection that sent no command for this long checks that Redis still answers (a PING,
    /// under command_timeout): a Redis that hangs is noticed even on an idle connection, which
    /// is then reconnected. Zero: never.
    std::chrono::milliseconds health_interval{2000};
    std::chrono::milliseconds reconnect_min{100};  ///< first backoff; doubles up to max, jittered
    std::chrono::milliseconds reconnect_max{5000};
};

}  // namespace confide::store::redis
