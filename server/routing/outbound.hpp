#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace confide::routing {

/// The sending half of one client connection, as the chat domain sees it. Implemented by the
/// network layer (net::websocket_session) and by fakes in unit tests.
///
/// Thread safety: every member is called on the connection's strand only.
class outbound {
public:
    virtual ~outbound() = default;

    /// Queues one serialized confide.v1.Frame for sending. The buffer is shared, never modified,
    /// and may be queued on many connections at once. If the queued bytes go over the
    /// connection's limit, the connection is closed with 4003 (the client resumes from its
    /// cursor) and further frames are dropped.
    virtual void send(std::shared_ptr<const std::string> frame) = 0;

    /// Bytes queued and not yet handed to the socket.
    virtual std::size_t queued_bytes() const noexcept = 0;

    /// Sends what is queued, then a close frame with `code` and `reason`, and ends the
    /// connection. Later calls to send() are ignored. Idempotent.
    virtual void close(std::uint16_t code, std::string reason) = 0;
};

/// WebSocket close codes the server uses (see proto/confide/v1/confide.proto).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t policy = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t token_expired = 4001;
inline constexpr std::uint16_t unauthenticated = 4002;
inline constexpr std::uint16_t too_slow = 4003;
inline constexpr std::uint16_t too_many_connections = 4004;
inline constexpr std::uint16_t heartbeat_missed = 4005;
/// No user activity for the idle logoff time: signed out; the client must not reconnect by itself.
inline constexpr std::uint16_t idle_logoff = 4006;
}  // namespace close_code

}  // namespace confide::routing
