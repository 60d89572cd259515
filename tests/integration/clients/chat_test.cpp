// The client library chatting through a real server: an inquiry answered and accepted, the
// ticks of a message, and several devices of one user.

#include "harness.hpp"

#include <mutex>

namespace confide::test {
namespace {

using library_chat = clients_test;
using cc::send_state;

TEST_F(library_chat, InquiryReplyAndAcceptWithEveryTick) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto u = url(server().port());
    auto specialist = online(bob, role::specialist, "bob-desk", u);
    auto client = online(alice, role::client, "alice-phone", u);
    {
        auto s = client->snapshot().states;
        ASSERT_FALSE(s.empty());
        EXPECT_EQ(s.back().change.user_id, alice);
        EXPECT_EQ(s.back().change.user_role, cc::role::client);
    }

    const auto id = client->start_inquiry(bob, "hello, I need help", true);
    auto sent = client->wait_send(id, send_state::sent);
    ASSERT_TRUE(sent) << "the inquiry was not acknowledged";
    const auto cid = sent->conversation_id;
    ASSERT_FALSE(cid.empty());
    EXPECT_EQ(sent->seq, 1u);
    EXPECT_GT(sent->server_time_ms, 0);

    // The specialist sees the new conversation, then the message.
    ASSERT_TRUE(specialist->wait([&](const record& r) {
        return std::any_of(r.conversations.begin(), r.conversations.end(),
                           [&](const cc::conversation& c) { return c.id == cid; });
    }));
    auto got = specialist->wait_message("hello, I need help");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->conversation_id, cid);
    EXPECT_EQ(got->seq, 1u);
    EXPECT_EQ(got->sender_id, alice);
    EXPECT_EQ(got->client_msg_id, id);
    EXPECT_FALSE(got->outgoing);
    {
        const auto r = specialist->snapshot();
        const auto& c = r.conversations.front();
        EXPECT_EQ(c.id, cid);
        EXPECT_EQ(c.state, cc::conversation_state::inquiry);
        EXPECT_EQ(c.client_id, alice);
        EXPECT_EQ(c.specialist_id, bob);
        EXPECT_TRUE(c.free_consultation);
    }

    // Delivered: the specialist's library acked by itself. Read: the specialist says so.
    ASSERT_TRUE(client->wait_send(id, send_state::delivered));
    EXPECT_FALSE(specialist->mark_read(cid, 1));
    ASSERT_TRUE(client->wait_send(id, send_state::read));
    EXPECT_EQ(client->snapshot().send_states(id),
              (std::vector<send_state>{send_state::pending, send_state::sent, send_state::delivered,
                                       send_state::read}));

    // The reply, then the accept; the client hears of both.
    const auto reply = specialist->send_message(cid, "I am here");
    auto reply_sent = specialist->wait_send(reply, send_state::sent);
    ASSERT_TRUE(reply_sent);
    EXPECT_EQ(reply_sent->seq, 2u);
    auto heard = client->wait_message("I am here");
    ASSERT_TRUE(heard);
    EXPECT_EQ(heard->seq, 2u);
    EXPECT_EQ(heard->sender_id, bob);
    EXPECT_FALSE(heard->outgoing);

    auto accepted = specialist->accept(cid);
    ASSERT_TRUE(accepted && accepted->ok());
    EXPECT_EQ(accepted->value().state, cc::conversation_state::active);
    ASSERT_TRUE(client->wait([&](const record& r) {
        return std::any_of(r.conversations.begin(), r.conversations.end(),
                           [&](const cc::conversation& c) {
                               return c.id == cid && c.state == cc::conversation_state::active;
                           });
    }));

    // The client's own message never came back to it as an incoming one.
    expect_exactly_once_in_order(client->snapshot().messages, cid, {"I am here"});
    expect_exactly_once_in_order(specialist->snapshot().messages, cid, {"hello, I need help"});
    auto h = client->history(cid);
    ASSERT_TRUE(h);
    expect_clean_history(*h, {"hello, I need help", "I am here"});
    ASSERT_EQ(h->size(), 2u);
    EXPECT_TRUE((*h)[0].outgoing);
    EXPECT_FALSE((*h)[1].outgoing);
}

TEST_F(library_chat, EveryDeviceOfAUserSeesEverything) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto u = url(server().port());
    // Both of alice's devices are known to the server before anything is written.
    auto phone = online(alice, role::client, "alice-phone", u);
    auto laptop = online(alice, role::client, "alice-laptop", u);
    auto specialist = online(bob, role::specialist, "bob-desk", u);

    const auto inquiry = phone->start_inquiry(bob, "from the phone");
    auto sent = phone->wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(sent);
    const auto cid = sent->conversation_id;

    // The laptop sees the conversation and the phone's message, as outgoing.
    auto mirrored = laptop->wait_message("from the phone");
    ASSERT_TRUE(mirrored);
    EXPECT_TRUE(mirrored->outgoing);
    EXPECT_EQ(mirrored->seq, 1u);
    EXPECT_EQ(mirrored->client_msg_id, inquiry);
    EXPECT_TRUE(laptop->wait([&](const record& r) {
        return std::any_of(r.conversations.begin(), r.conversations.end(),
                           [&](const cc::conversation& c) { return c.id == cid; });
    }));

    // The specialist's reply reaches both devices.
    ASSERT_TRUE(specialist->wait_message("from the phone"));
    specialist->send_message(cid, "hello both");
    for (auto* device : {phone.get(), laptop.get()}) {
        auto m = device->wait_message("hello both");
        ASSERT_TRUE(m);
        EXPECT_FALSE(m->outgoing);
        EXPECT_EQ(m->seq, 2u);
    }

    // The laptop writes too; the phone sees it as its user's own.
    const auto from_laptop = laptop->send_message(cid, "from the laptop");
    auto laptop_sent = laptop->wait_send(from_laptop, send_state::sent);
    ASSERT_TRUE(laptop_sent);
    EXPECT_EQ(laptop_sent->seq, 3u);
    auto on_phone = phone->wait_message("from the laptop");
    ASSERT_TRUE(on_phone);
    EXPECT_TRUE(on_phone->outgoing);
    ASSERT_TRUE(specialist->wait_message("from the laptop"));

    // Read by the specialist: each device ticks the messages it sent itself.
    ASSERT_TRUE(specialist->wait([](const record& r) { return r.messages.size() >= 2; }));
    EXPECT_FALSE(specialist->mark_read(cid, 3));
    EXPECT_TRUE(phone->wait_send(inquiry, send_state::read));
    EXPECT_TRUE(laptop->wait_send(from_laptop, send_state::read));

    expect_exactly_once_in_order(phone->snapshot().messages, cid,
                                 {"hello both", "from the laptop"});
    expect_exactly_once_in_order(laptop->snapshot().messages, cid,
                                 {"from the phone", "hello both"});
    expect_exactly_once_in_order(specialist->snapshot().messages, cid,
                                 {"from the phone", "from the laptop"});
    // Neither device was told about the other's sends through on_send_update.
    EXPECT_TRUE(phone->snapshot().send_states(from_laptop).empty());
    EXPECT_TRUE(laptop->snapshot().send_states(inquiry).empty());
}

TEST_F(library_chat, RateLimitedSendsGoOutInOrderExactlyOnce) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto u = url(server({"--send-rate", "10", "--send-burst", "3"}).port());
    auto specialist = online(bob, role::specialist, "bob-desk", u);
    auto client = online(alice, role::client, "alice-phone", u);
    const auto inquiry = client->start_inquiry(bob, "r0");
    auto first = client->wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(first);
    const auto cid = first->conversation_id;
    // Four times the burst: most are refused with RATE_LIMITED at first and retried.
    std::vector<std::string> bodies{"r0"};
    std::vector<std::string> ids;
    for (int i = 1; i <= 12; ++i) {
        bodies.push_back("r" + std::to_string(i));
        ids.push_back(client->send_message(cid, bodies.back()));
    }
    std::uint64_t last = 1;
    for (const auto& id : ids) {
        auto s = client->wait_send(id, send_state::sent, 20s);
        ASSERT_TRUE(s) << id;
        EXPECT_EQ(s->seq, ++last);
        EXPECT_EQ(client->snapshot().send_states(id).front(), send_state::pending);
    }
    ASSERT_TRUE(specialist->wait_message("r12"));
    expect_exactly_once_in_order(specialist->snapshot().messages, cid, bodies);
    for (const auto& id : ids) {
        EXPECT_FALSE(client->snapshot().update(id, send_state::failed));
    }
}

TEST_F(library_chat, ARestartedAppResumesWhereItStopped) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto u = url(server().port());
    auto specialist = online(bob, role::specialist, "bob-desk", u);
    std::string saved;
    std::mutex saved_mutex;
    auto options = [&](bool hooks, bool acks_on_stop_only = false) {
        auto o = client_options(u, "alice-phone", tokens_for(alice, role::client));
        if (acks_on_stop_only) {
            // (or after 100 events): the test knows when acks go out.
            o.ack_delay = 1h;
        }
        if (hooks) {
            o.save_cursor = [&](const std::string& c) {
                std::lock_guard lock(saved_mutex);
                saved = c;
            };
            o.load_cursor = [&] {
                std::lock_guard lock(saved_mutex);
                return saved;
            };
        }
        return o;
    };
    auto saved_cursor = [&] {
        std::lock_guard lock(saved_mutex);
        return saved;
    };
    std::string cid;
    {
        peer app(options(true, true));
        app.start();
        ASSERT_TRUE(app.wait_connected());
        const auto inquiry = app.start_inquiry(bob, "hello");
        auto sent = app.wait_send(inquiry, send_state::sent);
        ASSERT_TRUE(sent);
        cid = sent->conversation_id;
        specialist->send_message(cid, "seen before a stop");
        ASSERT_TRUE(app.wait_message("seen before a stop"));
        // stop() acks and saves the cursor...
        app.client().stop();
        ASSERT_TRUE(
            app.wait([](const record& r) { return r.count(cc::connection_state::closed) >= 1; }));
        const auto at_stop = saved_cursor();
        EXPECT_FALSE(at_stop.empty()) << "stop() did not save the cursor";
        app.start();
        ASSERT_TRUE(app.wait_connected(2));
        specialist->send_message(cid, "seen before quitting");
        ASSERT_TRUE(app.wait_message("seen before quitting"));
        // ...and so does the destructor, for what came after.
    }
    EXPECT_NE(saved_cursor(), "") << "save_cursor was never called";

    // A long backlog meanwhile: more than a batch of events, more than an ack's worth.
    std::vector<std::string> backlog;
    std::vector<std::string> ids;
    for (int i = 1; i <= 250; ++i) {
        backlog.push_back("while away " + std::to_string(i));
        ids.push_back(specialist->send_message(cid, backlog.back()));
    }
    ASSERT_TRUE(specialist->wait_send(ids.back(), send_state::sent, 30s));
    {
        peer app(options(true));
        app.start();
        ASSERT_TRUE(app.wait_message(backlog.back(), 30s));
        // Delivered ticks for the specialist once the new app acked.
        EXPECT_TRUE(specialist->wait_send(ids.back(), send_state::delivered, 15s));
        expect_exactly_once_in_order(app.snapshot().messages, cid, backlog);
    }

    // Without the hooks, the server's stored position for the device serves as well.
    const auto more = specialist->send_message(cid, "one more");
    ASSERT_TRUE(specialist->wait_send(more, send_state::sent));
    peer app(options(false));
    app.start();
    ASSERT_TRUE(app.wait_message("one more"));
    ASSERT_TRUE(app.synced());
    const auto late = specialist->send_message(cid, "and live");
    ASSERT_TRUE(app.wait_message("and live"));
    EXPECT_TRUE(specialist->wait_send(late, send_state::delivered));
    expect_exactly_once_in_order(app.snapshot().messages, cid, {"one more", "and live"});
}

TEST_F(library_chat, TypingSignOutAndPresence) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto u = url(server().port());
    auto specialist = online(bob, role::specialist, "bob-desk", u);
    auto client = online(alice, role::client, "alice-phone", u);
    const auto inquiry = client->start_inquiry(bob, "hello");
    auto sent = client->wait_send(inquiry, send_state::sent);
    ASSERT_TRUE(sent);
    const auto cid = sent->conversation_id;

    client->client().set_typing(cid, true);
    ASSERT_TRUE(specialist->wait([&](const record& r) {
        return std::any_of(r.typings.begin(), r.typings.end(), [&](const cc::typing& t) {
            return t.conversation_id == cid && t.user_id == alice && t.active;
        });
    }));

    // Signing out: closed for good, and the contact sees a deliberate offline.
    EXPECT_FALSE(client->sign_out());
    ASSERT_TRUE(
        client->wait([](const record& r) { return r.count(cc::connection_state::closed) >= 1; }));
    EXPECT_EQ(client->snapshot().states.back().change.reason, cc::close_reason::signed_out);
    auto offline = [&](bool lost) {
        return [&alice, lost](const record& r) {
            return std::any_of(r.presences.begin(), r.presences.end(), [&](const cc::presence& p) {
                return p.user_id == alice && p.state == cc::presence_state::offline &&
                       p.connection_lost == lost;
            });
        };
    };
    ASSERT_TRUE(specialist->wait(offline(false)));

    // Back, then gone without a goodbye: offline after the grace period, as lost.
    client = online(alice, role::client, "alice-phone", u);
    ASSERT_TRUE(specialist->wait([&](const record& r) {
        return std::any_of(r.presences.begin(), r.presences.end(), [&](const cc::presence& p) {
            return p.user_id == alice && p.state == cc::presence_state::online;
        });
    }));
    client.reset();
    ASSERT_TRUE(specialist->wait(offline(true)));
}

TEST_F(library_chat, OneConnectionTooManyIsClosedForGood) {
    const auto alice = unique("alice");
    const auto u = url(server({"--max-connections-per-user", "1"}).port());
    auto phone = online(alice, role::client, "alice-phone", u);
    peer laptop(client_options(u, "alice-laptop", tokens_for(alice, role::client)));
    laptop.start();
    ASSERT_TRUE(
        laptop.wait([](const record& r) { return r.count(cc::connection_state::closed) >= 1; }));
    EXPECT_EQ(laptop.snapshot().states.back().change.reason,
              cc::close_reason::too_many_connections);
    // The first device is unaffected.
    EXPECT_TRUE(phone->synced());
    EXPECT_EQ(phone->snapshot().count(cc::connection_state::connection_lost), 0u);
}

}  // namespace
}  // namespace confide::test
