// Echo suppression through a real server: the library asks for skip_own_echo, so a device's
// own messages are not pushed back to it (their SendReply stands for the push), while the
// user's other devices, the other party, history and a later resume see everything.

#include "harness.hpp"

#include "support/http_get.hpp"
#include "support/metrics_text.hpp"

#include <chrono>
#include <thread>

namespace confide::test {
namespace {

using own_echo = clients_test;
using cc::send_state;

// EventPushes with a message the server has sent so far, over every connection.
double message_pushes(std::uint16_t port) {
    http_request r;
    r.port = port;
    r.target = "/metrics";
    const auto reply = http_get(r);
    EXPECT_EQ(reply.status, 200) << reply.error;
    return parse_metrics(reply.body)["confide_events_pushed_total{kind=\"message\"}"];
}

TEST_F(own_echo, TheOtherDeviceGetsItAndTheSenderOnlyItsReply) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto port = server().port();
    const auto u = url(port);
    auto phone = online(alice, role::client, "alice-phone", u);
    auto laptop = online(alice, role::client, "alice-laptop", u);
    auto specialist = online(bob, role::specialist, "bob-desk", u);

    const auto inquiry = phone->start_inquiry(bob, "from the phone 0");
    auto first = phone->wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;
    std::vector<std::string> bodies{"from the phone 0"};
    ASSERT_TRUE(laptop->wait_message(bodies.back()));
    ASSERT_TRUE(specialist->wait_message(bodies.back()));

    constexpr int more = 10;
    for (int i = 1; i <= more; ++i) {
        bodies.push_back("from the phone " + std::to_string(i));
        const auto id = phone->send_message(cid, bodies.back());
        auto sent = phone->wait_send(id, send_state::sent);
        ASSERT_TRUE(sent) << bodies.back();
        // Shown by its send_update, with the stored seq and time.
        EXPECT_EQ(sent->seq, static_cast<std::uint64_t>(i + 1));
        EXPECT_GT(sent->server_time_ms, 0);
        auto mirrored = laptop->wait_message(bodies.back());
        ASSERT_TRUE(mirrored) << "the user's other device did not get " << bodies.back();
        EXPECT_TRUE(mirrored->outgoing);
        EXPECT_EQ(mirrored->seq, sent->seq);
        ASSERT_TRUE(specialist->wait_message(bodies.back()));
    }

    // 11 messages reach the laptop and the specialist: 22 pushes. With the phone's own echoes
    // it would be 33; its inquiry (which opens a conversation, whose event comes first) and a
    // send whose reply overtook a push still due to the phone (a slow machine) are pushed back
    // to it: a few, not all.
    const auto pushed = message_pushes(port);
    EXPECT_GE(pushed, 2.0 * (more + 1));
    EXPECT_LE(pushed, 2.0 * (more + 1) + 5) << "the phone got its own messages pushed back";

    // The phone's model: its own messages once each (as sent), none as incoming.
    expect_exactly_once_in_order(phone->snapshot().messages, cid, {});
    expect_exactly_once_in_order(laptop->snapshot().messages, cid, bodies);
    expect_exactly_once_in_order(specialist->snapshot().messages, cid, bodies);
    const auto history = phone->history(cid);
    ASSERT_TRUE(history);
    expect_clean_history(*history, bodies);

    // The cursors the replies carried were acked when the phone stopped: the same device,
    // started afresh (no cursor of its own, so from the server's stored one), gets only what
    // came after.
    phone->client().stop();
    ASSERT_TRUE(
        phone->wait([](const record& r) { return r.count(cc::connection_state::closed) >= 1; }));
    phone.reset();
    auto again = online(alice, role::client, "alice-phone", u);
    const auto later = specialist->send_message(cid, "later");
    ASSERT_TRUE(again->wait_message("later"));
    expect_exactly_once_in_order(again->snapshot().messages, cid, {"later"});
    EXPECT_TRUE(specialist->wait_send(later, send_state::delivered));
}

TEST_F(own_echo, WithoutItTheSendersOwnDeviceGetsThePush) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto port = server().port();
    const auto u = url(port);
    auto o = client_options(u, "alice-phone", tokens_for(alice, role::client));
    o.skip_own_echo = false;
    peer phone(o);
    phone.client().start();
    ASSERT_TRUE(phone.wait_connected());
    ASSERT_TRUE(phone.synced());
    auto specialist = online(bob, role::specialist, "bob-desk", u);

    const auto inquiry = phone.start_inquiry(bob, "hello 0");
    auto first = phone.wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;
    std::vector<std::string> bodies{"hello 0"};
    for (int i = 1; i <= 4; ++i) {
        bodies.push_back("hello " + std::to_string(i));
        ASSERT_TRUE(phone.wait_send(phone.send_message(cid, bodies.back()), send_state::sent));
    }
    for (const auto& b : bodies) {
        ASSERT_TRUE(specialist->wait_message(b));
    }
    // Pushed to both parties (the phone's pushes may still be on their way); they only told
    // the phone what the replies had.
    const double expected = 2.0 * static_cast<double>(bodies.size());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (message_pushes(port) < expected && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(message_pushes(port), expected);
    expect_exactly_once_in_order(phone.snapshot().messages, cid, {});
}

}  // namespace
}  // namespace confide::test
