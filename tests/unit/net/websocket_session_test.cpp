// The WebSocket session through real loopback sockets: frames in, frames out, every way a
// connection ends, and on_closed() exactly once in each (checked in TearDown).

#include "net_fixture.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <string>

namespace confide::net::test {
namespace {

using kind = received::kind;

TEST_F(net_test, FramesReachTheHandlerInOrder) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    constexpr int n = 200;
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(c.write_binary("frame " + std::to_string(i)));
    }
    ASSERT_TRUE(rec_->wait([&] { return rec_->frames.size() == n; }));
    std::lock_guard lock(rec_->mutex);
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(rec_->frames[static_cast<std::size_t>(i)], "frame " + std::to_string(i));
    }
    ASSERT_EQ(rec_->infos.size(), 1u);
    EXPECT_EQ(rec_->infos[0].connection_id.size(), 16u);
    EXPECT_TRUE(rec_->infos[0].remote_address.starts_with("127.0.0.1:"));
    EXPECT_TRUE(rec_->infos[0].bearer_token.empty());
}

TEST_F(net_test, SentFramesArriveAsBinaryAndOnWrittenFollows) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("echo:hello"));
    auto r = c.read();
    ASSERT_EQ(r.what, kind::binary) << r.error;
    EXPECT_EQ(r.data, "hello");
    EXPECT_TRUE(rec_->wait([&] { return rec_->written == 1; }));
}

TEST_F(net_test, QueuedBytesCountsWhatIsNotYetWritten) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("queued"));
    EXPECT_EQ(c.read().data, "q1");
    EXPECT_EQ(c.read().data, "q22");
    EXPECT_EQ(c.read().data, "5");  // both queued when asked: the writer had not run yet
}

TEST_F(net_test, TextFrameGoesToOnTextFrame) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_text("hello"));
    ASSERT_TRUE(c.write_binary("after"));
    ASSERT_TRUE(rec_->wait([&] { return rec_->frames.size() == 1; }));
    std::lock_guard lock(rec_->mutex);
    EXPECT_EQ(rec_->text_frames, 1);
    EXPECT_EQ(rec_->frames[0], "after");
}

TEST_F(net_test, FrameOverTheLimitClosesWith1009) {
    auto o = test_session_options();
    o.max_frame_bytes = 1024;
    start(o);
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary(std::string(1024, 'a')));  // at the limit: accepted
    ASSERT_TRUE(c.write_binary(std::string(1025, 'b')));
    auto r = c.read();
    ASSERT_EQ(r.what, kind::closed) << r.error;
    EXPECT_EQ(r.code, 1009);
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }));
    std::lock_guard lock(rec_->mutex);
    ASSERT_EQ(rec_->frames.size(), 1u);
    EXPECT_EQ(rec_->frames[0].size(), 1024u);
}

TEST_F(net_test, OutboundOverTheByteBoundClosesWith4003) {
    auto o = test_session_options();
    o.max_outbound_bytes = 64 * 1024;
    start(o);
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("echo:first"));
    EXPECT_EQ(c.read().data, "first");
    // 100 x 1 KiB queued at once, before the writer can run: the 65th goes over 64 KiB.
    ASSERT_TRUE(c.write_binary("flood:100:1024"));
    // What was queued is dropped: only the GoAwayPush goes before the close.
    auto bye = c.read();
    ASSERT_EQ(bye.what, kind::binary) << bye.error;
    EXPECT_EQ(go_away_code(bye.data), 4003u) << "got a message of " << bye.data.size() << " bytes";
    auto r = c.read();
    ASSERT_EQ(r.what, kind::closed) << "got a message of " << r.data.size() << " bytes";
    EXPECT_EQ(r.code, 4003);
    EXPECT_EQ(r.reason, "outgoing queue over its limit: reconnect and resume from your cursor");
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }));
}

TEST_F(net_test, FramesWithinTheByteBoundAreAllDelivered) {
    auto o = test_session_options();
    o.max_outbound_bytes = 64 * 1024;
    start(o);
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("flood:64:1024"));  // exactly 64 KiB
    for (int i = 0; i < 64; ++i) {
        auto r = c.read();
        ASSERT_EQ(r.what, kind::binary) << "frame " << i << ": " << r.error;
        EXPECT_EQ(r.data.size(), 1024u);
    }
}

TEST_F(net_test, CloseSendsQueuedFramesThenTheCloseFrame) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("sendclose:10:4001:token expired"));
    for (int i = 0; i < 10; ++i) {
        auto r = c.read();
        ASSERT_EQ(r.what, kind::binary) << "frame " << i << ": " << r.error;
        EXPECT_EQ(r.data, "f" + std::to_string(i));
    }
    auto r = c.read();
    ASSERT_EQ(r.what, kind::closed) << r.error;
    EXPECT_EQ(r.code, 4001);
    EXPECT_EQ(r.reason, "token expired");
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }));
}

TEST_F(net_test, CloseReasonIsCutToFitTheCloseFrame) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("sendclose:0:1000:" + std::string(200, 'r')));
    auto r = c.read();
    ASSERT_EQ(r.what, kind::closed) << r.error;
    EXPECT_EQ(r.code, 1000);
    EXPECT_EQ(r.reason, std::string(123, 'r'));
}

TEST_F(net_test, PeerCloseEndsTheSessionOnce) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("one"));
    EXPECT_TRUE(c.close(1000));
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }));
    EXPECT_TRUE(eventually([&] { return listener_->connection_count() == 0; }));
}

TEST_F(net_test, DroppedTcpConnectionEndsTheSessionOnce) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("one"));
    ASSERT_TRUE(rec_->wait([&] { return rec_->frames.size() == 1; }));
    c.drop();
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }));
}

TEST_F(net_test, SilentPeerIsDroppedAfterTheIdleTimeout) {
    auto o = test_session_options();
    o.idle_timeout = 400ms;
    start(o);
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    // The client never reads, so it never answers the server's ping: a half-open connection.
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }, 5s));
}

TEST_F(net_test, PeerThatNeverAnswersTheCloseIsCutAfterTheCloseTimeout) {
    auto o = test_session_options();
    o.close_timeout = 300ms;
    start(o);
    ws_client c;
    ASSERT_TRUE(c.open(server()));
    ASSERT_TRUE(c.write_binary("sendclose:0:4002:not authenticated"));
    // The client does not read, so it never answers the close frame.
    ASSERT_TRUE(rec_->wait([&] { return rec_->closed == 1; }, 5s));
    EXPECT_TRUE(c.wait_closed());
}

TEST_F(net_test, HandlerIsCreatedWithTheBearerToken) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server(), "/", {{"Authorization", "Bearer abc.def.ghi"}}));
    ASSERT_TRUE(rec_->wait([&] { return rec_->created == 1; }));
    std::lock_guard lock(rec_->mutex);
    EXPECT_EQ(rec_->infos[0].bearer_token, "abc.def.ghi");
}

TEST_F(net_test, OtherAuthorizationSchemesGiveNoToken) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server(), "/", {{"Authorization", "Basic dXNlcjpwYXNz"}}));
    ASSERT_TRUE(rec_->wait([&] { return rec_->created == 1; }));
    std::lock_guard lock(rec_->mutex);
    EXPECT_TRUE(rec_->infos[0].bearer_token.empty());
}

}  // namespace
}  // namespace confide::net::test
