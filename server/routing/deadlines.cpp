#include "routing/deadlines.hpp"

#include "routing/outbound.hpp"

#include <algorithm>

namespace confide::routing {

deadlines::deadlines(time_point created, std::chrono::milliseconds auth_timeout,
                     std::chrono::milliseconds heartbeat_interval) noexcept
    : created_(created),
      last_received_(created),
      auth_timeout_(auth_timeout),
      idle_limit_(3 * heartbeat_interval) {}

void deadlines::received(time_point now) noexcept {
    last_received_ = now;
}

void deadlines::authenticated(time_point token_expiry) noexcept {
    token_expiry_ = token_expiry;
}

deadlines::time_point deadlines::next() const noexcept {
    const auto idle = last_received_ + idle_limit_;
    return std::min(idle, token_expiry_ ? *token_expiry_ : created_ + auth_timeout_);
}

std::optional<deadlines::expiry> deadlines::due(time_point now) const noexcept {
    if (!token_expiry_ && now >= created_ + auth_timeout_) {
        return expiry{close_code::unauthenticated, "not authenticated in time",
                      "not authenticated in time"};
    }
    if (token_expiry_ && now >= *token_expiry_) {
        return expiry{close_code::token_expired, "token expired: reconnect with a fresh token",
                      "token expired"};
    }
    if (now >= last_received_ + idle_limit_) {
        return expiry{close_code::heartbeat_missed, "no heartbeat: reconnect", "heartbeat missed"};
    }
    return std::nullopt;
}

}  // namespace confide::routing
