// The client library when the network or the server fails: a half-open connection (packets
// silently lost, TCP up), a frozen server, a crashed and restarted server. Nothing typed is
// lost, nothing is shown twice, and what was missed is caught up in order.

#include "harness.hpp"
#include "support/tcp_proxy.hpp"

#include <csignal>

namespace confide::test {
namespace {

using library_resilience = clients_test;
using cc::connection_state;
using cc::send_state;

constexpr auto heartbeat = 1500ms;

// Sends `bodies` in order; returns their client_msg_ids.
std::vector<std::string> send_all(peer& p, const std::string& cid,
                                  const std::vector<std::string>& bodies) {
    std::vector<std::string> ids;
    for (const auto& b : bodies) {
        ids.push_back(p.send_message(cid, b));
    }
    return ids;
}

// Waits until every message in `ids` is sent; returns their seqs.
std::vector<std::uint64_t> wait_all_sent(peer& p, const std::vector<std::string>& ids) {
    std::vector<std::uint64_t> seqs;
    for (const auto& id : ids) {
        auto u = p.wait_send(id, send_state::sent, 30s);
        EXPECT_TRUE(u) << id << " was never acknowledged";
        seqs.push_back(u ? u->seq : 0);
    }
    return seqs;
}

// Waits until `p` received every one of `bodies`.
void wait_all_received(peer& p, const std::vector<std::string>& bodies) {
    for (const auto& b : bodies) {
        EXPECT_TRUE(p.wait_message(b, 30s)) << "never received: " << b;
    }
}

bool only_pending(const record& r, const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
        if (r.send_states(id) != std::vector<send_state>{send_state::pending}) {
            return false;
        }
    }
    return true;
}

TEST_F(library_resilience, HalfOpenConnectionIsDetectedAndResumedExactlyOnce) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto& srv = server();
    tcp_proxy proxy(srv.port());
    auto specialist = online(bob, role::specialist, "bob-desk", url(srv.port()), heartbeat);
    auto client = online(alice, role::client, "alice-phone", proxy.url(), heartbeat);

    const auto inquiry = client->start_inquiry(bob, "hello");
    auto first = client->wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;
    ASSERT_TRUE(specialist->wait_message("hello"));
    ASSERT_TRUE(client->wait_send(inquiry, send_state::delivered));

    // The network goes silent; TCP stays up on both sides.
    proxy.black_hole();
    const auto silent_since = cc::clock::now();
    // Sent before the library can know: it goes into the dead connection.
    const auto early = client->send_message(cid, "a0");
    ASSERT_TRUE(client->wait(
        [](const record& r) { return r.count(connection_state::connection_lost) >= 1; },
        heartbeat * 4));
    const auto lost = [&] {
        for (const auto& e : client->snapshot().states) {
            if (e.change.state == connection_state::connection_lost) {
                return e;
            }
        }
        return record::state_entry{};
    }();
    EXPECT_EQ(lost.change.detail, "heartbeat timeout");
    EXPECT_LE(lost.at - silent_since, heartbeat + 1000ms) << "the dead connection was noticed late";

    // While away: alice writes (queued), bob writes (stored, waiting for alice).
    auto away_ids = send_all(*client, cid, {"a1", "a2", "a3"});
    away_ids.insert(away_ids.begin(), early);
    const std::vector<std::string> bob_bodies{"b1", "b2"};
    wait_all_sent(*specialist, send_all(*specialist, cid, bob_bodies));
    // An attempt into the black hole fails too (by its connect timeout)...
    ASSERT_TRUE(client->wait(
        [](const record& r) { return r.count(connection_state::connection_lost) >= 2; }, 10s));
    // ...and nothing was reported sent meanwhile.
    EXPECT_TRUE(only_pending(client->snapshot(), away_ids));

    proxy.restore();
    ASSERT_TRUE(client->wait_connected(2, 15s));
    const auto alice_seqs = wait_all_sent(*client, away_ids);
    const std::vector<std::string> alice_bodies{"a0", "a1", "a2", "a3"};
    wait_all_received(*specialist, alice_bodies);
    wait_all_received(*client, bob_bodies);

    // Same ids, one seq each, in the order typed.
    for (std::size_t i = 1; i < alice_seqs.size(); ++i) {
        EXPECT_LT(alice_seqs[i - 1], alice_seqs[i]);
    }
    auto h = specialist->history(cid);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->size(), 7u);
    expect_clean_history(*h, {"hello", "a0", "a1", "a2", "a3"});
    expect_clean_history(*h, {"hello", "b1", "b2"});
    for (const auto& m : *h) {
        for (std::size_t i = 0; i < away_ids.size(); ++i) {
            if (m.body == alice_bodies[i]) {
                EXPECT_EQ(m.client_msg_id, away_ids[i]);
                EXPECT_EQ(m.seq, alice_seqs[i]);
            }
        }
    }
    // Each side saw each of the other's messages once, in order, and caught up on what it
    // missed after everything it had before.
    auto bob_got = specialist->snapshot().messages;
    expect_exactly_once_in_order(bob_got, cid, {"hello", "a0", "a1", "a2", "a3"});
    auto alice_got = client->snapshot().messages;
    expect_exactly_once_in_order(alice_got, cid, bob_bodies);
    for (const auto& m : alice_got) {
        EXPECT_FALSE(m.outgoing);
    }
}

TEST_F(library_resilience, DroppedConnectionsMidBurstLoseAndDoubleNothing) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto& srv = server();
    tcp_proxy proxy(srv.port());
    auto specialist = online(bob, role::specialist, "bob-desk", url(srv.port()));
    auto client = online(alice, role::client, "alice-phone", proxy.url());
    const auto inquiry = client->start_inquiry(bob, "d0");
    auto first = client->wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;

    std::vector<std::string> bodies{"d0"};
    std::vector<std::string> ids;
    for (int i = 1; i <= 60; ++i) {
        bodies.push_back("d" + std::to_string(i));
        ids.push_back(client->send_message(cid, bodies.back()));
    }
    // Cut twice in the middle of the burst; bob keeps writing through it.
    for (std::size_t cut : {5u, 30u}) {
        ASSERT_TRUE(client->wait_send(ids[cut], send_state::sent));
        proxy.drop_all();
        specialist->send_message(cid, "b" + std::to_string(cut));
    }
    const auto seqs = wait_all_sent(*client, ids);
    for (std::size_t i = 1; i < seqs.size(); ++i) {
        EXPECT_LT(seqs[i - 1], seqs[i]);
    }
    wait_all_received(*specialist, bodies);
    wait_all_received(*client, {"b5", "b30"});
    EXPECT_GE(client->snapshot().count(connection_state::connected), 3u);

    auto h = specialist->history(cid);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->size(), bodies.size() + 2);
    expect_clean_history(*h, bodies);
    expect_exactly_once_in_order(specialist->snapshot().messages, cid, bodies);
    expect_exactly_once_in_order(client->snapshot().messages, cid, {"b5", "b30"});
}

TEST_F(library_resilience, ASendDuringTheReconnectWaitConnectsAtOnceAndGoesOutOnce) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto& srv = server();
    tcp_proxy proxy(srv.port());
    auto specialist = online(bob, role::specialist, "bob-desk", url(srv.port()));
    // A long wait before every reconnect: only the send can end it in time.
    auto o = client_options(proxy.url(), "alice-phone", tokens_for(alice, role::client));
    o.reconnect_min = 20s;
    o.reconnect_max = 20s;
    peer client(std::move(o));
    client.start();
    ASSERT_TRUE(client.wait_connected());
    const auto inquiry = client.start_inquiry(bob, "before");
    auto first = client.wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;

    proxy.drop_all();
    ASSERT_TRUE(client.wait(
        [](const record& r) { return r.count(connection_state::connection_lost) == 1; }));
    const auto lost = client.snapshot().states.back();
    ASSERT_EQ(lost.change.state, connection_state::connection_lost);
    ASSERT_GE(lost.change.next_attempt - lost.at, std::chrono::seconds(19));

    const auto t0 = cc::clock::now();
    const auto id = client.send_message(cid, "typed while waiting");
    ASSERT_TRUE(client.wait_send(id, send_state::sent, 10s));
    EXPECT_LT(cc::clock::now() - t0, std::chrono::seconds(10)) << "the send waited the backoff";
    EXPECT_LT(cc::clock::now(), lost.change.next_attempt);
    EXPECT_EQ(client.snapshot().count(connection_state::connected), 2u);
    EXPECT_EQ(client.snapshot().send_states(id),
              (std::vector<send_state>{send_state::pending, send_state::sent}));
    ASSERT_TRUE(specialist->wait_message("typed while waiting"));
    auto h = specialist->history(cid);
    ASSERT_TRUE(h);
    expect_clean_history(*h, {"before", "typed while waiting"});
    EXPECT_EQ(h->size(), 2u);
}

TEST_F(library_resilience, FrozenServerIsLeftAndRejoinedWhenItThaws) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto& srv = server();
    const auto u = url(srv.port());
    auto specialist = online(bob, role::specialist, "bob-desk", u, heartbeat);
    auto client = online(alice, role::client, "alice-phone", u, heartbeat);
    const auto inquiry = client->start_inquiry(bob, "hello");
    auto first = client->wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;
    ASSERT_TRUE(specialist->wait_message("hello"));

    srv.process().signal(SIGSTOP);
    // Both notice (the kernel still accepts TCP connections: only the silence tells).
    for (auto* p : {client.get(), specialist.get()}) {
        EXPECT_TRUE(
            p->wait([](const record& r) { return r.count(connection_state::connection_lost) >= 1; },
                    heartbeat * 4));
    }
    const auto ids = send_all(*client, cid, {"f1", "f2", "f3"});
    ASSERT_TRUE(client->wait(
        [](const record& r) { return r.count(connection_state::connection_lost) >= 2; }, 10s));
    EXPECT_TRUE(only_pending(client->snapshot(), ids));

    srv.process().signal(SIGCONT);
    ASSERT_TRUE(client->wait_connected(2, 15s));
    ASSERT_TRUE(specialist->wait_connected(2, 15s));
    wait_all_sent(*client, ids);
    wait_all_received(*specialist, {"f1", "f2", "f3"});
    const auto reply = specialist->send_message(cid, "back");
    ASSERT_TRUE(specialist->wait_send(reply, send_state::sent));
    ASSERT_TRUE(client->wait_message("back"));

    auto h = specialist->history(cid);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->size(), 5u);
    expect_clean_history(*h, {"hello", "f1", "f2", "f3", "back"});
    expect_exactly_once_in_order(specialist->snapshot().messages, cid, {"hello", "f1", "f2", "f3"});
    expect_exactly_once_in_order(client->snapshot().messages, cid, {"back"});
}

TEST_F(library_resilience, CrashedServerIsReplacedAndNothingIsLostOrDoubled) {
    const auto alice = unique("alice"), bob = unique("bob");
    auto srv = std::make_unique<server_process>(*redis_, server_flags(), "server-1");
    tcp_proxy proxy(srv->port());
    auto specialist = online(bob, role::specialist, "bob-desk", proxy.url());
    auto client = online(alice, role::client, "alice-phone", proxy.url());
    const auto inquiry = client->start_inquiry(bob, "m0");
    auto first = client->wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;

    // A burst, and the server dies in the middle of it: some acked, some in flight, some
    // still queued.
    std::vector<std::string> bodies;
    for (int i = 1; i <= 100; ++i) {
        bodies.push_back("m" + std::to_string(i));
    }
    auto ids = send_all(*client, cid, bodies);
    ASSERT_TRUE(client->wait_send(ids[4], send_state::sent));
    srv->process().signal(SIGKILL);
    ASSERT_TRUE(srv->process().wait_exit(10s));
    srv.reset();
    for (auto* p : {client.get(), specialist.get()}) {
        EXPECT_TRUE(p->wait(
            [](const record& r) { return r.count(connection_state::connection_lost) >= 1; }));
    }
    // More while it is down, from both sides.
    for (int i = 101; i <= 105; ++i) {
        bodies.push_back("m" + std::to_string(i));
        ids.push_back(client->send_message(cid, bodies.back()));
    }
    const auto reply = specialist->send_message(cid, "are you still there?");

    srv = std::make_unique<server_process>(*redis_, server_flags(), "server-2");
    proxy.set_target(srv->port());
    ASSERT_TRUE(client->wait_connected(2, 20s));
    ASSERT_TRUE(specialist->wait_connected(2, 20s));
    const auto seqs = wait_all_sent(*client, ids);
    for (std::size_t i = 1; i < seqs.size(); ++i) {
        EXPECT_LT(seqs[i - 1], seqs[i]);
    }
    ASSERT_TRUE(specialist->wait_send(reply, send_state::sent, 30s));
    wait_all_received(*specialist, bodies);
    ASSERT_TRUE(client->wait_message("are you still there?", 30s));

    auto h = specialist->history(cid);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->size(), 1 + bodies.size() + 1);
    auto all = bodies;
    all.insert(all.begin(), "m0");
    expect_clean_history(*h, all);
    expect_exactly_once_in_order(specialist->snapshot().messages, cid, all);
    expect_exactly_once_in_order(client->snapshot().messages, cid, {"are you still there?"});
}

}  // namespace
}  // namespace confide::test
