// What the core offers beyond the library's defaults, for the load generator: pipelined sends
// within a window, reconnect(), the synced notice, the observer, lean reporting; and the
// behaviour both share where it changed with them (pings only on a quiet connection).

#include "core_harness.hpp"

namespace {

using namespace confide::client::test;

// Records what the core shows its observer.
struct recording_observer final : d::observer {
    void on_sending(const v1::Frame& f) override { sending.push_back(f.kind_case()); }
    void on_received(const v1::Frame& f) override { received.push_back(f.kind_case()); }
    void on_malformed() override { ++malformed; }
    void on_stored(const d::outbox_item& item, const std::string& conversation_id,
                   std::uint64_t seq, const v1::SendReply* reply) override {
        stored.push_back({item.client_msg_id, conversation_id, seq, reply != nullptr,
                          reply != nullptr && reply->duplicate()});
    }

    struct store {
        std::string client_msg_id;
        std::string conversation_id;
        std::uint64_t seq = 0;
        bool by_reply = false;
        bool duplicate = false;
    };
    std::vector<v1::Frame::KindCase> sending;
    std::vector<v1::Frame::KindCase> received;
    int malformed = 0;
    std::vector<store> stored;
};

std::vector<std::string> ids_of(std::deque<std::pair<d::conn_id, v1::Frame>>& sent) {
    std::vector<std::string> out;
    for (auto& [id, f] : sent) {
        if (f.has_send_message()) {
            out.push_back(f.send_message().client_msg_id());
        }
    }
    return out;
}

using core_tuning_test = core_test;

TEST_F(core_tuning_test, sends_are_pipelined_per_conversation_within_the_window) {
    d::tuning t;
    t.in_flight_per_conversation = 3;
    t.in_flight_per_connection = 4;
    make(default_options(), t);
    for (const char* id : {"a1", "a2", "a3", "a4", "a5"}) {
        core->send_message(id, "A", "x", now);
    }
    core->send_message("b1", "B", "x", now);
    core->send_message("b2", "B", "x", now);
    pump();
    auto c = start_and_establish();
    // Three of A (its bound), one of B (the window's fourth).
    EXPECT_EQ(ids_of(sent), (std::vector<std::string>{"a1", "a2", "a3", "b1"}));
    auto a1 = take(v1::Frame::kSendMessage);
    auto a2 = take(v1::Frame::kSendMessage);
    sent.clear();
    server_sends(c, sent_reply(a2, "A", 2));
    EXPECT_EQ(ids_of(sent), (std::vector<std::string>{"a4"}));
    server_sends(c, sent_reply(a1, "A", 1));
    EXPECT_EQ(ids_of(sent), (std::vector<std::string>{"a4", "a5"}));
    EXPECT_EQ(core->outbox_size(), 5U);
}

TEST_F(core_tuning_test, a_message_waiting_for_its_retry_holds_back_those_behind_it) {
    d::tuning t;
    t.in_flight_per_conversation = 2;
    make(default_options(), t);
    auto c = start_and_establish();
    for (const char* id : {"a1", "a2", "a3"}) {
        core->send_message(id, "A", "x", now);
    }
    pump();
    auto a1 = take(v1::Frame::kSendMessage);
    auto a2 = take(v1::Frame::kSendMessage);
    server_sends(c, error_reply(a1.request_id(), v1::UNAVAILABLE, true));
    server_sends(c, sent_reply(a2, "A", 1));
    // a3 is within the two that may be in flight, but behind a1.
    EXPECT_EQ(count(v1::Frame::kSendMessage), 0U);
    advance(500ms);
    EXPECT_EQ(ids_of(sent), (std::vector<std::string>{"a1", "a3"}));
}

TEST_F(core_tuning_test, reconnect_drops_and_resumes_soon_without_growing_the_backoff) {
    make();
    auto c1 = start_and_establish("c0");
    server_sends(c1, message_event("c1", "A", 1, "drbob"));
    core->send_message("m1", "A", "x", now);
    pump();
    const auto attempts = core->reconnect_attempt();
    core->reconnect(now);
    pump();
    ASSERT_EQ(closes.size(), 1U);
    EXPECT_FALSE(closes[0].graceful);
    EXPECT_EQ(last_state().state, cc::connection_state::connection_lost);
    EXPECT_EQ(last_state().detail, "reconnect requested");
    EXPECT_LE(last_state().next_attempt, now + 500ms);  // within reconnect_min
    EXPECT_EQ(core->reconnect_attempt(), attempts);
    wait_for_attempt();
    auto c2 = establish("c1");
    EXPECT_EQ(last_sync.after_cursor(), "c1");
    EXPECT_EQ(take(v1::Frame::kSendMessage).send_message().client_msg_id(), "m1");
    EXPECT_NE(c1, c2);
    // Without a connection or an attempt there is nothing to drop.
    core->stop(now);
    pump();
    const auto states_before = states.size();
    core->reconnect(now);
    pump();
    EXPECT_EQ(states.size(), states_before);
}

TEST_F(core_tuning_test, synced_says_whether_the_stream_resumed_and_whether_it_was_reset) {
    make();
    auto c1 = start_and_establish("c0");
    ASSERT_EQ(synced_notices.size(), 1U);
    EXPECT_FALSE(synced_notices[0].resumed);
    EXPECT_FALSE(synced_notices[0].reset);
    lose(c1);
    wait_for_attempt();
    const auto id = opened.back();
    core->on_open(id, now);
    pump();
    auto auth = take(v1::Frame::kAuthenticate);
    server_sends(id, authenticated(auth.request_id(), "alice", 30000));
    auto sync = take(v1::Frame::kSync);
    EXPECT_EQ(sync.sync().after_cursor(), "c0");
    server_sends(id, synced(sync.request_id(), "c9", true));
    ASSERT_EQ(synced_notices.size(), 2U);
    EXPECT_TRUE(synced_notices[1].resumed);
    EXPECT_TRUE(synced_notices[1].reset);
    EXPECT_EQ(resets, 1);
}

TEST_F(core_tuning_test, the_observer_sees_every_frame_and_every_message_stored) {
    recording_observer seen;
    d::tuning t;
    t.watcher = &seen;
    make(default_options(), t);
    auto c = start_and_establish("c0");
    EXPECT_EQ(seen.sending,
              (std::vector<v1::Frame::KindCase>{v1::Frame::kAuthenticate, v1::Frame::kSync}));
    EXPECT_EQ(seen.received,
              (std::vector<v1::Frame::KindCase>{v1::Frame::kAuthenticated, v1::Frame::kSynced}));
    core->send_message("m1", "A", "x", now);
    core->send_message("m2", "B", "y", now);
    pump();
    auto m1 = take(v1::Frame::kSendMessage);
    server_sends(c, sent_reply(m1, "A", 4, true));
    server_sends(c, message_event("c1", "B", 9, "alice", "m2"));  // m2 came back first
    ASSERT_EQ(seen.stored.size(), 2U);
    EXPECT_EQ(seen.stored[0].client_msg_id, "m1");
    EXPECT_EQ(seen.stored[0].conversation_id, "A");
    EXPECT_EQ(seen.stored[0].seq, 4U);
    EXPECT_TRUE(seen.stored[0].by_reply);
    EXPECT_TRUE(seen.stored[0].duplicate);
    EXPECT_EQ(seen.stored[1].client_msg_id, "m2");
    EXPECT_EQ(seen.stored[1].seq, 9U);
    EXPECT_FALSE(seen.stored[1].by_reply);
    EXPECT_EQ(seen.sending.back(), v1::Frame::kSendMessage);
    EXPECT_EQ(seen.received.back(), v1::Frame::kEvent);
    core->on_frame(c, "\xff\xff not a frame", now);
    pump();
    EXPECT_EQ(seen.malformed, 1);
    EXPECT_EQ(core->state(), cc::connection_state::connection_lost);
}

TEST_F(core_tuning_test, lean_reports_only_state_and_failures) {
    recording_observer seen;
    d::tuning t;
    t.lean = true;
    t.watcher = &seen;
    make(default_options(), t);
    auto c = start_and_establish("c0");
    core->send_message("m1", "A", "x", now);
    core->send_message("m2", "A", "", now);  // refused: empty
    pump();
    server_sends(c, sent_reply(take(v1::Frame::kSendMessage), "A", 1));
    server_sends(c, message_event("c1", "A", 2, "drbob"));
    server_sends(c, message_event("c1", "A", 2, "drbob"));  // a duplicate is not judged
    server_sends(c, receipt_push("A", "drbob", v1::READ, 1));
    EXPECT_TRUE(messages.empty());
    EXPECT_TRUE(receipts.empty());
    ASSERT_EQ(updates.size(), 1U);
    EXPECT_EQ(updates[0].client_msg_id, "m2");
    EXPECT_EQ(updates[0].state, cc::send_state::failed);
    ASSERT_EQ(seen.stored.size(), 1U);
    EXPECT_EQ(seen.stored[0].client_msg_id, "m1");
    EXPECT_EQ(core->outbox_size(), 0U);
    // Acks still go out.
    advance(100ms);
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c1");
    EXPECT_EQ(last_state().state, cc::connection_state::connected);
}

TEST_F(core_tuning_test, no_ping_while_frames_go_both_ways) {
    make();
    auto c = start_and_establish("c0", 2000);
    sent.clear();
    // A message each way every second: the server hears from us and we from it.
    for (int i = 0; i < 10; ++i) {
        core->send_message("m" + std::to_string(i), "A", "x", now);
        pump();
        server_sends(
            c, sent_reply(take(v1::Frame::kSendMessage), "A", static_cast<std::uint64_t>(i) + 1));
        advance(1s);
    }
    EXPECT_EQ(count(v1::Frame::kPing), 0U);
    // Quiet again: pings every interval.
    advance(6s);
    EXPECT_EQ(count(v1::Frame::kPing), 3U);
}

TEST_F(core_tuning_test, seqs_out_of_order_are_each_shown_once) {
    make();
    auto c = start_and_establish("c0");
    for (const std::uint64_t seq : {3, 1, 2, 3, 5, 4, 5, 1}) {
        server_sends(c, message_event("c" + std::to_string(seq), "A", seq, "drbob"));
    }
    std::vector<std::uint64_t> shown;
    for (const auto& m : messages) {
        shown.push_back(m.seq);
    }
    EXPECT_EQ(shown, (std::vector<std::uint64_t>{3, 1, 2, 5, 4}));
}

TEST_F(core_tuning_test, taking_actions_into_a_kept_vector_empties_the_core) {
    make();
    core->start(now);
    std::vector<d::action> batch;
    core->take_actions(batch);
    EXPECT_FALSE(batch.empty());
    core->take_actions(batch);
    EXPECT_TRUE(batch.empty());
}

}  // namespace
