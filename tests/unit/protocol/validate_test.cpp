#include "protocol/validate.hpp"
#include "protocol/codec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace confide::protocol {
namespace {

const limits lim{};

v1::Frame send_frame(std::string conversation, std::string msg_id, std::string body) {
    v1::Frame f;
    f.set_request_id(7);
    auto* s = f.mutable_send_message();
    s->set_conversation_id(std::move(conversation));
    s->set_client_msg_id(std::move(msg_id));
    s->set_body(std::move(body));
    return f;
}

errc code_of(const outcome<void>& r) {
    return r ? errc::internal : r.error().code;
}

TEST(Validate, AcceptsAWellFormedSend) {
    EXPECT_TRUE(validate_request(send_frame("c1", "m-1", "hello"), lim));
}

TEST(Validate, RejectsAnEmptyFrame) {
    v1::Frame f;
    f.set_request_id(1);
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
}

TEST(Validate, RejectsMissingRequestId) {
    auto f = send_frame("c1", "m-1", "hello");
    f.set_request_id(0);
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
}

TEST(Validate, RejectsRepliesAndPushesFromClients) {
    v1::Frame f;
    f.set_request_id(1);
    f.mutable_sent()->set_seq(1);
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
    v1::Frame g;
    g.set_request_id(1);
    g.mutable_event()->set_cursor("1-0");
    EXPECT_EQ(code_of(validate_request(g, lim)), errc::invalid_argument);
}

TEST(Validate, RejectsMissingAndMalformedIds) {
    EXPECT_EQ(code_of(validate_request(send_frame("", "m", "hi"), lim)), errc::invalid_argument);
    EXPECT_EQ(code_of(validate_request(send_frame("c1", "", "hi"), lim)), errc::invalid_argument);
    EXPECT_EQ(code_of(validate_request(send_frame("c 1", "m", "hi"), lim)), errc::invalid_argument);
    EXPECT_EQ(code_of(validate_request(send_frame("c1", std::string(129, 'a'), "hi"), lim)),
              errc::invalid_argument);
    EXPECT_TRUE(validate_request(send_frame("c1", std::string(128, 'a'), "hi"), lim));
}

TEST(Validate, BodyMustBeNonEmptyUtf8WithinLimit) {
    EXPECT_EQ(code_of(validate_request(send_frame("c1", "m", ""), lim)), errc::invalid_argument);
    EXPECT_EQ(code_of(validate_request(send_frame("c1", "m", "\xC0\xAF"), lim)),
              errc::invalid_argument);
    EXPECT_TRUE(validate_request(send_frame("c1", "m", std::string(8192, 'x')), lim));
    EXPECT_EQ(code_of(validate_request(send_frame("c1", "m", std::string(8193, 'x')), lim)),
              errc::too_large);
}

TEST(Validate, AuthenticateNeedsADeviceId) {
    v1::Frame f;
    f.set_request_id(1);
    f.mutable_authenticate()->set_token("t");
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
    f.mutable_authenticate()->set_device_id("phone-1");
    EXPECT_TRUE(validate_request(f, lim));
    f.mutable_authenticate()->set_token(std::string(lim.max_token_bytes + 1, 'a'));
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::too_large);
}

TEST(Validate, CursorsMustHaveTheServersShape) {
    EXPECT_TRUE(is_valid_cursor("1732530000000-0", lim));
    EXPECT_TRUE(is_valid_cursor("0-1", lim));
    EXPECT_FALSE(is_valid_cursor("", lim));
    EXPECT_FALSE(is_valid_cursor("-1", lim));
    EXPECT_FALSE(is_valid_cursor("1-", lim));
    EXPECT_FALSE(is_valid_cursor("1-2-3", lim));
    EXPECT_FALSE(is_valid_cursor("abc-1", lim));
    EXPECT_FALSE(is_valid_cursor("123456789012345678901-0", lim));
    v1::Frame f;
    f.set_request_id(3);
    f.mutable_ack()->set_cursor("+");
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
    v1::Frame s;
    s.set_request_id(3);
    s.mutable_sync();
    EXPECT_TRUE(validate_request(s, lim));  // empty cursor: the device's stored one
}

TEST(Validate, EnumsMustBeMeaningful) {
    v1::Frame f;
    f.set_request_id(1);
    f.mutable_update_conversation()->set_conversation_id("c1");
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
    f.mutable_update_conversation()->set_action(static_cast<v1::ConversationAction>(99));
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
    f.mutable_update_conversation()->set_action(v1::ACCEPT);
    EXPECT_TRUE(validate_request(f, lim));

    v1::Frame p;
    p.set_request_id(1);
    p.mutable_set_presence()->set_state(v1::OFFLINE);
    EXPECT_EQ(code_of(validate_request(p, lim)), errc::invalid_argument);
}

TEST(Validate, PagesAreBounded) {
    v1::Frame f;
    f.set_request_id(1);
    f.mutable_get_history()->set_conversation_id("c1");
    f.mutable_get_history()->set_limit(201);
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
    f.mutable_get_history()->set_limit(200);
    EXPECT_TRUE(validate_request(f, lim));
}

TEST(Validate, MarkReadNeedsASeq) {
    v1::Frame f;
    f.set_request_id(1);
    f.mutable_mark_read()->set_conversation_id("c1");
    EXPECT_EQ(code_of(validate_request(f, lim)), errc::invalid_argument);
    f.mutable_mark_read()->set_up_to_seq(3);
    EXPECT_TRUE(validate_request(f, lim));
}

TEST(Codec, GarbageIsInvalidArgumentAndRoundTripWorks) {
    auto bad = decode(std::string("\xff\xff\xff\xff", 4));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::invalid_argument);

    auto bytes = encode(send_frame("c1", "m-1", "hello"));
    auto back = decode(*bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->send_message().body(), "hello");

    auto err = decode(*encode_error(9, fail(errc::unavailable, "redis down")));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->request_id(), 9u);
    EXPECT_EQ(err->error().code(), v1::UNAVAILABLE);
    EXPECT_TRUE(err->error().retryable());
}

TEST(Codec, TheRequestIdOfAnUnparsableFrameIsRecovered) {
    auto bytes = *encode(send_frame("c1", "m-1", "ok"));
    EXPECT_EQ(peek_request_id(bytes), 7u);
    v1::Frame big;
    big.set_request_id(300);  // a two-byte varint
    big.mutable_ping();
    EXPECT_EQ(peek_request_id(*encode(big)), 300u);
    EXPECT_EQ(peek_request_id(""), 0u);
    EXPECT_EQ(peek_request_id("\x08"), 0u);      // truncated varint
    EXPECT_EQ(peek_request_id("\x12\x00"), 0u);  // another field first
}

}  // namespace
}  // namespace confide::protocol
