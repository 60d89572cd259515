#include "ws_link.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <netinet/in.h>

#include <deque>
#include <exception>
#include <utility>

namespace confide::loadgen {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

template <class T = void>
using awaitable = asio::awaitable<T>;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Frames are at most 64 KiB by the protocol; a broken server must not make us buffer more.
constexpr std::size_t read_message_max = 1024 * 1024;

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

class link_impl final : public ws_link, public std::enable_shared_from_this<link_impl> {
public:
    link_impl(asio::io_context& ioc, const link_target& target,
              std::optional<asio::ip::address> source, link_events& events, std::uint64_t id)
        : target_(target),
          source_(source),
          events_(events),
          id_(id),
          ws_(ioc),
          wake_(ioc, asio::steady_timer::time_point::max()),
          deadline_(ioc) {}

    void start() {
        // `self` in the completion handler keeps the link alive while its coroutines run.
        asio::co_spawn(ws_.get_executor(), run(),
                       [self = shared_from_this()](const std::exception_ptr& e) {
                           if (e) {
                               try {
                                   std::rethrow_exception(e);
                               } catch (const std::exception& x) {
                                   self->end_.reason = std::string("exception: ") + x.what();
                               }
                           }
                           self->deadline_.cancel();
                           self->drop();
                           self->events_.on_close(self->id_, self->end_);
                       });
    }

    void send(std::string bytes) override {
        if (closing_ || dropped_) {
            return;
        }
        queued_ += bytes.size();
        out_.push_back(std::move(bytes));
        if (idle_) {
            wake_.cancel();
        }
    }

    void close(bool graceful) override {
        if (dropped_) {
            return;
        }
        if (!graceful || !end_.opened) {
            drop();
            return;
        }
        if (closing_) {
            return;
        }
        closing_ = true;
        wake_.cancel();
        deadline_.expires_after(target_.close_timeout);
        deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                self->drop();
            }
        });
    }

    std::size_t queued_bytes() const noexcept override { return queued_; }

private:
    // Closing the socket cancels every operation in flight; the coroutines then end.
    void drop() {
        if (dropped_) {
            return;
        }
        dropped_ = true;
        boost::system::error_code ignored;
        ws_.next_layer().close(ignored);
        wake_.cancel();
    }

    awaitable<void> run() {
        if (auto failure = co_await open_socket()) {
            end_.reason = std::move(*failure);
            co_return;
        }
        deadline_.cancel();
        end_.opened = true;
        events_.on_open(id_);
        co_await (read_loop() && write_loop());
    }

    awaitable<std::optional<std::string>> open_socket() {
        auto& sock = ws_.next_layer();
        boost::system::error_code ec;
        sock.open(target_.server.protocol(), ec);
        if (ec) {
            co_return "socket: " + ec.message();
        }
        if (source_) {
            const int one = 1;
            // Without this, bind() picks a port unique for the source address alone.
            ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                         sizeof one);
            sock.bind(tcp::endpoint(*source_, 0), ec);
            if (ec) {
                co_return "bind " + source_->to_string() + ": " + ec.message();
            }
        }
        deadline_.expires_after(target_.open_timeout);
        deadline_.async_wait([self = shared_from_this()](boost::system::error_code dec) {
            if (!dec) {
                self->timed_out_ = true;
                self->drop();
            }
        });
        auto [cec] = co_await sock.async_connect(target_.server, use_nothrow);
        if (cec || dropped_) {
            co_return "connect: " + (timed_out_ ? std::string("timed out") : cec.message());
        }
        sock.set_option(tcp::no_delay(true), ec);
        websocket::stream_base::timeout t{};
        t.handshake_timeout = target_.open_timeout;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "confide-loadgen");
        }));
        ws_.read_message_max(read_message_max);
        ws_.binary(true);
        ws_.auto_fragment(false);
        auto [hec] = co_await ws_.async_handshake(target_.host, target_.target, use_nothrow);
        if (hec || dropped_) {
            co_return "handshake: " + (timed_out_ ? std::string("timed out") : hec.message());
        }
        co_return std::nullopt;
    }

    awaitable<void> read_loop() {
        beast::flat_buffer buffer;
        for (;;) {
            auto [ec, n] = co_await ws_.async_read(buffer, use_nothrow);
            if (ec) {
                if (ec == websocket::error::closed) {
                    end_.code = static_cast<std::uint16_t>(ws_.reason().code);
                    end_.reason =
                        std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
                } else if (end_.reason.empty()) {
                    end_.reason = dropped_ ? "dropped" : ec.message();
                }
                break;
            }
            if (!dropped_ && ws_.got_binary()) {
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
        for (;;) {
            if (read_done_ || dropped_) {
                co_return;
            }
            if (!out_.empty()) {
                std::string msg = std::move(out_.front());
                out_.pop_front();
                queued_ -= msg.size();
                auto [ec, n] = co_await ws_.async_write(asio::buffer(msg), use_nothrow);
                if (ec) {
                    drop();
                    co_return;
                }
                continue;
            }
            if (closing_) {
                // The reader sees the server's close frame and ends with error::closed.
                auto [ec] = co_await ws_.async_close(websocket::close_code::normal, use_nothrow);
                if (ec) {
                    drop();
                }
                co_return;
            }
            idle_ = true;
            wake_.expires_at(asio::steady_timer::time_point::max());
            co_await wake_.async_wait(use_nothrow);
            idle_ = false;
        }
    }

    const link_target& target_;
    std::optional<asio::ip::address> source_;
    link_events& events_;
    std::uint64_t id_;
    websocket::stream<tcp::socket> ws_;
    asio::steady_timer wake_;
    asio::steady_timer deadline_;
    std::deque<std::string> out_;
    std::size_t queued_ = 0;
    link_close end_;
    bool idle_ = false;
    bool closing_ = false;
    bool dropped_ = false;
    bool read_done_ = false;
    bool timed_out_ = false;
};

}  // namespace

std::shared_ptr<ws_link> ws_link::open(asio::io_context& ioc, const link_target& target,
                                       std::optional<asio::ip::address> source, link_events& events,
                                       std::uint64_t id) {
    auto link = std::make_shared<link_impl>(ioc, target, source, events, id);
    link->start();
    return link;
}

}  // namespace confide::loadgen
