#pragma once
// The next layers of our WebSocket streams, ws:// (plain_socket) and wss:// (tls_transport, under
// the TLS stream): a tcp::socket, and a beast::tcp_stream, whose closing teardown reads what the
// peer is still sending until the peer's FIN, as RFC 6455 7.1.1 asks of a server.
//
// Why not Beast's: Beast 1.81's teardown for a TCP socket (websocket/impl/teardown.hpp,
// teardown_tcp_op) tests the wrong variable after its read, so it stops after the first read that
// returns data: it reads at most 2 KiB of what the peer still sends and closes the socket. A socket
// closed with unread bytes sends a RST, and the peer's kernel may throw away the close frame we
// sent just before: a client whose 70 KB message was refused with 1009 saw the connection drop
// without a code (the flaky limits.AFrameOverTheLimitClosesWith1009). Over TLS, Beast first sends
// close_notify and then runs the same TCP teardown on the TLS stream's next layer, with the same
// result (limits.AClientStillWritingARefusedMessageOverTls... failed 5 of 5 runs before).
// The WebSocket stream (and the TLS teardown, for its next layer) finds these overloads by
// argument-dependent lookup on our types and prefers them to Beast's (an exact match against a
// derived-to-base one).
//
// Bounded: while closing, the WebSocket stream's handshake timeout (our close timeout, set in
// websocket_session::run) runs, and when it fires it closes the socket, which ends the wait here.

#include "common/asio_types.hpp"

#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>

namespace confide::net::detail {

class plain_socket : public asio::ip::tcp::socket {
public:
    explicit plain_socket(asio::ip::tcp::socket&& socket)
        : asio::ip::tcp::socket(std::move(socket)) {}
};

class tls_transport : public boost::beast::tcp_stream {
public:
    using boost::beast::tcp_stream::tcp_stream;
};

// Shut our sending side (the server's close frame went out before), read and drop until the
// peer's FIN, then close. What Beast's teardown_tcp_op means to do.
class drain_op {
public:
    drain_op(asio::ip::tcp::socket& socket, boost::beast::role_type role)
        : socket_(socket), role_(role) {}

    template <class Self>
    void operator()(Self& self, boost::beast::error_code ec = {}) {
        if (!started_) {
            started_ = true;
            was_non_blocking_ = socket_.non_blocking();
            socket_.non_blocking(true, ec);
            if (!ec && role_ == boost::beast::role_type::server) {
                socket_.shutdown(asio::socket_base::shutdown_send, ec);
            }
            // Never complete inside the initiating call: the caller's handler may not expect it.
            failed_ = ec;
            asio::post(socket_.get_executor(), std::move(self));
            return;
        }
        if (failed_) {
            return finish(self, failed_);
        }
        if (ec) {
            return finish(self, ec);
        }
        for (;;) {
            std::array<char, 2048> discard;
            socket_.read_some(asio::buffer(discard), ec);
            if (ec == asio::error::would_block) {
                socket_.async_wait(asio::socket_base::wait_read, std::move(self));
                return;
            }
            if (ec == asio::error::eof) {
                ec = {};
                break;
            }
            if (ec) {
                return finish(self, ec);
            }
        }
        if (role_ == boost::beast::role_type::client) {
            socket_.shutdown(asio::socket_base::shutdown_send, ec);
        }
        boost::beast::error_code closed;
        socket_.close(closed);
        finish(self, ec ? ec : closed);
    }

private:
    template <class Self>
    void finish(Self& self, boost::beast::error_code ec) {
        boost::beast::error_code ignored;
        socket_.non_blocking(was_non_blocking_, ignored);
        self.complete(ec);
    }

    asio::ip::tcp::socket& socket_;
    boost::beast::role_type role_;
    bool started_ = false;
    bool was_non_blocking_ = false;
    boost::beast::error_code failed_;
};

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, plain_socket& socket, TeardownHandler&& handler) {
    asio::async_compose<TeardownHandler, void(boost::beast::error_code)>(drain_op(socket, role),
                                                                         handler, socket);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, tls_transport& transport,
                    TeardownHandler&& handler) {
    asio::async_compose<TeardownHandler, void(boost::beast::error_code)>(
        drain_op(transport.socket(), role), handler, transport.socket());
}

}  // namespace confide::net::detail
