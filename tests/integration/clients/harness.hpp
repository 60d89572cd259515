#pragma once
// Shared set-up of the client integration tests: the client library (and confide-cli) against
// a real confide-server and a real redis-server. Every wait is bounded and woken by the
// library's own callbacks.

#include "confide/client.hpp"
#include "confide/dev_token.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace confide::test {

namespace cc = ::confide::client;
using auth::role;
using namespace std::chrono_literals;

/// Everything one confide::client reported, in order.
struct record {
    struct state_entry {
        cc::state_change change;
        cc::clock::time_point at;
    };

    std::vector<state_entry> states;
    std::vector<cc::message> messages;
    std::vector<cc::conversation> conversations;
    std::vector<cc::receipt> receipts;
    std::vector<cc::presence> presences;
    std::vector<cc::typing> typings;
    std::vector<cc::send_update> updates;
    std::size_t resets = 0;

    std::size_t count(cc::connection_state s) const {
        return static_cast<std::size_t>(std::count_if(
            states.begin(), states.end(), [s](const auto& e) { return e.change.state == s; }));
    }

    /// The states reported for one sent message, in order.
    std::vector<cc::send_state> send_states(const std::string& id) const {
        std::vector<cc::send_state> out;
        for (const auto& u : updates) {
            if (u.client_msg_id == id) {
                out.push_back(u.state);
            }
        }
        return out;
    }

    /// The first update of message `id` with state `s`.
    std::optional<cc::send_update> update(const std::string& id, cc::send_state s) const {
        for (const auto& u : updates) {
            if (u.client_msg_id == id && u.state == s) {
                return u;
            }
        }
        return std::nullopt;
    }

    std::size_t count_body(const std::string& body) const {
        return static_cast<std::size_t>(std::count_if(
            messages.begin(), messages.end(), [&](const auto& m) { return m.body == body; }));
    }

    std::optional<cc::message> message_with(const std::string& body) const {
        for (const auto& m : messages) {
            if (m.body == body) {
                return m;
            }
        }
        return std::nullopt;
    }
};

/// Library options for tests: quick reconnects, bounded attempts. `heartbeat` is the dead
/// connection timeout.
inline cc::options client_options(std::string url, std::string device,
                                  std::function<std::string()> tokens,
                                  std::chrono::milliseconds heartbeat = 5000ms) {
    cc::options o;
    o.url = std::move(url);
    o.device_id = std::move(device);
    o.token_provider = std::move(tokens);
    o.heartbeat_timeout = heartbeat;
    o.reconnect_min = 100ms;
    o.reconnect_max = 1000ms;
    o.connect_timeout = 2000ms;
    o.request_timeout = 5000ms;
    o.ack_delay = 50ms;
    return o;
}

/// A one-hour token for `user` the test servers cannot verify (another secret under their key
/// id): refused.
inline std::string forged_token(const std::string& user) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    dev_token::claims claims;
    claims.sub = user;
    claims.iat = now;
    claims.exp = now + 3600;
    return dev_token::mint("test", "another-secret-of-at-least-32-bytes-long", "HS256", claims);
}

/// A token provider that mints a fresh one-hour token for `user` on every call.
inline std::function<std::string()> tokens_for(std::string user, role r) {
    return [user = std::move(user), r] { return mint(user, r); };
}

/// One confide::client and what it reported. Not started by the constructor.
class peer {
public:
    explicit peer(cc::options opts) {
        cc::handlers h;
        h.on_state = [this](const cc::state_change& s) {
            add([&](record& r) { r.states.push_back({s, cc::clock::now()}); });
        };
        h.on_message = [this](const cc::message& m) {
            add([&](record& r) { r.messages.push_back(m); });
        };
        h.on_conversation = [this](const cc::conversation& c) {
            add([&](record& r) { r.conversations.push_back(c); });
        };
        h.on_receipt = [this](const cc::receipt& x) {
            add([&](record& r) { r.receipts.push_back(x); });
        };
        h.on_presence = [this](const cc::presence& x) {
            add([&](record& r) { r.presences.push_back(x); });
        };
        h.on_typing = [this](const cc::typing& x) {
            add([&](record& r) { r.typings.push_back(x); });
        };
        h.on_send_update = [this](const cc::send_update& u) {
            add([&](record& r) { r.updates.push_back(u); });
        };
        h.on_reset = [this] { add([](record& r) { ++r.resets; }); };
        client_ = std::make_unique<cc::client>(std::move(opts), std::move(h));
    }

    cc::client& client() { return *client_; }
    void start() { client_->start(); }
    std::string send_message(const std::string& cid, const std::string& body) {
        return client_->send_message(cid, body);
    }
    std::string start_inquiry(const std::string& specialist, const std::string& body,
                              bool free_consultation = false) {
        return client_->start_inquiry(specialist, body, free_consultation);
    }

    /// Waits until `pred(record)` holds (evaluated under the lock at every report).
    bool wait(const std::function<bool(const record&)>& pred,
              std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return pred(record_); });
    }

    /// A copy of everything reported so far.
    record snapshot() const {
        std::lock_guard lock(mutex_);
        return record_;
    }

    /// Waits for the n-th `connected`.
    bool wait_connected(std::size_t n = 1, std::chrono::milliseconds timeout = 15s) {
        return wait([n](const record& r) { return r.count(cc::connection_state::connected) >= n; },
                    timeout);
    }

    /// Waits for the update of message `id` with state `s`.
    std::optional<cc::send_update> wait_send(const std::string& id, cc::send_state s,
                                             std::chrono::milliseconds timeout = 15s) {
        std::optional<cc::send_update> out;
        wait(
            [&](const record& r) {
                out = r.update(id, s);
                return out.has_value();
            },
            timeout);
        return out;
    }

    /// Waits until a message with `body` was received.
    std::optional<cc::message> wait_message(const std::string& body,
                                            std::chrono::milliseconds timeout = 15s) {
        std::optional<cc::message> out;
        wait(
            [&](const record& r) {
                out = r.message_with(body);
                return out.has_value();
            },
            timeout);
        return out;
    }

    /// A round trip behind the sync the connection started with: once it is answered, the
    /// server has set this device's stream position (the server handles a connection's requests
    /// in order). Precondition: connected.
    bool synced(std::chrono::milliseconds timeout = 10s) {
        auto r = call<cc::result<std::vector<cc::conversation>>>(
            [this](auto done) { client_->list_conversations(0, std::move(done)); }, timeout);
        return r && r->ok();
    }

    /// The whole history of a conversation, oldest first; nullopt on any failure.
    std::optional<std::vector<cc::message>> history(const std::string& cid) {
        std::vector<cc::message> newest_first;
        std::uint64_t before = 0;
        for (;;) {
            auto page = call<cc::result<cc::history_page>>(
                [&](auto done) { client_->history(cid, before, 200, std::move(done)); }, 10s);
            if (!page || !page->ok()) {
                return std::nullopt;
            }
            const auto& p = page->value();
            newest_first.insert(newest_first.end(), p.messages.begin(), p.messages.end());
            if (!p.more || p.messages.empty()) {
                break;
            }
            before = p.messages.back().seq;
        }
        return std::vector<cc::message>(newest_first.rbegin(), newest_first.rend());
    }

    /// mark_read, waited for: nullopt on success.
    std::optional<cc::error> mark_read(const std::string& cid, std::uint64_t seq) {
        auto r = call<std::optional<cc::error>>(
            [&](auto done) { client_->mark_read(cid, seq, std::move(done)); }, 10s);
        if (!r) {
            return cc::error{cc::error_code::timeout, "no completion", false, 0};
        }
        return *r;
    }

    /// sign_out, waited for: nullopt on success.
    std::optional<cc::error> sign_out() {
        auto r = call<std::optional<cc::error>>(
            [&](auto done) { client_->sign_out(std::move(done)); }, 10s);
        if (!r) {
            return cc::error{cc::error_code::timeout, "no completion", false, 0};
        }
        return *r;
    }

    /// accept, waited for.
    std::optional<cc::result<cc::conversation>> accept(const std::string& cid) {
        return call<cc::result<cc::conversation>>(
            [&](auto done) { client_->accept(cid, std::move(done)); }, 10s);
    }

    /// Runs `start(done)`, where done is a completion taking a T, and waits for the completion.
    /// nullopt after `timeout` (the completion may still run later, harmlessly).
    template <class T, class Start>
    std::optional<T> call(Start start, std::chrono::milliseconds timeout) {
        auto promise = std::make_shared<std::promise<T>>();
        auto future = promise->get_future();
        start([promise](T value) { promise->set_value(std::move(value)); });
        if (future.wait_for(timeout) != std::future_status::ready) {
            return std::nullopt;
        }
        return future.get();
    }

private:
    template <class F>
    void add(F f) {
        {
            std::lock_guard lock(mutex_);
            f(record_);
        }
        cv_.notify_all();
    }

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    record record_;
    // Last: destroyed (thread joined) before what its callbacks use.
    std::unique_ptr<cc::client> client_;
};

/// A redis-server for the whole suite and one confide-server per test (started on demand).
class clients_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() { redis_ = std::make_unique<redis_server>(); }
    static void TearDownTestSuite() { redis_.reset(); }

    /// `extra`, plus generous rates (tests send in bursts) and a short presence grace unless
    /// `extra` sets them. The directory is open (specialists are listed when they sign in):
    /// these tests are about the clients, the directory has its own (integration/server).
    static std::vector<std::string> server_flags(std::vector<std::string> extra = {}) {
        const std::pair<const char*, const char*> defaults[] = {{"--send-rate", "1000"},
                                                                {"--send-burst", "1000"},
                                                                {"--request-rate", "10000"},
                                                                {"--request-burst", "10000"},
                                                                {"--presence-grace-ms", "300"}};
        auto args = extra;
        for (const auto& [flag, value] : defaults) {
            if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
                args.insert(args.end(), {flag, value});
            }
        }
        args.emplace_back("--directory-open");
        return args;
    }

    /// The test's server, started with server_flags(extra) the first time.
    server_process& server(std::vector<std::string> extra = {}) {
        if (!server_) {
            server_ = std::make_unique<server_process>(*redis_, server_flags(std::move(extra)));
        }
        return *server_;
    }

    static std::string url(std::uint16_t port) {
        return "ws://127.0.0.1:" + std::to_string(port) + "/";
    }

    /// A user id unique in the suite's Redis.
    static std::string unique(const std::string& base) {
        static std::atomic<int> n{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        return base + "." + info->name() + "." + std::to_string(++n);
    }

    /// A unique user id listed in the directory as a specialist (through confide-admin, with
    /// `entry`'s options), for tests that write to a specialist before they ever sign in.
    static std::string specialist(const std::string& base, std::vector<std::string> entry = {}) {
        const auto id = unique(base);
        list_specialist(*redis_, id, std::move(entry));
        return id;
    }

    /// A started peer for `user`; waits until it is connected and synced.
    std::unique_ptr<peer> online(const std::string& user, role r, const std::string& device,
                                 const std::string& to_url,
                                 std::chrono::milliseconds heartbeat = 5000ms) {
        auto p =
            std::make_unique<peer>(client_options(to_url, device, tokens_for(user, r), heartbeat));
        p->client().start();
        EXPECT_TRUE(p->wait_connected()) << user << " did not connect";
        EXPECT_TRUE(p->synced()) << user << " did not sync";
        return p;
    }

    static std::unique_ptr<redis_server> redis_;
    std::unique_ptr<server_process> server_;
};

inline std::unique_ptr<redis_server> clients_test::redis_;

/// Checks that `got` (messages of conversation `cid` in arrival order) holds each of `bodies`
/// exactly once, in increasing seq order, and nothing else of that conversation.
inline void expect_exactly_once_in_order(const std::vector<cc::message>& got,
                                         const std::string& cid,
                                         const std::vector<std::string>& bodies) {
    std::vector<cc::message> mine;
    for (const auto& m : got) {
        if (m.conversation_id == cid) {
            mine.push_back(m);
        }
    }
    std::vector<std::string> received;
    for (const auto& m : mine) {
        received.push_back(m.body);
    }
    EXPECT_EQ(received, bodies) << "messages of " << cid << " not exactly once, in order";
    for (std::size_t i = 1; i < mine.size(); ++i) {
        EXPECT_LT(mine[i - 1].seq, mine[i].seq) << "out of order at " << mine[i].body;
    }
}

/// Checks a conversation's stored history: seqs 1..n without gaps, every body once, and the
/// bodies in `in_order` in that relative order.
inline void expect_clean_history(const std::vector<cc::message>& history,
                                 const std::vector<std::string>& in_order) {
    std::set<std::string> bodies;
    for (std::size_t i = 0; i < history.size(); ++i) {
        EXPECT_EQ(history[i].seq, i + 1) << "gap or duplicate seq in the stored history";
        EXPECT_TRUE(bodies.insert(history[i].body).second) << "stored twice: " << history[i].body;
    }
    std::vector<std::string> seen;
    for (const auto& m : history) {
        if (std::find(in_order.begin(), in_order.end(), m.body) != in_order.end()) {
            seen.push_back(m.body);
        }
    }
    EXPECT_EQ(seen, in_order) << "stored history misses messages or has them out of order";
}

}  // namespace confide::test
