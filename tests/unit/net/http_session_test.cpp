// The HTTP phase: health check, refusals, the handshake deadline, the Origin allow-list.

#include "net_fixture.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <string>

namespace confide::net::test {
namespace {

TEST_F(net_test, HealthzAnswersOk) {
    start();
    auto r = ws_client::http_get(server(), "/healthz");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "ok");
    EXPECT_TRUE(eventually([&] { return listener_->connection_count() == 0; }));
}

TEST_F(net_test, PlainGetOfTheRootIs400AndOtherPathsAre404) {
    start();
    auto root = ws_client::http_get(server(), "/");
    EXPECT_EQ(root.status, 400) << root.error;
    EXPECT_NE(root.body.find("WebSocket"), std::string::npos);
    auto other = ws_client::http_get(server(), "/admin");
    EXPECT_EQ(other.status, 404) << other.error;
}

TEST_F(net_test, TokenInTheUrlIsRefusedWith400) {
    start();
    for (const char* target : {"/?token=abc", "/?v=1&access_token=abc", "/ws?TOKEN=x"}) {
        ws_client c;
        ASSERT_TRUE(c.connect(server()));
        std::string body;
        EXPECT_EQ(c.handshake(target, {}, &body), 400) << target;
        EXPECT_NE(body.find("not accepted in the URL"), std::string::npos) << body;
    }
    auto plain = ws_client::http_get(server(), "/healthz?token=abc");
    EXPECT_EQ(plain.status, 400);
    std::lock_guard lock(rec_->mutex);
    EXPECT_EQ(rec_->created, 0);
}

TEST_F(net_test, QueryWithoutATokenIsAccepted) {
    start();
    ws_client c;
    ASSERT_TRUE(c.open(server(), "/?tokens_are_elsewhere=1&device=phone"));
}

TEST_F(net_test, OriginNotAllowedIsRefusedWith403) {
    auto o = test_session_options();
    o.allowed_origins = {"https://app.example.com"};
    start(o);
    {
        ws_client c;
        ASSERT_TRUE(c.connect(server()));
        EXPECT_EQ(c.handshake("/", {{"Origin", "https://evil.example.net"}}), 403);
    }
    {
        ws_client c;
        EXPECT_TRUE(c.open(server(), "/", {{"Origin", "https://APP.example.com"}}));
    }
    {
        ws_client c;  // not a browser: no Origin
        EXPECT_TRUE(c.open(server(), "/"));
    }
    ASSERT_TRUE(rec_->wait([&] { return rec_->created == 2; }));
}

TEST_F(net_test, EmptyAllowListAcceptsAnyOrigin) {
    start();
    ws_client c;
    EXPECT_TRUE(c.open(server(), "/", {{"Origin", "https://anywhere.example"}}));
}

TEST_F(net_test, ClientThatNeverSendsTheUpgradeIsClosedAtTheHandshakeDeadline) {
    auto o = test_session_options();
    o.handshake_timeout = 300ms;
    start(o);
    ws_client silent;
    ASSERT_TRUE(silent.connect(server()));
    ws_client half;
    ASSERT_TRUE(half.connect(server()));
    ASSERT_TRUE(half.write_raw("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(silent.wait_for_eof());
    EXPECT_TRUE(half.wait_for_eof());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_TRUE(eventually([&] { return listener_->connection_count() == 0; }));
}

TEST_F(net_test, OversizedRequestHeadIsRefused) {
    auto o = test_session_options();
    o.max_header_bytes = 2048;
    start(o);
    auto r = ws_client::http_get(server(), "/healthz", {{"X-Padding", std::string(4096, 'p')}});
    // 431, or the connection closed while the client was still sending: never a 2xx.
    EXPECT_TRUE(r.status == 431 || r.status == 0) << r.status;
}

TEST_F(net_test, MalformedRequestIs400) {
    start();
    ws_client c;
    ASSERT_TRUE(c.connect(server()));
    ASSERT_TRUE(c.write_raw("NOT HTTP AT ALL\r\n\r\n"));
    std::string got;
    EXPECT_TRUE(c.wait_for_eof(&got));
    EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got;
}

}  // namespace
}  // namespace confide::net::test
