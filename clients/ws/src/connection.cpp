#include "connection_impl.hpp"

#include "tls_connection.hpp"

namespace confide::ws {
namespace {

// ws://: the TCP socket is the byte stream; nothing to do after the connect.
struct plain {
    static detail::awaitable<std::optional<detail::secure_failure>> handshake(
        detail::tcp::socket& /*socket*/, const connect_options& /*options*/) {
        co_return std::nullopt;
    }
};

}  // namespace

std::shared_ptr<connection> connection::open(const boost::asio::any_io_executor& executor,
                                             const connect_options& options, events& events,
                                             std::uint64_t id,
                                             std::optional<boost::asio::ip::address> source) {
    if (options.tls) {
        return detail::open_tls(executor, options, events, id, std::move(source));
    }
    auto c = std::make_shared<detail::connection_impl<detail::tcp::socket, plain>>(
        executor, options, events, id, std::move(source));
    c->start();
    return c;
}

}  // namespace confide::ws
