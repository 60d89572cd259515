// The whole client (threaded front + Beast transport + core) against a scripted fake server on
// the loopback interface. The fake server plays the protocol by hand, so it can also misbehave
// in ways the real one does not on request (go silent while keeping TCP open). Every wait is
// bounded.

#include "confide/client.hpp"
#include "confide/v1/confide.pb.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace cc = confide::client;
namespace v1 = confide::v1;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// ---- a fake server, driven step by step from the test's thread ----

class fake_server {
public:
    using ws_stream = websocket::stream<beast::tcp_stream>;

    fake_server() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

    std::string url() const {
        return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
    }

    // The next client connection, WebSocket handshake done; null on timeout.
    std::unique_ptr<ws_stream> accept(std::chrono::milliseconds timeout) {
        tcp::socket socket(ioc_);
        boost::system::error_code ec;
        bool done = false;
        acceptor_.async_accept(socket, [&](boost::system::error_code e) {
            ec = e;
            done = true;
        });
        if (!run_until(done, timeout)) {
            acceptor_.cancel();
            run_until(done, 1s);
            return nullptr;
        }
        if (ec) {
            return nullptr;
        }
        auto ws = std::make_unique<ws_stream>(std::move(socket));
        done = false;
        ws->binary(true);
        ws->async_accept([&](boost::system::error_code e) {
            ec = e;
            done = true;
        });
        if (!run_until(done, timeout) || ec) {
            return nullptr;
        }
        return ws;
    }

    // The next frame from the client, answering pings on the way; nullopt on timeout, error or
    // close.
    std::optional<v1::Frame> read(ws_stream& ws, std::chrono::milliseconds timeout,
                                  bool answer_pings = true) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            beast::flat_buffer buffer;
            boost::system::error_code ec;
            bool done = false;
            ws.async_read(buffer, [&](boost::system::error_code e, std::size_t) {
                ec = e;
                done = true;
            });
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (!run_until(done, std::max(left, 0ms))) {
                beast::get_lowest_layer(ws).cancel();
                run_until(done, 1s);
                return std::nullopt;
            }
            if (ec) {
                last_close = ws.reason().code;
                return std::nullopt;
            }
            v1::Frame f;
            if (!f.ParseFromArray(buffer.data().data(), static_cast<int>(buffer.size()))) {
                ADD_FAILURE() << "the client sent a malformed frame";
                return std::nullopt;
            }
            if (f.has_ping() && answer_pings) {
                v1::Frame pong;
                pong.set_request_id(f.request_id());
                pong.mutable_pong()->set_client_time_ms(f.ping().client_time_ms());
                write(ws, pong);
                continue;
            }
            if (f.has_ack()) {
                acks.push_back(f.ack().cursor());
                continue;
            }
            return f;
        }
    }

    void write(ws_stream& ws, const v1::Frame& f) {
        const auto bytes = f.SerializeAsString();
        ws.write(asio::buffer(bytes));
    }

    // authenticate -> authenticated, sync -> synced. Returns the authenticate request.
    std::optional<v1::AuthenticateRequest> handshake(ws_stream& ws, const std::string& user,
                                                     std::string* sync_cursor = nullptr) {
        auto auth = read(ws, 5s);
        if (!auth || !auth->has_authenticate()) {
            ADD_FAILURE() << "no authenticate";
            return std::nullopt;
        }
        v1::Frame reply;
        reply.set_request_id(auth->request_id());
        reply.mutable_authenticated()->set_user_id(user);
        reply.mutable_authenticated()->set_role(v1::CLIENT);
        reply.mutable_authenticated()->mutable_limits()->set_heartbeat_interval_ms(15000);
        write(ws, reply);
        auto sync = read(ws, 5s);
        if (!sync || !sync->has_sync()) {
            ADD_FAILURE() << "no sync";
            return std::nullopt;
        }
        if (sync_cursor != nullptr) {
            *sync_cursor = sync->sync().after_cursor();
        }
        v1::Frame synced;
        synced.set_request_id(sync->request_id());
        synced.mutable_synced()->set_from_cursor(
            sync->sync().after_cursor().empty() ? "c0" : sync->sync().after_cursor());
        write(ws, synced);
        return auth->authenticate();
    }

    std::vector<std::string> acks;
    std::uint16_t last_close = 0;

private:
    bool run_until(bool& done, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        ioc_.restart();
        while (!done && std::chrono::steady_clock::now() < deadline) {
            ioc_.run_one_until(deadline);
        }
        return done;
    }

    asio::io_context ioc_;
    tcp::acceptor acceptor_;
};

// ---- what the client reported, from its thread ----

class recorder {
public:
    void add(const std::function<void()>& f) {
        std::lock_guard lock(mutex_);
        f();
        cv_.notify_all();
    }

    // Waits until `pred` (evaluated under the lock) holds.
    bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, pred);
    }

    std::vector<cc::state_change> states;
    std::vector<cc::message> messages;
    std::vector<cc::send_update> updates;

    // Copies, taken under the lock: the library's thread may still be appending.
    template <class T>
    T snapshot(const T& member) {
        std::lock_guard lock(mutex_);
        return member;
    }

    bool has_state(cc::connection_state s) const {
        for (const auto& x : states) {
            if (x.state == s) {
                return true;
            }
        }
        return false;
    }

    bool has_update(const std::string& id, cc::send_state s) const {
        for (const auto& u : updates) {
            if (u.client_msg_id == id && u.state == s) {
                return true;
            }
        }
        return false;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
};

class client_loopback : public ::testing::Test {
protected:
    cc::options make_options() {
        cc::options o;
        o.url = server.url();
        o.device_id = "dev-loop";
        o.token_provider = [this] {
            std::lock_guard lock(token_mutex);
            return "token-" + std::to_string(++tokens);
        };
        o.heartbeat_timeout = 600ms;
        o.reconnect_min = 20ms;
        o.reconnect_max = 100ms;
        o.connect_timeout = 2s;
        return o;
    }

    cc::handlers make_handlers() {
        cc::handlers h;
        h.on_state = [this](const cc::state_change& s) {
            rec.add([&] { rec.states.push_back(s); });
        };
        h.on_message = [this](const cc::message& m) {
            rec.add([&] { rec.messages.push_back(m); });
        };
        h.on_send_update = [this](const cc::send_update& u) {
            rec.add([&] { rec.updates.push_back(u); });
        };
        return h;
    }

    fake_server server;
    recorder rec;
    std::mutex token_mutex;
    int tokens = 0;
};

TEST_F(client_loopback, connects_receives_acks_and_sends) {
    cc::client client(make_options(), make_handlers());
    client.start();
    auto ws = server.accept(5s);
    ASSERT_TRUE(ws);
    auto auth = server.handshake(*ws, "alice");
    ASSERT_TRUE(auth);
    EXPECT_EQ(auth->token(), "token-1");
    EXPECT_EQ(auth->device_id(), "dev-loop");
    ASSERT_TRUE(rec.wait([&] { return rec.has_state(cc::connection_state::connected); }, 5s));

    v1::Frame event;
    event.mutable_event()->set_cursor("c1");
    auto* m = event.mutable_event()->mutable_message();
    m->set_conversation_id("conv");
    m->set_seq(1);
    m->set_sender_id("drbob");
    m->set_body("hello alice");
    server.write(*ws, event);
    ASSERT_TRUE(rec.wait([&] { return !rec.messages.empty(); }, 5s));
    const auto messages = rec.snapshot(rec.messages);
    EXPECT_EQ(messages[0].body, "hello alice");
    EXPECT_FALSE(messages[0].outgoing);

    const auto id = client.send_message("conv", "hi bob");
    auto send = server.read(*ws, 5s);
    ASSERT_TRUE(send && send->has_send_message());
    EXPECT_EQ(send->send_message().client_msg_id(), id);
    v1::Frame reply;
    reply.set_request_id(send->request_id());
    reply.mutable_sent()->set_conversation_id("conv");
    reply.mutable_sent()->set_seq(2);
    reply.mutable_sent()->set_client_msg_id(id);
    server.write(*ws, reply);
    ASSERT_TRUE(rec.wait([&] { return rec.has_update(id, cc::send_state::sent); }, 5s));
    // The ack of c1 went out (batched) meanwhile; a ping reply needs no more.
    server.read(*ws, 300ms);
    EXPECT_EQ(server.acks, std::vector<std::string>{"c1"});
}

TEST_F(client_loopback, a_silent_server_is_detected_and_the_outbox_resent) {
    cc::client client(make_options(), make_handlers());
    client.start();
    auto first = server.accept(5s);
    ASSERT_TRUE(first);
    ASSERT_TRUE(server.handshake(*first, "alice"));
    const auto id = client.send_message("conv", "are you there?");
    auto send = server.read(*first, 5s);
    ASSERT_TRUE(send && send->has_send_message());
    // Half-open: TCP stays up, the server never answers again.
    const auto silent_since = std::chrono::steady_clock::now();
    ASSERT_TRUE(rec.wait([&] { return rec.has_state(cc::connection_state::connection_lost); }, 5s));
    const auto noticed_after = std::chrono::steady_clock::now() - silent_since;
    EXPECT_GE(noticed_after, 400ms);
    EXPECT_LT(noticed_after, 3s);
    for (const auto& s : rec.snapshot(rec.states)) {
        if (s.state == cc::connection_state::connection_lost) {
            EXPECT_EQ(s.detail, "heartbeat timeout");
        }
    }

    auto second = server.accept(5s);
    ASSERT_TRUE(second);
    std::string sync_cursor;
    auto auth = server.handshake(*second, "alice", &sync_cursor);
    ASSERT_TRUE(auth);
    EXPECT_EQ(auth->token(), "token-2");
    EXPECT_EQ(sync_cursor, "c0");
    auto again = server.read(*second, 5s);
    ASSERT_TRUE(again && again->has_send_message());
    EXPECT_EQ(again->send_message().client_msg_id(), id);
    v1::Frame reply;
    reply.set_request_id(again->request_id());
    reply.mutable_sent()->set_conversation_id("conv");
    reply.mutable_sent()->set_seq(1);
    reply.mutable_sent()->set_client_msg_id(id);
    reply.mutable_sent()->set_duplicate(true);
    server.write(*second, reply);
    ASSERT_TRUE(rec.wait([&] { return rec.has_update(id, cc::send_state::sent); }, 5s));
}

TEST_F(client_loopback, close_4004_closes_for_good) {
    cc::client client(make_options(), make_handlers());
    client.start();
    auto ws = server.accept(5s);
    ASSERT_TRUE(ws);
    ASSERT_TRUE(server.handshake(*ws, "alice"));
    ws->close(websocket::close_reason(4004));
    ASSERT_TRUE(rec.wait([&] { return rec.has_state(cc::connection_state::closed); }, 5s));
    EXPECT_EQ(rec.snapshot(rec.states).back().reason, cc::close_reason::too_many_connections);
    EXPECT_FALSE(server.accept(500ms));
}

TEST_F(client_loopback, an_unreachable_server_is_retried_and_destruction_is_prompt) {
    auto o = make_options();
    o.url = "ws://127.0.0.1:1/";  // nothing listens there
    const auto start = std::chrono::steady_clock::now();
    {
        cc::client client(o, make_handlers());
        client.start();
        ASSERT_TRUE(rec.wait(
            [&] {
                int lost = 0;
                for (const auto& s : rec.states) {
                    lost += s.state == cc::connection_state::connection_lost ? 1 : 0;
                }
                return lost >= 3;
            },
            5s));
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(client_loopback, stop_closes_politely) {
    cc::client client(make_options(), make_handlers());
    client.start();
    auto ws = server.accept(5s);
    ASSERT_TRUE(ws);
    ASSERT_TRUE(server.handshake(*ws, "alice"));
    client.stop();
    EXPECT_FALSE(server.read(*ws, 3s));
    EXPECT_EQ(server.last_close, 1000);
    ASSERT_TRUE(rec.wait([&] { return rec.has_state(cc::connection_state::closed); }, 5s));
    EXPECT_EQ(rec.snapshot(rec.states).back().reason, cc::close_reason::stopped);
}

}  // namespace
