#include "net/http_session.hpp"

#include "net/detail/http_session_impl.hpp"

namespace confide::net {
namespace detail {

std::string remote_address_of(const tcp::socket& socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) {
        return "unknown";
    }
    return endpoint{ep.address().to_string(), ep.port()}.to_string();
}

// Tokens in URLs end up in proxy and access logs, so they are refused outright rather than
// ignored: the client learns at once.
bool has_token_parameter(std::string_view query) {
    while (!query.empty()) {
        auto amp = query.find('&');
        auto param = query.substr(0, amp);
        auto name = param.substr(0, param.find('='));
        if (beast::iequals(name, "token") || beast::iequals(name, "access_token")) {
            return true;
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return false;
}

std::string bearer_token(std::string_view value) {
    constexpr std::string_view scheme = "bearer ";
    if (value.size() <= scheme.size() || !beast::iequals(value.substr(0, scheme.size()), scheme)) {
        return {};
    }
    value.remove_prefix(scheme.size());
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    return std::string(value);
}

}  // namespace detail

void start_http_session(asio::ip::tcp::socket socket, std::string connection_id,
                        connection_registry::slot slot,
                        std::shared_ptr<const session_context> ctx) {
    if (ctx->options.tls) {
        detail::start_tls_http_session(std::move(socket), std::move(connection_id), std::move(slot),
                                       std::move(ctx));
        return;
    }
    auto remote = detail::remote_address_of(socket);
    detail::spawn_http_session(boost::beast::tcp_stream(std::move(socket)), nullptr,
                               std::move(remote), std::move(connection_id), std::move(slot),
                               std::move(ctx));
}

}  // namespace confide::net
