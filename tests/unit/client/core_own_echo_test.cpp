// The client core with echo suppression (options::skip_own_echo): a SendReply that carries a
// cursor stands for the push of our own message's event. No sockets, fake time.

#include "core_harness.hpp"

namespace {

using namespace confide::client::test;

// The reply of a connection that synced with skip_own_echo, when the server skips the push.
v1::Frame sent_reply_with_cursor(const v1::Frame& request, const std::string& conversation,
                                 std::uint64_t seq, const std::string& cursor) {
    auto f = sent_reply(request, conversation, seq);
    f.mutable_sent()->set_cursor(cursor);
    return f;
}

TEST_F(core_test, the_library_asks_for_echo_suppression_unless_told_not_to) {
    make();
    start_and_establish();
    EXPECT_TRUE(last_sync.skip_own_echo());
    auto o = default_options();
    o.skip_own_echo = false;
    make(o);
    opened.clear();
    start_and_establish();
    EXPECT_FALSE(last_sync.skip_own_echo());
}

TEST_F(core_test, a_reply_with_a_cursor_is_the_sent_message_and_the_next_event) {
    make();
    auto c = start_and_establish("c0");
    core->send_message("m1", "A", "hello", now);
    pump();
    server_sends(c, sent_reply_with_cursor(take(v1::Frame::kSendMessage), "A", 5, "c1"));
    // Shown once, as sent, with the reply's seq and server time; not as an incoming message.
    const auto u = updates_for("m1");
    ASSERT_EQ(u.size(), 2U);
    EXPECT_EQ(u[1].state, cc::send_state::sent);
    EXPECT_EQ(u[1].seq, 5U);
    EXPECT_EQ(u[1].server_time_ms, 1005);
    EXPECT_EQ(u[1].conversation_id, "A");
    EXPECT_TRUE(messages.empty());
    EXPECT_EQ(core->cursor(), "c1");
    // The next push follows it; should the server push the event after all (it resumed from an
    // older cursor), it is not shown twice.
    server_sends(c, message_event("c1", "A", 5, "alice", "m1"));
    server_sends(c, message_event("c2", "A", 6, "drbob"));
    ASSERT_EQ(messages.size(), 1U);
    EXPECT_EQ(messages[0].seq, 6U);
    EXPECT_EQ(core->cursor(), "c2");
    // Our own message sent from another device is still shown, as outgoing.
    server_sends(c, message_event("c3", "A", 7, "alice", "other-device-1"));
    ASSERT_EQ(messages.size(), 2U);
    EXPECT_TRUE(messages[1].outgoing);
}

TEST_F(core_test, a_cursor_of_our_own_messages_alone_is_acked_lazily) {
    make();
    auto c = start_and_establish("c0");
    sent.clear();
    core->send_message("m1", "A", "1", now);
    pump();
    server_sends(c, sent_reply_with_cursor(take(v1::Frame::kSendMessage), "A", 1, "c1"));
    advance(100ms);
    EXPECT_EQ(count(v1::Frame::kAck), 0U);  // nobody waits for it
    advance(900ms);
    ASSERT_EQ(count(v1::Frame::kAck), 1U);
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c1");
    EXPECT_EQ(saved_cursors, std::vector<std::string>{"c1"});

    // Another party's event brings the ack forward, and it covers our own events too.
    core->send_message("m2", "A", "2", now);
    pump();
    server_sends(c, sent_reply_with_cursor(take(v1::Frame::kSendMessage), "A", 2, "c2"));
    advance(50ms);
    server_sends(c, message_event("c3", "A", 3, "drbob"));
    core->send_message("m3", "A", "3", now);
    pump();
    server_sends(c, sent_reply_with_cursor(take(v1::Frame::kSendMessage), "A", 4, "c4"));
    advance(100ms);
    ASSERT_EQ(count(v1::Frame::kAck), 1U);
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c4");
    advance(2s);
    EXPECT_EQ(count(v1::Frame::kAck), 0U);

    // A reply without a cursor (the event comes as a push) moves nothing.
    core->send_message("m4", "A", "4", now);
    pump();
    server_sends(c, sent_reply(take(v1::Frame::kSendMessage), "A", 5));
    EXPECT_EQ(core->cursor(), "c4");
    advance(2s);
    EXPECT_EQ(count(v1::Frame::kAck), 0U);
}

TEST_F(core_test, stop_acks_our_own_events_and_a_reconnect_resumes_after_them) {
    make();
    auto c1 = start_and_establish("c0");
    core->send_message("m1", "A", "1", now);
    pump();
    server_sends(c1, sent_reply_with_cursor(take(v1::Frame::kSendMessage), "A", 1, "c1"));
    lose(c1);  // before the lazy ack
    wait_for_attempt();
    sent.clear();
    auto c2 = establish("c1");
    EXPECT_EQ(last_sync.after_cursor(), "c1");
    EXPECT_TRUE(last_sync.skip_own_echo());
    advance(100ms);
    ASSERT_EQ(count(v1::Frame::kAck), 1U);  // the processed cursor again, as after any loss
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c1");
    core->send_message("m2", "A", "2", now);
    pump();
    server_sends(c2, sent_reply_with_cursor(take(v1::Frame::kSendMessage), "A", 2, "c2"));
    core->stop(now);
    pump();
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c2");
    EXPECT_EQ(updates_for("m1").back().state, cc::send_state::sent);
    EXPECT_EQ(updates_for("m2").back().state, cc::send_state::sent);
    EXPECT_TRUE(messages.empty());
}

TEST_F(core_test, a_late_reply_with_a_cursor_still_moves_the_cursor) {
    make();
    auto c = start_and_establish("c0");
    core->send_message("m1", "A", "1", now);
    pump();
    auto first = take(v1::Frame::kSendMessage);
    // No reply within the request timeout: the message goes again with the same id.
    for (int i = 0; i < 5; ++i) {
        advance(2s);
        server_sends(c, ok_reply(999));
    }
    auto again = take(v1::Frame::kSendMessage);
    ASSERT_NE(again.request_id(), first.request_id());
    // The first reply arrives late: the server will not push that event, so it is processed.
    server_sends(c, sent_reply_with_cursor(first, "A", 1, "c1"));
    EXPECT_EQ(core->cursor(), "c1");
    // The retry is a duplicate (no cursor: its event was the first one's).
    server_sends(c, sent_reply(again, "A", 1, true));
    const auto u = updates_for("m1");
    EXPECT_EQ(std::count_if(u.begin(), u.end(),
                            [](const auto& x) { return x.state == cc::send_state::sent; }),
              1);
    EXPECT_EQ(core->outbox_size(), 0U);
    EXPECT_TRUE(messages.empty());
}

}  // namespace
