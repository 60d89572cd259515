#pragma once
// A routing::session over fake ports and a fake outbound queue, stepped on an io_context: every
// storage call completes when the test lets the io_context run (or later, when held), and timers
// that are due fire while it runs. No sockets, no Redis, no sleeps.

#include "auth/token_verifier.hpp"
#include "common/clock.hpp"
#include "routing/presence_tracker.hpp"
#include "routing/session.hpp"
#include "support/fake_ports.hpp"

#include "confide/dev_token.hpp"
#include "confide/v1/confide.pb.h"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confide::testing {

namespace routing = confide::routing;

inline constexpr const char* token_secret = "0123456789abcdef0123456789abcdef";

// ---- requests ----

inline v1::Frame authenticate_request(std::string token, std::string device = "dev1") {
    v1::Frame f;
    f.mutable_authenticate()->set_token(std::move(token));
    f.mutable_authenticate()->set_device_id(std::move(device));
    return f;
}

inline v1::Frame sync_request(std::string after_cursor = "", bool skip_own_echo = false) {
    v1::Frame f;
    f.mutable_sync()->set_after_cursor(std::move(after_cursor));
    f.mutable_sync()->set_skip_own_echo(skip_own_echo);
    return f;
}

inline v1::Frame ack_request(std::string cursor) {
    v1::Frame f;
    f.mutable_ack()->set_cursor(std::move(cursor));
    return f;
}

inline v1::Frame send_request(std::string conversation, std::string client_msg_id,
                              std::string body = "hi") {
    v1::Frame f;
    auto* s = f.mutable_send_message();
    s->set_conversation_id(std::move(conversation));
    s->set_client_msg_id(std::move(client_msg_id));
    s->set_body(std::move(body));
    return f;
}

inline v1::Frame typing_request(std::string conversation, bool typing = true) {
    v1::Frame f;
    f.mutable_typing()->set_conversation_id(std::move(conversation));
    f.mutable_typing()->set_typing(typing);
    return f;
}

inline v1::Frame ping_request(std::int64_t client_time_ms = 42) {
    v1::Frame f;
    f.mutable_ping()->set_client_time_ms(client_time_ms);
    return f;
}

// ---- the fixture ----

class session_test : public ::testing::Test {
protected:
    static routing::session_config default_config() {
        routing::session_config c;
        c.stream.batch = 3;
        c.stream.storage_retry = std::chrono::milliseconds(0);
        return c;
    }

    static auth::verifier_config verifier_config() {
        auth::verifier_config c;
        c.keys = auth::key_set::from_specs({std::string("k1:HS256:text:") + token_secret});
        return c;
    }

    static std::string token_for(const std::string& user, auth::role r = auth::role::client,
                                 std::int64_t valid_for_s = 3600) {
        dev_token::claims claims;
        claims.sub = user;
        claims.role = auth::to_string(r);
        claims.iat = now_ms() / 1000;
        claims.exp = claims.iat + valid_for_s;
        return dev_token::mint("k1", token_secret, "HS256", claims);
    }

    asio::io_context ioc;
    fake_chat_store chat;
    fake_presence_store presence;
    fake_notice_bus bus;
    fake_directory_store directory_store;
    routing::directory_cache directory{directory_store};
    fake_audit_log audit;
    auth::token_verifier verifier{verifier_config()};
    std::shared_ptr<routing::presence_tracker> tracker =
        routing::presence_tracker::create(ioc.get_executor(), presence, {});
    routing::session_config config = default_config();
    std::optional<routing::user_rate_limits> send_limits;
    std::optional<routing::services> services;

    /// One client connection: its outbound queue and its session.
    struct client {
        fake_outbound out;
        std::shared_ptr<routing::session> session;
    };
    std::deque<client> clients;
    std::deque<std::string> inputs;  // the bytes of every frame, alive while it is handled
    std::uint64_t last_request_id = 0;
    int handling = 0;  // on_frame calls not finished

    /// Opens a connection (the first one is `alice`'s by default in the helpers below).
    client& open(std::string bearer = "") {
        if (!services) {
            send_limits.emplace(config.send_rate, config.send_burst);
            services.emplace(routing::services{chat, presence, directory, bus, verifier, *tracker,
                                               *send_limits, config, audit});
        }
        auto& c = clients.emplace_back();
        const std::string id = "conn" + std::to_string(clients.size());
        c.session = std::make_shared<routing::session>(
            asio::make_strand(ioc), *services, c.out,
            routing::connection_info{id, "127.0.0.1:5555", std::move(bearer)});
        c.session->start();
        return c;
    }

    /// Runs every handler that is ready, until none is (a held storage call stays parked).
    void settle() {
        ioc.restart();
        while (ioc.poll() > 0) {
        }
    }

    /// Runs the io_context until `done()` (timers that are due fire), at most 5 s.
    void run_until(const std::function<bool()>& done) {
        ioc.restart();
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done() && std::chrono::steady_clock::now() < give_up) {
            ioc.run_one_for(std::chrono::milliseconds(50));
            ioc.restart();
        }
        ASSERT_TRUE(done()) << "the awaited event did not happen";
    }

    /// Hands `frame` (its request_id set if it has none) to `c`'s session and runs what is ready.
    /// Returns the request id.
    std::uint64_t send(client& c, v1::Frame frame) {
        if (frame.request_id() == 0) {
            frame.set_request_id(++last_request_id);
        }
        send_bytes(c, frame.SerializeAsString());
        return frame.request_id();
    }

    void send_bytes(client& c, std::string bytes) {
        const std::string_view view = inputs.emplace_back(std::move(bytes));
        ++handling;
        asio::co_spawn(asio::make_strand(ioc), c.session->on_frame(view),
                       [this](const std::exception_ptr& e) {
                           --handling;
                           EXPECT_FALSE(e) << "on_frame must never throw";
                       });
        settle();
    }

    /// Ends `c` as the network layer does when the socket closes.
    void close(client& c) {
        asio::co_spawn(ioc, c.session->on_closed(), [](const std::exception_ptr& e) {
            EXPECT_FALSE(e) << "on_closed must never throw";
        });
        settle();
    }

    /// Opens a connection for `user` and authenticates it; the reply is consumed.
    client& signed_in(const std::string& user = "alice", auth::role r = auth::role::client,
                      std::string device = "dev1") {
        auto& c = open();
        send(c, authenticate_request(token_for(user, r), std::move(device)));
        auto replies = c.out.take_all();
        EXPECT_EQ(replies.size(), 1u);
        EXPECT_TRUE(!replies.empty() && replies[0].has_authenticated())
            << (replies.empty() ? "no reply" : replies[0].DebugString());
        return c;
    }

    /// The one reply sent since the last take, failing the test if there is not exactly one.
    static v1::Frame only_reply(client& c) {
        auto frames = c.out.take_all();
        if (frames.size() != 1) {
            ADD_FAILURE() << "expected one frame, got " << frames.size();
            return {};
        }
        return frames[0];
    }

    /// The cursors of the event frames among `frames`.
    static std::vector<std::string> event_cursors(const std::vector<v1::Frame>& frames) {
        std::vector<std::string> out;
        for (const auto& f : frames) {
            if (f.has_event()) {
                out.push_back(f.event().cursor());
            }
        }
        return out;
    }
};

using strings = std::vector<std::string>;

}  // namespace confide::testing
