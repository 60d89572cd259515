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

namespace {

using namespace confide::testing;
using confide::auth::role;

confide::routing::specialist_profile listed(std::string id, std::string name,
                                            bool accepting = true) {
    confide::routing::specialist_profile p;
    p.id = std::move(id);
    p.display_name = std::move(name);
    p.specialties = {"anxiety"};
    p.languages = {"en"};
    p.accepting_new_clients = accepting;
    p.expected_reply_minutes = 60;
    return p;
}

v1::Frame inquiry(std::string specialist, std::string msg_id) {
    v1::Frame f;
    auto* r = f.mutable_start_inquiry();
    r->set_specialist_id(std::move(specialist));
    r->set_client_msg_id(std::move(msg_id));
    r->set_body("hello");
    return f;
}

TEST_F(session_test, a_new_inquiry_carries_topic_times_expiry_and_gets_the_safety_notice) {
    config.safety_notice = {"Not for emergencies.", "Call 112"};
    config.inquiry_expiry = std::chrono::hours(1);
    auto& c = signed_in("alice", role::client);
    auto f = inquiry("dr.bob", "m1");
    f.mutable_start_inquiry()->set_topic("sleep");
    const auto now = confide::now_ms();
    auto* t = f.mutable_start_inquiry()->add_preferred_times();
    t->set_start_ms(now + 3'600'000);
    t->set_end_ms(now + 7'200'000);
    send(c, f);
    const auto reply = only_reply(c);
    ASSERT_TRUE(reply.has_sent()) << reply.DebugString();
    EXPECT_EQ(reply.sent().safety_notice().text(), "Not for emergencies.");
    EXPECT_EQ(reply.sent().safety_notice().crisis_line(), "Call 112");
    ASSERT_EQ(chat.inquiries.size(), 1u);
    EXPECT_EQ(chat.inquiries[0].topic, "sleep");
    ASSERT_EQ(chat.inquiries[0].preferred_times.size(), 1u);
    EXPECT_EQ(chat.inquiries[0].preferred_times[0].start_ms, now + 3'600'000);
    EXPECT_EQ(chat.inquiries[0].expires_at_ms, chat.inquiries[0].now_ms + 3'600'000);
    // A message into the open conversation (seq 2) is not a new inquiry: no notice again.
    send(c, inquiry("dr.bob", "m2"));
    EXPECT_FALSE(only_reply(c).sent().has_safety_notice());
}

TEST_F(session_test, preferred_times_in_the_past_or_too_long_are_refused_and_store_nothing) {
    auto& c = signed_in("alice", role::client);
    auto past = inquiry("dr.bob", "m1");
    auto* t = past.mutable_start_inquiry()->add_preferred_times();
    t->set_start_ms(1000);
    t->set_end_ms(2000);
    send(c, past);
    EXPECT_EQ(only_reply(c).error().code(), v1::INVALID_ARGUMENT);
    auto long_one = inquiry("dr.bob", "m2");
    auto* l = long_one.mutable_start_inquiry()->add_preferred_times();
    l->set_start_ms(confide::now_ms() + 1000);
    l->set_end_ms(confide::now_ms() + 3 * 24 * 3'600'000LL);
    send(c, long_one);
    EXPECT_EQ(only_reply(c).error().code(), v1::INVALID_ARGUMENT);
    auto multi_line = inquiry("dr.bob", "m3");
    multi_line.mutable_start_inquiry()->set_topic("two\nlines");
    send(c, multi_line);
    EXPECT_EQ(only_reply(c).error().code(), v1::INVALID_ARGUMENT);
    EXPECT_TRUE(chat.inquiries.empty());
}

TEST_F(session_test, clients_get_the_safety_notice_when_they_sign_in_and_specialists_do_not) {
    config.safety_notice = {"Not for emergencies.", "Call 112"};
    auto& a = open();
    send(a, authenticate_request(token_for("alice", role::client)));
    EXPECT_EQ(only_reply(a).authenticated().safety_notice().crisis_line(), "Call 112");
    auto& b = open();
    send(b, authenticate_request(token_for("dr.bob", role::specialist), "dev2"));
    EXPECT_FALSE(only_reply(b).authenticated().has_safety_notice());
}

TEST_F(session_test, decline_passes_its_reason_and_a_reason_without_decline_is_refused) {
    auto& c = signed_in("dr.bob", role::specialist);
    v1::Frame f;
    f.mutable_update_conversation()->set_conversation_id("c1");
    f.mutable_update_conversation()->set_action(v1::DECLINE);
    f.mutable_update_conversation()->set_decline_reason(v1::OUTSIDE_EXPERTISE);
    send(c, f);
    ASSERT_TRUE(only_reply(c).has_conversation());
    ASSERT_EQ(chat.updates.size(), 1u);
    EXPECT_EQ(chat.updates[0].reason, confide::routing::decline_reason::outside_expertise);
    f.mutable_update_conversation()->set_action(v1::ACCEPT);
    send(c, f);
    EXPECT_EQ(only_reply(c).error().code(), v1::INVALID_ARGUMENT);
    f.mutable_update_conversation()->set_action(v1::DECLINE);
    f.mutable_update_conversation()->set_decline_reason(static_cast<v1::DeclineReason>(99));
    send(c, f);
    EXPECT_EQ(only_reply(c).error().code(), v1::INVALID_ARGUMENT);
    EXPECT_EQ(chat.updates.size(), 1u);
}

TEST_F(session_test, list_specialists_filters_pages_and_adds_availability) {
    directory_store.entries = {listed("dr.c", "Dr C"), listed("dr.a", "Dr A", false),
                               listed("dr.b", "Dr B")};
    directory_store.presences["dr.b"].user_id = "dr.b";
    directory_store.presences["dr.b"].state = confide::routing::presence_state::online;
    directory_store.first_replies["dr.b"] = {1000, 3000, 2000};
    auto& c = signed_in("alice", role::client);
    v1::Frame f;
    f.mutable_list_specialists()->set_accepting_new_clients_only(true);
    f.mutable_list_specialists()->set_limit(1);
    send(c, f);
    auto r = only_reply(c);
    ASSERT_TRUE(r.has_specialists()) << r.DebugString();
    ASSERT_EQ(r.specialists().specialists_size(), 1);
    const auto& b = r.specialists().specialists(0);
    EXPECT_EQ(b.id(), "dr.b");
    EXPECT_EQ(b.presence().state(), v1::ONLINE);
    EXPECT_EQ(b.presence().availability().median_first_reply_ms(), 2000u);
    EXPECT_EQ(b.presence().availability().first_reply_samples(), 3u);
    EXPECT_EQ(b.presence().availability().expected_reply_minutes(), 60u);
    EXPECT_TRUE(b.presence().availability().within_office_hours());
    ASSERT_FALSE(r.specialists().next_page_token().empty());
    // The window of the measured reply time: the last 30 days.
    ASSERT_FALSE(directory_store.activity_since.empty());
    EXPECT_NEAR(static_cast<double>(confide::now_ms() - directory_store.activity_since.back()),
                30.0 * 24 * 3600 * 1000, 60'000.0);
    f.mutable_list_specialists()->set_page_token(r.specialists().next_page_token());
    send(c, f);
    r = only_reply(c);
    ASSERT_EQ(r.specialists().specialists_size(), 1);
    EXPECT_EQ(r.specialists().specialists(0).id(), "dr.c");
    EXPECT_TRUE(r.specialists().next_page_token().empty());
}

TEST_F(session_test, get_specialist_of_an_unlisted_id_is_not_found) {
    directory_store.entries = {listed("dr.b", "Dr B")};
    auto& c = signed_in("alice", role::client);
    v1::Frame f;
    f.mutable_get_specialist()->set_specialist_id("dr.nobody");
    send(c, f);
    EXPECT_EQ(only_reply(c).error().code(), v1::NOT_FOUND);
    f.mutable_get_specialist()->set_specialist_id("dr.b");
    send(c, f);
    auto r = only_reply(c);
    ASSERT_EQ(r.specialists().specialists_size(), 1);
    EXPECT_EQ(r.specialists().specialists(0).display_name(), "Dr B");
}

}  // namespace
