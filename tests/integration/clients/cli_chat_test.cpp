// confide-cli chat, the interactive terminal client, driven through its stdin as a person would
// type: both roles, the ticks, presence and typing, a lost connection and the catch-up.

#include "harness.hpp"
#include "support/tcp_proxy.hpp"
#include "terminal.hpp"

namespace confide::test {
namespace {

using cli_chat = clients_test;

TEST_F(cli_chat, BothRolesChatSeeTicksPresenceTypingAndACatchUpAfterALostConnection) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto direct = url(server().port());
    // Alice's network is the one that fails.
    tcp_proxy proxy(server().port());

    terminal specialist("chat bob", direct, mint(bob, role::specialist), "bob-desk");
    ASSERT_TRUE(specialist.wait("connected as " + bob + " (specialist)"));
    ASSERT_TRUE(specialist.wait("no conversations yet"));
    terminal client("chat alice", proxy.url(), mint(alice, role::client), "alice-phone");
    ASSERT_TRUE(client.wait("connected as " + alice + " (client)"));
    ASSERT_TRUE(client.wait("no conversations yet: /inquire SPECIALIST TEXT"));

    // The client writes to the specialist: an inquiry, stored (✓), then on the specialist's
    // screen (✓✓).
    client.type("/inquire " + bob + " Hello, I would like to talk");
    ASSERT_TRUE(client.wait("inquiry sent; conversation"));
    ASSERT_TRUE(client.wait("✓ sent \"Hello, I would like to talk\""));
    ASSERT_TRUE(specialist.wait("new inquiry from " + alice));
    ASSERT_TRUE(specialist.wait(alice + ": Hello, I would like to talk"));
    ASSERT_TRUE(client.wait("✓✓ delivered \"Hello, I would like to talk\""));

    // The specialist's list: the inquiry, unread; opening it reads it.
    specialist.mark();
    specialist.type("/list");
    auto listed = specialist.wait("[inquiry] " + alice);
    ASSERT_TRUE(listed);
    EXPECT_NE(listed->find("1 unread"), std::string::npos) << *listed;
    specialist.type("/open 1");
    ASSERT_TRUE(specialist.wait(alice + ": Hello, I would like to talk"));
    ASSERT_TRUE(client.wait("✓✓ read \"Hello, I would like to talk\""));

    // Accepted: both are told; the answer reaches the client live, and typing does too.
    specialist.type("/accept");
    ASSERT_TRUE(specialist.wait("with " + alice + " is now active"));
    ASSERT_TRUE(client.wait("with " + bob + " is now active"));
    specialist.type("/typing");
    ASSERT_TRUE(client.wait("* " + bob + " is typing…"));
    specialist.type("Welcome. How are you today?");
    ASSERT_TRUE(specialist.wait("✓ sent \"Welcome. How are you today?\""));
    ASSERT_TRUE(client.wait(bob + ": Welcome. How are you today?"));
    ASSERT_TRUE(specialist.wait("✓✓ read \"Welcome. How are you today?\""));

    // Alice's network dies silently and then her connection is cut; she is told at once.
    client.mark();
    proxy.black_hole();
    proxy.drop_all();
    ASSERT_TRUE(client.wait("connection lost ("));
    ASSERT_TRUE(client.wait("— reconnecting in"));
    // Meanwhile the specialist writes, and so does she: hers waits in her outbox (no ✓ yet).
    specialist.mark();
    specialist.type("Take your time.");
    ASSERT_TRUE(specialist.wait("✓ sent \"Take your time.\""));
    client.type("Sorry, my train went into a tunnel");
    ASSERT_TRUE(client.wait("you: Sorry, my train went into a tunnel"));
    EXPECT_EQ(client.count("✓ sent \"Sorry, my train"), 0U) << "no ✓ while disconnected";

    // The network is back: she reconnects, catches up, and what she typed goes out once.
    proxy.restore();
    ASSERT_TRUE(client.wait("reconnected — catching up", 60s));
    ASSERT_TRUE(client.wait(bob + ": Take your time.", 30s));
    ASSERT_TRUE(client.wait("✓ sent \"Sorry, my train went into a tunnel\"", 30s));
    ASSERT_TRUE(specialist.wait(alice + ": Sorry, my train went into a tunnel"));
    ASSERT_TRUE(client.wait("✓✓ read \"Sorry, my train went into a tunnel\""));
    EXPECT_EQ(specialist.count(alice + ": Sorry, my train went into a tunnel"), 1U);
    EXPECT_EQ(client.count(bob + ": Take your time."), 1U);

    // The specialist signs out: the client sees them go offline; both programs end cleanly.
    specialist.type("/signout");
    ASSERT_TRUE(specialist.wait("closed: signed_out"));
    EXPECT_EQ(specialist.process().wait_exit(20s), 0);
    ASSERT_TRUE(client.wait("* " + bob + " is offline"));
    client.type("/quit");
    EXPECT_EQ(client.process().wait_exit(20s), 0);
}

TEST_F(cli_chat, AnIdleSessionIsSignedOutAfterInactivityAndNotReconnected) {
    const auto alice = unique("alice");
    auto& srv = server({"--idle-logoff-s", "1"});
    terminal client("chat alice", url(srv.port()), mint(alice, role::client), "alice-phone");
    ASSERT_TRUE(client.wait("connected as " + alice + " (client)"));
    ASSERT_TRUE(client.wait("signed out after inactivity"));
    // The chat ends (a person signs in again); it never connected a second time.
    EXPECT_TRUE(client.process().wait_exit(10s).has_value());
    EXPECT_EQ(client.count("connected as"), 1u);
}

TEST_F(cli_chat, TheRetentionIsSaidAtSignIn) {
    const auto alice = unique("alice");
    auto& srv = server({"--retention-days", "30"});
    terminal client("chat alice", url(srv.port()), mint(alice, role::client), "alice-phone");
    ASSERT_TRUE(client.wait("connected as " + alice + " (client)"));
    ASSERT_TRUE(client.wait("Messages are kept for 30 days, then deleted from the server"));
    client.type("/quit");
    EXPECT_EQ(client.process().wait_exit(20s), 0);
}

TEST_F(cli_chat, ARefusedTokenIsSaidSoWithoutAConnectionLostFirst) {
    terminal client("chat alice", url(server().port()), forged_token(unique("alice")),
                    "alice-phone");
    ASSERT_TRUE(client.wait("closed: token_rejected (token rejected"));
    EXPECT_EQ(client.process().wait_exit(10s), 5);
    EXPECT_EQ(client.count("connection lost"), 0u);
    EXPECT_EQ(client.count("reconnecting"), 0u);
}

}  // namespace
}  // namespace confide::test
