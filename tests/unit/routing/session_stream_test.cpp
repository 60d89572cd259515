// A session's event stream through fake ports: where a sync starts, the sync racing a notice,
// live notices and gaps, bus resets, backpressure on the outbound queue, acks, cursors the server
// never handed out, and the sender's own event taken by its SendReply.

#include "session_fixture.hpp"

namespace {

using namespace confide::testing;
namespace close_code = confide::routing::close_code;

// ---- where a sync starts ----------------------------------------------------------------------

TEST_F(session_test, sync_from_a_cursor_sends_synced_then_every_event_after_it) {
    for (std::uint64_t seq = 1; seq <= 4; ++seq) {
        chat.append_message("alice", "c1", seq, "dr.bob");
    }
    auto& c = signed_in();
    const auto rid = send(c, sync_request("1-1"));
    const auto frames = c.out.take_all();
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames[0].request_id(), rid);
    EXPECT_EQ(frames[0].synced().from_cursor(), "1-1");
    EXPECT_FALSE(frames[0].synced().reset());
    EXPECT_EQ(event_cursors(frames), (strings{"1-2", "1-3", "1-4"}));
    // A full first batch (3) is followed by a read, which finds the end.
    ASSERT_EQ(chat.read_calls.size(), 2u);
    EXPECT_TRUE(chat.read_calls[0].check_gap);
    EXPECT_EQ(chat.read_calls[1].after_cursor, "1-4");
    EXPECT_FALSE(chat.read_calls[1].check_gap);
}

TEST_F(session_test, sync_without_a_cursor_resumes_where_the_device_acked) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    chat.append_message("alice", "c1", 2, "dr.bob");
    chat.device_cursors[{"alice", "dev1"}] = "1-1";
    auto& c = signed_in();
    send(c, sync_request());
    const auto frames = c.out.take_all();
    EXPECT_EQ(frames.at(0).synced().from_cursor(), "1-1");
    EXPECT_EQ(event_cursors(frames), strings{"1-2"});
    EXPECT_TRUE(chat.saved_cursors.empty());
}

TEST_F(session_test, the_first_device_of_a_user_gets_everything_kept) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    auto& c = signed_in();
    send(c, sync_request());
    const auto frames = c.out.take_all();
    EXPECT_EQ(frames.at(0).synced().from_cursor(), "0-0");
    EXPECT_EQ(event_cursors(frames), strings{"1-1"});
    using saved = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(chat.saved_cursors, (saved{{"dev1", "0-0"}}));
}

TEST_F(session_test, a_further_new_device_starts_at_the_present) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    chat.append_message("alice", "c1", 2, "dr.bob");
    chat.device_cursors[{"alice", "phone"}] = "1-1";
    auto& c = signed_in("alice", confide::auth::role::client, "laptop");
    send(c, sync_request());
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].synced().from_cursor(), "1-2");
    EXPECT_EQ(chat.device_cursors[std::make_pair("alice", "laptop")], "1-2");
    // Its position is known: the next notice goes out without a storage read.
    const auto reads = chat.read_calls.size();
    bus.deliver("alice", chat.append_message("alice", "c1", 3, "dr.bob"));
    settle();
    EXPECT_EQ(event_cursors(c.out.take_all()), strings{"1-3"});
    EXPECT_EQ(chat.read_calls.size(), reads);
}

TEST_F(session_test, a_cursor_storage_no_longer_has_is_a_reset) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    chat.cursor_gone = true;
    auto& c = signed_in();
    send(c, sync_request("0-5"));
    const auto frames = c.out.take_all();
    EXPECT_TRUE(frames.at(0).synced().reset());
}

TEST_F(session_test, a_failed_sync_is_retryable_and_leaves_the_stream_stopped) {
    chat.failures.fail_next("device_cursor");
    auto& c = signed_in();
    send(c, sync_request());
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::UNAVAILABLE);
    bus.deliver("alice", chat.append_message("alice", "c1", 1, "dr.bob"));
    settle();
    EXPECT_TRUE(c.out.take_all().empty());
    // The retry starts it.
    send(c, sync_request());
    EXPECT_EQ(event_cursors(c.out.take_all()), strings{"1-1"});
}

TEST_F(session_test, every_storage_step_of_a_sync_can_fail_with_a_retryable_error) {
    for (const char* step : {"stream_end", "save_device_cursor", "read_events"}) {
        SCOPED_TRACE(step);
        chat.device_cursors.clear();
        chat.device_cursors[{"alice", "other"}] = "0-0";  // not the first device: stream_end
        auto& c = signed_in("alice", confide::auth::role::client, "new");
        chat.failures.fail_next(step);
        send(c, sync_request());
        EXPECT_EQ(only_reply(c).error().code(), v1::UNAVAILABLE);
    }
}

// ---- the sync racing notices ------------------------------------------------------------------

TEST_F(session_test, an_event_stored_during_the_sync_read_arrives_once_after_synced) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    auto& c = signed_in();
    chat.reads.hold = true;
    send(c, sync_request("0-0"));
    ASSERT_EQ(chat.reads.held(), 1u);
    // Stored and announced while the sync reads: the read may or may not have seen it.
    bus.deliver("alice", chat.append_message("alice", "c1", 2, "dr.bob"));
    settle();
    EXPECT_TRUE(c.out.take_all().empty()) << "nothing goes before the Synced reply";
    chat.reads.hold = false;
    chat.reads.release();
    settle();
    const auto frames = c.out.take_all();
    ASSERT_FALSE(frames.empty());
    EXPECT_TRUE(frames[0].has_synced());
    EXPECT_EQ(event_cursors(frames), (strings{"1-1", "1-2"}));
    EXPECT_EQ(chat.read_calls.size(), 2u) << "one more read for the notice held back";
}

TEST_F(session_test, a_connection_closed_during_the_sync_read_gets_nothing) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    auto& c = signed_in();
    chat.reads.hold = true;
    send(c, sync_request("0-0"));
    close(c);
    chat.reads.release();
    settle();
    EXPECT_TRUE(c.out.take_all().empty());
    EXPECT_EQ(handling, 0);
}

// ---- live -------------------------------------------------------------------------------------

TEST_F(session_test, live_notices_are_pushed_in_order_and_a_gap_is_read_from_storage) {
    auto& c = signed_in();
    send(c, sync_request());
    c.out.take_all();
    bus.deliver("alice", chat.append_message("alice", "c1", 1, "dr.bob"));
    settle();
    EXPECT_EQ(event_cursors(c.out.take_all()), strings{"1-1"});
    const auto reads = chat.read_calls.size();
    chat.append_message("alice", "c1", 2, "dr.bob");  // its notice is lost
    bus.deliver("alice", chat.append_message("alice", "c1", 3, "dr.bob"));
    settle();
    EXPECT_EQ(event_cursors(c.out.take_all()), (strings{"1-2", "1-3"}));
    ASSERT_EQ(chat.read_calls.size(), reads + 1);
    EXPECT_EQ(chat.read_calls.back().after_cursor, "1-1");
}

TEST_F(session_test, live_signals_are_pushed_whatever_the_stream_does) {
    auto& c = signed_in();
    auto r = std::make_shared<confide::routing::notice>();
    r->what =
        confide::routing::receipt{"c1", "dr.bob", confide::routing::receipt_kind::delivered, 3};
    bus.deliver("alice", r);  // before any sync
    settle();
    const auto f = only_reply(c);
    ASSERT_TRUE(f.has_receipt());
    EXPECT_EQ(f.receipt().kind(), v1::DELIVERED);
    EXPECT_EQ(f.receipt().up_to_seq(), 3u);
}

TEST_F(session_test, one_notice_for_two_connections_is_one_encoded_frame) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    auto& phone = signed_in("alice", confide::auth::role::client, "phone");
    auto& laptop = signed_in("alice", confide::auth::role::client, "laptop");
    send(phone, sync_request("0-0"));
    send(laptop, sync_request("0-0"));
    phone.out.take_all();
    laptop.out.take_all();
    const auto before = phone.out.sent.size();
    const auto reads = chat.read_calls.size();
    bus.deliver("alice", chat.append_message("alice", "c1", 2, "dr.bob"));
    settle();
    ASSERT_EQ(phone.out.sent.size(), before + 1);
    EXPECT_EQ(chat.read_calls.size(), reads) << "both in step: pushed as is";
    ASSERT_FALSE(laptop.out.sent.empty());
    EXPECT_EQ(phone.out.sent.back().get(), laptop.out.sent.back().get());
}

TEST_F(session_test, a_bus_reset_rereads_the_stream) {
    auto& c = signed_in();
    send(c, sync_request());
    c.out.take_all();
    chat.append_message("alice", "c1", 1, "dr.bob");  // announced while the bus was away
    bus.reset();
    settle();
    EXPECT_EQ(event_cursors(c.out.take_all()), strings{"1-1"});
}

TEST_F(session_test, a_failed_read_is_retried) {
    auto& c = signed_in();
    send(c, sync_request());
    c.out.take_all();
    chat.append_message("alice", "c1", 1, "dr.bob");
    chat.failures.fail_next("read_events");
    const auto sent = c.out.sent.size();
    bus.deliver("alice", chat.append_message("alice", "c1", 2, "dr.bob"));
    run_until([&] { return c.out.sent.size() >= sent + 2; });
    EXPECT_EQ(event_cursors(c.out.take_all()), (strings{"1-1", "1-2"}));
}

// ---- backpressure -----------------------------------------------------------------------------

TEST_F(session_test, catch_up_pauses_at_a_quarter_of_the_bound_and_resumes_at_an_eighth) {
    config.stream.max_outbound_bytes = 800;  // pauses above 200 bytes queued, resumes at 100
    for (std::uint64_t seq = 1; seq <= 12; ++seq) {
        chat.append_message("alice", "c1", seq, "dr.bob", std::string(40, 'x'));
    }
    auto& c = signed_in();
    c.out.queued = 0;
    send(c, sync_request("0-0"));
    auto frames = c.out.take_all();
    const auto first = event_cursors(frames);
    ASSERT_FALSE(first.empty());
    EXPECT_LT(first.size(), 12u);
    EXPECT_GT(c.out.queued, 200u);
    // The client reads a little: not yet below an eighth, nothing more.
    c.out.queued = 150;
    c.session->on_written();
    settle();
    EXPECT_TRUE(c.out.take_all().empty());
    // Every event arrives, in order, as the client keeps reading.
    std::vector<std::string> all = first;
    for (int round = 0; round < 20 && all.size() < 12; ++round) {
        c.out.drain(*c.session);
        settle();
        for (auto& cursor : event_cursors(c.out.take_all())) {
            all.push_back(cursor);
        }
    }
    strings expected;
    for (int n = 1; n <= 12; ++n) {
        expected.push_back("1-" + std::to_string(n));
    }
    EXPECT_EQ(all, expected);
    EXPECT_FALSE(c.out.close_code);
}

TEST_F(session_test, a_client_that_stops_reading_is_closed_with_4003) {
    config.stream.max_outbound_bytes = 800;
    config.stream.stalled_reader_timeout = std::chrono::milliseconds(0);
    for (std::uint64_t seq = 1; seq <= 12; ++seq) {
        chat.append_message("alice", "c1", seq, "dr.bob", std::string(40, 'x'));
    }
    auto& c = signed_in();
    send(c, sync_request("0-0"));
    run_until([&] { return c.out.close_code.has_value(); });
    EXPECT_EQ(*c.out.close_code, close_code::too_slow);
    const auto frames = c.out.take_all();
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.back().go_away().close_code(), close_code::too_slow);
}

// ---- acks -------------------------------------------------------------------------------------

TEST_F(session_test, an_ack_stores_the_cursor_and_the_delivered_marks) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    chat.append_message("alice", "c1", 2, "alice");  // her own: no receipt
    chat.append_message("alice", "c2", 7, "dr.eve");
    auto& c = signed_in();
    send(c, sync_request("0-0"));
    c.out.take_all();
    send(c, ack_request("1-2"));
    EXPECT_TRUE(c.out.take_all().empty()) << "an ack has no reply unless it fails";
    ASSERT_EQ(chat.ack_calls.size(), 1u);
    EXPECT_EQ(chat.ack_calls[0].user_id, "alice");
    EXPECT_EQ(chat.ack_calls[0].device_id, "dev1");
    EXPECT_EQ(chat.ack_calls[0].cursor, "1-2");
    EXPECT_EQ(chat.ack_calls[0].marks, (confide::routing::delivered_marks{{"c1", 1, "dr.bob"}}));
    send(c, ack_request("1-3"));
    EXPECT_EQ(chat.ack_calls[1].marks, (confide::routing::delivered_marks{{"c2", 7, "dr.eve"}}));
}

TEST_F(session_test, marks_of_a_failed_ack_go_with_the_next_one) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    chat.append_message("alice", "c2", 4, "dr.eve");
    auto& c = signed_in();
    send(c, sync_request("0-0"));
    c.out.take_all();
    chat.failures.fail_next("ack");
    send(c, ack_request("1-1"));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::UNAVAILABLE);
    EXPECT_TRUE(f.error().retryable());
    send(c, ack_request("1-2"));
    ASSERT_EQ(chat.ack_calls.size(), 2u);
    EXPECT_EQ(chat.ack_calls[1].marks,
              (confide::routing::delivered_marks{{"c1", 1, "dr.bob"}, {"c2", 4, "dr.eve"}}));
}

TEST_F(session_test, an_ack_before_any_sync_stores_the_cursor) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    chat.append_message("alice", "c1", 2, "dr.bob");
    auto& c = signed_in();
    send(c, ack_request("1-2"));
    ASSERT_EQ(chat.ack_calls.size(), 1u);
    EXPECT_TRUE(chat.ack_calls[0].marks.empty());
    EXPECT_TRUE(c.out.take_all().empty());
}

// ---- cursors the server never handed out -----------------------------------------------------

TEST_F(session_test, a_sync_from_a_cursor_after_the_last_event_is_refused) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    auto& c = signed_in();
    send(c, sync_request("1-7"));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::INVALID_ARGUMENT);
    EXPECT_FALSE(f.error().retryable());
    EXPECT_TRUE(chat.saved_cursors.empty()) << "nothing stored";
    // The stream did not start: events wait in storage until a sync that works.
    bus.deliver("alice", chat.append_message("alice", "c1", 2, "dr.bob"));
    settle();
    EXPECT_TRUE(c.out.take_all().empty());
    send(c, sync_request("1-1"));
    EXPECT_EQ(event_cursors(c.out.take_all()), strings{"1-2"});
}

TEST_F(session_test, a_stored_cursor_after_the_last_event_resets_to_the_last_event) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    chat.append_message("alice", "c1", 2, "dr.bob");
    chat.device_cursors[{"alice", "dev1"}] = "1-9";  // storage lost events 3 to 9
    auto& c = signed_in();
    send(c, sync_request());
    auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_TRUE(frames[0].synced().reset());
    EXPECT_EQ(frames[0].synced().from_cursor(), "1-2");
    ASSERT_EQ(chat.saved_cursors.size(), 1u);
    EXPECT_EQ(chat.saved_cursors[0].second, "1-2");
    EXPECT_FALSE(chat.saved_forward_only[0]) << "moved back, not forward";
    // New events reach the device again, live (its n is known).
    const auto reads = chat.read_calls.size();
    bus.deliver("alice", chat.append_message("alice", "c1", 3, "dr.bob"));
    settle();
    EXPECT_EQ(event_cursors(c.out.take_all()), strings{"1-3"});
    EXPECT_EQ(chat.read_calls.size(), reads);
}

TEST_F(session_test, an_ack_after_the_last_event_is_refused_and_stores_nothing) {
    chat.append_message("alice", "c1", 1, "dr.bob");
    auto& c = signed_in();
    send(c, sync_request("0-0"));
    c.out.take_all();
    send(c, ack_request("1-2"));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::INVALID_ARGUMENT);
    EXPECT_TRUE(chat.ack_calls.empty());
    // Events that exist but were not pushed to this connection may be acked (another connection
    // of the device processed them): storage says where the stream ends.
    chat.append_message("alice", "c1", 2, "dr.bob");
    send(c, ack_request("1-2"));
    EXPECT_TRUE(c.out.take_all().empty());
    ASSERT_EQ(chat.ack_calls.size(), 1u);
    EXPECT_EQ(chat.ack_calls[0].cursor, "1-2");
}

TEST_F(session_test, an_ack_whose_end_cannot_be_read_is_retryable) {
    auto& c = signed_in();
    chat.failures.fail_next("stream_end");
    send(c, ack_request("1-1"));
    EXPECT_EQ(only_reply(c).error().code(), v1::UNAVAILABLE);
    EXPECT_TRUE(chat.ack_calls.empty());
}

// ---- the sender's own event -------------------------------------------------------------------

class own_echo_test : public session_test {
protected:
    own_echo_test() {
        chat.sends_append_events = true;
        chat.parties["c1"] = {"alice", "dr.bob"};
    }
    // Delivers every notice of the sends so far, as the bus would.
    void deliver_sent() {
        for (const auto& [user, n] : chat.sent_events) {
            bus.deliver(user, n);
        }
        chat.sent_events.clear();
        settle();
    }
};

TEST_F(own_echo_test, the_reply_stands_for_the_event_when_the_client_asks) {
    auto& phone = signed_in("alice", confide::auth::role::client, "phone");
    auto& laptop = signed_in("alice", confide::auth::role::client, "laptop");
    send(phone, sync_request("0-0", true));
    send(laptop, sync_request("0-0"));
    phone.out.take_all();
    laptop.out.take_all();
    send(phone, send_request("c1", "m1"));
    const auto reply = only_reply(phone);
    ASSERT_TRUE(reply.has_sent());
    EXPECT_EQ(reply.sent().cursor(), "1-1");
    deliver_sent();
    EXPECT_TRUE(phone.out.take_all().empty()) << "not pushed back to the sending connection";
    EXPECT_EQ(event_cursors(laptop.out.take_all()), strings{"1-1"}) << "the other device";
    // The stream goes on from there: the next event is pushed without a storage read.
    const auto reads = chat.read_calls.size();
    bus.deliver("alice", chat.append_message("alice", "c1", 2, "dr.bob"));
    settle();
    EXPECT_EQ(event_cursors(phone.out.take_all()), strings{"1-2"});
    EXPECT_EQ(chat.read_calls.size(), reads);
    // Acking the reply's cursor is acking an event this connection was handed.
    send(phone, ack_request("1-1"));
    EXPECT_TRUE(phone.out.take_all().empty());
}

TEST_F(own_echo_test, without_asking_the_reply_has_no_cursor_and_the_event_is_pushed) {
    auto& c = signed_in();
    send(c, sync_request("0-0"));
    c.out.take_all();
    send(c, send_request("c1", "m1"));
    const auto reply = only_reply(c);
    ASSERT_TRUE(reply.has_sent());
    EXPECT_TRUE(reply.sent().cursor().empty());
    deliver_sent();
    EXPECT_EQ(event_cursors(c.out.take_all()), strings{"1-1"});
}

TEST_F(own_echo_test, an_event_that_does_not_follow_the_last_pushed_one_is_pushed_in_order) {
    auto& c = signed_in();
    send(c, sync_request("0-0", true));
    c.out.take_all();
    // Event 1 (from the specialist) is stored but its notice has not come yet.
    chat.append_message("alice", "c1", 1, "dr.bob");
    send(c, send_request("c1", "m1"));  // event 2
    const auto reply = only_reply(c);
    EXPECT_TRUE(reply.sent().cursor().empty());
    deliver_sent();  // 2's notice: a gap, so the stream reads 1 and 2 from storage
    EXPECT_EQ(event_cursors(c.out.take_all()), (strings{"1-1", "1-2"}));
}

// The notice comes before the reply (a cluster, --ack-after-replicas): held, then dropped.
TEST_F(own_echo_test, a_notice_before_the_reply_is_held_and_later_events_follow_the_reply) {
    auto& c = signed_in();
    send(c, sync_request("0-0", true));
    c.out.take_all();
    chat.send_replies.hold = true;
    send(c, send_request("c1", "m1"));  // event 1, stored; the reply waits
    deliver_sent();
    bus.deliver("alice", chat.append_message("alice", "c1", 2, "dr.bob"));
    settle();
    EXPECT_TRUE(c.out.take_all().empty()) << "held while the send is in flight";
    chat.send_replies.release();
    settle();
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 2u);
    ASSERT_TRUE(frames[0].has_sent());
    EXPECT_EQ(frames[0].sent().cursor(), "1-1") << "the reply stands for the held event";
    EXPECT_EQ(event_cursors(frames), strings{"1-2"}) << "after the reply";
}

TEST_F(own_echo_test, a_failed_send_pushes_what_was_held_after_its_error) {
    auto& c = signed_in();
    send(c, sync_request("0-0", true));
    c.out.take_all();
    chat.send_replies.hold = true;
    chat.failures.fail_next("send_message");
    send(c, send_request("c1", "m2"));
    // Another device's message arrives meanwhile: held all the same (whose it is is not known).
    bus.deliver("alice", chat.append_message("alice", "c1", 1, "alice"));
    settle();
    EXPECT_TRUE(c.out.take_all().empty());
    chat.send_replies.release();
    settle();
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].error().code(), v1::UNAVAILABLE);
    EXPECT_EQ(event_cursors(frames), strings{"1-1"});
}

TEST_F(own_echo_test, a_connection_closed_mid_send_holds_nothing_and_pushes_nothing) {
    auto& c = signed_in();
    send(c, sync_request("0-0", true));
    c.out.take_all();
    chat.send_replies.hold = true;
    send(c, send_request("c1", "m1"));
    deliver_sent();
    close(c);
    chat.send_replies.release();
    settle();
    EXPECT_TRUE(event_cursors(c.out.take_all()).empty());
    EXPECT_EQ(handling, 0) << "the send ended";
}

TEST_F(own_echo_test, a_duplicate_reply_never_carries_a_cursor) {
    auto& c = signed_in();
    send(c, sync_request("0-0", true));
    c.out.take_all();
    chat.sends_append_events = false;  // the store answers as for a retry: no new event
    send(c, send_request("c1", "m1"));
    EXPECT_TRUE(only_reply(c).sent().cursor().empty());
}

}  // namespace
