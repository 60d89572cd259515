#pragma once
// The authenticate request: how a connection becomes a user's.

#include "common/asio_types.hpp"
#include "routing/connection.hpp"
#include "routing/services.hpp"

#include "confide/v1/confide.pb.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace confide::routing {

/// Authenticates `conn` (not authenticated yet) with the request's token, or the upgrade's
/// bearer token: verifies it, binds the user's role, registers the connection with presence
/// (refusing more than max_connections_per_user: 4004), and subscribes `listener` to the user's
/// notices before anything is read from their stream. On success `conn` is authenticated, the
/// presence tracker told, and the AuthenticateReply sent; the token's expiry (with the verifier's
/// leeway) is returned. On failure the error is replied, the connection closed where the
/// protocol says so (4002, 4004), whatever was registered undone, and nullopt returned.
///
/// `req` stays alive until the awaitable completes. Thread safety: on `conn`'s strand.
awaitable<std::optional<std::chrono::steady_clock::time_point>> sign_in(
    services& svc, connection& conn, std::shared_ptr<notice_listener> listener, std::uint64_t rid,
    const v1::AuthenticateRequest& req);

}  // namespace confide::routing
