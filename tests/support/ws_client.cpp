#include "support/ws_client.hpp"

#include "confide/ws/connection.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace confide::test {

namespace asio = boost::asio;

// The connection lives on the client's own thread; the test's thread talks to it through posts
// and reads what it received under the mutex.
struct ws_client::impl final : ws::events {
    explicit impl(const options& o) {
        target.host = o.host;
        target.port = std::to_string(o.port);
        target.target = o.target;
        if (!o.bearer.empty()) {
            target.headers.emplace_back("Authorization", "Bearer " + o.bearer);
        }
        if (!o.origin.empty()) {
            target.headers.emplace_back("Origin", o.origin);
        }
        target.receive_buffer_bytes = o.receive_buffer_bytes;
        target.read_on_open = o.start_reading;
        target.read_message_max = 1024 * 1024;
        thread = std::thread([this] { ioc.run(); });
    }

    ~impl() {
        on_thread([this] {
            if (conn) {
                conn->close(1000, false);
            }
            work.reset();
        });
        thread.join();
    }

    template <class F>
    void on_thread(F f) {
        asio::post(ioc, std::move(f));
    }

    void on_open(std::uint64_t) override {
        std::lock_guard lock(mutex);
        open = true;
        cv.notify_all();
    }

    void on_message(std::uint64_t, std::string_view bytes, bool) override {
        v1::Frame f;  // one that does not parse surfaces as a frame with no kind
        if (!f.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            f.Clear();
        }
        std::lock_guard lock(mutex);
        frames.push_back(std::move(f));
        cv.notify_all();
    }

    void on_close(std::uint64_t, const ws::close_info& info) override {
        std::lock_guard lock(mutex);
        closed = true;
        close = close_info{info.code, info.reason};
        cv.notify_all();
    }

    ws::connect_options target;
    asio::io_context ioc;
    // Keeps run() going while nothing is pending (e.g. before resume_reading()).
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::shared_ptr<ws::connection> conn;  // the client's thread only
    std::thread thread;

    mutable std::mutex mutex;
    std::condition_variable cv;
    std::deque<v1::Frame> frames;
    bool open = false;
    bool closed = false;
    close_info close;
    std::uint64_t next_id = 1;
};

ws_client::ws_client(const options& opts) : impl_(std::make_unique<impl>(opts)) {
    auto& i = *impl_;
    i.on_thread([&i] { i.conn = ws::connection::open(i.ioc.get_executor(), i.target, i, 1); });
    std::unique_lock lock(i.mutex);
    if (!i.cv.wait_for(lock, 30s, [&] { return i.open || i.closed; }) || !i.open) {
        throw std::runtime_error("websocket handshake failed: " +
                                 (i.closed ? i.close.reason : std::string("timed out")));
    }
}

ws_client::~ws_client() = default;

std::uint64_t ws_client::send(v1::Frame frame) {
    {
        std::lock_guard lock(impl_->mutex);
        if (frame.request_id() == 0) {
            frame.set_request_id(impl_->next_id++);
        }
    }
    send_raw(frame.SerializeAsString(), true);
    return frame.request_id();
}

void ws_client::send_raw(std::string bytes, bool binary) {
    impl_->on_thread([&i = *impl_, bytes = std::move(bytes), binary]() mutable {
        i.conn->send(std::move(bytes), binary);
    });
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
    impl_->on_thread([&i = *impl_] { i.conn->close(1000, true); });
}

void ws_client::abort() {
    impl_->on_thread([&i = *impl_] { i.conn->close(1000, false); });
}

void ws_client::resume_reading() {
    impl_->on_thread([&i = *impl_] { i.conn->resume_reading(); });
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
