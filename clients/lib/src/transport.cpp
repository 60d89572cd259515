#include "transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <deque>
#include <exception>
#include <optional>
#include <unordered_map>
#include <utility>

namespace confide::client::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

template <class T = void>
using awaitable = asio::awaitable<T>;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Frames are at most 64 KiB by the protocol; a generous bound still stops a broken server from
// making us buffer without limit.
constexpr std::size_t read_message_max = 4 * 1024 * 1024;

}  // namespace

class ws_connection;

struct ws_transport::impl {
    impl(asio::io_context& c, endpoint e, transport_events& ev, std::chrono::milliseconds t)
        : ioc(c), ep(std::move(e)), events(ev), close_timeout(t) {}

    asio::io_context& ioc;
    endpoint ep;
    transport_events& events;
    std::chrono::milliseconds close_timeout;
    std::unordered_map<conn_id, std::shared_ptr<ws_connection>> connections;
};

class ws_connection : public std::enable_shared_from_this<ws_connection> {
public:
    ws_connection(const std::shared_ptr<ws_transport::impl>& owner, conn_id id)
        : owner_(owner),
          events_(owner->events),
          ep_(owner->ep),
          close_timeout_(owner->close_timeout),
          id_(id),
          resolver_(owner->ioc),
          ws_(owner->ioc),
          wake_(owner->ioc, asio::steady_timer::time_point::max()),
          close_timer_(owner->ioc) {}

    void start() {
        // `self` in the completion handler keeps the connection alive for the coroutine.
        asio::co_spawn(ws_.get_executor(), run(),
                       [self = shared_from_this()](const std::exception_ptr&) {
                           self->close_timer_.cancel();
                           if (auto owner = self->owner_.lock()) {
                               owner->connections.erase(self->id_);
                           }
                       });
    }

    void send(std::string bytes) {
        if (closing_ || finished_ || dropped_) {
            return;
        }
        out_.push_back(std::move(bytes));
        wake_.cancel();
    }

    void close(std::uint16_t code, bool graceful) {
        if (finished_ || dropped_) {
            return;
        }
        if (!graceful || !open_) {
            drop();
            return;
        }
        if (closing_) {
            return;
        }
        closing_ = true;
        close_code_ = code;
        wake_.cancel();
        close_timer_.expires_after(close_timeout_);
        close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                self->drop();
            }
        });
    }

private:
    // Cancels whatever is in flight; the coroutines then end on their own.
    void drop() {
        dropped_ = true;
        resolver_.cancel();
        beast::get_lowest_layer(ws_).close();
        wake_.cancel();
    }

    void finish(close_info info) {
        if (finished_) {
            return;
        }
        finished_ = true;
        events_.on_close(id_, info);
    }

    awaitable<void> run() {
        if (auto failure = co_await open_socket()) {
            finish(close_info{0, std::move(*failure)});
            co_return;
        }
        open_ = true;
        events_.on_open(id_);
        co_await (read_loop() && write_loop());
        finish(std::move(end_));
    }

    // Resolve, connect, WebSocket handshake. Returns why it failed, if it did. Bounded by the
    // core's connect deadline, which drops us.
    awaitable<std::optional<std::string>> open_socket() {
        auto [rec, results] = co_await resolver_.async_resolve(ep_.host, ep_.port, use_nothrow);
        if (rec || dropped_) {
            co_return "resolve " + ep_.host + ": " + rec.message();
        }
        auto& tcp_layer = beast::get_lowest_layer(ws_);
        auto [cec, ep] = co_await tcp_layer.async_connect(results, use_nothrow);
        if (cec || dropped_) {
            co_return "connect: " + cec.message();
        }
        tcp_layer.socket().set_option(tcp::no_delay(true));
        // Liveness is the core's business (application pings); Beast only bounds the close
        // handshake here, and the opening one as a second line of defence.
        websocket::stream_base::timeout t{};
        t.handshake_timeout = close_timeout_;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "confide-client");
        }));
        ws_.read_message_max(read_message_max);
        ws_.binary(true);
        const bool default_port = ep_.port == "80";
        const std::string host =
            (ep_.host.find(':') != std::string::npos ? "[" + ep_.host + "]" : ep_.host) +
            (default_port ? "" : ":" + ep_.port);
        auto [hec] = co_await ws_.async_handshake(host, ep_.target, use_nothrow);
        if (hec || dropped_) {
            co_return "websocket handshake: " + hec.message();
        }
        co_return std::nullopt;
    }

    awaitable<void> read_loop() {
        beast::flat_buffer buffer;
        for (;;) {
            auto [ec, n] = co_await ws_.async_read(buffer, use_nothrow);
            if (ec) {
                if (ec == websocket::error::closed) {
                    end_ = close_info{
                        static_cast<std::uint16_t>(ws_.reason().code),
                        std::string(ws_.reason().reason.data(), ws_.reason().reason.size())};
                } else {
                    end_ = close_info{0, ec.message()};
                }
                break;
            }
            if (ws_.got_binary() && !dropped_) {
                const auto data = buffer.cdata();
                events_.on_frame(
                    id_, std::string_view(static_cast<const char*>(data.data()), data.size()));
            }
            buffer.consume(buffer.size());
        }
        read_done_ = true;
        wake_.cancel();
    }

    awaitable<void> write_loop() {
        while (!read_done_ && !dropped_) {
            if (!out_.empty()) {
                auto [ec, n] = co_await ws_.async_write(asio::buffer(out_.front()), use_nothrow);
                if (ec) {
                    drop();
                    co_return;
                }
                out_.pop_front();
                continue;
            }
            if (closing_) {
                // The reader sees the server's close frame (or the timeout) and ends.
                co_await ws_.async_close(websocket::close_reason(close_code_), use_nothrow);
                co_return;
            }
            wake_.expires_at(asio::steady_timer::time_point::max());
            co_await wake_.async_wait(use_nothrow);
        }
    }

    std::weak_ptr<ws_transport::impl> owner_;
    transport_events& events_;
    endpoint ep_;
    std::chrono::milliseconds close_timeout_;
    conn_id id_;
    tcp::resolver resolver_;
    websocket::stream<beast::tcp_stream> ws_;
    asio::steady_timer wake_;  // the writer's wake-up
    asio::steady_timer close_timer_;
    std::deque<std::string> out_;
    close_info end_;
    std::uint16_t close_code_ = 1000;
    bool open_ = false;
    bool closing_ = false;
    bool dropped_ = false;
    bool read_done_ = false;
    bool finished_ = false;
};

ws_transport::ws_transport(asio::io_context& ioc, endpoint ep, transport_events& events,
                           std::chrono::milliseconds close_timeout)
    : impl_(std::make_shared<impl>(ioc, std::move(ep), events, close_timeout)) {}

ws_transport::~ws_transport() = default;

void ws_transport::open(conn_id id) {
    auto c = std::make_shared<ws_connection>(impl_, id);
    impl_->connections[id] = c;
    c->start();
}

void ws_transport::send(conn_id id, std::string bytes) {
    if (auto it = impl_->connections.find(id); it != impl_->connections.end()) {
        it->second->send(std::move(bytes));
    }
}

void ws_transport::close(conn_id id, std::uint16_t code, bool graceful) {
    if (auto it = impl_->connections.find(id); it != impl_->connections.end()) {
        it->second->close(code, graceful);
    }
}

void ws_transport::close_all() {
    // close() may end a connection at once; iterate over a copy.
    auto connections = impl_->connections;
    for (auto& [id, c] : connections) {
        c->close(1000, true);
    }
}

}  // namespace confide::client::detail
