#pragma once
// The WebSocket phase of a client connection, over plain TCP or TLS. The session itself lives
// in detail/websocket_session_impl.hpp, compiled once per kind of stream (websocket_session.cpp,
// websocket_session_tls.cpp); only net/ includes this header.

#include "net/connection_registry.hpp"
#include "net/detail/draining_sockets.hpp"
#include "net/session_context.hpp"
#include "routing/connection_handler.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>

namespace confide::net {

/// A TLS connection after its handshake. Its next layer is a beast::tcp_stream whose closing
/// teardown drains the client until its FIN (detail/draining_sockets.hpp).
using tls_stream = boost::beast::ssl_stream<detail::tls_transport>;

/// Answers the upgrade and runs the WebSocket session on the stream's executor (a strand):
/// handshake (deadline: handshake_timeout), then the read and write loops until the connection
/// ends. The handler is created by ctx->factory once the handshake is done and its on_closed()
/// is awaited exactly once at the end. `slot` is held until the session is gone.
///
/// The session implements routing::outbound: send() queues up to max_outbound_bytes (beyond: a
/// GoAwayPush and close 4003), close(code, reason) sends what is queued and then the close
/// frame, and a closing handshake not done within close_timeout ends with the socket being
/// closed. Told to go away (a drain), it queues a GoAwayPush and closes with 1001.
///
/// Thread safety: call from the stream's strand or before the stream is used by anything else.
void start_websocket_session(asio::ip::tcp::socket socket, upgrade_request request,
                             routing::connection_info info, connection_registry::slot slot,
                             std::shared_ptr<const session_context> ctx);

/// The same over TLS; `tls` is the context `stream` was made with, kept as long as it lives.
void start_websocket_session(tls_stream stream, std::shared_ptr<asio::ssl::context> tls,
                             upgrade_request request, routing::connection_info info,
                             connection_registry::slot slot,
                             std::shared_ptr<const session_context> ctx);

}  // namespace confide::net
