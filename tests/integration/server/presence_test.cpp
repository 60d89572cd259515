// Presence and typing end to end: online, away, offline; "connection lost" after the grace
// period; sign-out; only the other party of a conversation is told.

#include "harness.hpp"

namespace confide::test {
namespace {

using presence = server_test;

// Alice (client) and Bob (specialist) share a conversation; returns its id.
std::string pair_up(ws_client& alice, const std::string& bob) {
    return must_send(alice, start_inquiry(bob, "hello", "hello")).conversation_id();
}

TEST_F(presence, OtherPartySeesOnlineLostAndSignedOut) {
    auto& srv = server({"--presence-grace-ms", "300"});
    const auto alice = unique("alice"), bob = specialist("bob"), carol = unique("carol");
    auto b = login(bob, role::specialist);
    {
        auto a = login(alice, role::client);
        pair_up(*a, bob);
    }  // alice's connection drops without a goodbye
    auto lost = b->wait_for(is_presence(v1::OFFLINE, true), 10s);
    ASSERT_TRUE(lost) << "no 'connection lost' after the grace period";
    EXPECT_EQ(lost->presence().presence().user_id(), alice);
    EXPECT_GT(lost->presence().presence().last_seen_ms(), 0);

    // A stranger (no conversation with alice) hears nothing of her.
    auto c = login(carol, role::client);

    auto a = login(alice, role::client, "dev-2", &srv);
    auto online = b->wait_for(is_presence(v1::ONLINE), 5s);
    ASSERT_TRUE(online);
    EXPECT_EQ(online->presence().presence().user_id(), alice);

    v1::Frame away;
    away.mutable_set_presence()->set_state(v1::AWAY);
    ASSERT_TRUE(a->request(away)->has_ok());
    ASSERT_TRUE(b->wait_for(is_presence(v1::AWAY), 5s));

    // The conversation list shows it too.
    auto list = b->request(list_conversations());
    ASSERT_TRUE(list && list->conversations().conversations_size() == 1);
    EXPECT_EQ(list->conversations().conversations(0).other_presence().state(), v1::AWAY);
    EXPECT_EQ(list->conversations().conversations(0).other_presence().user_id(), alice);

    // Signing out is offline at once, and not "lost".
    v1::Frame out;
    out.mutable_sign_out();
    ASSERT_TRUE(a->request(out)->has_ok());
    auto closed = a->wait_closed();
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->code, 1000);
    auto signed_out = b->wait_for(is_presence(v1::OFFLINE), 5s);
    ASSERT_TRUE(signed_out);
    EXPECT_FALSE(signed_out->presence().presence().connection_lost());

    EXPECT_FALSE(c->wait_for([](const v1::Frame& f) { return f.has_presence(); }, 500ms));
}

TEST_F(presence, AQuickReconnectDoesNotFlap) {
    server({"--presence-grace-ms", "1500"});
    const auto alice = unique("alice"), bob = specialist("bob");
    auto b = login(bob, role::specialist);
    {
        auto a = login(alice, role::client);
        pair_up(*a, bob);
    }
    auto a = login(alice, role::client);  // back within the grace period
    EXPECT_FALSE(b->wait_for(is_presence(v1::OFFLINE), 3s));
}

TEST_F(presence, AnotherDeviceKeepsTheUserOnline) {
    server({"--presence-grace-ms", "200"});
    const auto alice = unique("alice"), bob = specialist("bob");
    auto b = login(bob, role::specialist);
    auto phone = login(alice, role::client, "phone");
    pair_up(*phone, bob);
    { auto laptop = login(alice, role::client, "laptop"); }
    EXPECT_FALSE(b->wait_for(is_presence(v1::OFFLINE), 1500ms));
}

}  // namespace
}  // namespace confide::test
