// A connection's deadlines, on given times: authentication, token expiry, heartbeat.

#include "routing/deadlines.hpp"

#include "routing/outbound.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

namespace routing = confide::routing;
namespace close_code = confide::routing::close_code;
using namespace std::chrono_literals;

class deadlines_test : public ::testing::Test {
protected:
    const routing::deadlines::time_point t0 = routing::deadlines::time_point{} + 1h;
    // Authenticate within 10 s; silent for 3 x 15 s = 45 s is too long.
    routing::deadlines d{t0, 10s, 15s};

    std::uint16_t code_at(routing::deadlines::time_point t) const {
        auto due = d.due(t);
        return due ? due->close_code : 0;
    }
};

TEST_F(deadlines_test, an_unauthenticated_connection_is_closed_after_the_auth_timeout) {
    EXPECT_EQ(d.next(), t0 + 10s);
    EXPECT_EQ(code_at(t0 + 10s - 1ms), 0);
    const auto due = d.due(t0 + 10s);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->close_code, close_code::unauthenticated);
    EXPECT_EQ(due->reason, "not authenticated in time");
}

TEST_F(deadlines_test, frames_do_not_extend_the_auth_timeout) {
    d.received(t0 + 9s);
    EXPECT_EQ(d.next(), t0 + 10s);
    EXPECT_EQ(code_at(t0 + 10s), close_code::unauthenticated);
}

TEST_F(deadlines_test, a_heartbeat_shorter_than_the_auth_timeout_ends_a_silent_connection_first) {
    routing::deadlines quick{t0, 10s, 1s};
    EXPECT_EQ(quick.next(), t0 + 3s);
    auto due = quick.due(t0 + 3s);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->close_code, close_code::heartbeat_missed);
}

TEST_F(deadlines_test, after_authentication_the_token_expiry_replaces_the_auth_timeout) {
    d.received(t0 + 1s);
    d.authenticated(t0 + 20s);
    EXPECT_EQ(code_at(t0 + 10s), 0);
    EXPECT_EQ(d.next(), t0 + 20s);
    const auto due = d.due(t0 + 20s);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->close_code, close_code::token_expired);
    EXPECT_EQ(due->reason, "token expired: reconnect with a fresh token");
}

TEST_F(deadlines_test, silence_for_three_intervals_misses_the_heartbeat) {
    d.received(t0 + 5s);
    d.authenticated(t0 + 1h);
    EXPECT_EQ(d.next(), t0 + 50s);
    d.received(t0 + 40s);  // a ping moves it
    EXPECT_EQ(code_at(t0 + 50s), 0);
    EXPECT_EQ(d.next(), t0 + 85s);
    const auto due = d.due(t0 + 85s);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->close_code, close_code::heartbeat_missed);
    EXPECT_EQ(due->reason, "no heartbeat: reconnect");
}

TEST_F(deadlines_test, an_expired_token_is_reported_before_a_missed_heartbeat) {
    d.authenticated(t0 + 30s);
    EXPECT_EQ(code_at(t0 + 2h), close_code::token_expired);
}

TEST_F(deadlines_test, an_already_expired_token_is_due_at_once) {
    d.authenticated(t0);
    EXPECT_EQ(d.next(), t0);
    EXPECT_EQ(code_at(t0), close_code::token_expired);
}

// ---- automatic logoff: 15 min without user activity, on given times ---------------------------

class idle_logoff_test : public deadlines_test {
protected:
    // Pings every 15 s keep the heartbeat; only activity() keeps the user signed in.
    routing::deadlines d{t0, 10s, 15s, 15min};

    std::uint16_t code_at(routing::deadlines::time_point t) const {
        auto due = d.due(t);
        return due ? due->close_code : 0;
    }
    // Pings every 15 s from `from` to `to`.
    void ping(routing::deadlines::time_point from, routing::deadlines::time_point to) {
        for (auto t = from; t <= to; t += 15s) {
            d.received(t);
        }
    }
};

TEST_F(idle_logoff_test, pings_alone_end_in_a_logoff_fifteen_minutes_after_the_sign_in) {
    d.received(t0 + 1s);
    d.active(t0 + 1s);  // the authenticate request
    d.authenticated(t0 + 24h);
    ping(t0 + 15s, t0 + 15min);
    EXPECT_EQ(d.next(), t0 + 1s + 15min);
    EXPECT_EQ(code_at(t0 + 1s + 15min - 1ms), 0);
    const auto due = d.due(t0 + 1s + 15min);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->close_code, close_code::idle_logoff);
    EXPECT_EQ(due->close_code, 4006);
    EXPECT_EQ(due->reason, "signed out after inactivity");
}

TEST_F(idle_logoff_test, activity_moves_the_logoff) {
    d.authenticated(t0 + 24h);
    ping(t0, t0 + 40min);
    d.active(t0 + 10min);
    EXPECT_EQ(code_at(t0 + 15min), 0);
    EXPECT_EQ(d.next(), t0 + 25min);
    d.active(t0 + 24min);
    EXPECT_EQ(code_at(t0 + 25min), 0);
    EXPECT_EQ(d.next(), t0 + 39min);
    EXPECT_EQ(code_at(t0 + 39min), close_code::idle_logoff);
}

TEST_F(idle_logoff_test, does_not_apply_before_authentication) {
    d.active(t0);
    EXPECT_EQ(d.next(), t0 + 10s);
    EXPECT_EQ(code_at(t0 + 10s), close_code::unauthenticated);
}

TEST_F(idle_logoff_test, an_expired_token_comes_first_then_the_logoff_then_the_heartbeat) {
    d.authenticated(t0 + 15min);
    EXPECT_EQ(code_at(t0 + 15min), close_code::token_expired);
    routing::deadlines silent{t0, 10s, 15s, 15min};
    silent.authenticated(t0 + 24h);
    // Silent for 15 min: both the logoff and the heartbeat are due; the logoff is what happened.
    const auto due = silent.due(t0 + 15min);
    ASSERT_TRUE(due);
    EXPECT_EQ(due->close_code, close_code::idle_logoff);
    EXPECT_EQ(silent.due(t0 + 45s)->close_code, close_code::heartbeat_missed);
}

TEST_F(idle_logoff_test, zero_turns_it_off) {
    routing::deadlines never{t0, 10s, 15s, 0ms};
    never.authenticated(t0 + 24h);
    for (auto t = t0; t <= t0 + 23h; t += 15s) {
        never.received(t);
    }
    EXPECT_FALSE(never.due(t0 + 23h));
    EXPECT_EQ(never.next(), t0 + 23h + 45s);
}

}  // namespace
