#include "net/websocket_session.hpp"

#include "net/detail/draining_sockets.hpp"
#include "net/detail/websocket_session_impl.hpp"

namespace confide::net {

void start_websocket_session(asio::ip::tcp::socket socket, upgrade_request request,
                             routing::connection_info info, connection_registry::slot slot,
                             std::shared_ptr<const session_context> ctx) {
    // The socket itself is the next layer, not a beast::tcp_stream: the WebSocket stream has
    // its own timer for the handshake and idle timeouts, and tcp_stream's would cost every
    // connection a shared implementation with three more timers (docs/benchmarks.md, "Idle
    // memory"). plain_socket is a tcp::socket whose closing teardown reads until the peer's FIN.
    detail::spawn_websocket_session(detail::plain_socket(std::move(socket)), nullptr,
                                    std::move(request), std::move(info), std::move(slot),
                                    std::move(ctx));
}

}  // namespace confide::net
