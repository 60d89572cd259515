// The client's state machine, driven with fake time and hand-made server frames: no sockets.

#include "core_harness.hpp"

namespace {

using namespace confide::client::test;

// ---- backoff ----

TEST(backoff, delays_stay_within_floor_and_doubling_cap) {
    d::jitter_rng rng(7);
    const auto min = 500ms;
    const auto max = 30s;
    for (unsigned attempt = 0; attempt < 40; ++attempt) {
        const auto cap = std::min<clock::duration>(max, min * (1LL << std::min(attempt, 20U)));
        auto lo = clock::duration::max();
        auto hi = clock::duration::min();
        for (int i = 0; i < 2000; ++i) {
            const auto delay = d::backoff_delay(attempt, min, max, rng);
            ASSERT_GE(delay, min) << attempt;
            ASSERT_LE(delay, cap) << attempt;
            lo = std::min(lo, delay);
            hi = std::max(hi, delay);
        }
        // Full jitter: the whole range is used.
        if (attempt >= 3) {
            EXPECT_LT(lo, min + (cap - min) / 10) << attempt;
            EXPECT_GT(hi, cap - (cap - min) / 10) << attempt;
        }
    }
}

TEST(backoff, degenerate_settings_are_safe) {
    d::jitter_rng rng(7);
    EXPECT_EQ(d::backoff_delay(5, 0ms, 0ms, rng), clock::duration::zero());
    // max below min: min wins.
    EXPECT_EQ(d::backoff_delay(5, 2s, 1s, rng), clock::duration(2s));
    EXPECT_LE(d::backoff_delay(1000, 1ms, 10ms, rng), clock::duration(10ms));
}

// ---- connecting ----

TEST_F(core_test, start_authenticates_with_a_token_and_syncs) {
    make();
    core->start(now);
    pump();
    ASSERT_EQ(opened.size(), 1U);
    EXPECT_EQ(last_state().state, cc::connection_state::connecting);
    establish("c0");
    EXPECT_EQ(last_auth.token(), "tok1");
    EXPECT_EQ(last_auth.device_id(), "dev1");
    EXPECT_EQ(last_sync.after_cursor(), "");
    EXPECT_EQ(core->cursor(), "c0");
    EXPECT_EQ(core->state(), cc::connection_state::connected);
    auto connected = std::find_if(states.begin(), states.end(), [](const auto& s) {
        return s.state == cc::connection_state::connected;
    });
    ASSERT_NE(connected, states.end());
    EXPECT_EQ(connected->user_id, "alice");
    EXPECT_EQ(connected->user_role, cc::role::client);
}

TEST_F(core_test, every_reconnect_asks_the_provider_for_a_fresh_token) {
    make();
    core->start(now);
    pump();
    auto id = establish();
    lose(id);
    EXPECT_EQ(last_state().state, cc::connection_state::connection_lost);
    wait_for_attempt();
    establish();
    EXPECT_EQ(last_auth.token(), "tok2");
    EXPECT_EQ(tokens_issued, 2);
}

TEST_F(core_test, connect_timeout_drops_the_attempt_and_retries) {
    make();
    core->start(now);
    pump();
    advance(10s);
    EXPECT_EQ(last_state().state, cc::connection_state::connection_lost);
    EXPECT_EQ(last_state().detail, "connect timeout");
    ASSERT_EQ(closes.size(), 1U);
    EXPECT_EQ(closes[0].id, opened[0]);
    EXPECT_FALSE(closes[0].graceful);
    wait_for_attempt();
}

TEST_F(core_test, failed_attempts_back_off_exponentially_with_jitter) {
    make();
    core->start(now);
    pump();
    for (unsigned attempt = 0; attempt < 12; ++attempt) {
        lose(opened.back());  // connection refused
        ASSERT_EQ(last_state().state, cc::connection_state::connection_lost);
        const auto delay = last_state().next_attempt - now;
        const auto cap = std::min<clock::duration>(30s, 500ms * (1LL << attempt));
        EXPECT_GE(delay, clock::duration(500ms)) << attempt;
        EXPECT_LE(delay, cap) << attempt;
        // Nothing before the announced time, an attempt at it.
        const auto before = opened.size();
        advance(delay - 1ms);
        EXPECT_EQ(opened.size(), before);
        advance(1ms);
        EXPECT_EQ(opened.size(), before + 1);
    }
}

TEST_F(core_test, a_stable_connection_resets_the_backoff) {
    make();
    core->start(now);
    pump();
    for (int i = 0; i < 6; ++i) {
        lose(opened.back());
        wait_for_attempt();
    }
    EXPECT_GE(core->reconnect_attempt(), 6U);
    auto id = establish();
    advance(11s);  // pongs keep it alive
    for (const auto& [cid, f] : sent) {
        if (f.has_ping()) {
            v1::Frame pong;
            pong.set_request_id(f.request_id());
            pong.mutable_pong();
            server_sends(id, pong);
        }
    }
    lose(id);
    EXPECT_LE(last_state().next_attempt - now, clock::duration(500ms));
}

// ---- tokens ----

TEST_F(core_test, token_rejected_twice_closes_instead_of_retrying_forever) {
    make();
    auto auth = start_until_authenticate();
    server_sends(opened.back(), error_reply(auth.request_id(), v1::UNAUTHENTICATED, false));
    // One more try, soon, with a fresh token; the attempt goes on: nothing says "connection
    // lost" (which read as a network problem just before "token rejected").
    ASSERT_EQ(last_state().state, cc::connection_state::connecting);
    ASSERT_TRUE(core->next_wakeup());
    EXPECT_LE(*core->next_wakeup() - now, clock::duration(500ms));
    wait_for_attempt();
    core->on_open(opened.back(), now);
    pump();
    auth = take(v1::Frame::kAuthenticate);
    EXPECT_EQ(auth.authenticate().token(), "tok2");
    server_sends(opened.back(), error_reply(auth.request_id(), v1::UNAUTHENTICATED, false));
    ASSERT_EQ(last_state().state, cc::connection_state::closed);
    EXPECT_EQ(last_state().reason, cc::close_reason::token_rejected);
    EXPECT_TRUE(std::none_of(states.begin(), states.end(), [](const auto& st) {
        return st.state == cc::connection_state::connection_lost;
    }));
    const auto attempts = opened.size();
    advance(10min);
    EXPECT_EQ(opened.size(), attempts);
    EXPECT_FALSE(core->next_wakeup());
}

TEST_F(core_test, close_4002_counts_as_a_rejection_and_success_resets_the_count) {
    make();
    core->start(now);
    pump();
    core->on_open(opened.back(), now);
    pump();
    lose(opened.back(), 4002);
    EXPECT_EQ(last_state().state, cc::connection_state::connecting);
    wait_for_attempt();
    auto id = establish();  // accepted: the count starts over
    lose(id, 4002);
    // Lost after being connected: that is news.
    EXPECT_EQ(last_state().state, cc::connection_state::connection_lost);
    wait_for_attempt();
    core->on_open(opened.back(), now);
    pump();
    server_sends(opened.back(), go_away(4002));
    EXPECT_EQ(last_state().state, cc::connection_state::closed);
    EXPECT_EQ(last_state().reason, cc::close_reason::token_rejected);
}

TEST_F(core_test, an_empty_token_closes) {
    auto o = default_options();
    o.token_provider = [] { return std::string(); };
    make(o);
    core->start(now);
    pump();
    EXPECT_TRUE(opened.empty());
    EXPECT_EQ(last_state().state, cc::connection_state::closed);
    EXPECT_EQ(last_state().reason, cc::close_reason::token_rejected);
}

TEST_F(core_test, token_expired_reconnects_with_a_fresh_token_every_time) {
    make();
    core->start(now);
    pump();
    for (int i = 1; i <= 5; ++i) {
        auto id = establish();
        EXPECT_EQ(last_auth.token(), "tok" + std::to_string(i));
        server_sends(id, go_away(4001));
        ASSERT_EQ(last_state().state, cc::connection_state::connection_lost);
        EXPECT_LE(last_state().next_attempt - now, clock::duration(500ms));
        wait_for_attempt();
    }
}

// ---- close codes ----

TEST_F(core_test, close_codes_map_to_closed_or_reconnect) {
    struct expectation {
        std::uint16_t code;
        std::optional<cc::close_reason> closed;  // nullopt: reconnects
    };
    const expectation cases[] = {
        {1000, cc::close_reason::signed_out},           {1001, std::nullopt},
        {1008, cc::close_reason::protocol_error},       {4003, std::nullopt},
        {4004, cc::close_reason::too_many_connections}, {4005, std::nullopt},
        {4006, cc::close_reason::idle_logoff},          {0, std::nullopt},
    };
    for (const auto& c : cases) {
        make();
        opened.clear();
        core->start(now);
        pump();
        auto id = establish();
        lose(id, c.code);
        if (c.closed) {
            EXPECT_EQ(last_state().state, cc::connection_state::closed) << c.code;
            EXPECT_EQ(last_state().reason, *c.closed) << c.code;
        } else {
            EXPECT_EQ(last_state().state, cc::connection_state::connection_lost) << c.code;
            wait_for_attempt();
        }
    }
}

TEST_F(core_test, an_automatic_logoff_is_reported_and_never_reconnected) {
    make();
    core->start(now);
    pump();
    establish();
    server_sends(opened.back(), go_away(4006));
    ASSERT_EQ(last_state().state, cc::connection_state::closed);
    EXPECT_EQ(last_state().reason, cc::close_reason::idle_logoff);
    EXPECT_EQ(last_state().detail, "signed out after inactivity");
    const auto attempts = opened.size();
    advance(10min);
    EXPECT_EQ(opened.size(), attempts);
}

// The server answers a final refusal (e.g. too many connections) with an error reply first and
// the GoAway naming the reason right after: the close code decides, not the reply.
TEST_F(core_test, final_authenticate_refusal_is_named_by_the_close_that_follows) {
    make();
    auto auth = start_until_authenticate();
    server_sends(opened.back(), error_reply(auth.request_id(), v1::FAILED_PRECONDITION, false));
    EXPECT_EQ(last_state().state, cc::connection_state::connecting);
    server_sends(opened.back(), go_away(4004));
    ASSERT_EQ(last_state().state, cc::connection_state::closed);
    EXPECT_EQ(last_state().reason, cc::close_reason::too_many_connections);
    const auto attempts = opened.size();
    advance(10min);
    EXPECT_EQ(opened.size(), attempts);
}

TEST_F(core_test, final_authenticate_refusal_without_a_reason_closes_as_protocol_error) {
    for (bool closed_by_server : {true, false}) {
        make();
        opened.clear();
        auto auth = start_until_authenticate();
        server_sends(opened.back(), error_reply(auth.request_id(), v1::FAILED_PRECONDITION, false));
        if (closed_by_server) {
            lose(opened.back(), 0);
        } else {
            advance(5s);  // nothing more from the server
        }
        ASSERT_EQ(last_state().state, cc::connection_state::closed) << closed_by_server;
        EXPECT_EQ(last_state().reason, cc::close_reason::protocol_error);
        EXPECT_NE(last_state().detail.find("nope"), std::string::npos);
        const auto attempts = opened.size();
        advance(10min);
        EXPECT_EQ(opened.size(), attempts);
    }
}

TEST_F(core_test, go_away_closes_politely_and_reconnects) {
    make();
    core->start(now);
    pump();
    auto id = establish();
    server_sends(id, go_away(1001));
    ASSERT_EQ(closes.size(), 1U);
    EXPECT_EQ(closes[0].id, id);
    EXPECT_TRUE(closes[0].graceful);
    EXPECT_EQ(last_state().state, cc::connection_state::connection_lost);
    // The close frame that follows is stale.
    lose(id, 1001);
    EXPECT_EQ(std::count_if(
                  states.begin(), states.end(),
                  [](const auto& s) { return s.state == cc::connection_state::connection_lost; }),
              1);
    wait_for_attempt();
}

// ---- heartbeat ----

TEST_F(core_test, silence_beyond_the_heartbeat_timeout_is_a_lost_connection) {
    make();
    core->start(now);
    pump();
    auto id = establish("c0", 30000);
    // Pings every 15 s / 3 = 5 s while the server answers.
    for (int i = 0; i < 6; ++i) {
        advance(5s);
        auto ping = take(v1::Frame::kPing);
        v1::Frame pong;
        pong.set_request_id(ping.request_id());
        pong.mutable_pong();
        server_sends(id, pong);
    }
    EXPECT_EQ(core->state(), cc::connection_state::connected);
    // Half-open: pings go out, nothing comes back.
    advance(14999ms);
    EXPECT_EQ(core->state(), cc::connection_state::connected);
    EXPECT_EQ(count(v1::Frame::kPing), 2U);
    advance(1ms);
    EXPECT_EQ(core->state(), cc::connection_state::connection_lost);
    EXPECT_EQ(last_state().detail, "heartbeat timeout");
    ASSERT_EQ(closes.size(), 1U);
    EXPECT_FALSE(closes[0].graceful);
    wait_for_attempt();
}

TEST_F(core_test, pings_follow_the_server_interval_when_it_is_shorter) {
    make();
    core->start(now);
    pump();
    establish("c0", 2000);
    sent.clear();
    advance(10s);
    EXPECT_EQ(count(v1::Frame::kPing), 5U);
}

// ---- outbox ----

TEST_F(core_test, a_message_sent_offline_goes_out_on_connect_and_again_after_a_loss) {
    make();
    const auto id = std::string("dev1.m1");
    core->send_message(id, "conv1", "hello", now);
    pump();
    ASSERT_EQ(updates_for(id).size(), 1U);
    EXPECT_EQ(updates_for(id)[0].state, cc::send_state::pending);
    EXPECT_TRUE(sent.empty());

    core->start(now);
    pump();
    auto c1 = establish();
    auto first = take(v1::Frame::kSendMessage);
    EXPECT_EQ(first.send_message().client_msg_id(), id);
    EXPECT_EQ(first.send_message().conversation_id(), "conv1");
    EXPECT_EQ(first.send_message().body(), "hello");

    lose(c1);  // no ack came
    EXPECT_EQ(core->outbox_size(), 1U);
    wait_for_attempt();
    auto c2 = establish();
    auto second = take(v1::Frame::kSendMessage);
    EXPECT_EQ(second.send_message().client_msg_id(), id);
    EXPECT_NE(second.request_id(), first.request_id());

    server_sends(c2, sent_reply(second, "conv1", 7, true));
    auto u = updates_for(id);
    ASSERT_EQ(u.size(), 2U);
    EXPECT_EQ(u[1].state, cc::send_state::sent);
    EXPECT_EQ(u[1].seq, 7U);
    EXPECT_EQ(u[1].server_time_ms, 1007);
    EXPECT_EQ(core->outbox_size(), 0U);
    // A late reply to the first request changes nothing.
    server_sends(c2, sent_reply(first, "conv1", 7, true));
    EXPECT_EQ(updates_for(id).size(), 2U);
}

TEST_F(core_test, a_send_during_the_backoff_asks_for_a_connection_at_once) {
    make();
    core->start(now);
    pump();
    for (int i = 0; i < 6; ++i) {
        lose(opened.back());  // connection refused: the backoff grows
        wait_for_attempt();
    }
    lose(opened.back());
    ASSERT_EQ(last_state().state, cc::connection_state::connection_lost);
    ASSERT_GT(last_state().next_attempt - now, clock::duration(10ms)) << "a wait to skip";
    const auto attempts = opened.size();
    const auto id = std::string("dev1.m1");
    core->send_message(id, "conv1", "hello", now);
    pump();
    // At once, at the same instant: an open_connection, and the message pending in the outbox.
    ASSERT_EQ(opened.size(), attempts + 1);
    EXPECT_EQ(last_state().state, cc::connection_state::connecting);
    ASSERT_EQ(updates_for(id).size(), 1U);
    EXPECT_EQ(updates_for(id)[0].state, cc::send_state::pending);
    EXPECT_EQ(core->outbox_size(), 1U);
    // A second send while that attempt is under way starts no other one.
    core->send_message("dev1.m2", "conv2", "again", now);
    pump();
    EXPECT_EQ(opened.size(), attempts + 1);

    auto c = establish();
    auto first = take(v1::Frame::kSendMessage);
    auto second = take(v1::Frame::kSendMessage);
    EXPECT_EQ(first.send_message().client_msg_id(), id);
    EXPECT_EQ(second.send_message().client_msg_id(), "dev1.m2");
    server_sends(c, sent_reply(first, "conv1", 1, true));
    server_sends(c, sent_reply(second, "conv2", 1, true));
    EXPECT_EQ(core->outbox_size(), 0U);
    // Each went out once.
    EXPECT_EQ(count(v1::Frame::kSendMessage), 0U);
    EXPECT_EQ(updates_for(id).back().state, cc::send_state::sent);
}

TEST_F(core_test, a_refused_certificate_closes_for_good_without_retrying) {
    make();
    core->start(now);
    pump();
    core->on_close(opened.back(),
                   d::close_info{0, "TLS certificate not trusted: hostname mismatch (h)", true},
                   now);
    pump();
    ASSERT_EQ(last_state().state, cc::connection_state::closed);
    EXPECT_EQ(last_state().reason, cc::close_reason::certificate_refused);
    EXPECT_EQ(last_state().detail, "TLS certificate not trusted: hostname mismatch (h)");
    EXPECT_TRUE(std::none_of(states.begin(), states.end(), [](const auto& st) {
        return st.state == cc::connection_state::connection_lost;
    }));
    const auto attempts = opened.size();
    advance(10min);
    EXPECT_EQ(opened.size(), attempts);
}

TEST_F(core_test, sends_are_ordered_per_conversation_and_parallel_across) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    core->send_message("a1", "A", "1", now);
    core->send_message("a2", "A", "2", now);
    core->send_message("b1", "B", "1", now);
    pump();
    ASSERT_EQ(count(v1::Frame::kSendMessage), 2U);
    auto a1 = take(v1::Frame::kSendMessage);
    auto b1 = take(v1::Frame::kSendMessage);
    EXPECT_EQ(a1.send_message().client_msg_id(), "a1");
    EXPECT_EQ(b1.send_message().client_msg_id(), "b1");
    // A retryable failure of a1 must not let a2 overtake it.
    server_sends(c, error_reply(a1.request_id(), v1::UNAVAILABLE, true));
    EXPECT_EQ(count(v1::Frame::kSendMessage), 0U);
    advance(500ms);  // the first retry waits reconnect_min
    ASSERT_EQ(count(v1::Frame::kSendMessage), 1U);
    auto a1_again = take(v1::Frame::kSendMessage);
    EXPECT_EQ(a1_again.send_message().client_msg_id(), "a1");
    server_sends(c, sent_reply(a1_again, "A", 1));
    auto a2 = take(v1::Frame::kSendMessage);
    EXPECT_EQ(a2.send_message().client_msg_id(), "a2");
    server_sends(c, sent_reply(a2, "A", 2));
    server_sends(c, sent_reply(b1, "B", 1));
    EXPECT_EQ(updates_for("a1").back().state, cc::send_state::sent);
    EXPECT_EQ(updates_for("a2").back().seq, 2U);
    EXPECT_EQ(updates_for("b1").back().state, cc::send_state::sent);
}

TEST_F(core_test, rate_limited_waits_retry_after_for_the_whole_outbox) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    core->send_message("a1", "A", "1", now);
    pump();
    auto a1 = take(v1::Frame::kSendMessage);
    server_sends(c, error_reply(a1.request_id(), v1::RATE_LIMITED, true, 2000));
    core->send_message("b1", "B", "1", now);
    pump();
    advance(1999ms);
    EXPECT_EQ(count(v1::Frame::kSendMessage), 0U);
    advance(1ms);
    EXPECT_EQ(count(v1::Frame::kSendMessage), 2U);
    EXPECT_EQ(take(v1::Frame::kSendMessage).send_message().client_msg_id(), "a1");
    EXPECT_EQ(updates_for("a1").back().state, cc::send_state::pending);
}

TEST_F(core_test, a_final_error_fails_the_message_and_the_queue_moves_on) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    core->send_message("a1", "A", "1", now);
    core->send_message("a2", "A", "2", now);
    pump();
    auto a1 = take(v1::Frame::kSendMessage);
    server_sends(c, error_reply(a1.request_id(), v1::CONFLICT, false));
    auto u = updates_for("a1");
    ASSERT_EQ(u.back().state, cc::send_state::failed);
    ASSERT_TRUE(u.back().err);
    EXPECT_EQ(u.back().err->code, cc::error_code::conflict);
    EXPECT_FALSE(u.back().err->retryable);
    EXPECT_EQ(take(v1::Frame::kSendMessage).send_message().client_msg_id(), "a2");
    EXPECT_EQ(core->outbox_size(), 1U);
}

TEST_F(core_test, a_send_without_reply_is_resent_on_the_same_connection) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    core->send_message("a1", "A", "1", now);
    pump();
    auto first = take(v1::Frame::kSendMessage);
    // Keep the connection alive meanwhile.
    for (int i = 0; i < 5; ++i) {
        advance(2s);
        server_sends(c, ok_reply(999));
    }
    auto again = take(v1::Frame::kSendMessage);
    EXPECT_EQ(again.send_message().client_msg_id(), "a1");
    EXPECT_NE(again.request_id(), first.request_id());
}

TEST_F(core_test, bodies_are_checked_before_queueing) {
    make();
    core->start(now);
    pump();
    establish("c0", 30000, 10);
    core->send_message("e", "A", "", now);
    core->send_message("big", "A", std::string(11, 'x'), now);
    core->send_message("ok", "A", std::string(10, 'x'), now);
    pump();
    EXPECT_EQ(updates_for("e").back().err->code, cc::error_code::invalid_argument);
    EXPECT_EQ(updates_for("big").back().err->code, cc::error_code::too_large);
    EXPECT_EQ(updates_for("ok").back().state, cc::send_state::pending);
    EXPECT_EQ(count(v1::Frame::kSendMessage), 1U);
}

TEST_F(core_test, start_inquiry_is_an_outbox_item_that_learns_its_conversation) {
    make();
    core->start_inquiry("i1", "drbob", "hi", true, now);
    pump();
    core->start(now);
    pump();
    auto c = establish();
    auto req = take(v1::Frame::kStartInquiry);
    EXPECT_EQ(req.start_inquiry().specialist_id(), "drbob");
    EXPECT_EQ(req.start_inquiry().client_msg_id(), "i1");
    EXPECT_TRUE(req.start_inquiry().free_consultation());
    server_sends(c, sent_reply(req, "conv9", 1));
    EXPECT_EQ(updates_for("i1").back().state, cc::send_state::sent);
    EXPECT_EQ(updates_for("i1").back().conversation_id, "conv9");
}

// ---- ticks ----

TEST_F(core_test, receipts_move_own_messages_to_delivered_then_read) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    core->send_message("m1", "A", "1", now);
    pump();
    server_sends(c, sent_reply(take(v1::Frame::kSendMessage), "A", 1));
    core->send_message("m2", "A", "2", now);
    pump();
    auto m2 = take(v1::Frame::kSendMessage);
    // The receipt overtakes m2's reply.
    server_sends(c, receipt_push("A", "drbob", v1::DELIVERED, 2));
    EXPECT_EQ(updates_for("m1").back().state, cc::send_state::delivered);
    server_sends(c, sent_reply(m2, "A", 2));
    EXPECT_EQ(updates_for("m2").back().state, cc::send_state::delivered);
    // Our own read mark from another device says nothing about our ticks.
    server_sends(c, receipt_push("A", "alice", v1::READ, 2));
    EXPECT_EQ(updates_for("m2").back().state, cc::send_state::delivered);
    server_sends(c, receipt_push("A", "drbob", v1::READ, 1));
    EXPECT_EQ(updates_for("m1").back().state, cc::send_state::read);
    EXPECT_EQ(updates_for("m2").back().state, cc::send_state::delivered);
    EXPECT_EQ(receipts.size(), 3U);
    // Conversation marks (e.g. from a list) work too.
    v1::Frame list_reply;
    bool listed = false;
    core->list_conversations(
        10, [&](const cc::result<std::vector<cc::conversation>>& r) { listed = r.ok(); }, now);
    pump();
    auto list = take(v1::Frame::kListConversations);
    list_reply.set_request_id(list.request_id());
    auto* conv = list_reply.mutable_conversations()->add_conversations();
    conv->set_id("A");
    conv->set_other_read_seq(2);
    conv->set_other_delivered_seq(2);
    server_sends(c, list_reply);
    EXPECT_TRUE(listed);
    EXPECT_EQ(updates_for("m2").back().state, cc::send_state::read);
    EXPECT_EQ(updates_for("m1").size(), 4U);  // pending, sent, delivered, read
}

TEST_F(core_test, our_own_message_coming_back_counts_as_sent_and_is_not_shown_twice) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    core->send_message("m1", "A", "1", now);
    pump();
    auto req = take(v1::Frame::kSendMessage);
    server_sends(c, message_event("c1", "A", 5, "alice", "m1"));
    EXPECT_TRUE(messages.empty());
    EXPECT_EQ(updates_for("m1").back().state, cc::send_state::sent);
    EXPECT_EQ(updates_for("m1").back().seq, 5U);
    server_sends(c, sent_reply(req, "A", 5));
    EXPECT_EQ(updates_for("m1").size(), 2U);
    // The other way round: reply first, then the echo.
    core->send_message("m2", "A", "2", now);
    pump();
    server_sends(c, sent_reply(take(v1::Frame::kSendMessage), "A", 6));
    server_sends(c, message_event("c2", "A", 6, "alice", "m2"));
    EXPECT_TRUE(messages.empty());
    // Our message from another device is shown, marked outgoing.
    server_sends(c, message_event("c3", "A", 7, "alice", "other-device-1"));
    ASSERT_EQ(messages.size(), 1U);
    EXPECT_TRUE(messages[0].outgoing);
}

// ---- resume, dedupe, acks ----

TEST_F(core_test, resumes_from_the_last_processed_cursor_without_duplicates) {
    make();
    core->start(now);
    pump();
    auto c1 = establish("c0");
    server_sends(c1, message_event("c1", "A", 1, "drbob"));
    server_sends(c1, message_event("c2", "A", 2, "drbob"));
    ASSERT_EQ(messages.size(), 2U);
    lose(c1);
    wait_for_attempt();
    auto c2 = establish("c2");
    EXPECT_EQ(last_sync.after_cursor(), "c2");
    // A replayed event (e.g. the server resumed from its own older cursor) is not shown again.
    server_sends(c2, message_event("c2", "A", 2, "drbob"));
    server_sends(c2, message_event("c3", "A", 3, "drbob"));
    server_sends(c2, message_event("c4", "B", 3, "carol"));
    ASSERT_EQ(messages.size(), 4U);
    EXPECT_EQ(messages[2].seq, 3U);
    EXPECT_EQ(messages[3].conversation_id, "B");
    EXPECT_EQ(core->cursor(), "c4");
    // Out of order within a conversation is still delivered once each.
    server_sends(c2, message_event("c5", "A", 5, "drbob"));
    server_sends(c2, message_event("c6", "A", 4, "drbob"));
    server_sends(c2, message_event("c7", "A", 5, "drbob"));
    EXPECT_EQ(messages.size(), 6U);
}

TEST_F(core_test, reset_is_reported_and_a_loaded_cursor_is_used) {
    auto o = default_options();
    o.load_cursor = [] { return std::string("saved-7"); };
    make(o);
    auto auth = start_until_authenticate();
    server_sends(opened.back(), authenticated(auth.request_id(), "alice", 30000));
    auto sync = take(v1::Frame::kSync);
    EXPECT_EQ(sync.sync().after_cursor(), "saved-7");
    server_sends(opened.back(), synced(sync.request_id(), "now-1", true));
    EXPECT_EQ(resets, 1);
}

TEST_F(core_test, acks_are_batched_by_time_and_by_count) {
    make();
    core->start(now);
    pump();
    auto c = establish("c0");
    sent.clear();
    for (int i = 1; i <= 3; ++i) {
        server_sends(
            c, message_event("c" + std::to_string(i), "A", static_cast<unsigned>(i), "drbob"));
    }
    advance(99ms);
    EXPECT_EQ(count(v1::Frame::kAck), 0U);
    advance(1ms);
    ASSERT_EQ(count(v1::Frame::kAck), 1U);
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c3");
    EXPECT_EQ(saved_cursors, std::vector<std::string>{"c3"});
    advance(1s);
    EXPECT_EQ(count(v1::Frame::kAck), 0U);  // nothing new

    // A burst: an ack every 100 events without waiting, then the rest after the delay.
    for (int i = 4; i < 254; ++i) {
        server_sends(
            c, message_event("c" + std::to_string(i), "A", static_cast<unsigned>(i), "drbob"));
    }
    ASSERT_EQ(count(v1::Frame::kAck), 2U);
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c103");
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c203");
    advance(100ms);
    ASSERT_EQ(count(v1::Frame::kAck), 1U);
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c253");
}

TEST_F(core_test, a_reconnect_acks_the_processed_cursor_again) {
    make();
    core->start(now);
    pump();
    auto c1 = establish("c0");
    server_sends(c1, message_event("c1", "A", 1, "drbob"));
    lose(c1);  // before the ack went out
    wait_for_attempt();
    sent.clear();
    establish("c1");
    advance(100ms);
    ASSERT_EQ(count(v1::Frame::kAck), 1U);
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c1");
}

// ---- requests ----

TEST_F(core_test, requests_fail_fast_offline_and_when_the_connection_drops) {
    make();
    std::vector<cc::error> errors;
    auto on_done = [&](std::optional<cc::error> e) {
        ASSERT_TRUE(e);
        errors.push_back(*e);
    };
    core->mark_read("A", 3, on_done, now);
    pump();
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].code, cc::error_code::not_connected);
    EXPECT_TRUE(errors[0].retryable);

    core->start(now);
    pump();
    auto c = establish();
    core->set_typing("A", true, on_done, now);
    pump();
    EXPECT_EQ(count(v1::Frame::kTyping), 1U);
    lose(c);
    ASSERT_EQ(errors.size(), 2U);
    EXPECT_EQ(errors[1].code, cc::error_code::not_connected);
}

TEST_F(core_test, a_request_without_reply_times_out) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    std::optional<cc::result<cc::history_page>> got;
    core->history(
        "A", 0, 20, [&](cc::result<cc::history_page> r) { got = std::move(r); }, now);
    pump();
    take(v1::Frame::kGetHistory);
    for (int i = 0; i < 5; ++i) {
        advance(2s);
        server_sends(c, ok_reply(999));
    }
    ASSERT_TRUE(got);
    ASSERT_FALSE(got->ok());
    EXPECT_EQ(got->err().code, cc::error_code::timeout);
    EXPECT_TRUE(got->err().retryable);
}

TEST_F(core_test, replies_are_converted_and_errors_passed_through) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    std::optional<cc::result<cc::history_page>> page;
    core->history(
        "A", 10, 2, [&](cc::result<cc::history_page> r) { page = std::move(r); }, now);
    pump();
    auto req = take(v1::Frame::kGetHistory);
    EXPECT_EQ(req.get_history().before_seq(), 10U);
    EXPECT_EQ(req.get_history().limit(), 2U);
    v1::Frame reply;
    reply.set_request_id(req.request_id());
    auto* m = reply.mutable_history()->add_messages();
    m->set_conversation_id("A");
    m->set_seq(9);
    m->set_sender_id("alice");
    m->set_body("nine");
    reply.mutable_history()->set_more(true);
    server_sends(c, reply);
    ASSERT_TRUE(page && page->ok());
    ASSERT_EQ(page->value().messages.size(), 1U);
    EXPECT_EQ(page->value().messages[0].body, "nine");
    EXPECT_TRUE(page->value().messages[0].outgoing);
    EXPECT_TRUE(page->value().more);

    std::optional<cc::result<cc::conversation>> accepted;
    core->update_conversation(
        "A", 1, [&](const cc::result<cc::conversation>& r) { accepted = r; }, now);
    pump();
    auto up = take(v1::Frame::kUpdateConversation);
    EXPECT_EQ(up.update_conversation().action(), v1::ACCEPT);
    server_sends(c, error_reply(up.request_id(), v1::FAILED_PRECONDITION, false));
    ASSERT_TRUE(accepted && !accepted->ok());
    EXPECT_EQ(accepted->err().code, cc::error_code::failed_precondition);
}

// ---- ending ----

TEST_F(core_test, sign_out_closes_for_good) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    std::optional<std::optional<cc::error>> done;
    core->sign_out([&](const std::optional<cc::error>& e) { done = e; }, now);
    pump();
    auto req = take(v1::Frame::kSignOut);
    server_sends(c, ok_reply(req.request_id()));
    ASSERT_TRUE(done);
    EXPECT_FALSE(*done);
    EXPECT_EQ(last_state().state, cc::connection_state::closed);
    EXPECT_EQ(last_state().reason, cc::close_reason::signed_out);
    const auto attempts = opened.size();
    advance(10min);
    EXPECT_EQ(opened.size(), attempts);
}

TEST_F(core_test, a_close_1000_answers_a_sign_out_in_flight) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    std::optional<std::optional<cc::error>> done;
    core->sign_out([&](const std::optional<cc::error>& e) { done = e; }, now);
    pump();
    lose(c, 1000);
    ASSERT_TRUE(done);
    EXPECT_FALSE(*done);
    EXPECT_EQ(last_state().reason, cc::close_reason::signed_out);
}

TEST_F(core_test, stop_flushes_the_ack_closes_and_start_resumes_the_outbox) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    server_sends(c, message_event("c1", "A", 1, "drbob"));
    core->stop(now);
    pump();
    EXPECT_EQ(take(v1::Frame::kAck).ack().cursor(), "c1");
    ASSERT_EQ(closes.size(), 1U);
    EXPECT_TRUE(closes[0].graceful);
    EXPECT_EQ(last_state().reason, cc::close_reason::stopped);
    core->send_message("m1", "A", "later", now);
    pump();
    advance(10min);
    EXPECT_EQ(opened.size(), 1U);
    core->start(now);
    pump();
    establish("c1");
    EXPECT_EQ(last_sync.after_cursor(), "c1");
    EXPECT_EQ(take(v1::Frame::kSendMessage).send_message().client_msg_id(), "m1");
}

TEST_F(core_test, events_of_an_abandoned_connection_are_ignored) {
    make();
    core->start(now);
    pump();
    auto c1 = establish();
    advance(15s);  // heartbeat timeout drops c1
    ASSERT_EQ(core->state(), cc::connection_state::connection_lost);
    server_sends(c1, message_event("c1", "A", 1, "drbob"));
    lose(c1, 4004);
    EXPECT_TRUE(messages.empty());
    EXPECT_EQ(core->state(), cc::connection_state::connection_lost);
}

// ---- the directory and the consultation workflow ----

TEST_F(core_test, an_inquiry_carries_its_details_and_its_reply_the_safety_notice) {
    make();
    core->start_inquiry("i1", "drbob", "hi", cc::inquiry_details{true, "Sleep", {{5000, 9000}}},
                        now);
    pump();
    core->start(now);
    pump();
    auto c = establish();
    auto req = take(v1::Frame::kStartInquiry);
    EXPECT_TRUE(req.start_inquiry().free_consultation());
    EXPECT_EQ(req.start_inquiry().topic(), "Sleep");
    ASSERT_EQ(req.start_inquiry().preferred_times_size(), 1);
    EXPECT_EQ(req.start_inquiry().preferred_times(0).start_ms(), 5000);
    EXPECT_EQ(req.start_inquiry().preferred_times(0).end_ms(), 9000);
    auto reply = sent_reply(req, "conv9", 1);
    reply.mutable_sent()->mutable_safety_notice()->set_text("Not for emergencies.");
    reply.mutable_sent()->mutable_safety_notice()->set_crisis_line("Call 112");
    server_sends(c, reply);
    const auto stored = updates_for("i1").back();
    EXPECT_EQ(stored.state, cc::send_state::sent);
    ASSERT_TRUE(stored.safety_notice);
    EXPECT_EQ(stored.safety_notice->text, "Not for emergencies.");
    EXPECT_EQ(stored.safety_notice->crisis_line, "Call 112");
    // A plain message's reply has none.
    core->send_message("m2", "conv9", "more", now);
    pump();
    server_sends(c, sent_reply(take(v1::Frame::kSendMessage), "conv9", 2));
    EXPECT_FALSE(updates_for("m2").back().safety_notice);
}

TEST_F(core_test, a_client_is_told_the_safety_notice_when_connected) {
    make();
    auto auth = start_until_authenticate();
    auto ok = authenticated(auth.request_id(), "alice", 30000);
    ok.mutable_authenticated()->mutable_safety_notice()->set_text("Not for emergencies.");
    server_sends(opened.back(), ok);
    ASSERT_EQ(last_state().state, cc::connection_state::connected);
    ASSERT_TRUE(last_state().safety_notice);
    EXPECT_EQ(last_state().safety_notice->text, "Not for emergencies.");
}

TEST_F(core_test, the_directory_is_listed_and_an_unlisted_id_is_not_found) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    std::optional<cc::result<cc::specialist_page>> page;
    core->list_specialists(
        cc::specialist_filter{"anxiety", "de", true, 5, "after-x"},
        [&](const cc::result<cc::specialist_page>& r) { page = r; }, now);
    pump();
    auto req = take(v1::Frame::kListSpecialists);
    EXPECT_EQ(req.list_specialists().specialty(), "anxiety");
    EXPECT_EQ(req.list_specialists().language(), "de");
    EXPECT_TRUE(req.list_specialists().accepting_new_clients_only());
    EXPECT_EQ(req.list_specialists().limit(), 5U);
    EXPECT_EQ(req.list_specialists().page_token(), "after-x");

    v1::Frame reply;
    reply.set_request_id(req.request_id());
    reply.mutable_specialists()->set_next_page_token("after-bob");
    auto* s = reply.mutable_specialists()->add_specialists();
    s->set_id("drbob");
    s->set_display_name("Dr Bob");
    s->add_specialties("anxiety");
    s->add_languages("de");
    s->set_time_zone("Europe/Berlin");
    auto* h = s->add_office_hours();
    h->set_day(v1::MONDAY);
    h->set_start_minute(540);
    h->set_end_minute(1020);
    s->set_accepting_new_clients(true);
    s->set_free_consultation_minutes(30);
    s->mutable_presence()->set_state(v1::ONLINE);
    auto* av = s->mutable_presence()->mutable_availability();
    av->set_has_office_hours(true);
    av->set_changes_at_ms(7000);
    av->add_upcoming_office_hours()->set_start_ms(7000);
    av->set_expected_reply_minutes(240);
    av->set_median_first_reply_ms(3600000);
    av->set_first_reply_samples(4);
    server_sends(c, reply);
    ASSERT_TRUE(page && page->ok());
    EXPECT_EQ(page->value().next_page_token, "after-bob");
    ASSERT_EQ(page->value().specialists.size(), 1U);
    const auto& bob = page->value().specialists[0];
    EXPECT_EQ(bob.display_name, "Dr Bob");
    EXPECT_EQ(bob.time_zone, "Europe/Berlin");
    ASSERT_EQ(bob.office_hours.size(), 1U);
    EXPECT_EQ(bob.office_hours[0].day, 1U);
    EXPECT_EQ(bob.office_hours[0].end_minute, 1020U);
    EXPECT_EQ(bob.free_consultation_minutes, 30U);
    EXPECT_EQ(bob.presence.user_id, "drbob") << "the entry's id when the presence has none";
    EXPECT_EQ(bob.presence.state, cc::presence_state::online);
    ASSERT_TRUE(bob.presence.availability);
    EXPECT_FALSE(bob.presence.availability->within_office_hours);
    EXPECT_EQ(bob.presence.availability->changes_at_ms, 7000);
    EXPECT_EQ(bob.presence.availability->upcoming_office_hours.size(), 1U);
    EXPECT_EQ(bob.presence.availability->median_first_reply_ms, 3600000U);
    EXPECT_EQ(bob.presence.availability->first_reply_samples, 4U);

    std::optional<cc::result<cc::specialist>> one;
    core->get_specialist(
        "dr.nobody", [&](const cc::result<cc::specialist>& r) { one = r; }, now);
    pump();
    auto get = take(v1::Frame::kGetSpecialist);
    EXPECT_EQ(get.get_specialist().specialist_id(), "dr.nobody");
    server_sends(c, error_reply(get.request_id(), v1::NOT_FOUND, false));
    ASSERT_TRUE(one && !one->ok());
    EXPECT_EQ(one->err().code, cc::error_code::not_found);

    // A reply of another kind makes no sense.
    core->get_specialist(
        "drbob", [&](const cc::result<cc::specialist>& r) { one = r; }, now);
    pump();
    server_sends(c, ok_reply(take(v1::Frame::kGetSpecialist).request_id()));
    ASSERT_TRUE(one && !one->ok());
    EXPECT_EQ(one->err().code, cc::error_code::protocol_error);
}

TEST_F(core_test, a_decline_sends_its_reason_and_expiry_and_reasons_come_back) {
    make();
    core->start(now);
    pump();
    auto c = establish();
    core->update_conversation("A", 2, {}, now, cc::decline_reason::language_mismatch);
    pump();
    auto up = take(v1::Frame::kUpdateConversation);
    EXPECT_EQ(up.update_conversation().action(), v1::DECLINE);
    EXPECT_EQ(up.update_conversation().decline_reason(), v1::LANGUAGE_MISMATCH);

    v1::Frame event;
    event.mutable_event()->set_cursor("c1");
    auto* conv = event.mutable_event()->mutable_conversation();
    conv->set_id("B");
    conv->set_state(v1::EXPIRED);
    conv->set_topic("Grief");
    conv->set_expires_at_ms(12345);
    conv->add_preferred_times()->set_end_ms(99);
    server_sends(c, event);
    event.mutable_event()->set_cursor("c2");
    conv->set_id("C");
    conv->set_state(v1::DECLINED);
    conv->set_decline_reason(v1::OTHER_CARE_NEEDED);
    server_sends(c, event);
    ASSERT_EQ(conversations.size(), 2U);
    EXPECT_EQ(conversations[0].state, cc::conversation_state::expired);
    EXPECT_EQ(conversations[0].topic, "Grief");
    EXPECT_EQ(conversations[0].expires_at_ms, 12345);
    ASSERT_EQ(conversations[0].preferred_times.size(), 1U);
    EXPECT_EQ(conversations[0].preferred_times[0].end_ms, 99);
    EXPECT_EQ(conversations[1].state, cc::conversation_state::declined);
    EXPECT_EQ(conversations[1].decline_reason, cc::decline_reason::other_care_needed);
}

}  // namespace
