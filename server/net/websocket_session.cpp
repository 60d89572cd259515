#include "net/websocket_session.hpp"

#include "net/detail/websocket_session_impl.hpp"

namespace confide::net {

void start_websocket_session(asio::ip::tcp::socket socket, upgrade_request request,
                             routing::connection_info info, connection_registry::slot slot,
                             std::shared_ptr<const session_context> ctx) {
    detail::spawn_websocket_session(boost::beast::tcp_stream(std::move(socket)), nullptr,
                                    std::move(request), std::move(info), std::move(slot),
                                    std::move(ctx));
}

}  // namespace confide::net
