// The HTTP phase over TLS: its own translation unit, so that the plain and the TLS variants
// compile in parallel.

#include "net/detail/http_session_impl.hpp"
#include "net/tls.hpp"

namespace confide::net::detail {

void start_tls_http_session(tcp::socket socket, std::string connection_id,
                            connection_registry::slot slot,
                            std::shared_ptr<const session_context> ctx) {
    auto tls = ctx->options.tls->current();
    auto remote = remote_address_of(socket);
    tls_stream stream(std::move(socket), *tls);
    spawn_http_session(std::move(stream), std::move(tls), std::move(remote),
                       std::move(connection_id), std::move(slot), std::move(ctx));
}

}  // namespace confide::net::detail
