// The audit trail of a session: what each access records (routing/audit.hpp), and that no event
// carries a token or a message body.

#include "session_fixture.hpp"

#include <boost/json/parse.hpp>

namespace {

using namespace confide::testing;
using confide::auth::role;
using confide::routing::audit_action;
using confide::routing::audit_event;

// Every field of `e`, for "contains no ..." checks.
std::string all_fields(const audit_event& e) {
    return e.user_id + "|" + e.device_id + "|" + e.address + "|" + e.connection_id + "|" +
           e.conversation_id + "|" + e.detail;
}

TEST_F(session_test, a_sign_in_is_audited_with_user_device_address_and_connection) {
    signed_in("alice", role::client, "phone-7");
    const auto events = audit.of(audit_action::sign_in);
    ASSERT_EQ(events.size(), 1u);
    const auto& e = events[0];
    EXPECT_EQ(e.user_id, "alice");
    EXPECT_EQ(e.device_id, "phone-7");
    EXPECT_EQ(e.address, "127.0.0.1:5555");
    EXPECT_EQ(e.connection_id, "conn1");
    EXPECT_EQ(e.detail, "client");
    EXPECT_GT(e.time_ms, 0);
    EXPECT_TRUE(audit.of(audit_action::sign_in_failed).empty());
}

TEST_F(session_test, a_bad_token_is_audited_without_a_user_and_without_the_token) {
    auto& c = open();
    const std::string token = token_for("alice") + "x";
    send(c, authenticate_request(token, "laptop"));
    ASSERT_EQ(audit.events.size(), 1u);
    const auto& e = audit.events[0];
    EXPECT_EQ(e.action, audit_action::sign_in_failed);
    EXPECT_EQ(e.user_id, "") << "the token proved nothing: no user is named";
    EXPECT_EQ(e.device_id, "laptop");
    EXPECT_EQ(e.address, "127.0.0.1:5555");
    EXPECT_EQ(e.detail, "bad token signature");
    // Not the token, nor any of its three parts.
    for (std::size_t from = 0; from < token.size(); from = token.find('.', from) + 1) {
        const auto part = token.substr(from, token.find('.', from) - from);
        EXPECT_EQ(all_fields(e).find(part), std::string::npos) << part;
        if (token.find('.', from) == std::string::npos) {
            break;
        }
    }
}

TEST_F(session_test, a_missing_token_is_audited) {
    auto& c = open();
    send(c, authenticate_request(""));
    ASSERT_EQ(audit.of(audit_action::sign_in_failed).size(), 1u);
    EXPECT_EQ(audit.events[0].detail, "a token is required");
}

TEST_F(session_test, refusals_after_the_token_proved_the_user_name_the_user) {
    config.max_connections_per_user = 1;
    chat.roles["alice"] = role::specialist;
    auto& c = open();
    send(c, authenticate_request(token_for("alice", role::client)));
    presence.live["bob"] = {"elsewhere"};
    auto& d = open();
    send(d, authenticate_request(token_for("bob")));
    const auto failed = audit.of(audit_action::sign_in_failed);
    ASSERT_EQ(failed.size(), 2u);
    EXPECT_EQ(failed[0].user_id, "alice");
    EXPECT_NE(failed[0].detail.find("role"), std::string::npos) << failed[0].detail;
    EXPECT_EQ(failed[1].user_id, "bob");
    EXPECT_NE(failed[1].detail.find("too many connections"), std::string::npos);
    EXPECT_TRUE(audit.of(audit_action::sign_in).empty());
}

TEST_F(session_test, reads_of_health_data_are_audited) {
    chat.history_answer.messages = {{"c1", 5, "dr.bob", "b", "my private words", 50}};
    confide::routing::conversation mine;
    mine.id = "c1";
    mine.client_id = "alice";
    mine.specialist_id = "dr.bob";
    chat.conversations = {mine};
    auto& c = signed_in("alice");
    send(c, sync_request());
    v1::Frame list;
    list.mutable_list_conversations();
    send(c, list);
    v1::Frame history;
    history.mutable_get_history()->set_conversation_id("c1");
    history.mutable_get_history()->set_before_seq(6);
    send(c, history);

    const auto syncs = audit.of(audit_action::sync);
    ASSERT_EQ(syncs.size(), 1u);
    EXPECT_EQ(syncs[0].user_id, "alice");
    EXPECT_EQ(syncs[0].device_id, "dev1");
    EXPECT_EQ(syncs[0].detail, "from 0-0");
    const auto lists = audit.of(audit_action::conversations_read);
    ASSERT_EQ(lists.size(), 1u);
    EXPECT_EQ(lists[0].detail, "1 conversations");
    const auto reads = audit.of(audit_action::history_read);
    ASSERT_EQ(reads.size(), 1u);
    EXPECT_EQ(reads[0].conversation_id, "c1");
    EXPECT_EQ(reads[0].detail, "1 messages before 6");
    for (const auto& e : audit.events) {
        EXPECT_EQ(all_fields(e).find("private"), std::string::npos);
    }
}

TEST_F(session_test, conversation_state_changes_are_audited) {
    auto& a = signed_in("alice", role::client);
    v1::Frame inquiry;
    inquiry.mutable_start_inquiry()->set_specialist_id("dr.bob");
    inquiry.mutable_start_inquiry()->set_client_msg_id("m1");
    inquiry.mutable_start_inquiry()->set_body("please help me with my panic attacks");
    send(a, inquiry);
    const auto conversation = only_reply(a).sent().conversation_id();
    auto& b = signed_in("dr.bob", role::specialist);
    v1::Frame accept;
    accept.mutable_update_conversation()->set_conversation_id(conversation);
    accept.mutable_update_conversation()->set_action(v1::ACCEPT);
    send(b, accept);

    const auto changes = audit.of(audit_action::conversation_state);
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].user_id, "alice");
    EXPECT_EQ(changes[0].conversation_id, conversation);
    EXPECT_EQ(changes[0].detail, "inquiry");
    EXPECT_EQ(changes[1].user_id, "dr.bob");
    EXPECT_EQ(changes[1].conversation_id, conversation);
    EXPECT_EQ(changes[1].detail, "accept");
    for (const auto& e : audit.events) {
        EXPECT_EQ(all_fields(e).find("panic"), std::string::npos);
    }
}

TEST_F(session_test, sends_and_pings_are_not_audited) {
    auto& c = signed_in("alice");
    const auto before = audit.events.size();
    send(c, send_request("c1", "m1", "body"));
    send(c, ping_request());
    EXPECT_EQ(audit.events.size(), before);
}

TEST_F(session_test, forbidden_requests_are_audited_as_denials) {
    chat.parties["c1"] = {"carol", "dr.bob"};
    chat.failures.fail_next("history", confide::errc::forbidden);
    auto& c = signed_in("alice");
    send(c, typing_request("c1"));
    v1::Frame history;
    history.mutable_get_history()->set_conversation_id("c9");
    send(c, history);
    v1::Frame inquiry;  // a client may, a specialist may not
    auto& s = signed_in("dr.eve", role::specialist);
    inquiry.mutable_start_inquiry()->set_specialist_id("dr.bob");
    inquiry.mutable_start_inquiry()->set_client_msg_id("m1");
    inquiry.mutable_start_inquiry()->set_body("hi");
    send(s, inquiry);

    const auto denials = audit.of(audit_action::access_denied);
    ASSERT_EQ(denials.size(), 3u);
    EXPECT_EQ(denials[0].user_id, "alice");
    EXPECT_EQ(denials[0].conversation_id, "c1");
    EXPECT_EQ(denials[0].detail.rfind("typing: ", 0), 0u) << denials[0].detail;
    EXPECT_EQ(denials[1].conversation_id, "c9");
    EXPECT_EQ(denials[1].detail.rfind("get_history: ", 0), 0u) << denials[1].detail;
    EXPECT_EQ(denials[2].user_id, "dr.eve");
    EXPECT_EQ(denials[2].detail, "start_inquiry: only clients can start an inquiry");
    EXPECT_TRUE(audit.of(audit_action::history_read).empty());
}

TEST_F(session_test, other_refusals_are_not_denials) {
    chat.failures.fail_next("history", confide::errc::unavailable);
    auto& c = signed_in("alice");
    v1::Frame history;
    history.mutable_get_history()->set_conversation_id("c1");
    send(c, history);
    EXPECT_EQ(only_reply(c).error().code(), v1::UNAVAILABLE);
    EXPECT_TRUE(audit.of(audit_action::access_denied).empty());
    EXPECT_TRUE(audit.of(audit_action::history_read).empty());
}

TEST_F(session_test, a_sign_out_is_audited) {
    auto& c = signed_in("alice");
    v1::Frame f;
    f.mutable_sign_out();
    send(c, f);
    const auto outs = audit.of(audit_action::sign_out);
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(outs[0].user_id, "alice");
}

TEST(audit_json_line, holds_the_action_first_and_leaves_empty_fields_out) {
    audit_event e;
    e.action = audit_action::sign_in_failed;
    e.time_ms = 1800000000000;
    e.address = "[::1]:4000";
    e.detail = "token role must be \"client\" or \"specialist\"\n";
    const std::string line = confide::routing::to_json_line(e);
    EXPECT_EQ(line.rfind(R"({"audit":"sign_in_failed","time_ms":1800000000000,)", 0), 0u) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find("user"), std::string::npos);
    const auto v = boost::json::parse(line).as_object();
    EXPECT_EQ(v.at("address").as_string(), "[::1]:4000");
    EXPECT_EQ(v.at("detail").as_string(), e.detail);
}

TEST(audit_action_names, round_trip) {
    for (int i = 0; i <= static_cast<int>(audit_action::admin_command); ++i) {
        const auto a = static_cast<audit_action>(i);
        EXPECT_EQ(confide::routing::parse_audit_action(confide::routing::to_string(a)), a);
    }
    EXPECT_FALSE(confide::routing::parse_audit_action("read_everything"));
}

}  // namespace
