// The reply to each request of an authenticated session, and what it asked of the ports.

#include "session_fixture.hpp"

namespace {

using namespace confide::testing;
using confide::auth::role;

TEST_F(session_test, ping_answers_pong_with_both_times) {
    auto& c = signed_in();
    const auto rid = send(c, ping_request(1234));
    const auto f = only_reply(c);
    EXPECT_EQ(f.request_id(), rid);
    ASSERT_TRUE(f.has_pong());
    EXPECT_EQ(f.pong().client_time_ms(), 1234);
    EXPECT_GT(f.pong().server_time_ms(), 0);
}

TEST_F(session_test, a_client_starts_an_inquiry) {
    auto& c = signed_in("alice", role::client);
    v1::Frame f;
    auto* r = f.mutable_start_inquiry();
    r->set_specialist_id("dr.bob");
    r->set_client_msg_id("m1");
    r->set_body("hello doctor");
    r->set_free_consultation(true);
    const auto rid = send(c, f);
    const auto reply = only_reply(c);
    EXPECT_EQ(reply.request_id(), rid);
    ASSERT_TRUE(reply.has_sent()) << reply.DebugString();
    ASSERT_EQ(chat.inquiries.size(), 1u);
    const auto& cmd = chat.inquiries[0];
    EXPECT_EQ(cmd.client_id, "alice");
    EXPECT_EQ(cmd.specialist_id, "dr.bob");
    EXPECT_EQ(cmd.client_msg_id, "m1");
    EXPECT_EQ(cmd.body, "hello doctor");
    EXPECT_TRUE(cmd.free_consultation);
    EXPECT_FALSE(cmd.new_conversation_id.empty());
    EXPECT_GT(cmd.now_ms, 0);
    EXPECT_EQ(reply.sent().conversation_id(), cmd.new_conversation_id);
    EXPECT_EQ(reply.sent().seq(), 1u);
    EXPECT_EQ(reply.sent().client_msg_id(), "m1");
    EXPECT_FALSE(reply.sent().duplicate());
}

TEST_F(session_test, a_specialist_cannot_start_an_inquiry) {
    auto& c = signed_in("dr.bob", role::specialist);
    v1::Frame f;
    auto* r = f.mutable_start_inquiry();
    r->set_specialist_id("dr.eve");
    r->set_client_msg_id("m1");
    r->set_body("hi");
    send(c, f);
    EXPECT_EQ(only_reply(c).error().code(), v1::FORBIDDEN);
    EXPECT_TRUE(chat.inquiries.empty());
}

TEST_F(session_test, send_message_stores_as_the_authenticated_user_and_answers_sent) {
    auto& c = signed_in("alice");
    send(c, send_request("c1", "m7", "how are you"));
    const auto f = only_reply(c);
    ASSERT_TRUE(f.has_sent());
    EXPECT_EQ(f.sent().conversation_id(), "c1");
    EXPECT_EQ(f.sent().seq(), 1u);
    EXPECT_EQ(f.sent().client_msg_id(), "m7");
    ASSERT_EQ(chat.sends.size(), 1u);
    EXPECT_EQ(chat.sends[0].sender_id, "alice");
    EXPECT_EQ(chat.sends[0].body, "how are you");
}

TEST_F(session_test, a_send_storage_could_not_confirm_is_unavailable_and_retryable) {
    auto& c = signed_in();
    chat.failures.fail_next("send_message");
    send(c, send_request("c1", "m1"));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::UNAVAILABLE);
    EXPECT_TRUE(f.error().retryable());
}

TEST_F(session_test, a_send_refused_by_storage_passes_its_reason_on) {
    auto& c = signed_in();
    chat.failures.fail_next("send_message", confide::errc::conflict);
    send(c, send_request("c1", "m1"));
    const auto f = only_reply(c);
    EXPECT_EQ(f.error().code(), v1::CONFLICT);
    EXPECT_FALSE(f.error().retryable());
}

TEST_F(session_test, mark_read_moves_the_mark_and_answers_ok) {
    auto& c = signed_in("alice");
    v1::Frame f;
    f.mutable_mark_read()->set_conversation_id("c1");
    f.mutable_mark_read()->set_up_to_seq(9);
    send(c, f);
    EXPECT_TRUE(only_reply(c).has_ok());
    ASSERT_EQ(chat.read_marks.size(), 1u);
    EXPECT_EQ(chat.read_marks[0].user_id, "alice");
    EXPECT_EQ(chat.read_marks[0].conversation_id, "c1");
    EXPECT_EQ(chat.read_marks[0].up_to_seq, 9u);
}

TEST_F(session_test, typing_is_published_to_the_other_party) {
    chat.parties["c1"] = {"alice", "dr.bob"};
    auto& c = signed_in("alice");
    send(c, typing_request("c1", true));
    EXPECT_TRUE(only_reply(c).has_ok());
    ASSERT_EQ(bus.typing.size(), 1u);
    EXPECT_EQ(bus.typing[0].to_user, "dr.bob");
    EXPECT_EQ(bus.typing[0].conversation_id, "c1");
    EXPECT_EQ(bus.typing[0].from_user, "alice");
    EXPECT_TRUE(bus.typing[0].typing);
}

TEST_F(session_test, typing_in_someone_elses_conversation_is_forbidden) {
    chat.parties["c1"] = {"carol", "dr.bob"};
    auto& c = signed_in("alice");
    send(c, typing_request("c1"));
    EXPECT_EQ(only_reply(c).error().code(), v1::FORBIDDEN);
    EXPECT_TRUE(bus.typing.empty());
}

TEST_F(session_test, set_presence_sets_the_status) {
    auto& c = signed_in("alice");
    v1::Frame f;
    f.mutable_set_presence()->set_state(v1::AWAY);
    send(c, f);
    EXPECT_TRUE(only_reply(c).has_ok());
    f.mutable_set_presence()->set_state(v1::ONLINE);
    f.set_request_id(0);
    send(c, f);
    EXPECT_TRUE(only_reply(c).has_ok());
    ASSERT_EQ(presence.statuses.size(), 2u);
    EXPECT_EQ(presence.statuses[0],
              std::make_pair(std::string("alice"), confide::routing::presence_state::away));
    EXPECT_EQ(presence.statuses[1].second, confide::routing::presence_state::online);
}

TEST_F(session_test, list_conversations_answers_them_as_frames) {
    confide::routing::conversation c1;
    c1.id = "c1";
    c1.client_id = "alice";
    c1.specialist_id = "dr.bob";
    c1.state = confide::routing::conversation_state::inquiry;
    c1.unread_count = 2;
    c1.last_message = confide::routing::message{"c1", 2, "dr.bob", "x", "see you", 99};
    c1.other_presence =
        confide::routing::presence{"dr.bob", confide::routing::presence_state::online, 5, false};
    chat.conversations = {c1};
    auto& c = signed_in("alice");
    v1::Frame f;
    f.mutable_list_conversations();
    send(c, f);
    const auto reply = only_reply(c);
    ASSERT_EQ(reply.conversations().conversations_size(), 1);
    const auto& out = reply.conversations().conversations(0);
    EXPECT_EQ(out.id(), "c1");
    EXPECT_EQ(out.state(), v1::INQUIRY);
    EXPECT_EQ(out.unread_count(), 2u);
    EXPECT_EQ(out.last_message().body(), "see you");
    EXPECT_EQ(out.other_presence().state(), v1::ONLINE);
    EXPECT_EQ(chat.list_limits, std::vector<std::uint32_t>{50}) << "0 means the default page";
}

TEST_F(session_test, get_history_answers_the_page) {
    chat.history_answer.messages = {{"c1", 5, "dr.bob", "b", "five", 50},
                                    {"c1", 4, "alice", "a", "four", 40}};
    chat.history_answer.more = true;
    auto& c = signed_in("alice");
    v1::Frame f;
    f.mutable_get_history()->set_conversation_id("c1");
    f.mutable_get_history()->set_before_seq(6);
    f.mutable_get_history()->set_limit(2);
    send(c, f);
    const auto reply = only_reply(c);
    ASSERT_EQ(reply.history().messages_size(), 2);
    EXPECT_EQ(reply.history().messages(0).seq(), 5u);
    EXPECT_EQ(reply.history().messages(1).body(), "four");
    EXPECT_TRUE(reply.history().more());
    ASSERT_EQ(chat.history_calls.size(), 1u);
    EXPECT_EQ(chat.history_calls[0].before_seq, 6u);
    EXPECT_EQ(chat.history_calls[0].limit, 2u);
}

TEST_F(session_test, get_history_of_a_foreign_conversation_is_forbidden) {
    chat.failures.fail_next("history", confide::errc::forbidden);
    auto& c = signed_in("alice");
    v1::Frame f;
    f.mutable_get_history()->set_conversation_id("c9");
    send(c, f);
    EXPECT_EQ(only_reply(c).error().code(), v1::FORBIDDEN);
}

TEST_F(session_test, update_conversation_answers_the_conversation_after_the_action) {
    auto& c = signed_in("dr.bob", role::specialist);
    v1::Frame f;
    f.mutable_update_conversation()->set_conversation_id("c1");
    f.mutable_update_conversation()->set_action(v1::ACCEPT);
    send(c, f);
    const auto reply = only_reply(c);
    ASSERT_TRUE(reply.has_conversation());
    EXPECT_EQ(reply.conversation().conversation().id(), "c1");
    EXPECT_EQ(reply.conversation().conversation().state(), v1::ACTIVE);
    f.mutable_update_conversation()->set_action(v1::DECLINE);
    f.set_request_id(0);
    send(c, f);
    EXPECT_EQ(only_reply(c).conversation().conversation().state(), v1::DECLINED);
    ASSERT_EQ(chat.updates.size(), 2u);
    EXPECT_EQ(chat.updates[0].user_id, "dr.bob");
    EXPECT_EQ(chat.updates[0].action, confide::routing::conversation_action::accept);
    EXPECT_EQ(chat.updates[1].action, confide::routing::conversation_action::decline);
}

TEST_F(session_test, update_conversation_refused_by_storage_passes_the_reason_on) {
    chat.failures.fail_next("update_conversation", confide::errc::failed_precondition);
    auto& c = signed_in("dr.bob", role::specialist);
    v1::Frame f;
    f.mutable_update_conversation()->set_conversation_id("c1");
    f.mutable_update_conversation()->set_action(v1::CLOSE);
    send(c, f);
    EXPECT_EQ(only_reply(c).error().code(), v1::FAILED_PRECONDITION);
}

}  // namespace
