#pragma once
// The WebSocket phase of a client connection. The session itself (Beast) lives in
// websocket_session.cpp; this header carries only plain types across from the HTTP phase.

#include "net/connection_registry.hpp"
#include "net/options.hpp"
#include "routing/connection_handler.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace confide::net {

/// What every connection of a listener shares. Immutable once built.
struct session_context {
    session_options options;
    std::shared_ptr<routing::connection_handler_factory> factory;
    std::shared_ptr<connection_registry> registry;
};

/// The HTTP upgrade request as read by the HTTP phase, in plain types. The Authorization header
/// is not in `fields`: the token travels in routing::connection_info only.
struct upgrade_request {
    unsigned version = 11;  ///< 11 = HTTP/1.1
    std::string target;
    std::vector<std::pair<std::string, std::string>> fields;  ///< name, value; in order
};

/// Answers the upgrade and runs the WebSocket session on `socket`'s executor (a strand):
/// handshake (deadline: handshake_timeout), then the read and write loops until the connection
/// ends. The handler is created by ctx->factory once the handshake is done and its on_closed()
/// is awaited exactly once at the end. `slot` is held until the session is gone.
///
/// The session implements routing::outbound: send() queues up to max_outbound_bytes (beyond:
/// close 4003), close(code, reason) sends what is queued and then the close frame, and a
/// closing handshake not done within close_timeout ends with the socket being closed.
///
/// Thread safety: call from `socket`'s strand or before the socket is used by anything else.
void start_websocket_session(asio::ip::tcp::socket socket, upgrade_request request,
                             routing::connection_info info, connection_registry::slot slot,
                             std::shared_ptr<const session_context> ctx);

}  // namespace confide::net
