// The WebSocket session over TLS: its own translation unit, so that the plain and the TLS
// sessions compile in parallel.

#include "net/websocket_session.hpp"

#include "net/detail/websocket_session_impl.hpp"

#include <boost/beast/websocket/ssl.hpp>

namespace confide::net {

void start_websocket_session(tls_stream stream, std::shared_ptr<asio::ssl::context> tls,
                             upgrade_request request, routing::connection_info info,
                             connection_registry::slot slot,
                             std::shared_ptr<const session_context> ctx) {
    detail::spawn_websocket_session(std::move(stream), std::move(tls), std::move(request),
                                    std::move(info), std::move(slot), std::move(ctx));
}

}  // namespace confide::net
