#include "ws_client.hpp"

#include "confide/ws/connection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <deque>

namespace confide::net::test {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Runs `ioc` until `done` holds or `timeout` passes; whether it holds.
template <class Done>
bool run_until(asio::io_context& ioc, std::chrono::milliseconds timeout, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    ioc.restart();
    while (!done()) {
        if (ioc.run_one_until(deadline) == 0) {
            return done();
        }
    }
    return true;
}

}  // namespace

// ---- tcp_probe ------------------------------------------------------------------------------

struct tcp_probe::impl {
    explicit impl(std::chrono::milliseconds t) : timeout(t) {}

    // Runs the operation `start` begins; past the timeout the socket is closed, which ends it.
    template <class Start>
    error_code run(Start start) {
        bool done = false;
        error_code result;
        start([&](error_code ec, auto&&...) {
            done = true;
            result = ec;
        });
        if (!run_until(ioc, timeout, [&] { return done; })) {
            error_code ignored;
            socket.close(ignored);
            run_until(ioc, std::chrono::seconds(1), [&] { return done; });
            return asio::error::timed_out;
        }
        return result;
    }

    std::chrono::milliseconds timeout;
    asio::io_context ioc;
    tcp::socket socket{ioc};
};

tcp_probe::tcp_probe(std::chrono::milliseconds timeout) : impl_(std::make_unique<impl>(timeout)) {}

tcp_probe::~tcp_probe() = default;

bool tcp_probe::connect(const endpoint& server) {
    const tcp::endpoint ep(asio::ip::make_address(server.address), server.port);
    return !impl_->run([&](auto handler) { impl_->socket.async_connect(ep, handler); });
}

bool tcp_probe::write_raw(std::string_view bytes) {
    return !impl_->run([&](auto handler) {
        asio::async_write(impl_->socket, asio::buffer(bytes.data(), bytes.size()), handler);
    });
}

bool tcp_probe::wait_for_eof(std::string* got) {
    std::string data;
    const auto ec = impl_->run([&](auto handler) {
        asio::async_read(impl_->socket, asio::dynamic_buffer(data), handler);
    });
    if (got != nullptr) {
        *got += data;
    }
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

http_response tcp_probe::http_get(const endpoint& server, std::string_view target,
                                  const headers& extra, std::chrono::milliseconds timeout) {
    http_response out;
    tcp_probe probe(timeout);
    if (!probe.connect(server)) {
        out.error = "connect failed";
        return out;
    }
    std::string request = "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n";
    for (const auto& [name, value] : extra) {
        request += name + ": " + value + "\r\n";
    }
    request += "Connection: close\r\n\r\n";
    std::string got;
    // The server may close while the request is still going out (a refused oversized head).
    probe.write_raw(request);
    if (!probe.wait_for_eof(&got)) {
        out.error = "no end of the response";
    }
    const auto head_end = got.find("\r\n\r\n");
    if (!got.starts_with("HTTP/1.1 ") || got.size() < 12 || head_end == std::string::npos) {
        out.error += out.error.empty() ? "no response" : "";
        return out;
    }
    out.status = std::stoi(got.substr(9, 3));
    out.body = got.substr(head_end + 4);
    return out;
}

// ---- ws_client ------------------------------------------------------------------------------

struct ws_client::impl final : ws::events {
    explicit impl(std::chrono::milliseconds t) : timeout(t) {}

    ~impl() {
        if (conn) {
            conn->close(1000, false);
            run_until(ioc, std::chrono::seconds(5), [&] { return ended; });
        }
    }

    bool wait(const auto& done) { return run_until(ioc, timeout, done); }

    // Until the message is written to the socket.
    bool write(std::string_view data, bool binary) {
        if (!conn) {
            return false;
        }
        conn->send(std::string(data), binary);
        return wait([&] { return conn->queued_bytes() == 0 || ended; }) && !ended;
    }

    void on_open(std::uint64_t) override { opened = true; }

    void on_message(std::uint64_t, std::string_view bytes, bool binary) override {
        received r;
        r.what = binary ? received::kind::binary : received::kind::text;
        r.data.assign(bytes.data(), bytes.size());
        inbox.push_back(std::move(r));
    }

    void on_close(std::uint64_t, const ws::close_info& info) override {
        ended = true;
        end = info;
        received r;
        if (info.code != 0) {
            r.what = received::kind::closed;
            r.code = info.code;
            r.reason = info.reason;
        } else {
            r.error = info.reason;
        }
        inbox.push_back(std::move(r));
    }

    std::chrono::milliseconds timeout;
    asio::io_context ioc;
    ws::connect_options target;
    std::shared_ptr<ws::connection> conn;
    std::deque<received> inbox;
    bool opened = false;
    bool ended = false;
    ws::close_info end;
};

ws_client::ws_client(std::chrono::milliseconds timeout) : impl_(std::make_unique<impl>(timeout)) {}

ws_client::~ws_client() = default;

int ws_client::handshake(const endpoint& server, std::string_view target, const headers& extra,
                         std::string* response_body) {
    auto& i = *impl_;
    i.target.host = server.address;
    i.target.port = std::to_string(server.port);
    i.target.target = std::string(target);
    i.target.host_header = "localhost";
    i.target.headers = extra;
    i.target.open_timeout = i.timeout;
    i.target.read_on_open = false;
    i.conn = ws::connection::open(i.ioc.get_executor(), i.target, i, 1);
    i.wait([&] { return i.opened || i.ended; });
    if (i.opened) {
        return 101;
    }
    if (response_body != nullptr) {
        *response_body = i.end.http_body;
    }
    return i.end.http_status;
}

bool ws_client::open(const endpoint& server, std::string_view target, const headers& extra) {
    return handshake(server, target, extra) == 101;
}

bool ws_client::write_binary(std::string_view data) {
    return impl_->write(data, true);
}

bool ws_client::write_text(std::string_view data) {
    return impl_->write(data, false);
}

received ws_client::read() {
    auto& i = *impl_;
    if (i.conn) {
        i.conn->resume_reading();
    }
    if (!i.wait([&] { return !i.inbox.empty(); })) {
        if (i.conn) {
            i.conn->close(1000, false);
        }
        received r;
        r.error = i.ended ? "connection over" : "timeout";
        return r;
    }
    auto r = std::move(i.inbox.front());
    i.inbox.pop_front();
    return r;
}

bool ws_client::close(std::uint16_t code) {
    auto& i = *impl_;
    if (!i.conn) {
        return false;
    }
    i.conn->close(code, true);
    return i.wait([&] { return i.ended; }) && i.end.code != 0;
}

bool ws_client::wait_closed() {
    auto& i = *impl_;
    if (!i.conn) {
        return false;
    }
    i.conn->resume_reading();
    return i.wait([&] { return i.ended; });
}

void ws_client::drop() {
    if (impl_->conn) {
        impl_->conn->close(1000, false);
    }
}

}  // namespace confide::net::test
