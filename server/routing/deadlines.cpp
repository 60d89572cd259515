#include "routing/deadlines.hpp"

#include "routing/outbound.hpp"

#include <algorithm>

namespace confide::routing {

deadlines::deadlines(time_point created, std::chrono::milliseconds auth_timeout,
                     std::chrono::milliseconds heartbeat_interval) noexcept
    : last_received_(created),
      session_end_(created + auth_timeout),
      idle_limit_(3 * heartbeat_interval) {}

void deadlines::received(time_point now) noexcept {
    last_received_ = now;
}

void deadlines::authenticated(time_point token_expiry) noexcept {
    session_end_ = token_expiry;
    authenticated_ = true;
}

deadlines::time_point deadlines::next() const noexcept {
    return std::min(last_received_ + idle_limit_, session_end_);
}

std::optional<deadlines::expiry> deadlines::due(time_point now) const noexcept {
    if (!authenticated_ && now >= session_end_) {
        return expiry{close_code::unauthenticated, "not authenticated in time",
                      "not authenticated in time"};
    }
    if (authenticated_ && now >= session_end_) {
        return expiry{close_code::token_expired, "token expired: reconnect with a fresh token",
                      "token expired"};
    }
    if (now >= last_received_ + idle_limit_) {
        return expiry{close_code::heartbeat_missed, "no heartbeat: reconnect", "heartbeat missed"};
    }
    return std::nullopt;
}

}  // namespace confide::routing
