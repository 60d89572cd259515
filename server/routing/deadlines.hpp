#pragma once
// When a connection must end although nothing went wrong on the wire: not authenticated in time,
// token expired, no user activity for too long (automatic logoff), or silent for too long. Decided
// on times given by the caller (no timers here): routing::session arms one timer at next() and asks
// due() when it fires.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace confide::routing {

/// The deadlines of one connection.
///
/// Thread safety: none; the owner serializes all calls (the connection's strand).
class deadlines {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    /// Why a connection is closed, and how.
    struct expiry {
        std::uint16_t close_code;
        std::string_view reason;  ///< for the client (GoAway and close frame)
        std::string_view log;     ///< for the server's log
    };

    /// A connection opened at `created`: it must authenticate within `auth_timeout`, send
    /// something at least every 3 `heartbeat_interval`s and, once authenticated, show user
    /// activity at least every `idle_logoff` (zero: never logged off for inactivity).
    deadlines(time_point created, std::chrono::milliseconds auth_timeout,
              std::chrono::milliseconds heartbeat_interval,
              std::chrono::milliseconds idle_logoff = {}) noexcept;

    /// A frame arrived: the heartbeat deadline moves.
    void received(time_point now) noexcept;

    /// The user did something (a send, a read, typing: routing::is_user_activity): the idle
    /// logoff deadline moves. Pings, syncs and acks are the client's, not the user's.
    void active(time_point now) noexcept;

    /// Authenticated with a token valid until `token_expiry`: the authentication deadline is
    /// replaced by it, and the idle logoff applies from now on (counted from the last activity,
    /// or from `created`).
    void authenticated(time_point token_expiry) noexcept;

    /// The earliest deadline (a timer set to it wakes up no later than needed).
    time_point next() const noexcept;

    /// The deadline passed at `now`, if one did: authentication first, then the token, then the
    /// idle logoff, then the heartbeat.
    std::optional<expiry> due(time_point now) const noexcept;

private:
    bool logs_off() const noexcept;

    time_point last_received_;
    time_point last_active_;                // the user's last activity
    time_point session_end_;                // the authentication deadline, then the token's expiry
    std::chrono::milliseconds idle_limit_;  // without a frame: heartbeat missed
    std::chrono::milliseconds logoff_after_;
    bool authenticated_ = false;
};

}  // namespace confide::routing
