// The sender's own event in its event stream: a SendReply that stands for it (skip_own_echo),
// and the notices held while the connection's send is in flight (docs/design.md, "Echo
// suppression", "When the notice comes first").

#include "event_stream_fixture.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace confide::test {
namespace {

using namespace std::chrono_literals;

// ---- the sender's own event ------------------------------------------------------------------

TEST_F(event_stream_test, an_own_event_right_after_the_last_one_is_taken_by_the_reply) {
    stream.sync_started(true);
    stream.synced("1-2", 2, batch_of({}), queued, now);
    execute();
    EXPECT_TRUE(own("1-3", 3));
    EXPECT_EQ(stream.cursor(), "1-3");
    EXPECT_EQ(stream.last_n(), 3u);
    // Its notice comes later (or came first: then the reply does not take it, see below).
    notice(message_notice(3, "c1", 5, me));
    EXPECT_TRUE(pushed.empty()) << "the reply stood for it";
    notice(message_notice(4, "c1", 6));
    EXPECT_EQ(pushed_cursors(), (strings{"1-4"}));
    EXPECT_EQ(stream.unacked(), 1u) << "one's own messages need no delivered mark";
}

TEST_F(event_stream_test, an_own_event_is_pushed_when_the_client_did_not_ask) {
    go_live();  // synced without skip_own_echo
    EXPECT_FALSE(own("1-3", 3));
    EXPECT_EQ(stream.cursor(), "1-2");
    notice(message_notice(3, "c1", 5, me));
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
}

TEST_F(event_stream_test, an_own_event_whose_notice_came_first_is_pushed_not_taken) {
    stream.sync_started(true);
    stream.synced("1-2", 2, batch_of({}), queued, now);
    notice(message_notice(3, "c1", 5, me));
    EXPECT_FALSE(own("1-3", 3)) << "already pushed";
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
}

TEST_F(event_stream_test, an_own_event_after_a_gap_or_while_catching_up_is_pushed_in_order) {
    stream.sync_started(true);
    stream.synced("1-2", 2, batch_of({}), queued, now);
    execute();
    // Event 3 (someone else's) is not pushed yet: 4 does not follow the last one pushed.
    EXPECT_FALSE(own("1-4", 4));
    notice(message_notice(4, "c1", 5, me));
    ASSERT_EQ(reads.size(), 1u) << "a gap: read from storage";
    EXPECT_FALSE(own("1-5", 5)) << "reading: not live";
    read_done({message_notice(3, "c1", 4), message_notice(4, "c1", 5, me),
               message_notice(5, "c1", 6, me)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4", "1-5"}));
    read_done({});  // a full batch: the read after it finds the end
    EXPECT_EQ(stream.current(), state::live);
    EXPECT_TRUE(own("1-6", 6));
}

TEST_F(event_stream_test, an_unknown_position_is_never_taken_by_a_reply) {
    stream.sync_started(true);
    stream.synced("1-2", std::nullopt, batch_of({}), queued, now);  // n unknown
    execute();
    EXPECT_FALSE(own("1-3", 3));
}

TEST_F(event_stream_test, a_new_sync_sets_whether_replies_take_own_events) {
    stream.sync_started(true);
    stream.synced("1-2", 2, batch_of({}), queued, now);
    stream.sync_started(false);
    stream.synced("1-2", 2, batch_of({}), queued, now);
    execute();
    EXPECT_FALSE(own("1-3", 3));
}

// ---- notices held while a send is in flight (the notice comes before the reply) ------------

TEST_F(event_stream_test, an_own_notice_before_the_reply_is_held_then_dropped_by_it) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));
    EXPECT_TRUE(pushed.empty());
    EXPECT_EQ(stream.held(), 1u);
    EXPECT_EQ(stream.cursor(), "1-2") << "held is not pushed";
    EXPECT_TRUE(own("1-3", 3)) << "the reply stands for the held event";
    EXPECT_EQ(stream.held(), 0u);
    EXPECT_EQ(stream.cursor(), "1-3");
    send_ended();
    EXPECT_TRUE(pushed.empty());
    notice(message_notice(3, "c1", 5, me));  // again (a read raced): already taken
    notice(message_notice(4, "c1", 6));
    EXPECT_EQ(pushed_cursors(), (strings{"1-4"}));
}

TEST_F(event_stream_test, notices_after_the_held_one_are_held_and_follow_the_reply_in_order) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));
    notice(message_notice(4, "c1", 6));  // someone else's, after it: held too
    notice(receipt_notice(5));           // live signals are not events: they go out
    notice(conversation_notice(5, "c2"));
    EXPECT_EQ(stream.held(), 3u);
    EXPECT_EQ(pushed.size(), 1u);
    EXPECT_TRUE(pushed[0].has_receipt());
    EXPECT_TRUE(own("1-3", 3));
    EXPECT_TRUE(pushed_cursors().empty()) << "the later ones wait for the reply to go out";
    send_ended();
    EXPECT_EQ(pushed_cursors(), (strings{"1-4", "1-5"}));
    EXPECT_EQ(stream.cursor(), "1-5");
    EXPECT_EQ(stream.held(), 0u);
    EXPECT_EQ(stream.unacked(), 1u) << "bob's message, pushed after the reply";
}

TEST_F(event_stream_test, a_failed_send_pushes_what_was_held_in_order) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));  // another device's message: held all the same
    notice(message_notice(4, "c1", 6));
    EXPECT_TRUE(pushed_cursors().empty());
    send_ended();  // UNAVAILABLE, a duplicate, the connection closing: no own_event
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4"}));
    EXPECT_EQ(stream.current(), state::live);
    notice(message_notice(5, "c1", 7));
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4", "1-5"}));
}

TEST_F(event_stream_test, another_devices_held_message_is_pushed_before_the_reply_in_order) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));  // another device's
    EXPECT_FALSE(own("1-9", 9)) << "not the held one, and not next";
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"})) << "pushed before the reply";
    EXPECT_EQ(stream.held(), 0u);
    send_ended();
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
}

TEST_F(event_stream_test, an_own_event_after_a_held_one_is_taken_with_the_earlier_pushed_first) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));  // another device's
    notice(message_notice(4, "c1", 6, me));  // this send's
    notice(message_notice(5, "c1", 7));
    EXPECT_TRUE(own("1-4", 4));
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"})) << "the earlier event precedes the reply";
    send_ended();
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-5"})) << "the later one follows it";
}

TEST_F(event_stream_test, an_own_event_not_noticed_yet_after_the_held_ones_is_taken) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));  // another device's
    EXPECT_TRUE(own("1-4", 4)) << "3 goes out first: 4 then follows the last one pushed";
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
    send_ended();
    notice(message_notice(4, "c1", 6, me));
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
}

TEST_F(event_stream_test, a_held_event_with_another_cursor_is_pushed_not_taken) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));
    EXPECT_FALSE(own("2-3", 3));
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
}

TEST_F(event_stream_test, holding_past_the_bound_pushes_everything_in_order) {
    opts_held.max_held = 2;
    routing::event_stream bounded{user, opts_held};
    bounded.sync_started(true);
    bounded.synced("1-2", 2, batch_of({}), queued, now);
    bounded.send_started();
    bounded.on_notice(message_notice(3, "c1", 5, me), queued, now);
    bounded.on_notice(message_notice(4, "c1", 6), queued, now);
    EXPECT_EQ(bounded.held(), 2u);
    EXPECT_TRUE(bounded.actions().empty());
    bounded.on_notice(message_notice(5, "c1", 7), queued, now);
    EXPECT_EQ(bounded.held(), 0u);
    EXPECT_EQ(bounded.actions().size(), 3u);
    EXPECT_EQ(bounded.cursor(), "1-5");
    bounded.clear_actions();
    EXPECT_FALSE(bounded.own_event("1-3", 3, queued, now)) << "already pushed";
    EXPECT_TRUE(bounded.actions().empty());
}

TEST_F(event_stream_test, a_gap_behind_a_held_notice_pushes_it_and_reads_the_rest) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));
    notice(message_notice(5, "c1", 7));  // 4 was missed
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-3");
    EXPECT_EQ(stream.held(), 0u);
    EXPECT_FALSE(own("1-3", 3));
}

TEST_F(event_stream_test, held_notices_that_do_not_fit_the_queue_are_read_from_storage) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));
    notice(message_notice(4, "c1", 6));
    queued = 1001;  // over a quarter of the bound by the time the send ends
    send_ended();
    EXPECT_TRUE(pushed.empty());
    EXPECT_EQ(stream.current(), state::waiting_for_room);
    written(400);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-2") << "from the last event pushed: nothing is lost";
}

TEST_F(event_stream_test, a_bus_reset_or_a_new_sync_drops_what_is_held_for_a_read) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));
    stream.on_bus_reset(queued, now);
    execute();
    EXPECT_EQ(stream.held(), 0u);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-2");
    EXPECT_FALSE(own("1-3", 3)) << "reading: not live";
    send_ended();
    EXPECT_TRUE(pushed.empty());
}

TEST_F(event_stream_test, nothing_is_held_without_a_send_in_flight_or_skip_own_echo) {
    go_live_skipping_own_echo();
    notice(message_notice(3, "c1", 5, me));  // no send in flight: pushed as today
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
    stream.send_started();
    notice(message_notice(4, "c1", 6));  // someone else's, first in line: pushed
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4"}));
    send_ended();
    sync("1-4", 4, {});  // without skip_own_echo
    stream.send_started();
    notice(message_notice(5, "c1", 7, me));
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4", "1-5"}));
    EXPECT_EQ(stream.held(), 0u);
}

TEST_F(event_stream_test, only_the_last_send_in_flight_ending_pushes_what_is_held) {
    go_live_skipping_own_echo();
    stream.send_started();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));
    notice(message_notice(4, "c1", 6, me));
    EXPECT_TRUE(own("1-3", 3));
    send_ended();
    EXPECT_TRUE(pushed.empty()) << "4 may be the other send's";
    EXPECT_TRUE(own("1-4", 4));
    send_ended();
    EXPECT_TRUE(pushed.empty());
    EXPECT_EQ(stream.cursor(), "1-4");
}

TEST_F(event_stream_test, a_closed_stream_holds_nothing) {
    go_live_skipping_own_echo();
    stream.send_started();
    notice(message_notice(3, "c1", 5, me));
    stream.close();
    EXPECT_EQ(stream.held(), 0u);
    send_ended();
    EXPECT_TRUE(pushed.empty());
}

}  // namespace
}  // namespace confide::test
