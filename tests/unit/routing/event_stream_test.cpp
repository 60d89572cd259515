// The event stream's state machine, driven with hand-made notices, batches and fake time: every
// state, every input in it, the outbound thresholds, and the unacked list behind delivered marks.

#include "event_stream_fixture.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace confide::test {
namespace {

using namespace std::chrono_literals;

// ---- idle -------------------------------------------------------------------------------------

TEST_F(event_stream_test, starts_idle_ignoring_events_but_passing_live_signals) {
    EXPECT_EQ(stream.current(), state::idle);
    notice(message_notice(1, "c1", 1));
    EXPECT_TRUE(pushed.empty());
    EXPECT_TRUE(reads.empty());
    notice(receipt_notice(7));
    ASSERT_EQ(pushed.size(), 1u);
    ASSERT_TRUE(pushed[0].has_receipt());
    EXPECT_EQ(pushed[0].receipt().up_to_seq(), 7u);
    EXPECT_EQ(pushed[0].request_id(), 0u);
    EXPECT_FALSE(stream.next_wakeup());
}

TEST_F(event_stream_test, idle_ignores_bus_resets_and_ticks) {
    stream.on_bus_reset(queued, now);
    execute();
    now += 1h;
    tick();
    EXPECT_EQ(stream.current(), state::idle);
    EXPECT_TRUE(reads.empty());
    EXPECT_EQ(too_slow, 0);
}

TEST_F(event_stream_test, a_failed_sync_leaves_the_stream_idle) {
    stream.sync_started();
    notice(message_notice(1, "c1", 1));
    stream.sync_failed();
    EXPECT_EQ(stream.current(), state::idle);
    notice(message_notice(2, "c1", 2));
    EXPECT_TRUE(pushed.empty());
    EXPECT_TRUE(reads.empty());
}

// ---- syncing ----------------------------------------------------------------------------------

TEST_F(event_stream_test, syncing_notes_events_and_passes_live_signals) {
    stream.sync_started();
    EXPECT_EQ(stream.current(), state::syncing);
    notice(message_notice(1, "c1", 1));
    EXPECT_TRUE(stream.wake_pending());
    notice(receipt_notice(3));
    ASSERT_EQ(pushed.size(), 1u);
    EXPECT_TRUE(pushed[0].has_receipt());
    EXPECT_TRUE(reads.empty());
}

TEST_F(event_stream_test, synced_pushes_the_first_batch_in_order_then_goes_live) {
    sync("0-0", 0, {message_notice(1, "c1", 1), conversation_notice(2, "c2")});
    EXPECT_EQ(pushed_cursors(), (strings{"1-1", "1-2"}));
    EXPECT_TRUE(pushed[0].event().has_message());
    EXPECT_EQ(pushed[0].event().message().body(), "body 1");
    EXPECT_TRUE(pushed[1].event().has_conversation());
    EXPECT_EQ(stream.current(), state::live);
    EXPECT_EQ(stream.cursor(), "1-2");
    EXPECT_EQ(stream.last_n(), 2u);
    EXPECT_TRUE(reads.empty());
}

TEST_F(event_stream_test, a_notice_during_the_sync_read_makes_one_more_read) {
    // The sync/notice race: event 3 was stored while the sync read; whether the read saw it or
    // not, one more read from the stream's position settles it.
    stream.sync_started();
    notice(message_notice(3, "c1", 3));
    stream.synced("1-0", 0, batch_of({message_notice(1, "c1", 1), message_notice(2, "c1", 2)}),
                  queued, now);
    execute();
    EXPECT_EQ(pushed_cursors(), (strings{"1-1", "1-2"}));
    EXPECT_EQ(stream.current(), state::reading);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-2");
    EXPECT_EQ(reads[0].limit, 3u);
    read_done({message_notice(3, "c1", 3)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-1", "1-2", "1-3"}));
    EXPECT_EQ(stream.current(), state::live);
    EXPECT_FALSE(stream.wake_pending());
}

TEST_F(event_stream_test, a_notice_already_in_the_sync_batch_is_not_pushed_twice) {
    stream.sync_started();
    notice(message_notice(2, "c1", 2));
    stream.synced("1-0", 0, batch_of({message_notice(1, "c1", 1), message_notice(2, "c1", 2)}),
                  queued, now);
    execute();
    read_done({});                       // the extra read finds nothing new
    notice(message_notice(2, "c1", 2));  // and the notice itself comes late
    EXPECT_EQ(pushed_cursors(), (strings{"1-1", "1-2"}));
    EXPECT_EQ(stream.current(), state::live);
}

TEST_F(event_stream_test, a_full_first_batch_is_followed_by_a_read) {
    sync("0-0", 0,
         {message_notice(1, "c1", 1), message_notice(2, "c1", 2), message_notice(3, "c1", 3)});
    EXPECT_EQ(stream.current(), state::reading);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-3");
}

TEST_F(event_stream_test, a_first_batch_over_the_high_water_mark_waits_for_room) {
    queued = 1000;  // exactly at 1/4 of the bound: one more event still goes
    sync("0-0", 0, {message_notice(1, "c1", 1), message_notice(2, "c1", 2)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-1"}));
    EXPECT_EQ(stream.current(), state::waiting_for_room);
    EXPECT_EQ(stream.cursor(), "1-1");
    EXPECT_EQ(stream.next_wakeup(), now + 30s);
    EXPECT_TRUE(reads.empty());
}

TEST_F(event_stream_test, a_new_sync_drops_the_read_in_flight) {
    go_live();
    notice(message_notice(5, "c1", 5));  // a gap: read
    ASSERT_EQ(reads.size(), 1u);
    const auto stale = reads[0].id;
    stream.sync_started();
    stream.on_read(stale, batch_of({message_notice(3, "c1", 3)}), queued, now);
    execute();
    EXPECT_TRUE(pushed.empty());
    EXPECT_EQ(stream.current(), state::syncing);
    sync("1-4", 0, {message_notice(5, "c1", 5)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-5"}));
    EXPECT_EQ(stream.current(), state::live);
}

TEST_F(event_stream_test, a_bus_reset_during_the_sync_makes_one_more_read) {
    stream.sync_started();
    stream.on_bus_reset(queued, now);
    execute();
    stream.synced("1-2", 2, batch_of({}), queued, now);
    execute();
    EXPECT_EQ(stream.current(), state::reading);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-2");
}

// ---- live -------------------------------------------------------------------------------------

TEST_F(event_stream_test, live_pushes_the_next_notice_without_reading) {
    go_live();
    notice(message_notice(3, "c1", 3));
    notice(message_notice(4, "c1", 4));
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4"}));
    EXPECT_EQ(stream.cursor(), "1-4");
    EXPECT_EQ(stream.last_n(), 4u);
    EXPECT_TRUE(reads.empty());
    EXPECT_EQ(stream.current(), state::live);
}

TEST_F(event_stream_test, live_ignores_a_notice_already_pushed) {
    go_live();
    notice(message_notice(2, "c1", 2));
    notice(message_notice(1, "c1", 1));
    EXPECT_TRUE(pushed.empty());
    EXPECT_TRUE(reads.empty());
}

TEST_F(event_stream_test, a_gap_reads_the_missed_events_from_storage) {
    go_live();
    notice(message_notice(5, "c1", 5));  // 3 and 4 were missed
    EXPECT_TRUE(pushed.empty());
    EXPECT_EQ(stream.current(), state::reading);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-2");
    read_done({message_notice(3, "c1", 3), message_notice(4, "c1", 4), message_notice(5, "c1", 5)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4", "1-5"}));
    // A full batch: one more read, which finds the end.
    ASSERT_EQ(reads.size(), 2u);
    EXPECT_EQ(reads[1].after_cursor, "1-5");
    read_done({});
    EXPECT_EQ(stream.current(), state::live);
}

TEST_F(event_stream_test, a_notice_without_its_content_reads_the_event_from_storage) {
    go_live();
    // The next event, but sealed with a key this node has not opened yet: only its position.
    auto sealed = std::make_shared<routing::notice>();
    sealed->n = 3;
    sealed->cursor = "1-3";
    sealed->content_elsewhere = true;
    notice(sealed);
    EXPECT_TRUE(pushed.empty()) << "nothing of it is pushed";
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-2");
    read_done({message_notice(3, "c1", 3)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
    EXPECT_EQ(stream.current(), state::live);
    // Already pushed: a late position-only notice of it changes nothing.
    notice(sealed);
    EXPECT_EQ(reads.size(), 1u);
}

TEST_F(event_stream_test, a_position_before_the_first_event_pushes_the_first_notice_as_is) {
    stream.sync_started();
    stream.synced("0-0", 0, batch_of({}), queued, now);  // n known: nothing before
    execute();
    notice(message_notice(1, "c1", 1));
    EXPECT_EQ(pushed_cursors(), (strings{"1-1"}));
    EXPECT_TRUE(reads.empty());
}

TEST_F(event_stream_test, an_unknown_position_checks_storage_on_the_next_notice) {
    sync("1-7", 0, {});  // resumed from a cursor with nothing after it: n unknown
    EXPECT_EQ(stream.current(), state::live);
    EXPECT_FALSE(stream.last_n());
    notice(message_notice(8, "c1", 8));
    EXPECT_TRUE(pushed.empty());
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-7");
    read_done({message_notice(8, "c1", 8)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-8"}));
    EXPECT_EQ(stream.last_n(), 8u);
    notice(message_notice(9, "c1", 9));
    EXPECT_EQ(pushed_cursors(), (strings{"1-8", "1-9"}));
    EXPECT_EQ(reads.size(), 1u);
}

TEST_F(event_stream_test, live_with_a_queue_over_a_quarter_waits_for_room_instead_of_pushing) {
    go_live();
    queued = 1001;
    notice(message_notice(3, "c1", 3));
    EXPECT_TRUE(pushed.empty());
    EXPECT_TRUE(reads.empty());
    EXPECT_EQ(stream.current(), state::waiting_for_room);
    EXPECT_EQ(stream.next_wakeup(), now + 30s);
}

TEST_F(event_stream_test, live_with_a_queue_at_a_quarter_still_pushes) {
    go_live();
    queued = 1000;
    notice(message_notice(3, "c1", 3));
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
    EXPECT_EQ(stream.current(), state::live);
}

TEST_F(event_stream_test, a_bus_reset_while_live_rereads_from_the_cursor) {
    go_live();
    stream.on_bus_reset(queued, now);
    execute();
    EXPECT_FALSE(stream.last_n());
    EXPECT_EQ(stream.current(), state::reading);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-2");
    read_done({message_notice(3, "c1", 3)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
    EXPECT_EQ(stream.current(), state::live);
    EXPECT_EQ(stream.last_n(), 3u);
}

// ---- reading ----------------------------------------------------------------------------------

TEST_F(event_stream_test, entries_left_out_of_a_read_are_passed_and_a_full_read_reads_on) {
    // A sync from "1-0" reads three entries of which only the first has a message left
    // (retention deleted the others): the stream stands after all three and reads on.
    stream.sync_started();
    auto first = batch_of({message_notice(1, "c1", 1)});
    first.entries_read = 3;
    first.last_cursor = "1-3";
    first.last_n = 3;
    stream.synced("1-0", std::nullopt, first, queued, now);
    execute();
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-3");
    // Nothing left in that read either, and it was not full: live, after n = 5.
    auto empty = batch_of({});
    empty.entries_read = 2;
    empty.last_cursor = "1-5";
    empty.last_n = 5;
    stream.on_read(reads.back().id, empty, queued, now);
    execute();
    EXPECT_EQ(stream.current(), state::live);
    // The next live event follows directly: pushed without a read.
    notice(message_notice(6, "c1", 4));
    EXPECT_EQ(pushed_cursors(), (strings{"1-1", "1-6"}));
    EXPECT_EQ(reads.size(), 1u);
}

TEST_F(event_stream_test, notices_while_reading_make_one_more_read) {
    go_live();
    notice(message_notice(4, "c1", 4));
    ASSERT_EQ(stream.current(), state::reading);
    notice(message_notice(5, "c1", 5));
    notice(message_notice(6, "c1", 6));
    EXPECT_TRUE(stream.wake_pending());
    EXPECT_EQ(reads.size(), 1u);
    read_done({message_notice(3, "c1", 3), message_notice(4, "c1", 4)});
    ASSERT_EQ(reads.size(), 2u);
    EXPECT_EQ(reads[1].after_cursor, "1-4");
    EXPECT_FALSE(stream.wake_pending());
    read_done({message_notice(5, "c1", 5), message_notice(6, "c1", 6)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4", "1-5", "1-6"}));
    EXPECT_EQ(stream.current(), state::live);
}

TEST_F(event_stream_test, a_read_of_a_replaced_stream_is_ignored) {
    go_live();
    notice(message_notice(4, "c1", 4));
    const auto first = reads.back().id;
    stream.on_read(first + 1, batch_of({message_notice(3, "c1", 3)}), queued, now);
    execute();
    EXPECT_TRUE(pushed.empty());
    EXPECT_EQ(stream.current(), state::reading);
}

TEST_F(event_stream_test, a_read_over_the_high_water_mark_pauses_mid_batch) {
    go_live();
    notice(message_notice(5, "c1", 5));
    queued = 990;
    read_done({message_notice(3, "c1", 3), message_notice(4, "c1", 4), message_notice(5, "c1", 5)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-3"}));
    EXPECT_EQ(stream.cursor(), "1-3");
    EXPECT_EQ(stream.current(), state::waiting_for_room);
}

TEST_F(event_stream_test, a_failed_read_is_retried_after_the_delay) {
    go_live();
    notice(message_notice(4, "c1", 4));
    read_failed();
    EXPECT_EQ(stream.current(), state::retry_wait);
    EXPECT_EQ(stream.next_wakeup(), now + 1s);
    now += 999ms;
    tick();
    EXPECT_EQ(reads.size(), 1u);
    now += 1ms;
    tick();
    EXPECT_EQ(stream.current(), state::reading);
    ASSERT_EQ(reads.size(), 2u);
    EXPECT_EQ(reads[1].after_cursor, "1-2");
    read_done({message_notice(3, "c1", 3), message_notice(4, "c1", 4)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4"}));
    EXPECT_EQ(stream.current(), state::live);
}

// ---- waiting_for_room -------------------------------------------------------------------------

TEST_F(event_stream_test, waiting_for_room_resumes_at_an_eighth_of_the_bound) {
    go_live();
    queued = 2000;
    notice(message_notice(4, "c1", 4));
    ASSERT_EQ(stream.current(), state::waiting_for_room);
    written(1000);  // below 1/4 but not 1/8 yet
    EXPECT_EQ(stream.current(), state::waiting_for_room);
    written(501);
    EXPECT_TRUE(reads.empty());
    written(500);
    EXPECT_EQ(stream.current(), state::reading);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].after_cursor, "1-2");
    EXPECT_FALSE(stream.next_wakeup());
}

TEST_F(event_stream_test, a_reader_stalled_past_the_timeout_is_closed_as_too_slow) {
    go_live();
    queued = 2000;
    notice(message_notice(3, "c1", 3));
    now += 29s;
    tick();
    written(900);  // it read a little, not enough
    EXPECT_EQ(too_slow, 0);
    now += 1s;
    tick();
    EXPECT_EQ(too_slow, 1);
    EXPECT_EQ(stream.current(), state::closed);
    written(0);
    EXPECT_TRUE(reads.empty());
}

TEST_F(event_stream_test, notices_while_waiting_are_read_after_resuming) {
    go_live();
    queued = 2000;
    notice(message_notice(3, "c1", 3));
    notice(message_notice(4, "c1", 4));
    EXPECT_TRUE(stream.wake_pending());
    EXPECT_TRUE(pushed.empty());
    written(0);
    read_done({message_notice(3, "c1", 3)});
    ASSERT_EQ(reads.size(), 2u) << "the notice of 4 came while paused";
    read_done({message_notice(4, "c1", 4)});
    EXPECT_EQ(pushed_cursors(), (strings{"1-3", "1-4"}));
    EXPECT_EQ(stream.current(), state::live);
}

TEST_F(event_stream_test, a_bus_reset_while_waiting_is_remembered) {
    go_live();
    queued = 2000;
    notice(message_notice(3, "c1", 3));
    stream.on_bus_reset(queued, now);
    execute();
    EXPECT_EQ(stream.current(), state::waiting_for_room);
    EXPECT_TRUE(stream.wake_pending());
    EXPECT_FALSE(stream.last_n());
}

// ---- retry_wait -------------------------------------------------------------------------------

TEST_F(event_stream_test, retry_wait_notes_notices_and_ignores_writes) {
    go_live();
    notice(message_notice(4, "c1", 4));
    read_failed();
    notice(message_notice(5, "c1", 5));
    EXPECT_TRUE(stream.wake_pending());
    written(0);
    EXPECT_EQ(stream.current(), state::retry_wait);
    EXPECT_EQ(reads.size(), 1u);
}

TEST_F(event_stream_test, a_retry_with_a_full_queue_waits_for_room) {
    go_live();
    notice(message_notice(4, "c1", 4));
    read_failed();
    queued = 1500;
    now += 1s;
    tick();
    EXPECT_EQ(stream.current(), state::waiting_for_room);
    EXPECT_EQ(stream.next_wakeup(), now + 30s);
    EXPECT_EQ(reads.size(), 1u);
}

// ---- closed -----------------------------------------------------------------------------------

TEST_F(event_stream_test, closed_ignores_everything) {
    go_live();
    notice(message_notice(4, "c1", 4));
    stream.close();
    EXPECT_EQ(stream.current(), state::closed);
    read_done({message_notice(3, "c1", 3)});
    notice(message_notice(5, "c1", 5));
    notice(receipt_notice(1));
    stream.on_bus_reset(queued, now);
    stream.sync_started();
    stream.synced("0-0", 0, batch_of({message_notice(1, "c1", 1)}), queued, now);
    now += 1h;
    tick();
    EXPECT_TRUE(pushed.empty());
    EXPECT_EQ(reads.size(), 1u);
    EXPECT_TRUE(stream.actions().empty());
    EXPECT_FALSE(stream.next_wakeup());
    EXPECT_EQ(stream.current(), state::closed);
}

// ---- unacked events and delivered marks -------------------------------------------------------

TEST_F(event_stream_test, acks_turn_pushed_messages_of_others_into_delivered_marks) {
    sync(
        "0-0", 0,
        {message_notice(1, "c1", 1), message_notice(2, "c1", 2, me), conversation_notice(3, "c2")});
    read_done({});  // a full first batch: the read after it finds the end
    notice(message_notice(4, "c2", 1));
    notice(message_notice(5, "c1", 3));
    EXPECT_EQ(stream.unacked(), 3u) << "not one's own messages, not conversation events";
    EXPECT_EQ(stream.take_marks(at(4)),
              (routing::delivered_marks{{"c1", 1, "bob"}, {"c2", 1, "bob"}}));
    EXPECT_EQ(stream.unacked(), 1u);
    EXPECT_TRUE(stream.take_marks(at(4)).empty());
    EXPECT_EQ(stream.take_marks(at(9)), (routing::delivered_marks{{"c1", 3, "bob"}}));
    EXPECT_EQ(stream.unacked(), 0u);
}

TEST_F(event_stream_test, marks_whose_store_failed_come_back_with_the_next_ack) {
    sync("0-0", 0, {message_notice(1, "c1", 4), message_notice(2, "c2", 7)});
    const auto first = stream.take_marks(at(2));
    ASSERT_EQ(first, (routing::delivered_marks{{"c1", 4, "bob"}, {"c2", 7, "bob"}}));
    stream.restore_marks(first);
    EXPECT_EQ(stream.pending_marks(), 2u);
    notice(message_notice(3, "c1", 5));
    EXPECT_EQ(stream.take_marks(at(3)),
              (routing::delivered_marks{{"c1", 5, "bob"}, {"c2", 7, "bob"}}));
    EXPECT_EQ(stream.pending_marks(), 0u);
}

TEST_F(event_stream_test, a_client_that_never_acks_loses_only_the_oldest_marks) {
    sync("0-0", 0, {message_notice(1, "c1", 1), message_notice(2, "c2", 1)});
    for (std::uint64_t n = 3; n <= 6; ++n) {
        notice(message_notice(n, "c3", n));
    }
    EXPECT_EQ(stream.unacked(), 4u);  // max_unacked: 1-1 and 1-2 were forgotten
    EXPECT_EQ(stream.take_marks(at(6)), (routing::delivered_marks{{"c3", 6, "bob"}}));
}

TEST_F(event_stream_test, a_sync_forgets_unacked_events_but_keeps_pending_marks) {
    sync("0-0", 0, {message_notice(1, "c1", 1), message_notice(2, "c2", 2)});
    stream.restore_marks(stream.take_marks(at(1)));
    sync("1-0", 0, {});
    EXPECT_EQ(stream.unacked(), 0u);
    EXPECT_EQ(stream.take_marks(at(9)), (routing::delivered_marks{{"c1", 1, "bob"}}));
}

// ---- frames -----------------------------------------------------------------------------------

TEST_F(event_stream_test, a_notice_pushed_by_several_streams_is_encoded_once) {
    const std::string carol = "carol";
    routing::event_stream other(carol, opts);
    const auto n = message_notice(3, "c1", 3);
    go_live();
    other.sync_started();
    other.synced("1-2", 2, batch_of({}), 0, now);
    stream.on_notice(n, queued, now);
    other.on_notice(n, 0, now);
    ASSERT_EQ(stream.actions().size(), 1u);
    ASSERT_EQ(other.actions().size(), 1u);
    EXPECT_EQ(std::get<routing::event_stream::push>(stream.actions()[0]).frame,
              std::get<routing::event_stream::push>(other.actions()[0]).frame);
}

}  // namespace
}  // namespace confide::test
