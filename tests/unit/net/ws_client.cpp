#include "ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace confide::net::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;

tcp::endpoint to_tcp(const endpoint& ep) {
    return tcp::endpoint(asio::ip::make_address(ep.address), ep.port);
}

// Runs the operation started by `start` on `ioc` until it completes or `timeout` passes; on
// timeout `on_timeout` cancels it (closes the socket) and the operation is run to its end.
template <class Start, class OnTimeout>
error_code run_bounded(asio::io_context& ioc, std::chrono::milliseconds timeout, Start&& start,
                       OnTimeout&& on_timeout) {
    bool done = false;
    error_code result;
    ioc.restart();
    start([&](error_code ec, auto&&...) {
        done = true;
        result = ec;
    });
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && ioc.run_one_until(deadline) != 0) {
    }
    if (!done) {
        on_timeout();
        ioc.restart();
        while (!done && ioc.run_one_for(std::chrono::seconds(1)) != 0) {
        }
        return beast::error::timeout;
    }
    return result;
}

}  // namespace

struct ws_client::impl {
    explicit impl(std::chrono::milliseconds t) : timeout(t), ws(ioc) {}

    template <class Start>
    error_code run(Start&& start) {
        return run_bounded(ioc, timeout, std::forward<Start>(start),
                           [this] { beast::get_lowest_layer(ws).close(); });
    }

    std::chrono::milliseconds timeout;
    asio::io_context ioc;
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buffer;
};

ws_client::ws_client(std::chrono::milliseconds timeout) : impl_(std::make_unique<impl>(timeout)) {}

ws_client::~ws_client() = default;

bool ws_client::connect(const endpoint& server) {
    auto ep = to_tcp(server);
    auto ec = impl_->run(
        [&](auto handler) { beast::get_lowest_layer(impl_->ws).async_connect(ep, handler); });
    if (!ec) {
        beast::get_lowest_layer(impl_->ws).socket().set_option(tcp::no_delay(true), ec);
    }
    return !ec;
}

int ws_client::handshake(std::string_view target, const headers& extra,
                         std::string* response_body) {
    auto& ws = impl_->ws;
    ws.set_option(websocket::stream_base::decorator([extra](websocket::request_type& req) {
        for (const auto& [name, value] : extra) {
            req.set(name, value);
        }
    }));
    websocket::response_type res;
    auto ec = impl_->run(
        [&](auto handler) { ws.async_handshake(res, "localhost", std::string(target), handler); });
    if (response_body != nullptr) {
        *response_body = res.body();
    }
    if (ec && res.result_int() == 101) {
        return 0;
    }
    return static_cast<int>(res.result_int());
}

bool ws_client::open(const endpoint& server, std::string_view target, const headers& extra) {
    return connect(server) && handshake(target, extra) == 101;
}

bool ws_client::write_binary(std::string_view data) {
    impl_->ws.binary(true);
    auto ec = impl_->run([&](auto handler) { impl_->ws.async_write(asio::buffer(data), handler); });
    return !ec;
}

bool ws_client::write_text(std::string_view data) {
    impl_->ws.text(true);
    auto ec = impl_->run([&](auto handler) { impl_->ws.async_write(asio::buffer(data), handler); });
    return !ec;
}

received ws_client::read() {
    received r;
    auto& buffer = impl_->buffer;
    buffer.consume(buffer.size());
    auto ec = impl_->run([&](auto handler) { impl_->ws.async_read(buffer, handler); });
    // A close frame was received even if the teardown after it failed (the server may have
    // closed the TCP connection first).
    if (ec == websocket::error::closed || (ec && impl_->ws.reason().code != 0)) {
        r.what = received::kind::closed;
        r.code = impl_->ws.reason().code;
        const auto& why = impl_->ws.reason().reason;
        r.reason.assign(why.data(), why.size());
        return r;
    }
    if (ec) {
        r.what = received::kind::error;
        r.error = ec.message();
        return r;
    }
    r.what = impl_->ws.got_binary() ? received::kind::binary : received::kind::text;
    r.data = beast::buffers_to_string(buffer.data());
    return r;
}

bool ws_client::close(std::uint16_t code) {
    websocket::close_reason cr(static_cast<websocket::close_code>(code));
    auto ec = impl_->run([&](auto handler) { impl_->ws.async_close(cr, handler); });
    return !ec;
}

bool ws_client::write_raw(std::string_view bytes) {
    auto ec = impl_->run([&](auto handler) {
        asio::async_write(beast::get_lowest_layer(impl_->ws).socket(), asio::buffer(bytes),
                          handler);
    });
    return !ec;
}

bool ws_client::wait_for_eof(std::string* got) {
    auto& socket = beast::get_lowest_layer(impl_->ws).socket();
    std::string data;
    auto ec = impl_->run(
        [&](auto handler) { asio::async_read(socket, asio::dynamic_buffer(data), handler); });
    if (got != nullptr) {
        *got += data;
    }
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

void ws_client::drop() {
    beast::get_lowest_layer(impl_->ws).close();
}

http_response ws_client::http_get(const endpoint& server, std::string_view target,
                                  const headers& extra, std::chrono::milliseconds timeout) {
    http_response out;
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    auto close = [&] { stream.close(); };
    auto ep = to_tcp(server);
    auto ec = run_bounded(
        ioc, timeout, [&](auto handler) { stream.async_connect(ep, handler); }, close);
    if (ec) {
        out.error = "connect: " + ec.message();
        return out;
    }
    http::request<http::empty_body> req{http::verb::get, std::string(target), 11};
    req.set(http::field::host, "localhost");
    for (const auto& [name, value] : extra) {
        req.set(name, value);
    }
    ec = run_bounded(
        ioc, timeout, [&](auto handler) { http::async_write(stream, req, handler); }, close);
    if (ec) {
        out.error = "write: " + ec.message();
        return out;
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    ec = run_bounded(
        ioc, timeout, [&](auto handler) { http::async_read(stream, buffer, res, handler); }, close);
    if (ec) {
        out.error = "read: " + ec.message();
        return out;
    }
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    return out;
}

}  // namespace confide::net::test
