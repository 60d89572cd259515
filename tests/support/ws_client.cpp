#include "support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace confide::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct ws_client::impl {
    asio::io_context ioc;
    // Keeps run() going while nothing is pending (e.g. before resume_reading()).
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    websocket::stream<beast::tcp_stream> ws{ioc};
    beast::flat_buffer buffer;
    std::deque<std::pair<std::string, bool>> writes;
    std::thread thread;

    mutable std::mutex mutex;
    std::condition_variable cv;
    std::deque<v1::Frame> frames;
    bool closed = false;
    close_info close;
    std::uint64_t next_id = 1;

    void read() {
        ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
            if (ec) {
                std::lock_guard lock(mutex);
                closed = true;
                close.code = static_cast<std::uint16_t>(ws.reason().code);
                close.reason = std::string(ws.reason().reason.c_str());
                cv.notify_all();
                return;
            }
            v1::Frame f;
            const auto data = buffer.cdata();
            const bool parsed = f.ParseFromArray(data.data(), static_cast<int>(data.size()));
            buffer.consume(buffer.size());
            {
                std::lock_guard lock(mutex);
                if (parsed) {
                    frames.push_back(std::move(f));
                } else {
                    v1::Frame bad;  // surfaces as a frame with no kind
                    frames.push_back(std::move(bad));
                }
            }
            cv.notify_all();
            read();
        });
    }

    void write_next() {
        auto& [bytes, binary] = writes.front();
        ws.binary(binary);
        ws.async_write(asio::buffer(bytes), [this](beast::error_code ec, std::size_t) {
            writes.pop_front();
            if (!ec && !writes.empty()) {
                write_next();
            }
        });
    }

    void enqueue(std::string bytes, bool binary) {
        asio::post(ioc, [this, bytes = std::move(bytes), binary]() mutable {
            writes.emplace_back(std::move(bytes), binary);
            if (writes.size() == 1) {
                write_next();
            }
        });
    }
};

ws_client::ws_client(options opts) : impl_(std::make_unique<impl>()) {
    auto& i = *impl_;
    tcp::endpoint ep(asio::ip::make_address(opts.host), opts.port);
    i.ws.next_layer().socket().open(ep.protocol());
    if (opts.receive_buffer_bytes > 0) {
        i.ws.next_layer().socket().set_option(
            asio::socket_base::receive_buffer_size(opts.receive_buffer_bytes));
    }
    i.ws.next_layer().connect(ep);
    i.ws.next_layer().socket().set_option(tcp::no_delay(true));
    i.ws.set_option(websocket::stream_base::decorator([opts](websocket::request_type& req) {
        if (!opts.bearer.empty()) {
            req.set(beast::http::field::authorization, "Bearer " + opts.bearer);
        }
        if (!opts.origin.empty()) {
            req.set(beast::http::field::origin, opts.origin);
        }
    }));
    i.ws.read_message_max(1024 * 1024);
    beast::error_code ec;
    i.ws.handshake(opts.host + ":" + std::to_string(opts.port), opts.target, ec);
    if (ec) {
        throw std::runtime_error("websocket handshake failed: " + ec.message());
    }
    i.ws.binary(true);
    if (opts.start_reading) {
        i.read();
    }
    i.thread = std::thread([&i] { i.ioc.run(); });
}

ws_client::~ws_client() {
    abort();
    asio::post(impl_->ioc, [&i = *impl_] { i.work.reset(); });
    if (impl_->thread.joinable()) {
        impl_->thread.join();
    }
}

std::uint64_t ws_client::send(v1::Frame frame) {
    {
        std::lock_guard lock(impl_->mutex);
        if (frame.request_id() == 0) {
            frame.set_request_id(impl_->next_id++);
        }
    }
    impl_->enqueue(frame.SerializeAsString(), true);
    return frame.request_id();
}

void ws_client::send_raw(std::string bytes, bool binary) {
    impl_->enqueue(std::move(bytes), binary);
}

std::optional<v1::Frame> ws_client::next(std::chrono::milliseconds timeout) {
    return wait_for([](const v1::Frame&) { return true; }, timeout);
}

std::optional<v1::Frame> ws_client::wait_for(const std::function<bool(const v1::Frame&)>& pred,
                                             std::chrono::milliseconds timeout) {
    auto& i = *impl_;
    std::unique_lock lock(i.mutex);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t checked = 0;
    while (true) {
        for (; checked < i.frames.size(); ++checked) {
            if (pred(i.frames[checked])) {
                v1::Frame f = std::move(i.frames[checked]);
                i.frames.erase(i.frames.begin() + static_cast<std::ptrdiff_t>(checked));
                return f;
            }
        }
        if (i.closed) {
            return std::nullopt;
        }
        if (i.cv.wait_until(lock, deadline) == std::cv_status::timeout &&
            checked == i.frames.size()) {
            return std::nullopt;
        }
    }
}

std::optional<v1::Frame> ws_client::request(v1::Frame req, std::chrono::milliseconds timeout) {
    const auto id = send(std::move(req));
    return wait_for([id](const v1::Frame& f) { return f.request_id() == id; }, timeout);
}

v1::AuthenticateReply ws_client::login(const std::string& token, const std::string& device,
                                       bool sync, const std::string& after_cursor) {
    v1::Frame a;
    a.mutable_authenticate()->set_token(token);
    a.mutable_authenticate()->set_device_id(device);
    auto r = request(std::move(a));
    if (!r || !r->has_authenticated()) {
        throw std::runtime_error("authentication failed: " +
                                 (r ? r->error().message() : std::string("no reply")));
    }
    if (sync) {
        v1::Frame s;
        s.mutable_sync()->set_after_cursor(after_cursor);
        auto sr = request(std::move(s));
        if (!sr || !sr->has_synced()) {
            throw std::runtime_error("sync failed: " +
                                     (sr ? sr->error().message() : std::string("no reply")));
        }
    }
    return r->authenticated();
}

std::optional<close_info> ws_client::wait_closed(std::chrono::milliseconds timeout) {
    auto& i = *impl_;
    std::unique_lock lock(i.mutex);
    if (!i.cv.wait_for(lock, timeout, [&] { return i.closed; })) {
        return std::nullopt;
    }
    return i.close;
}

void ws_client::close() {
    asio::post(impl_->ioc, [&i = *impl_] {
        i.ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
    });
}

void ws_client::abort() {
    asio::post(impl_->ioc, [&i = *impl_] {
        beast::error_code ec;
        i.ws.next_layer().socket().shutdown(tcp::socket::shutdown_both, ec);
        i.ws.next_layer().socket().close(ec);
    });
}

void ws_client::resume_reading() {
    asio::post(impl_->ioc, [&i = *impl_] { i.read(); });
}

std::size_t ws_client::pending() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->frames.size();
}

v1::Frame send_message(const std::string& conversation, const std::string& msg_id,
                       const std::string& body) {
    v1::Frame f;
    auto* s = f.mutable_send_message();
    s->set_conversation_id(conversation);
    s->set_client_msg_id(msg_id);
    s->set_body(body);
    return f;
}

v1::Frame start_inquiry(const std::string& specialist, const std::string& msg_id,
                        const std::string& body, bool free_consultation) {
    v1::Frame f;
    auto* s = f.mutable_start_inquiry();
    s->set_specialist_id(specialist);
    s->set_client_msg_id(msg_id);
    s->set_body(body);
    s->set_free_consultation(free_consultation);
    return f;
}

v1::Frame ack(const std::string& cursor) {
    v1::Frame f;
    f.mutable_ack()->set_cursor(cursor);
    return f;
}

v1::Frame mark_read(const std::string& conversation, std::uint64_t seq) {
    v1::Frame f;
    f.mutable_mark_read()->set_conversation_id(conversation);
    f.mutable_mark_read()->set_up_to_seq(seq);
    return f;
}

v1::Frame update(const std::string& conversation, v1::ConversationAction action) {
    v1::Frame f;
    f.mutable_update_conversation()->set_conversation_id(conversation);
    f.mutable_update_conversation()->set_action(action);
    return f;
}

v1::Frame history(const std::string& conversation, std::uint64_t before, std::uint32_t limit) {
    v1::Frame f;
    f.mutable_get_history()->set_conversation_id(conversation);
    f.mutable_get_history()->set_before_seq(before);
    f.mutable_get_history()->set_limit(limit);
    return f;
}

v1::Frame list_conversations(std::uint32_t limit) {
    v1::Frame f;
    f.mutable_list_conversations()->set_limit(limit);
    return f;
}

std::function<bool(const v1::Frame&)> is_message_event(const std::string& body) {
    return [body](const v1::Frame& f) {
        return f.has_event() && f.event().has_message() &&
               (body.empty() || f.event().message().body() == body);
    };
}

std::function<bool(const v1::Frame&)> is_receipt(v1::ReceiptKind kind, std::uint64_t seq) {
    return [kind, seq](const v1::Frame& f) {
        return f.has_receipt() && f.receipt().kind() == kind &&
               (seq == 0 || f.receipt().up_to_seq() >= seq);
    };
}

std::function<bool(const v1::Frame&)> is_presence(v1::PresenceState state,
                                                  std::optional<bool> lost) {
    return [state, lost](const v1::Frame& f) {
        return f.has_presence() && f.presence().presence().state() == state &&
               (!lost || f.presence().presence().connection_lost() == *lost);
    };
}

}  // namespace confide::test
