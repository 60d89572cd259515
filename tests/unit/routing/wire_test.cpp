// The chat domain's values as confide.v1 frames.

#include "routing/wire.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace routing = confide::routing;
namespace v1 = confide::v1;

routing::message a_message() {
    return routing::message{"c1", 4, "bob", "m4", "hello", 1234};
}

v1::Frame decode(const std::shared_ptr<const std::string>& bytes) {
    v1::Frame f;
    EXPECT_TRUE(f.ParseFromString(*bytes));
    return f;
}

std::shared_ptr<routing::notice> notice_of(routing::notice::payload what) {
    auto n = std::make_shared<routing::notice>();
    n->what = std::move(what);
    return n;
}

TEST(wire, a_message_event_becomes_an_event_push) {
    auto n = notice_of(a_message());
    n->n = 9;
    n->cursor = "17-3";
    const auto f = decode(routing::frame_of(*n));
    EXPECT_EQ(f.request_id(), 0u);
    ASSERT_TRUE(f.has_event());
    EXPECT_EQ(f.event().cursor(), "17-3");
    const auto& m = f.event().message();
    EXPECT_EQ(m.conversation_id(), "c1");
    EXPECT_EQ(m.seq(), 4u);
    EXPECT_EQ(m.sender_id(), "bob");
    EXPECT_EQ(m.client_msg_id(), "m4");
    EXPECT_EQ(m.body(), "hello");
    EXPECT_EQ(m.server_time_ms(), 1234);
    EXPECT_TRUE(n->is_event());
    ASSERT_NE(n->message_event(), nullptr);
}

TEST(wire, a_notice_is_encoded_once_for_every_connection) {
    auto n = notice_of(a_message());
    const auto& first = routing::frame_of(*n);
    const auto& second = routing::frame_of(*n);
    EXPECT_EQ(first.get(), second.get());
}

TEST(wire, shared_bytes_are_made_once_by_the_first_of_concurrent_callers) {
    routing::shared_bytes bytes;
    std::atomic<int> made{0};
    std::vector<const std::string*> seen(8, nullptr);
    {
        std::vector<std::jthread> callers;
        for (auto& slot : seen) {
            callers.emplace_back([&bytes, &made, &slot] {
                slot = bytes
                           .get([&made] {
                               made.fetch_add(1);
                               return std::make_shared<const std::string>("frame");
                           })
                           .get();
            });
        }
    }
    EXPECT_EQ(made.load(), 1);
    for (const auto* p : seen) {
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p, seen.front());
        EXPECT_EQ(*p, "frame");
    }
}

TEST(wire, shared_bytes_whose_making_threw_are_made_by_the_next_caller) {
    routing::shared_bytes bytes;
    EXPECT_THROW(bytes.get([]() -> std::shared_ptr<const std::string> {
        throw std::runtime_error("no memory");
    }),
                 std::runtime_error);
    const auto& p = bytes.get([] { return std::make_shared<const std::string>("again"); });
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, "again");
}

TEST(wire, a_conversation_event_carries_no_listing_fields) {
    routing::conversation c;
    c.id = "c2";
    c.client_id = "alice";
    c.specialist_id = "dr.bob";
    c.state = routing::conversation_state::declined;
    c.free_consultation = true;
    c.created_ms = 10;
    c.updated_ms = 20;
    c.last_seq = 5;
    c.unread_count = 2;
    c.read_seq = 3;
    c.other_read_seq = 4;
    c.other_delivered_seq = 5;
    auto n = notice_of(c);
    n->cursor = "1-1";
    const auto f = decode(routing::frame_of(*n));
    ASSERT_TRUE(f.event().has_conversation());
    const auto& out = f.event().conversation();
    EXPECT_EQ(out.id(), "c2");
    EXPECT_EQ(out.client_id(), "alice");
    EXPECT_EQ(out.specialist_id(), "dr.bob");
    EXPECT_EQ(out.state(), v1::DECLINED);
    EXPECT_TRUE(out.free_consultation());
    EXPECT_EQ(out.created_ms(), 10);
    EXPECT_EQ(out.updated_ms(), 20);
    EXPECT_EQ(out.last_seq(), 5u);
    EXPECT_EQ(out.unread_count(), 2u);
    EXPECT_EQ(out.read_seq(), 3u);
    EXPECT_EQ(out.other_read_seq(), 4u);
    EXPECT_EQ(out.other_delivered_seq(), 5u);
    EXPECT_FALSE(out.has_last_message());
    EXPECT_FALSE(out.has_other_presence());
}

TEST(wire, a_listed_conversation_carries_its_last_message_and_the_other_presence) {
    routing::conversation c;
    c.id = "c1";
    c.last_message = a_message();
    c.other_presence = routing::presence{"bob", routing::presence_state::away, 77, false};
    v1::Conversation out;
    routing::to_wire(c, out);
    ASSERT_TRUE(out.has_last_message());
    EXPECT_EQ(out.last_message().body(), "hello");
    ASSERT_TRUE(out.has_other_presence());
    EXPECT_EQ(out.other_presence().user_id(), "bob");
    EXPECT_EQ(out.other_presence().state(), v1::AWAY);
    EXPECT_EQ(out.other_presence().last_seen_ms(), 77);
}

TEST(wire, live_signals_become_their_pushes) {
    const auto r = decode(routing::frame_of(
        *notice_of(routing::receipt{"c1", "bob", routing::receipt_kind::read, 6})));
    ASSERT_TRUE(r.has_receipt());
    EXPECT_EQ(r.receipt().conversation_id(), "c1");
    EXPECT_EQ(r.receipt().user_id(), "bob");
    EXPECT_EQ(r.receipt().kind(), v1::READ);
    EXPECT_EQ(r.receipt().up_to_seq(), 6u);

    const auto p = decode(routing::frame_of(
        *notice_of(routing::presence{"bob", routing::presence_state::offline, 55, true})));
    ASSERT_TRUE(p.has_presence());
    EXPECT_EQ(p.presence().presence().state(), v1::OFFLINE);
    EXPECT_EQ(p.presence().presence().last_seen_ms(), 55);
    EXPECT_TRUE(p.presence().presence().connection_lost());

    const auto t = decode(routing::frame_of(*notice_of(routing::typing{"c1", "bob", true})));
    ASSERT_TRUE(t.has_typing_push());
    EXPECT_EQ(t.typing_push().conversation_id(), "c1");
    EXPECT_EQ(t.typing_push().user_id(), "bob");
    EXPECT_TRUE(t.typing_push().typing());
    EXPECT_FALSE(notice_of(routing::typing{})->is_event());
}

TEST(wire, requests_map_to_domain_values) {
    EXPECT_EQ(routing::from_wire(v1::ACCEPT), routing::conversation_action::accept);
    EXPECT_EQ(routing::from_wire(v1::DECLINE), routing::conversation_action::decline);
    EXPECT_EQ(routing::from_wire(v1::CLOSE), routing::conversation_action::close);
    EXPECT_EQ(routing::from_wire(v1::AWAY), routing::presence_state::away);
    EXPECT_EQ(routing::from_wire(v1::ONLINE), routing::presence_state::online);
    EXPECT_EQ(routing::to_wire(routing::conversation_state::unknown),
              v1::CONVERSATION_STATE_UNSPECIFIED);
    EXPECT_EQ(routing::to_wire(routing::conversation_state::inquiry), v1::INQUIRY);
    EXPECT_EQ(routing::to_wire(routing::conversation_state::active), v1::ACTIVE);
    EXPECT_EQ(routing::to_wire(routing::conversation_state::closed), v1::CLOSED);
}

}  // namespace
