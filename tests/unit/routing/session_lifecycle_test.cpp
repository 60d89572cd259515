// A session's life through fake ports: authentication (every way it can fail), what it accepts
// before and after, request and send limits, deadlines, and what the close undoes.

#include "session_fixture.hpp"

namespace {

using namespace confide::testing;
namespace close_code = confide::routing::close_code;
using confide::auth::role;

// ---- authentication ---------------------------------------------------------------------------

TEST_F(session_test, authenticate_answers_with_the_identity_and_the_limits) {
    config.heartbeat_interval = std::chrono::milliseconds(20'000);
    config.send_rate = 7;
    config.send_burst = 9;
    auto& c = open();
    const auto rid = send(c, authenticate_request(token_for("alice", role::specialist), "phone"));
    const auto f = only_reply(c);
    EXPECT_EQ(f.request_id(), rid);
    ASSERT_TRUE(f.has_authenticated()) << f.DebugString();
    const auto& a = f.authenticated();
    EXPECT_EQ(a.user_id(), "alice");
    EXPECT_EQ(a.role(), v1::SPECIALIST);
    EXPECT_EQ(a.connection_id(), "conn1");
    EXPECT_GT(a.expires_at_ms(), 0);
    EXPECT_GT(a.server_time_ms(), 0);
    EXPECT_EQ(a.limits().max_frame_bytes(), 64u * 1024);
    EXPECT_EQ(a.limits().max_body_bytes(), 8u * 1024);
    EXPECT_EQ(a.limits().heartbeat_interval_ms(), 20'000u);
    EXPECT_EQ(a.limits().send_rate_per_second(), 7u);
    EXPECT_EQ(a.limits().send_burst(), 9u);
    EXPECT_EQ(chat.roles.at("alice"), role::specialist);
    EXPECT_EQ(presence.live["alice"].count("conn1"), 1u);
    EXPECT_EQ(bus.listeners("alice"), 1u);
    EXPECT_FALSE(c.out.close_code);
}

TEST_F(session_test, the_upgrade_bearer_token_serves_when_the_request_has_none) {
    auto& c = open(token_for("alice"));
    send(c, authenticate_request(""));
    const auto f = only_reply(c);
    ASSERT_TRUE(f.has_authenticated());
    EXPECT_EQ(f.authenticated().user_id(), "alice");
}

TEST_F(session_test, no_token_at_all_closes_with_4002) {
    auto& c = open();
    send(c, authenticate_request(""));
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].error().code(), v1::UNAUTHENTICATED);
    EXPECT_EQ(frames[0].error().message(), "a token is required");
    EXPECT_EQ(frames[1].go_away().close_code(), close_code::unauthenticated);
    EXPECT_EQ(c.out.close_code, close_code::unauthenticated);
}

TEST_F(session_test, a_bad_token_closes_with_4002_and_touches_nothing) {
    auto& c = open();
    send(c, authenticate_request(token_for("alice") + "x"));
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].error().code(), v1::UNAUTHENTICATED);
    EXPECT_FALSE(frames[0].error().retryable());
    EXPECT_TRUE(frames[1].has_go_away());
    EXPECT_EQ(c.out.close_code, close_code::unauthenticated);
    EXPECT_TRUE(chat.roles.empty());
    EXPECT_TRUE(presence.live.empty());
    EXPECT_EQ(bus.listeners("alice"), 0u);
}

TEST_F(session_test, a_role_mismatch_closes_with_4002) {
    chat.roles["alice"] = role::specialist;
    auto& c = open();
    send(c, authenticate_request(token_for("alice", role::client)));
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].error().code(), v1::UNAUTHENTICATED);
    EXPECT_EQ(c.out.close_code, close_code::unauthenticated);
    EXPECT_TRUE(presence.live.empty());
}

TEST_F(session_test, storage_down_while_binding_the_role_is_retryable_and_keeps_the_connection) {
    chat.failures.fail_next("bind_role");
    auto& c = open();
    send(c, authenticate_request(token_for("alice")));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::UNAVAILABLE);
    EXPECT_TRUE(f.error().retryable());
    EXPECT_FALSE(c.out.close_code);
    // Still not authenticated: the retry goes through.
    send(c, authenticate_request(token_for("alice")));
    EXPECT_TRUE(only_reply(c).has_authenticated());
}

TEST_F(session_test, storage_down_while_registering_presence_is_retryable) {
    presence.failures.fail_next("connect");
    auto& c = open();
    send(c, authenticate_request(token_for("alice")));
    EXPECT_EQ(only_reply(c).error().code(), v1::UNAVAILABLE);
    EXPECT_FALSE(c.out.close_code);
    EXPECT_EQ(bus.listeners("alice"), 0u);
}

TEST_F(session_test, one_connection_too_many_closes_with_4004_and_unregisters) {
    config.max_connections_per_user = 2;
    presence.live["alice"] = {"elsewhere1", "elsewhere2"};
    auto& c = open();
    send(c, authenticate_request(token_for("alice")));
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].error().code(), v1::FAILED_PRECONDITION);
    EXPECT_EQ(frames[0].error().message(), "too many connections for this user (at most 2)");
    EXPECT_EQ(frames[1].go_away().close_code(), close_code::too_many_connections);
    EXPECT_EQ(c.out.close_code, close_code::too_many_connections);
    EXPECT_EQ(presence.live["alice"].size(), 2u);
    ASSERT_EQ(presence.disconnects.size(), 1u);
    EXPECT_EQ(presence.disconnects[0].connection_id, "conn1");
    EXPECT_FALSE(presence.disconnects[0].signed_out);
    EXPECT_EQ(bus.listeners("alice"), 0u);
}

TEST_F(session_test, a_failed_subscription_is_retryable_and_undoes_the_registration) {
    bus.failures.fail_next("subscribe");
    auto& c = open();
    send(c, authenticate_request(token_for("alice")));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::UNAVAILABLE);
    EXPECT_FALSE(c.out.close_code);
    EXPECT_EQ(bus.unsubscribed, strings{"alice"});
    EXPECT_EQ(bus.listeners("alice"), 0u);
    EXPECT_TRUE(presence.live["alice"].empty());
}

TEST_F(session_test, a_connection_closed_while_subscribing_undoes_everything_and_says_nothing) {
    bus.subscriptions.hold = true;
    auto& c = open();
    send(c, authenticate_request(token_for("alice")));
    ASSERT_EQ(bus.subscriptions.held(), 1u);
    close(c);
    bus.subscriptions.release();
    settle();
    EXPECT_TRUE(c.out.take_all().empty());
    EXPECT_EQ(bus.listeners("alice"), 0u);
    EXPECT_TRUE(presence.live["alice"].empty());
    EXPECT_EQ(handling, 0);
}

TEST_F(session_test, a_connection_closed_while_registering_presence_unregisters) {
    presence.connects.hold = true;
    auto& c = open();
    send(c, authenticate_request(token_for("alice")));
    ASSERT_EQ(presence.connects.held(), 1u);
    close(c);
    presence.connects.release();
    settle();
    EXPECT_TRUE(c.out.take_all().empty());
    ASSERT_EQ(presence.disconnects.size(), 1u);
    EXPECT_FALSE(presence.disconnects[0].signed_out);
    EXPECT_TRUE(presence.live["alice"].empty());
    EXPECT_EQ(bus.listeners("alice"), 0u);
    EXPECT_EQ(handling, 0);
}

TEST_F(session_test, anything_before_authenticate_closes_with_4002) {
    auto& c = open();
    const auto rid = send(c, ping_request());
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].request_id(), rid);
    EXPECT_EQ(frames[0].error().code(), v1::UNAUTHENTICATED);
    EXPECT_EQ(frames[0].error().message(), "authenticate first");
    EXPECT_EQ(frames[1].go_away().close_code(), close_code::unauthenticated);
    EXPECT_EQ(c.out.close_code, close_code::unauthenticated);
}

TEST_F(session_test, a_second_authenticate_is_refused_and_changes_nothing) {
    auto& c = signed_in("alice");
    send(c, authenticate_request(token_for("bob")));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::FAILED_PRECONDITION);
    EXPECT_EQ(f.error().message(), "already authenticated");
    EXPECT_EQ(bus.listeners("bob"), 0u);
    EXPECT_TRUE(presence.live["bob"].empty());
    EXPECT_FALSE(c.out.close_code);
}

// ---- frames -----------------------------------------------------------------------------------

TEST_F(session_test, bytes_that_are_no_frame_get_an_error_naming_their_request) {
    auto& c = signed_in();
    // Field 1 (request_id = 5), then a field with a truncated length.
    send_bytes(c, std::string("\x08\x05\x52\x09", 4));
    const auto f = only_reply(c);
    EXPECT_EQ(f.request_id(), 5u);
    EXPECT_EQ(f.error().code(), v1::INVALID_ARGUMENT);
    EXPECT_FALSE(c.out.close_code);
}

TEST_F(session_test, an_invalid_request_is_refused_and_not_acted_on) {
    auto& c = signed_in();
    send(c, send_request("c1", "m1", ""));
    EXPECT_EQ(only_reply(c).error().code(), v1::INVALID_ARGUMENT);
    EXPECT_TRUE(chat.sends.empty());
}

TEST_F(session_test, text_frames_are_refused) {
    auto& c = signed_in();
    c.session->on_text_frame();
    const auto f = only_reply(c);
    EXPECT_EQ(f.request_id(), 0u);
    EXPECT_EQ(f.error().code(), v1::INVALID_ARGUMENT);
    EXPECT_FALSE(c.out.close_code);
}

TEST_F(session_test, a_bug_in_a_request_answers_internal_and_keeps_the_connection) {
    auto& c = signed_in();
    chat.failures.throw_next("list_conversations");
    v1::Frame list;
    list.mutable_list_conversations();
    send(c, list);
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::INTERNAL);
    EXPECT_FALSE(f.error().retryable());
    EXPECT_FALSE(c.out.close_code);
    send(c, ping_request());
    EXPECT_TRUE(only_reply(c).has_pong());
}

// ---- limits -----------------------------------------------------------------------------------

TEST_F(session_test, requests_over_the_connection_limit_are_refused) {
    config.request_rate = 0.001;
    config.request_burst = 3;  // authenticate and two more
    auto& c = signed_in();
    send(c, ping_request());
    send(c, ping_request());
    EXPECT_EQ(c.out.take_all().size(), 2u);
    const auto rid = send(c, ping_request());
    const auto f = only_reply(c);
    EXPECT_EQ(f.request_id(), rid);
    EXPECT_EQ(f.error().code(), v1::RATE_LIMITED);
    EXPECT_TRUE(f.error().retryable());
    EXPECT_GT(f.error().retry_after_ms(), 0u);
}

TEST_F(session_test, the_send_limit_is_per_user_across_connections) {
    config.send_rate = 0.001;
    config.send_burst = 2;
    auto& phone = signed_in("alice", role::client, "phone");
    auto& laptop = signed_in("alice", role::client, "laptop");
    send(phone, send_request("c1", "m1"));
    send(laptop, send_request("c1", "m2"));
    EXPECT_TRUE(only_reply(phone).has_sent());
    EXPECT_TRUE(only_reply(laptop).has_sent());
    send(phone, send_request("c1", "m3"));
    const auto f = only_reply(phone);
    EXPECT_EQ(f.error().code(), v1::RATE_LIMITED);
    EXPECT_EQ(f.error().message(), "too many messages: slow down");
    EXPECT_EQ(chat.sends.size(), 2u);
    // Another user is not affected.
    auto& bob = signed_in("bob");
    send(bob, send_request("c1", "m4"));
    EXPECT_TRUE(only_reply(bob).has_sent());
}

TEST_F(session_test, typing_notices_over_their_limit_are_refused) {
    config.typing_rate = 0.001;
    config.typing_burst = 1;
    chat.parties["c1"] = {"alice", "dr.bob"};
    auto& c = signed_in();
    send(c, typing_request("c1"));
    EXPECT_TRUE(only_reply(c).has_ok());
    send(c, typing_request("c1", false));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::RATE_LIMITED);
    EXPECT_EQ(bus.typing.size(), 1u);
}

// ---- deadlines --------------------------------------------------------------------------------

TEST_F(session_test, a_connection_not_authenticated_in_time_is_closed_with_4002) {
    config.auth_timeout = std::chrono::milliseconds(0);
    auto& c = open();
    run_until([&] { return c.out.close_code.has_value(); });
    EXPECT_EQ(*c.out.close_code, close_code::unauthenticated);
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].go_away().reason(), "not authenticated in time");
}

TEST_F(session_test, an_idle_user_is_signed_out_with_4006_audited_and_shown_offline_at_once) {
    // Long enough for the sign-in to complete first on a loaded machine.
    config.idle_logoff = std::chrono::milliseconds(300);
    auto& c = signed_in("alice", role::client, "phone");
    run_until([&] { return c.out.close_code.has_value(); });
    EXPECT_EQ(*c.out.close_code, close_code::idle_logoff);
    const auto frames = c.out.take_all();
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].go_away().close_code(), close_code::idle_logoff);
    EXPECT_EQ(frames[0].go_away().reason(), "signed out after inactivity");
    const auto logoffs = audit.of(confide::routing::audit_action::logoff);
    ASSERT_EQ(logoffs.size(), 1u);
    EXPECT_EQ(logoffs[0].user_id, "alice");
    EXPECT_EQ(logoffs[0].device_id, "phone");
    close(c);
    ASSERT_EQ(presence.disconnects.size(), 1u);
    EXPECT_TRUE(presence.disconnects[0].signed_out) << "signed out, not \"connection lost\"";
}

TEST_F(session_test, authenticate_states_the_idle_logoff) {
    config.idle_logoff = std::chrono::minutes(15);
    auto& c = open();
    send(c, authenticate_request(token_for("alice")));
    EXPECT_EQ(only_reply(c).authenticated().limits().idle_logoff_ms(), 900'000u);
}

TEST(user_activity, is_what_a_person_does_not_what_a_client_does_by_itself) {
    const auto kinds = [](auto set) {
        v1::Frame f;
        set(f);
        return confide::routing::is_user_activity(f);
    };
    EXPECT_TRUE(kinds([](v1::Frame& f) { f.mutable_send_message(); }));
    EXPECT_TRUE(kinds([](v1::Frame& f) { f.mutable_start_inquiry(); }));
    EXPECT_TRUE(kinds([](v1::Frame& f) { f.mutable_typing(); }));
    EXPECT_TRUE(kinds([](v1::Frame& f) { f.mutable_get_history(); }));
    EXPECT_TRUE(kinds([](v1::Frame& f) { f.mutable_update_conversation(); }));
    EXPECT_TRUE(kinds([](v1::Frame& f) { f.mutable_set_presence(); }));
    EXPECT_TRUE(kinds([](v1::Frame& f) { f.mutable_list_specialists(); }));
    EXPECT_TRUE(kinds([](v1::Frame& f) { f.mutable_get_specialist(); }));
    EXPECT_FALSE(kinds([](v1::Frame& f) { f.mutable_ping(); }));
    EXPECT_FALSE(kinds([](v1::Frame& f) { f.mutable_sync(); }));
    EXPECT_FALSE(kinds([](v1::Frame& f) { f.mutable_ack(); }));
    EXPECT_FALSE(kinds([](v1::Frame& f) { f.mutable_list_conversations(); }));
    EXPECT_FALSE(kinds([](v1::Frame& f) { f.mutable_mark_read(); }));
    EXPECT_FALSE(kinds([](v1::Frame& f) { f.mutable_sign_out(); }));
}

TEST_F(session_test, a_silent_connection_is_closed_with_4005) {
    config.heartbeat_interval = std::chrono::milliseconds(0);
    auto& c = open();
    run_until([&] { return c.out.close_code.has_value(); });
    EXPECT_EQ(*c.out.close_code, close_code::heartbeat_missed);
    EXPECT_EQ(c.out.take_all().at(0).go_away().close_code(), close_code::heartbeat_missed);
}

// ---- the end ----------------------------------------------------------------------------------

TEST_F(session_test, the_close_unsubscribes_and_unregisters_the_connection) {
    auto& c = signed_in();
    close(c);
    EXPECT_EQ(bus.listeners("alice"), 0u);
    ASSERT_EQ(presence.disconnects.size(), 1u);
    EXPECT_EQ(presence.disconnects[0].user_id, "alice");
    EXPECT_FALSE(presence.disconnects[0].signed_out);
    // Nothing reaches a closed connection.
    c.session->on_notice(chat.append_message("alice", "c1", 1, "bob"));
    settle();
    send(c, ping_request());
    EXPECT_TRUE(c.out.take_all().empty());
}

TEST_F(session_test, sign_out_closes_with_1000_and_goes_offline_at_once) {
    auto& c = signed_in();
    v1::Frame f;
    f.mutable_sign_out();
    send(c, f);
    EXPECT_TRUE(only_reply(c).has_ok());
    EXPECT_EQ(c.out.close_code, close_code::normal);
    close(c);
    ASSERT_EQ(presence.disconnects.size(), 1u);
    EXPECT_TRUE(presence.disconnects[0].signed_out);
}

TEST_F(session_test, closing_an_unauthenticated_connection_touches_no_storage) {
    auto& c = open();
    close(c);
    EXPECT_TRUE(presence.disconnects.empty());
    EXPECT_TRUE(bus.unsubscribed.empty());
}

}  // namespace
