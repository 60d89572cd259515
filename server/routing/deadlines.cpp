#include "routing/deadlines.hpp"

#include "routing/outbound.hpp"

#include <algorithm>

namespace confide::routing {

deadlines::deadlines(time_point created, std::chrono::milliseconds auth_timeout,
                     std::chrono::milliseconds heartbeat_interval,
                     std::chrono::milliseconds idle_logoff) noexcept
    : last_received_(created),
      last_active_(created),
      session_end_(created + auth_timeout),
      idle_limit_(3 * heartbeat_interval),
      logoff_after_(idle_logoff) {}

void deadlines::received(time_point now) noexcept {
    last_received_ = now;
}

void deadlines::active(time_point now) noexcept {
    last_active_ = now;
}

void deadlines::authenticated(time_point token_expiry) noexcept {
    session_end_ = token_expiry;
    authenticated_ = true;
}

bool deadlines::logs_off() const noexcept {
    return authenticated_ && logoff_after_.count() > 0;
}

deadlines::time_point deadlines::next() const noexcept {
    auto t = std::min(last_received_ + idle_limit_, session_end_);
    return logs_off() ? std::min(t, last_active_ + logoff_after_) : t;
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
    if (logs_off() && now >= last_active_ + logoff_after_) {
        return expiry{close_code::idle_logoff, "signed out after inactivity", "idle logoff"};
    }
    if (now >= last_received_ + idle_limit_) {
        return expiry{close_code::heartbeat_missed, "no heartbeat: reconnect", "heartbeat missed"};
    }
    return std::nullopt;
}

}  // namespace confide::routing
