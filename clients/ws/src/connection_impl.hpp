#pragma once
// The client WebSocket connection over a byte stream: private to clients/ws, included by
// connection.cpp (ws://) and connection_tls.cpp (wss://) only, so that the TLS instantiation
// compiles apart and Beast stays out of every other translation unit.

#include "confide/ws/connection.hpp"
#include "confide/ws/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <netinet/in.h>

#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace confide::ws::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

template <class T = void>
using awaitable = asio::awaitable<T>;

inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/// Why Secure::handshake failed.
struct secure_failure {
    std::string reason;
    bool certificate_refused = false;
};

struct outgoing {
    std::string bytes;
    bool binary = true;
};

// One connection over `Stream` (tcp::socket, or an ssl_stream over one). `Secure` makes the
// byte stream ready after the TCP connect: nothing for ws://, the TLS handshake for wss://
// (connection_tls.cpp). A template rather than a type-erased stream: Beast's websocket::stream
// writes buffer sequences of its own types, which an erased stream would have to copy.
template <class Stream, class Secure>
class connection_impl final : public connection,
                              public std::enable_shared_from_this<connection_impl<Stream, Secure>> {
public:
    using ws_stream = websocket::stream<Stream, false>;

    template <class... StreamArgs>
    connection_impl(const asio::any_io_executor& ex, const connect_options& options, events& events,
                    std::uint64_t id, std::optional<asio::ip::address> source,
                    StreamArgs&&... stream_args)
        : opts_(options),
          events_(events),
          id_(id),
          source_(std::move(source)),
          ws_(ex, std::forward<StreamArgs>(stream_args)...),
          resolver_(ex),
          deadline_(ex),
          gate_(ex),
          reading_(options.read_on_open) {}

    void start() {
        // The completion handler's `self` keeps the connection alive while run() runs.
        asio::co_spawn(ws_.get_executor(), run(),
                       [self = this->shared_from_this()](const std::exception_ptr& e) {
                           if (e) {
                               try {
                                   std::rethrow_exception(e);
                               } catch (const std::exception& x) {
                                   self->end_.reason = std::string("exception: ") + x.what();
                               } catch (...) {
                                   self->end_.reason = "exception";
                               }
                           }
                           self->finish();
                       });
    }

    void send(std::string bytes, bool binary) override {
        if (closing_ || dropped_) {
            return;
        }
        queued_ += bytes.size();
        out_.push_back(outgoing{std::move(bytes), binary});
        start_writer();
    }

    void close(std::uint16_t code, bool graceful) override {
        if (dropped_) {
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
        // One deadline for all that is left: the queue, the close frame and the peer's answer.
        deadline_.expires_after(opts_.close_timeout);
        deadline_.async_wait([self = this->shared_from_this()](error_code ec) {
            if (!ec) {
                self->drop();
            }
        });
        gate_.cancel();
        start_writer();
    }

    void resume_reading() override {
        reading_ = true;
        gate_.cancel();
    }

    std::size_t queued_bytes() const noexcept override { return queued_; }

private:
    // Closing the socket ends every operation in flight; run() then ends and reports.
    void drop() {
        if (dropped_) {
            return;
        }
        dropped_ = true;
        resolver_.cancel();
        error_code ignored;
        beast::get_lowest_layer(ws_).close(ignored);
        gate_.cancel();
    }

    void finish() {
        deadline_.cancel();
        drop();
        events_.on_close(id_, end_);
    }

    // Until `done` holds; whatever changes it cancels the gate.
    template <class Done>
    awaitable<void> wait_until(Done done) {
        while (!done()) {
            gate_.expires_at(asio::steady_timer::time_point::max());
            co_await gate_.async_wait(use_nothrow);
        }
    }

    awaitable<void> run() {
        if (auto failure = co_await open_stream()) {
            end_.reason = std::move(*failure);
            co_return;
        }
        deadline_.cancel();
        end_.opened = true;
        open_ = true;
        // Beast's own timer also bounds the closing handshake, behind close_timeout.
        websocket::stream_base::timeout t{};
        t.handshake_timeout = opts_.close_timeout;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws_.set_option(t);
        events_.on_open(id_);
        start_writer();  // what was sent, or a close asked for, during the handshake
        co_await wait_until([this] { return reading_ || closing_ || dropped_; });
        if (reading_ && !dropped_) {
            co_await read_loop();
        } else {
            // Not reading: a close op reads up to the peer's close frame by itself.
            co_await wait_until([this] { return !writing_ || dropped_; });
            note_close_frame();
        }
    }

    // Resolve, connect, handshake. Returns why it failed, if it did.
    awaitable<std::optional<std::string>> open_stream() {
        deadline_.expires_after(opts_.open_timeout);
        deadline_.async_wait([self = this->shared_from_this()](error_code ec) {
            // An expiry already queued when the handshake completed is too late to count.
            if (!ec && !self->open_) {
                self->timed_out_ = true;
                self->drop();
            }
        });
        std::optional<std::string> failure;
        if (opts_.address) {
            failure = co_await connect_to(*opts_.address);
        } else {
            auto [ec, results] =
                co_await resolver_.async_resolve(opts_.host, opts_.port, use_nothrow);
            if (ec || dropped_) {
                co_return "resolve " + opts_.host + ": " + why(ec);
            }
            failure = "connect: no address";
            for (const auto& entry : results) {
                failure = co_await connect_to(entry.endpoint());
                if (!failure || dropped_) {
                    break;
                }
            }
        }
        if (failure) {
            co_return failure;
        }
        error_code ignored;
        beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true), ignored);
        if (auto refused = co_await Secure::handshake(ws_.next_layer(), opts_)) {
            end_.certificate_refused = refused->certificate_refused;
            co_return dropped_ ? "TLS handshake: " + why({}) : std::move(refused->reason);
        }
        websocket::stream_base::timeout t{};
        t.handshake_timeout = opts_.open_timeout;
        t.idle_timeout = websocket::stream_base::none();
        t.keep_alive_pings = false;
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator(
            [&headers = opts_.headers](websocket::request_type& r) {
                for (const auto& [name, value] : headers) {
                    r.set(name, value);
                }
            }));
        ws_.read_message_max(opts_.read_message_max);
        // One frame per message: no copy into a fragmentation buffer.
        ws_.auto_fragment(false);
        const std::string host = opts_.host_header.empty()
                                     ? host_header(opts_.host, opts_.port, opts_.tls != nullptr)
                                     : opts_.host_header;
        websocket::response_type response;
        auto [ec] = co_await ws_.async_handshake(response, host, opts_.target, use_nothrow);
        if (ec == websocket::error::upgrade_declined) {
            end_.http_status = static_cast<int>(response.result_int());
            end_.http_body = std::move(response.body());
        }
        if (ec || dropped_) {
            co_return "websocket handshake: " + why(ec);
        }
        co_return std::nullopt;
    }

    awaitable<std::optional<std::string>> connect_to(tcp::endpoint ep) {
        if (dropped_) {
            co_return "connect: " + why({});
        }
        auto& socket = beast::get_lowest_layer(ws_);
        error_code ec;
        if (socket.is_open()) {
            socket.close(ec);
        }
        socket.open(ep.protocol(), ec);
        if (ec) {
            co_return "socket: " + ec.message();
        }
        if (opts_.receive_buffer_bytes > 0) {
            socket.set_option(asio::socket_base::receive_buffer_size(opts_.receive_buffer_bytes),
                              ec);
        }
        if (source_) {
            const int one = 1;
            // Without this, bind() picks a port unique for the source address alone.
            ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                         sizeof one);
            socket.bind(tcp::endpoint(*source_, 0), ec);
            if (ec) {
                co_return "bind " + source_->to_string() + ": " + ec.message();
            }
        }
        auto [cec] = co_await socket.async_connect(ep, use_nothrow);
        if (cec || dropped_) {
            co_return "connect: " + why(cec);
        }
        co_return std::nullopt;
    }

    std::string why(const error_code& ec) const {
        if (timed_out_) {
            return "timed out";
        }
        return dropped_ ? std::string("dropped") : ec.message();
    }

    awaitable<void> read_loop() {
        beast::flat_buffer buffer;
        for (;;) {
            auto [ec, n] = co_await ws_.async_read(buffer, use_nothrow);
            if (ec) {
                if (!note_close_frame() && end_.reason.empty()) {
                    end_.reason = why(ec);
                }
                co_return;
            }
            if (!dropped_) {
                const auto data = buffer.cdata();
                events_.on_message(
                    id_, std::string_view(static_cast<const char*>(data.data()), data.size()),
                    ws_.got_binary());
            }
            buffer.consume(buffer.size());
        }
    }

    // A close frame counts even if the teardown after it failed (the peer may have closed the
    // TCP connection first).
    bool note_close_frame() {
        const auto& r = ws_.reason();
        if (r.code == 0) {
            return false;
        }
        end_.code = static_cast<std::uint16_t>(r.code);
        end_.reason.assign(r.reason.data(), r.reason.size());
        return true;
    }

    // A write (or the close) in flight at most; each completion starts the next one.
    void start_writer() {
        if (writing_ || !open_ || dropped_) {
            return;
        }
        if (!out_.empty()) {
            writing_ = true;
            const auto& next = out_.front();
            ws_.binary(next.binary);
            ws_.async_write(asio::buffer(next.bytes),
                            [self = this->shared_from_this()](error_code ec, std::size_t) {
                                self->written(ec);
                            });
            return;
        }
        if (closing_ && !close_sent_) {
            close_sent_ = true;
            writing_ = true;
            ws_.async_close(websocket::close_reason(close_code_),
                            [self = this->shared_from_this()](error_code ec) {
                                self->writing_ = false;
                                if (ec) {
                                    self->drop();
                                }
                                self->gate_.cancel();
                            });
        }
    }

    void written(error_code ec) {
        writing_ = false;
        queued_ -= out_.front().bytes.size();
        out_.pop_front();
        if (ec) {
            drop();
            return;
        }
        start_writer();
        if (!writing_) {
            gate_.cancel();
        }
    }

    const connect_options& opts_;
    events& events_;
    const std::uint64_t id_;
    const std::optional<asio::ip::address> source_;
    ws_stream ws_;
    tcp::resolver resolver_;
    asio::steady_timer deadline_;  // the open deadline, then the close deadline
    asio::steady_timer gate_;      // wakes run() when the state it waits for may have changed
    std::deque<outgoing> out_;
    std::size_t queued_ = 0;
    close_info end_;
    std::uint16_t close_code_ = 1000;
    bool reading_;
    bool open_ = false;
    bool closing_ = false;
    bool close_sent_ = false;
    bool writing_ = false;
    bool dropped_ = false;
    bool timed_out_ = false;
};

}  // namespace confide::ws::detail
