#pragma once
// The WebSocket session, a template over its stream (a plain tcp::socket or tls_stream). Included
// only by websocket_session.cpp and websocket_session_tls.cpp, which compile one each.

#include "common/asio_types.hpp"
#include "common/check.hpp"
#include "common/log.hpp"
#include "net/net_errors.hpp"
#include "net/net_metrics.hpp"
#include "net/websocket_session.hpp"
#include "protocol/codec.hpp"
#include "routing/outbound.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

namespace confide::net::detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;

// A read buffer that grew past this for one big message is given back afterwards: thousands of
// idle connections should not each keep a 64 KiB buffer.
inline constexpr std::size_t keep_read_buffer_bytes = 16 * 1024;

// What a connection waiting for its next message prepares to receive into. Beast would prepare
// 1,536 bytes, held by every idle connection; most frames are smaller than this, and the rest of
// a bigger one is read at once when its header has said how big it is.
inline constexpr std::size_t first_read_bytes = 256;

// Close codes a server may put in a close frame (RFC 6455 7.4; 1005, 1006 and 1015 never go on
// the wire).
inline bool is_sendable_close_code(std::uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1013) ||
           (code >= 3000 && code <= 4999);
}

// The close reason goes into a control frame (at most 123 bytes); cut at a UTF-8 boundary.
inline std::string_view fit_close_reason(std::string_view reason) {
    constexpr std::size_t max = websocket::reason_string::static_capacity;
    if (reason.size() <= max) {
        return reason;
    }
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) {
        --n;
    }
    return reason.substr(0, n);
}

// The GoAwayPush that precedes a close the network layer decides on (the chat session sends its
// own before the closes it decides on).
inline std::shared_ptr<const std::string> go_away_frame(std::uint16_t code,
                                                        const std::string& reason) {
    protocol::v1::Frame f;
    f.mutable_go_away()->set_close_code(code);
    f.mutable_go_away()->set_reason(reason);
    return protocol::encode(f);
}

template <class Stream>
class websocket_session final : public routing::outbound,
                                public drainable,
                                public std::enable_shared_from_this<websocket_session<Stream>> {
public:
    // `keep` holds what the stream needs alive (the TLS context), or null.
    websocket_session(Stream stream, std::shared_ptr<void> keep, routing::connection_info info,
                      connection_registry::slot slot, std::shared_ptr<const session_context> ctx)
        : strand_(stream.get_executor()),
          keep_(std::move(keep)),
          ws_(std::move(stream)),
          id_(info.connection_id),
          info_(std::move(info)),
          slot_(std::move(slot)),
          ctx_(std::move(ctx)) {}

    awaitable<void> run(upgrade_request request);

    // routing::outbound
    void send(std::shared_ptr<const std::string> frame) override;
    std::size_t queued_bytes() const noexcept override { return queued_bytes_; }
    void close(std::uint16_t code, std::string reason) override;

    // drainable
    void go_away() override {
        asio::post(strand_, [self = this->shared_from_this()] { self->leave_for_drain(); });
    }
    void abort() override {
        asio::post(strand_, [self = this->shared_from_this()] { self->shut_socket(); });
    }

private:
    enum class phase { handshake, open, done };

    void configure();
    void start_writer();
    awaitable<void> write_pending();
    void writer_ended(const std::exception_ptr& e);
    void reading_ended(const beast::error_code& ec);
    void leave_for_drain();
    void shut_socket() { beast::get_lowest_layer(ws_).close(); }
    static void cancel(std::optional<asio::steady_timer>& timer) {
        if (timer) {
            timer->cancel();
        }
    }
    void clear_queue() {
        queue_.clear();
        queue_head_ = 0;
        // A burst's capacity is given back: idle connections keep a few pointers at most.
        if (queue_.capacity() > 16) {
            queue_.shrink_to_fit();
        }
    }

    const executor strand_;  // the connection's strand; copied so other threads never touch ws_
    std::shared_ptr<void> keep_;
    // `false`: permessage-deflate is compiled out, not merely switched off (the protocol has no
    // compression; it would cost memory per connection and invites compression oracles).
    websocket::stream<Stream, false> ws_;
    // Made when first needed, at the end of the connection's life: 120 bytes each that idle
    // connections do without.
    std::optional<asio::steady_timer> writer_done_;  // run() waits on it for a writer still running
    std::optional<asio::steady_timer> close_deadline_;  // armed by close()
    const std::string id_;
    routing::connection_info info_;  // moved into the handler once it exists
    connection_registry::slot slot_;
    std::shared_ptr<const session_context> ctx_;
    std::shared_ptr<routing::connection_handler> handler_;

    phase phase_ = phase::handshake;
    // A FIFO: the frames from queue_head_ on. Not a std::deque, which allocates 576 bytes up
    // front: every idle connection would hold them (docs/benchmarks.md, "Idle memory").
    std::vector<std::shared_ptr<const std::string>> queue_;
    std::size_t queue_head_ = 0;
    std::size_t queued_bytes_ = 0;
    bool reading_done_ = false;
    bool writing_ = false;  // a write_pending() coroutine runs
    bool close_requested_ = false;
    bool close_sent_ = false;
    std::uint16_t close_code_ = routing::close_code::normal;
    std::string close_reason_;
};

template <class Stream>
void websocket_session<Stream>::configure() {
    const auto& opts = ctx_->options;
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.handshake_timeout = opts.handshake_timeout;
    timeouts.idle_timeout = opts.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(
        websocket::stream_base::decorator([name = opts.server_name](websocket::response_type& res) {
            res.set(http::field::server, name);
        }));
    ws_.read_message_max(opts.max_frame_bytes);
    ws_.binary(true);
    // One frame per message: no copy into a fragmentation buffer.
    ws_.auto_fragment(false);
}

template <class Stream>
awaitable<void> websocket_session<Stream>::run(upgrade_request request) {
    slot_.attach(this->weak_from_this());
    configure();

    beast::error_code accept_ec;
    {
        // Scoped: a coroutine frame keeps its locals for its whole life, and these (a dozen
        // header fields, each its own allocation) are not needed after the handshake.
        http::request<http::empty_body> req{http::verb::get, request.target, request.version};
        for (auto& [name, value] : request.fields) {
            req.insert(name, value);
        }
        request = {};
        std::tie(accept_ec) = co_await ws_.async_accept(req, use_nothrow);
    }
    if (accept_ec) {
        log::debug("conn {}: WebSocket handshake failed: {}", id_, accept_ec.message());
        cancel(close_deadline_);
        phase_ = phase::done;
        co_return;
    }
    phase_ = phase::open;
    stats::websocket_sessions.inc();
    // Beast bounds the closing handshake with its "handshake" timeout: from now on that is ours.
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.handshake_timeout = ctx_->options.close_timeout;
    timeouts.idle_timeout = ctx_->options.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);

    log::debug("conn {}: WebSocket open, peer {}", id_, info_.remote_address);
    handler_ = ctx_->factory->create(strand_, *this, std::move(info_));
    CONFIDE_CHECK(handler_ != nullptr);

    if (close_requested_) {
        start_writer();  // close() came during the handshake
    }
    try {
        // The reader runs for the connection's whole life (after our close it drains until the
        // peer's close); a writer runs only while there is something to write. It runs in this
        // coroutine, not one of its own: one frame less for every idle connection.
        beast::flat_buffer buffer;
        for (;;) {
            beast::error_code ec;
            std::size_t limit = first_read_bytes;
            do {
                std::tie(ec, std::ignore) =
                    co_await ws_.async_read_some(buffer, limit, use_nothrow);
                limit = 0;  // no limit: as much as the frame header says remains
            } while (!ec && !ws_.is_message_done());
            if (ec) {
                reading_ended(ec);
                break;
            }
            stats::frames_received.inc();
            stats::bytes_received.inc(buffer.size());
            // After close() the peer's remaining messages are read (to reach its close frame)
            // but no longer handled: the handler said it is done with this connection.
            if (!close_requested_) {
                if (ws_.got_text()) {
                    handler_->on_text_frame();
                } else {
                    co_await handler_->on_frame(std::string_view(
                        static_cast<const char*>(buffer.data().data()), buffer.size()));
                }
            }
            buffer.consume(buffer.size());
            if (buffer.capacity() > keep_read_buffer_bytes) {
                buffer.shrink_to_fit();
            }
        }
    } catch (const std::exception& e) {
        log::error("conn {}: session ended with an exception: {}", id_, e.what());
        shut_socket();
    }
    // A writer still running ends soon: the socket is shut, or it finishes the closing
    // handshake that the reader's end completed.
    while (writing_) {
        if (!writer_done_) {
            writer_done_.emplace(strand_);
        }
        writer_done_->expires_at(std::chrono::steady_clock::time_point::max());
        co_await writer_done_->async_wait(use_nothrow);
    }
    cancel(close_deadline_);
    phase_ = phase::done;
    clear_queue();
    queued_bytes_ = 0;
    stats::websocket_sessions.dec();

    co_await handler_->on_closed();
    handler_.reset();
    log::debug("conn {}: gone", id_);
}

template <class Stream>
void websocket_session<Stream>::reading_ended(const beast::error_code& ec) {
    reading_done_ = true;
    if (close_requested_ && is_expected_end(ec)) {
        // Our close op may finish the handshake for the reader (Beast then aborts the read), or
        // the close deadline cut a peer that did not answer.
        log::debug("conn {}: closed by us with {} ({})", id_, close_code_, ec.message());
        stats::count_close(stats::closed_by::server, close_code_);
    } else if (ec == websocket::error::closed) {
        log::debug("conn {}: closed by the peer with {}", id_, ws_.reason().code);
        stats::count_close(stats::closed_by::client, static_cast<std::uint16_t>(ws_.reason().code));
    } else if (ec == websocket::error::message_too_big) {
        log::info("conn {}: message over {} bytes: closed with 1009", id_,
                  ctx_->options.max_frame_bytes);
        stats::count_close(stats::closed_by::server, routing::close_code::too_big);
    } else if (ec == beast::error::timeout) {
        log::debug("conn {}: nothing received within {} ms: dropped", id_,
                   ctx_->options.idle_timeout.count());
        stats::count_close(stats::closed_by::nobody, 1006);
    } else if (is_expected_end(ec)) {
        log::debug("conn {}: read ended: {}", id_, ec.message());
        stats::count_close(stats::closed_by::nobody, 1006);
    } else {
        log::info("conn {}: read failed: {}", id_, ec.message());
        stats::count_close(stats::closed_by::nobody, 1006);
    }
    // Whatever ended the reading also ended the connection (Beast has torn it down or it
    // failed): make sure a write still waiting on a stuck peer ends too.
    shut_socket();
}

// Idle connections hold no writer: one is started when there is something to write and ends
// when the queue is empty, so a parked coroutine and its timer do not cost every connection.
template <class Stream>
void websocket_session<Stream>::start_writer() {
    if (writing_ || reading_done_ || phase_ != phase::open) {
        return;
    }
    writing_ = true;
    asio::co_spawn(
        strand_, [self = this->shared_from_this()] { return self->write_pending(); },
        [self = this->shared_from_this()](const std::exception_ptr& e) { self->writer_ended(e); });
}

template <class Stream>
awaitable<void> websocket_session<Stream>::write_pending() {
    // Let the handler that queued the first frame finish first (co_spawn would start us inside
    // it): what it queues goes out together, and the outbound bound sees all of it at once.
    co_await asio::post(strand_, use_nothrow);
    while (!reading_done_) {
        if (queue_head_ < queue_.size()) {
            auto frame = std::move(queue_[queue_head_++]);
            if (queue_head_ == queue_.size()) {
                clear_queue();
            }
            queued_bytes_ -= frame->size();
            auto [ec, n] = co_await ws_.async_write(asio::buffer(*frame), use_nothrow);
            if (ec) {
                if (!is_expected_end(ec)) {
                    log::info("conn {}: write failed: {}", id_, ec.message());
                }
                shut_socket();
                break;
            }
            stats::frames_sent.inc();
            stats::bytes_sent.inc(n);
            if (!reading_done_) {
                handler_->on_written();
            }
            continue;
        }
        if (close_requested_ && !close_sent_) {
            close_sent_ = true;
            websocket::close_reason reason(static_cast<websocket::close_code>(close_code_),
                                           fit_close_reason(close_reason_));
            auto [ec] = co_await ws_.async_close(reason, use_nothrow);
            if (ec && !is_expected_end(ec)) {
                log::debug("conn {}: close failed: {}", id_, ec.message());
            }
        }
        break;
    }
    // Still on the strand, with nothing queued: the next send() starts a new writer.
    writing_ = false;
    cancel(writer_done_);
}

template <class Stream>
void websocket_session<Stream>::writer_ended(const std::exception_ptr& e) {
    if (!e) {
        return;
    }
    log::error("conn {}: the writer failed: closing the connection", id_);
    log_exception{"websocket writer"}(e);
    writing_ = false;
    shut_socket();
    cancel(writer_done_);
}

template <class Stream>
void websocket_session<Stream>::send(std::shared_ptr<const std::string> frame) {
    if (!frame || phase_ != phase::open || close_requested_ || reading_done_) {
        return;
    }
    const auto limit = ctx_->options.max_outbound_bytes;
    if (queued_bytes_ + frame->size() > limit) {
        log::info("conn {}: outgoing queue over {} bytes: closing with {}", id_, limit,
                  routing::close_code::too_slow);
        stats::outbound_overflows.inc();
        // Unlike a plain close(), what is queued is dropped: the client resumes from its cursor
        // and loses nothing, a slow reader learns sooner that it must reconnect, and the memory
        // is freed now. The GoAwayPush says why, as before every close.
        clear_queue();
        std::string reason = "outgoing queue over its limit: reconnect and resume from your cursor";
        auto bye = go_away_frame(routing::close_code::too_slow, reason);
        queued_bytes_ = bye->size();
        queue_.push_back(std::move(bye));
        close(routing::close_code::too_slow, std::move(reason));
        return;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    start_writer();
}

template <class Stream>
void websocket_session<Stream>::leave_for_drain() {
    // The protocol promises a GoAwayPush before the server closes a connection; it follows
    // whatever is queued already, so nothing sent before the drain is dropped.
    std::string reason = "server shutting down";
    if (phase_ == phase::open && !close_requested_ && !reading_done_) {
        send(go_away_frame(routing::close_code::going_away, reason));
    }
    close(routing::close_code::going_away, std::move(reason));
}

template <class Stream>
void websocket_session<Stream>::close(std::uint16_t code, std::string reason) {
    if (close_requested_ || phase_ == phase::done) {
        return;
    }
    if (!is_sendable_close_code(code)) {
        log::error("conn {}: close code {} cannot be sent: using 1011", id_, code);
        code = 1011;
    }
    close_requested_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
    log::debug("conn {}: closing with {}", id_, code);

    // One deadline for everything still to do: the queued frames, the close frame and the
    // peer's answer. A peer that stopped reading must not hold the connection open.
    if (!close_deadline_) {
        close_deadline_.emplace(strand_);
    }
    close_deadline_->expires_after(ctx_->options.close_timeout);
    close_deadline_->async_wait(
        [self = this->shared_from_this()](const boost::system::error_code& ec) {
            if (!ec && self->phase_ != phase::done) {
                log::debug("conn {}: closing handshake not done within {} ms: socket closed",
                           self->id_, self->ctx_->options.close_timeout.count());
                self->shut_socket();
            }
        });
    start_writer();
}

/// Runs a session on `stream` (see start_websocket_session).
template <class Stream>
void spawn_websocket_session(Stream stream, std::shared_ptr<void> keep, upgrade_request request,
                             routing::connection_info info, connection_registry::slot slot,
                             std::shared_ptr<const session_context> ctx) {
    auto ex = stream.get_executor();
    auto session = std::make_shared<websocket_session<Stream>>(
        std::move(stream), std::move(keep), std::move(info), std::move(slot), std::move(ctx));
    // The lambda (not a coroutine) keeps the session alive for as long as run() runs.
    asio::co_spawn(
        ex,
        [session, request = std::move(request)]() mutable {
            return session->run(std::move(request));
        },
        log_exception{"websocket_session"});
}

}  // namespace confide::net::detail
