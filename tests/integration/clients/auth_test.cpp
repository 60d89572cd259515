// The client library and tokens: a refused token ends the client for good, an expiring one is
// replaced without the application noticing more than a reconnect.

#include "harness.hpp"
#include "support/tcp_proxy.hpp"

namespace confide::test {
namespace {

using library_tokens = clients_test;
using cc::close_reason;
using cc::connection_state;
using cc::send_state;

// A token provider that counts its calls.
struct counting_tokens {
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    std::function<std::string()> make(std::function<std::string(int)> token) const {
        return [calls = calls, token = std::move(token)] { return token(++*calls); };
    }
};

TEST_F(library_tokens, RefusedTokenClosesForGoodWithoutRetrying) {
    const auto alice = unique("alice");
    tcp_proxy proxy(server().port());
    counting_tokens counter;
    // Two refused tokens; a good one only after the application stepped in.
    peer client(client_options(proxy.url(), "alice-phone", counter.make([&](int n) {
        return n <= 2 ? forged_token(alice) : mint(alice, role::client);
    })));
    const auto pending = client.start_inquiry(specialist("bob"), "sent after a new sign-in");
    client.start();
    ASSERT_TRUE(
        client.wait([](const record& r) { return r.count(connection_state::closed) >= 1; }, 15s));
    const auto r = client.snapshot();
    const auto& closed = r.states.back().change;
    EXPECT_EQ(closed.state, connection_state::closed);
    EXPECT_EQ(closed.reason, close_reason::token_rejected);
    EXPECT_FALSE(closed.detail.empty());
    // One retry with a fresh token (it may have just expired), then no more; the retry is part
    // of connecting, not a lost connection.
    std::vector<connection_state> states;
    for (const auto& e : r.states) {
        states.push_back(e.change.state);
    }
    EXPECT_EQ(states, (std::vector<connection_state>{connection_state::connecting,
                                                     connection_state::connecting,
                                                     connection_state::closed}));
    EXPECT_EQ(r.count(connection_state::connected), 0u);
    EXPECT_EQ(proxy.accepted(), 2u);
    // Longer than the largest reconnect delay: a third attempt would have come by now.
    EXPECT_FALSE(proxy.wait_accepted(3, 2500ms)) << "the client kept trying a refused token";
    EXPECT_EQ(*counter.calls, 2);
    // The message waits in the outbox, neither sent nor failed...
    EXPECT_EQ(client.snapshot().send_states(pending), std::vector<send_state>{send_state::pending});
    // ...until the application starts the client again (say, after a new sign-in).
    client.start();
    ASSERT_TRUE(client.wait_connected());
    EXPECT_TRUE(client.wait_send(pending, send_state::sent));
    EXPECT_EQ(*counter.calls, 3);
}

TEST_F(library_tokens, NoTokenClosesWithoutConnecting) {
    tcp_proxy proxy(server().port());
    peer client(client_options(proxy.url(), "alice-phone", [] { return std::string(); }));
    client.start();
    ASSERT_TRUE(
        client.wait([](const record& r) { return r.count(connection_state::closed) >= 1; }, 10s));
    EXPECT_EQ(client.snapshot().states.back().change.reason, close_reason::token_rejected);
    EXPECT_FALSE(proxy.wait_accepted(1, 1500ms));
}

TEST_F(library_tokens, ExpiredTokenIsReplacedAndNothingIsLost) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto& srv = server({"--token-leeway-s", "0"});
    const auto u = url(srv.port());
    auto specialist = online(bob, role::specialist, "bob-desk", u);
    counting_tokens counter;
    // The first token lives 2 s (1..2 s, as exp is in whole seconds); every later one an hour.
    peer client(client_options(u, "alice-phone", counter.make([&](int n) {
        return mint(alice, role::client, n == 1 ? 2s : 1h);
    })));
    client.start();
    ASSERT_TRUE(client.wait_connected());
    const auto inquiry = client.start_inquiry(bob, "before expiry");
    auto first = client.wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;
    const auto bob_first = specialist->send_message(cid, "b1");
    ASSERT_TRUE(client.wait_message("b1"));

    // The server closes at expiry (4001); the client comes back with a fresh token.
    ASSERT_TRUE(client.wait(
        [](const record& r) { return r.count(connection_state::connection_lost) >= 1; }, 10s));
    const std::vector<std::string> after{client.send_message(cid, "a1"),
                                         client.send_message(cid, "a2")};
    const auto bob_second = specialist->send_message(cid, "b2");
    ASSERT_TRUE(client.wait_connected(2, 10s));
    {
        const auto r = client.snapshot();
        for (const auto& e : r.states) {
            if (e.change.state == connection_state::connection_lost) {
                EXPECT_NE(e.change.detail.find("token expired"), std::string::npos)
                    << e.change.detail;
                break;
            }
        }
        EXPECT_EQ(r.count(connection_state::closed), 0u);
    }
    EXPECT_GE(*counter.calls, 2);

    for (const auto& id : after) {
        EXPECT_TRUE(client.wait_send(id, send_state::sent));
    }
    ASSERT_TRUE(specialist->wait_send(bob_second, send_state::sent));
    ASSERT_TRUE(client.wait_message("b2"));
    ASSERT_TRUE(specialist->wait_message("a2"));
    EXPECT_TRUE(specialist->snapshot().update(bob_first, send_state::sent));

    auto h = specialist->history(cid);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->size(), 5u);
    expect_clean_history(*h, {"before expiry", "a1", "a2"});
    expect_clean_history(*h, {"b1", "b2"});
    expect_exactly_once_in_order(client.snapshot().messages, cid, {"b1", "b2"});
    expect_exactly_once_in_order(specialist->snapshot().messages, cid,
                                 {"before expiry", "a1", "a2"});
}

}  // namespace
}  // namespace confide::test
