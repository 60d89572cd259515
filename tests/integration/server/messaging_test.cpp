// Conversations, messages, states, offline delivery, idempotency and authorisation, end to end:
// real redis-server, real confide-server, real WebSockets. Built twice: on one Redis
// (integration_server) and on a Redis Cluster of 3 masters (integration_server_cluster).

#include "harness.hpp"

#include <set>

namespace confide::test {
namespace {

using messaging = server_test;

// A client opens an inquiry; returns the conversation id.
std::string open_inquiry(ws_client& client, const std::string& specialist,
                         const std::string& body = "hello, I need help") {
    auto sent = must_send(client, start_inquiry(specialist, "inq-" + specialist, body, true));
    EXPECT_FALSE(sent.conversation_id().empty());
    EXPECT_EQ(sent.seq(), 1u);
    return sent.conversation_id();
}

TEST_F(messaging, InquiryReplyAcceptAndClose) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto specialist = login(bob, role::specialist);
    auto client = login(alice, role::client);

    const auto cid = open_inquiry(*client, bob, "first words");

    // The specialist is told of the new conversation, then gets the message.
    auto created = specialist->wait_for(
        [](const v1::Frame& f) { return f.has_event() && f.event().has_conversation(); });
    ASSERT_TRUE(created);
    EXPECT_EQ(created->event().conversation().id(), cid);
    EXPECT_EQ(created->event().conversation().state(), v1::INQUIRY);
    EXPECT_TRUE(created->event().conversation().free_consultation());
    EXPECT_EQ(created->event().conversation().client_id(), alice);
    auto first = specialist->wait_for(is_message_event("first words"));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->event().message().sender_id(), alice);
    EXPECT_EQ(first->event().message().seq(), 1u);

    // Among the specialist's conversations, the inquiry comes first with one unread message.
    auto list = specialist->request(list_conversations());
    ASSERT_TRUE(list && list->has_conversations());
    ASSERT_GE(list->conversations().conversations_size(), 1);
    const auto& c0 = list->conversations().conversations(0);
    EXPECT_EQ(c0.id(), cid);
    EXPECT_EQ(c0.state(), v1::INQUIRY);
    EXPECT_EQ(c0.unread_count(), 1u);
    EXPECT_EQ(c0.last_message().body(), "first words");

    // The specialist replies before accepting, then accepts; both sides hear of it.
    auto reply = must_send(*specialist, send_message(cid, "r1", "I am here"));
    EXPECT_EQ(reply.seq(), 2u);
    ASSERT_TRUE(client->wait_for(is_message_event("I am here")));
    auto accepted = specialist->request(update(cid, v1::ACCEPT));
    ASSERT_TRUE(accepted && accepted->has_conversation());
    EXPECT_EQ(accepted->conversation().conversation().state(), v1::ACTIVE);
    auto seen = client->wait_for([](const v1::Frame& f) {
        return f.has_event() && f.event().has_conversation() &&
               f.event().conversation().state() == v1::ACTIVE;
    });
    ASSERT_TRUE(seen);

    // Accepting again is idempotent; declining an accepted conversation is not allowed.
    auto again = specialist->request(update(cid, v1::ACCEPT));
    ASSERT_TRUE(again && again->has_conversation());
    must_fail(*specialist, update(cid, v1::DECLINE), v1::FAILED_PRECONDITION);
    // Only the specialist accepts or declines.
    must_fail(*client, update(cid, v1::DECLINE), v1::FORBIDDEN);

    // Closed conversations are read-only; the client may open a new inquiry afterwards.
    auto closed = client->request(update(cid, v1::CLOSE));
    ASSERT_TRUE(closed && closed->has_conversation());
    EXPECT_EQ(closed->conversation().conversation().state(), v1::CLOSED);
    must_fail(*client, send_message(cid, "late", "anyone?"), v1::FAILED_PRECONDITION);
    auto second = must_send(*client, start_inquiry(bob, "inq-2", "me again"));
    EXPECT_NE(second.conversation_id(), cid);
}

TEST_F(messaging, SecondInquiryGoesToTheOpenConversation) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob);
    auto more = must_send(*client, start_inquiry(bob, "inq-more", "one more thing"));
    EXPECT_EQ(more.conversation_id(), cid);
    EXPECT_EQ(more.seq(), 2u);
}

TEST_F(messaging, RolesAreEnforced) {
    const auto alice = unique("alice"), carol = unique("carol"), bob = specialist("bob");
    auto client = login(alice, role::client);
    auto other_client = login(carol, role::client);
    // Clients cannot write to clients: a client is no listed specialist.
    must_fail(*client, start_inquiry(carol, "x1", "hi"), v1::NOT_FOUND);
    // Specialists cannot open inquiries (so they cannot write to specialists either).
    auto specialist = login(bob, role::specialist);
    must_fail(*specialist, start_inquiry(unique("dave"), "x2", "hi"), v1::FORBIDDEN);
    // A user id is bound to one role: carol cannot come back as a specialist.
    auto c = server().connect();
    v1::Frame a;
    a.mutable_authenticate()->set_token(mint(carol, role::specialist));
    a.mutable_authenticate()->set_device_id("d");
    auto r = c->request(a);
    ASSERT_TRUE(r && r->has_error());
    EXPECT_EQ(r->error().code(), v1::UNAUTHENTICATED);
}

TEST_F(messaging, SentDeliveredAndReadReceipts) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto specialist = login(bob, role::specialist);
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob, "m1");
    auto m2 = must_send(*client, send_message(cid, "m2", "m2"));
    EXPECT_EQ(m2.seq(), 2u);
    EXPECT_GT(m2.server_time_ms(), 0);

    // Delivered: the specialist's device acks what it received.
    auto ev = specialist->wait_for(is_message_event("m2"));
    ASSERT_TRUE(ev);
    specialist->send(ack(ev->event().cursor()));
    auto delivered = client->wait_for(is_receipt(v1::DELIVERED, 2));
    ASSERT_TRUE(delivered);
    EXPECT_EQ(delivered->receipt().conversation_id(), cid);
    EXPECT_EQ(delivered->receipt().user_id(), bob);

    // Read: the specialist marks read; the client gets a read receipt; unread count drops.
    auto ok = specialist->request(mark_read(cid, 2));
    ASSERT_TRUE(ok && ok->has_ok());
    auto read = client->wait_for(is_receipt(v1::READ, 2));
    ASSERT_TRUE(read);
    EXPECT_EQ(read->receipt().user_id(), bob);
    auto list = specialist->request(list_conversations());
    ASSERT_TRUE(list && list->conversations().conversations_size() == 1);
    EXPECT_EQ(list->conversations().conversations(0).unread_count(), 0u);
    EXPECT_EQ(list->conversations().conversations(0).read_seq(), 2u);
    // The client's view shows the specialist's marks (its ticks).
    auto mine = client->request(list_conversations());
    ASSERT_TRUE(mine && mine->conversations().conversations_size() == 1);
    EXPECT_EQ(mine->conversations().conversations(0).other_read_seq(), 2u);
    EXPECT_EQ(mine->conversations().conversations(0).other_delivered_seq(), 2u);

    // A read mark never moves backwards, and is clamped to the last message.
    ASSERT_TRUE(specialist->request(mark_read(cid, 1))->has_ok());
    ASSERT_TRUE(specialist->request(mark_read(cid, 99))->has_ok());
    auto again = specialist->request(list_conversations());
    EXPECT_EQ(again->conversations().conversations(0).read_seq(), 2u);
}

TEST_F(messaging, UnreadCountsOnlyTheOtherPartysMessages) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto specialist = login(bob, role::specialist);
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob, "c1");      // seq 1
    must_send(*client, send_message(cid, "c2", "c2"));      // 2
    must_send(*specialist, send_message(cid, "s3", "s3"));  // 3
    must_send(*client, send_message(cid, "c4", "c4"));      // 4
    ASSERT_TRUE(specialist->request(mark_read(cid, 2))->has_ok());
    auto list = specialist->request(list_conversations());
    EXPECT_EQ(list->conversations().conversations(0).unread_count(), 1u);  // only c4
    auto mine = client->request(list_conversations());
    EXPECT_EQ(mine->conversations().conversations(0).unread_count(), 1u);  // s3
}

TEST_F(messaging, OfflineRecipientGetsEverythingInOrderOnTwoDevices) {
    const auto alice = unique("alice"), bob = specialist("bob");
    // Bob's two devices have connected once (so the server knows where each stopped), then left.
    {
        auto phone = login(bob, role::specialist, "phone");
        auto laptop = login(bob, role::specialist, "laptop");
    }
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob, "msg-1");
    constexpr int n = 250;  // more than two event batches
    for (int i = 2; i <= n; ++i) {
        must_send(*client, send_message(cid, "m" + std::to_string(i), "msg-" + std::to_string(i)));
    }
    for (const std::string& device : {std::string("phone"), std::string("laptop")}) {
        auto c = login(bob, role::specialist, device);
        // The conversation event first, then every message exactly once, in order.
        auto conv = c->next();
        ASSERT_TRUE(conv && conv->has_event() && conv->event().has_conversation()) << device;
        std::string last_cursor;
        for (int i = 1; i <= n; ++i) {
            auto f = c->next();
            ASSERT_TRUE(f && f->has_event() && f->event().has_message()) << device << " " << i;
            EXPECT_EQ(f->event().message().seq(), static_cast<std::uint64_t>(i));
            EXPECT_EQ(f->event().message().body(), "msg-" + std::to_string(i));
            EXPECT_EQ(f->event().message().conversation_id(), cid);
            last_cursor = f->event().cursor();
        }
        c->send(ack(last_cursor));
        v1::Frame ping;
        ping.mutable_ping();
        ASSERT_TRUE(c->request(ping));  // requests are handled in order: the ack is stored
        // Nothing more.
        EXPECT_FALSE(c->wait_for(is_message_event(), std::chrono::milliseconds(300))) << device;
    }
    // A device that acked everything gets nothing again on its next connection.
    {
        auto phone = login(bob, role::specialist, "phone");
        EXPECT_FALSE(phone->wait_for(is_message_event(), std::chrono::milliseconds(300)));
    }
    // A device can also resume from a cursor it kept: it gets only what came after.
    auto c = server().connect();
    c->login(mint(bob, role::specialist), "tablet", false);
    v1::Frame s;
    s.mutable_sync();  // unknown device: starts at the present
    ASSERT_TRUE(c->request(s)->has_synced());
    must_send(*client, send_message(cid, "after", "after"));
    auto f = c->wait_for(is_message_event());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->event().message().body(), "after");
}

TEST_F(messaging, ResumeFromCursorGetsOnlyWhatWasMissed) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto client = login(alice, role::client);
    std::string cursor;
    {
        auto specialist = login(bob, role::specialist);
        open_inquiry(*client, bob, "one");
        auto ev = specialist->wait_for(is_message_event("one"));
        ASSERT_TRUE(ev);
        cursor = ev->event().cursor();
    }
    auto list = client->request(list_conversations());
    const auto cid = list->conversations().conversations(0).id();
    must_send(*client, send_message(cid, "two", "two"));
    must_send(*client, send_message(cid, "three", "three"));
    auto again = server().connect();
    again->login(mint(bob, role::specialist), "other-device", true, cursor);
    auto f2 = again->next();
    auto f3 = again->next();
    ASSERT_TRUE(f2 && f3);
    EXPECT_EQ(f2->event().message().body(), "two");
    EXPECT_EQ(f3->event().message().body(), "three");
    EXPECT_FALSE(again->next(std::chrono::milliseconds(300)));
}

TEST_F(messaging, ALateAckFromAnOlderConnectionNeverMovesTheCursorBack) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto client = login(alice, role::client);
    auto old_conn = login(bob, role::specialist, "phone");
    const auto cid = open_inquiry(*client, bob, "m1");
    must_send(*client, send_message(cid, "m2", "m2"));
    auto m1 = old_conn->wait_for(is_message_event("m1"));
    auto m2 = old_conn->wait_for(is_message_event("m2"));
    ASSERT_TRUE(m1 && m2);
    // The same device on a new connection acks everything; then the old one's late ack arrives.
    auto new_conn = login(bob, role::specialist, "phone");
    v1::Frame ping;
    ping.mutable_ping();
    new_conn->send(ack(m2->event().cursor()));
    ASSERT_TRUE(new_conn->request(ping));
    old_conn->send(ack(m1->event().cursor()));
    ASSERT_TRUE(old_conn->request(ping));
    // The device's next connection starts after m2: nothing is shown twice.
    auto next = login(bob, role::specialist, "phone");
    EXPECT_FALSE(next->wait_for(is_message_event(), std::chrono::milliseconds(500)));
}

TEST_F(messaging, ResendingTheSameIdDedupesAndAnotherBodyConflicts) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto specialist = login(bob, role::specialist);
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob, "hi");
    auto first = must_send(*client, send_message(cid, "same-id", "body A"));
    auto retry = must_send(*client, send_message(cid, "same-id", "body A"));
    EXPECT_TRUE(retry.duplicate());
    EXPECT_FALSE(first.duplicate());
    EXPECT_EQ(retry.seq(), first.seq());
    EXPECT_EQ(retry.server_time_ms(), first.server_time_ms());
    must_fail(*client, send_message(cid, "same-id", "body B"), v1::CONFLICT);
    // The inquiry itself dedupes too.
    auto inq = must_send(*client, start_inquiry(bob, "inq-" + bob, "hi", true));
    EXPECT_TRUE(inq.duplicate());
    // Stored once: the specialist sees body A exactly once and nothing else.
    std::size_t a = 0;
    while (auto f = specialist->wait_for(is_message_event(), std::chrono::milliseconds(300))) {
        a += f->event().message().body() == "body A";
        EXPECT_NE(f->event().message().body(), "body B");
    }
    EXPECT_EQ(a, 1u);
    auto h = client->request(history(cid));
    ASSERT_TRUE(h && h->has_history());
    EXPECT_EQ(h->history().messages_size(), 2);
    // Ids are scoped to their sender: the specialist may use the same id.
    auto theirs = must_send(*specialist, send_message(cid, "same-id", "their own"));
    EXPECT_FALSE(theirs.duplicate());
}

TEST_F(messaging, HistoryPagesBackwards) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob, "m1");
    for (int i = 2; i <= 7; ++i) {
        must_send(*client, send_message(cid, "m" + std::to_string(i), "m" + std::to_string(i)));
    }
    auto p1 = client->request(history(cid, 0, 3));
    ASSERT_TRUE(p1 && p1->has_history());
    ASSERT_EQ(p1->history().messages_size(), 3);
    EXPECT_EQ(p1->history().messages(0).seq(), 7u);
    EXPECT_EQ(p1->history().messages(2).seq(), 5u);
    EXPECT_TRUE(p1->history().more());
    auto p2 = client->request(history(cid, 5, 10));
    ASSERT_EQ(p2->history().messages_size(), 4);
    EXPECT_EQ(p2->history().messages(0).seq(), 4u);
    EXPECT_EQ(p2->history().messages(3).seq(), 1u);
    EXPECT_EQ(p2->history().messages(3).sender_id(), alice);
    EXPECT_FALSE(p2->history().more());
}

TEST_F(messaging, AThirdUserCanNeitherReadNorWriteAndCannotProbe) {
    const auto alice = unique("alice"), bob = specialist("bob"), eve = unique("eve");
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob, "private");
    for (auto r : {role::client, role::specialist}) {
        auto intruder = login(r == role::client ? eve + "c" : specialist("eve"), r);
        for (const std::string& target : {cid, std::string("no-such-conversation")}) {
            auto e1 = must_fail(*intruder, history(target), v1::FORBIDDEN);
            auto e2 = must_fail(*intruder, send_message(target, "x", "let me in"), v1::FORBIDDEN);
            auto e3 = must_fail(*intruder, mark_read(target, 1), v1::FORBIDDEN);
            auto e4 = must_fail(*intruder, update(target, v1::CLOSE), v1::FORBIDDEN);
            v1::Frame t;
            t.mutable_typing()->set_conversation_id(target);
            t.mutable_typing()->set_typing(true);
            auto e5 = must_fail(*intruder, t, v1::FORBIDDEN);
            // The same words for an existing and a missing conversation: nothing to probe.
            EXPECT_EQ(e1.message(), "no such conversation");
            EXPECT_EQ(e2.message(), "no such conversation");
        }
        auto list = intruder->request(list_conversations());
        EXPECT_EQ(list->conversations().conversations_size(), 0);
    }
    // And nothing leaked to the intruders' streams: the parties' data is untouched.
    auto h = client->request(history(cid));
    EXPECT_EQ(h->history().messages_size(), 1);
}

TEST_F(messaging, OwnMessagesReachTheSendersOtherDevices) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto phone = login(alice, role::client, "phone");
    auto laptop = login(alice, role::client, "laptop");
    open_inquiry(*phone, bob, "from the phone");
    auto ev = laptop->wait_for(is_message_event("from the phone"));
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->event().message().sender_id(), alice);
    EXPECT_EQ(ev->event().message().client_msg_id(), "inq-" + bob);
}

TEST_F(messaging, TypingPassesThroughToTheOtherParty) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto specialist = login(bob, role::specialist);
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob);
    v1::Frame t;
    t.mutable_typing()->set_conversation_id(cid);
    t.mutable_typing()->set_typing(true);
    ASSERT_TRUE(client->request(t)->has_ok());
    auto seen = specialist->wait_for([](const v1::Frame& f) { return f.has_typing_push(); });
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->typing_push().user_id(), alice);
    EXPECT_EQ(seen->typing_push().conversation_id(), cid);
    EXPECT_TRUE(seen->typing_push().typing());
    // Typing is rate limited (burst 5 by default): a flood gets RATE_LIMITED.
    bool limited = false;
    for (int i = 0; i < 20 && !limited; ++i) {
        auto r = client->request(t);
        limited = r && r->has_error() && r->error().code() == v1::RATE_LIMITED;
    }
    EXPECT_TRUE(limited);
}

// A client that asked for it at sync gets its own message's event as the SendReply's cursor, and
// no EventPush of it; its other devices and the other party get the event as always.
TEST_F(messaging, TheSendReplyStandsForTheSendersOwnEventWhenAsked) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto specialist = login(bob, role::specialist);
    auto laptop = login(alice, role::client, "laptop");
    auto phone = server().connect();
    phone->login(mint(alice, role::client), "phone", false);
    v1::Frame s;
    s.mutable_sync()->set_skip_own_echo(true);
    ASSERT_TRUE(phone->request(s)->has_synced());

    // The inquiry's conversation event comes first: unless its notice came before the reply
    // (then the message's notice is held, and the reply stands for it), the message's event does
    // not directly follow the last one pushed to the phone, so it is pushed, and the reply has
    // no cursor.
    auto first = must_send(*phone, start_inquiry(bob, "i1", "first"));
    if (first.cursor().empty()) {
        ASSERT_TRUE(phone->wait_for(is_message_event("first")));
    } else {
        ASSERT_TRUE(phone->wait_for(
            [](const v1::Frame& f) { return f.has_event() && f.event().has_conversation(); }));
    }
    // Now in step: the reply takes the event.
    auto second = must_send(*phone, send_message(first.conversation_id(), "m2", "second"));
    EXPECT_FALSE(second.cursor().empty());
    EXPECT_FALSE(phone->wait_for(is_message_event("second"), 300ms)) << "not pushed back";
    auto on_laptop = laptop->wait_for(is_message_event("second"));
    ASSERT_TRUE(on_laptop);
    EXPECT_EQ(on_laptop->event().cursor(), second.cursor()) << "the same event of alice's stream";
    ASSERT_TRUE(specialist->wait_for(is_message_event("second")));
    // The specialist's answer follows on the phone, pushed.
    must_send(*specialist, send_message(first.conversation_id(), "r1", "answer"));
    auto answer = phone->wait_for(is_message_event("answer"));
    ASSERT_TRUE(answer);
    // Acking the reply's cursor is acking a real event: the phone resumes after it.
    phone->send(ack(second.cursor()));
    v1::Frame ping;
    ping.mutable_ping();
    ASSERT_TRUE(phone->request(ping));
    phone.reset();
    auto again = login(alice, role::client, "phone");
    auto f = again->next(500ms);
    ASSERT_TRUE(f && f->has_event());
    EXPECT_EQ(f->event().message().body(), "answer");
    EXPECT_FALSE(again->wait_for(is_message_event(), 300ms));
}

// Issue 8, item 5: a cursor the server never handed out must not break a device.
TEST_F(messaging, CursorsAfterTheLastEventAreRefusedAndAStoredOneResets) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto client = login(alice, role::client);
    const auto cid = open_inquiry(*client, bob, "one");  // alice's events 1 and 2
    auto specialist = server().connect();
    specialist->login(mint(bob, role::specialist), "phone", false);
    v1::Frame future;
    future.mutable_sync()->set_after_cursor("0-99");
    must_fail(*specialist, future, v1::INVALID_ARGUMENT);
    // Nothing was stored: an ack of a future cursor is refused too, and the device still gets
    // everything once it syncs with a real cursor.
    must_fail(*specialist, ack("0-99"), v1::INVALID_ARGUMENT);
    must_fail(*specialist, ack("1700000000000-0"), v1::INVALID_ARGUMENT);
    v1::Frame from_start;
    from_start.mutable_sync()->set_after_cursor("0-0");
    ASSERT_TRUE(specialist->request(from_start)->has_synced());
    ASSERT_TRUE(specialist->wait_for(is_message_event("one")));

    // A stored cursor past the end (Redis restored from an older file): reset, then the stream
    // starts after the last event there is, and new events arrive.
    const auto acks = "cf:u:{" + bob + "}:acks";
    backend_->on_owner(acks, {"HSET", acks, "v:tablet", "99"});
    auto tablet = server().connect();
    tablet->login(mint(bob, role::specialist), "tablet", false);
    v1::Frame stored;
    stored.mutable_sync();
    auto synced = tablet->request(stored);
    ASSERT_TRUE(synced && synced->has_synced());
    EXPECT_TRUE(synced->synced().reset());
    EXPECT_EQ(synced->synced().from_cursor(), "0-2");
    EXPECT_EQ(backend_->on_owner(acks, {"HGET", acks, "v:tablet"}), "2");
    must_send(*client, send_message(cid, "m2", "two"));
    auto f = tablet->wait_for(is_message_event("two"));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->event().cursor(), "0-3");
}

// The retry of an inquiry whose conversation was closed meanwhile finds that conversation (the
// client's inquiry record), instead of opening a new one with the message in it again.
TEST_F(messaging, AnInquiryRetryAfterItsConversationClosedIsADuplicate) {
    const auto alice = unique("alice"), bob = specialist("bob");
    auto client = login(alice, role::client);
    auto first = must_send(*client, start_inquiry(bob, "inq-once", "please help"));
    ASSERT_TRUE(client->request(update(first.conversation_id(), v1::CLOSE))->has_conversation());
    auto retry = must_send(*client, start_inquiry(bob, "inq-once", "please help"));
    EXPECT_TRUE(retry.duplicate());
    EXPECT_EQ(retry.conversation_id(), first.conversation_id());
    EXPECT_EQ(retry.seq(), first.seq());
    must_fail(*client, start_inquiry(bob, "inq-once", "another text"), v1::CONFLICT);
    // The same id in the conversation by another way is a conflict as well.
    auto next = must_send(*client, start_inquiry(bob, "inq-next", "new topic"));
    EXPECT_NE(next.conversation_id(), first.conversation_id());
    must_fail(*client, send_message(next.conversation_id(), "inq-next", "new topic"), v1::CONFLICT);
}

// Conversations are listed by last activity without an index write per message: the newest
// events say which conversations were active last.
TEST_F(messaging, TheListIsOrderedByLastActivity) {
    const auto alice = unique("alice");
    const auto b1 = specialist("bob"), b2 = specialist("bob"), b3 = specialist("bob");
    auto client = login(alice, role::client);
    const auto c1 = open_inquiry(*client, b1);
    const auto c2 = open_inquiry(*client, b2);
    const auto c3 = open_inquiry(*client, b3);
    must_send(*client, send_message(c1, "again-1", "again"));
    auto list = client->request(list_conversations());
    ASSERT_TRUE(list && list->conversations().conversations_size() == 3);
    EXPECT_EQ(list->conversations().conversations(0).id(), c1);
    EXPECT_EQ(list->conversations().conversations(1).id(), c3);
    EXPECT_EQ(list->conversations().conversations(2).id(), c2);
    EXPECT_EQ(list->conversations().conversations(0).last_seq(), 2u);
    EXPECT_EQ(list->conversations().conversations(0).last_message().body(), "again");
    auto two = client->request(list_conversations(2));
    ASSERT_EQ(two->conversations().conversations_size(), 2);
    EXPECT_EQ(two->conversations().conversations(1).id(), c3);
}

}  // namespace
}  // namespace confide::test
