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

}  // namespace
