// The HTTP phase: health check, refusals, the handshake deadline, the Origin allow-list.

#include "net_fixture.hpp"
#include "ws_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace confide::net::test {
namespace {

TEST_F(net_test, HealthzAnswersOk) {
    start();
    auto r = tcp_probe::http_get(server(), "/healthz");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "ok");
    EXPECT_TRUE(eventually([&] { return listener_->connection_count() == 0; }));
}

TEST_F(net_test, PlainGetOfTheRootIs400AndOtherPathsAre404) {
    start();
    auto root = tcp_probe::http_get(server(), "/");
    EXPECT_EQ(root.status, 400) << root.error;
    EXPECT_NE(root.body.find("WebSocket"), std::string::npos);
    auto other = tcp_probe::http_get(server(), "/admin");
    EXPECT_EQ(other.status, 404) << other.error;
}

TEST_F(net_test, TokenInTheUrlIsRefusedWith400) {
    start();
    for (const char* target : {"/?token=abc", "/?v=1&access_token=abc", "/ws?TOKEN=x"}) {
        ws_client c;
        std::string body;
        EXPECT_EQ(c.handshake(server(), target, {}, &body), 400) << target;
        EXPECT_NE(body.find("not accepted in the URL"), std::string::npos) << body;
    }
    auto plain = tcp_probe::http_get(server(), "/healthz?token=abc");
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
        EXPECT_EQ(c.handshake(server(), "/", {{"Origin", "https://evil.example.net"}}), 403);
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
    tcp_probe silent;
    ASSERT_TRUE(silent.connect(server()));
    tcp_probe half;
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
    auto r = tcp_probe::http_get(server(), "/healthz", {{"X-Padding", std::string(4096, 'p')}});
    // 431, or the connection closed while the client was still sending: never a 2xx.
    EXPECT_TRUE(r.status == 431 || r.status == 0) << r.status;
}

TEST_F(net_test, MalformedRequestIs400) {
    start();
    tcp_probe c;
    ASSERT_TRUE(c.connect(server()));
    ASSERT_TRUE(c.write_raw("NOT HTTP AT ALL\r\n\r\n"));
    std::string got;
    EXPECT_TRUE(c.wait_for_eof(&got));
    EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got;
}

// ---- the web client's files ----

session_options with_web_files() {
    auto o = test_session_options();
    o.web_files = static_files::from_map(
        {{"/index.html", "<!doctype html><p>app</p>"}, {"/assets/app-X1.js", "console.log(1)"}});
    return o;
}

// One raw exchange: writes `request` and reads until the server closes.
std::string exchange(const endpoint& server, std::string_view request) {
    tcp_probe c;
    if (!c.connect(server) || !c.write_raw(request)) {
        return "no connection";
    }
    std::string got;
    if (!c.wait_for_eof(&got)) {
        return "no end: " + got;
    }
    return got;
}

TEST_F(net_test, ServesTheWebClientWithTypesCachingAndSecurityHeaders) {
    start(with_web_files());
    auto index = exchange(server(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(index.starts_with("HTTP/1.1 200 OK\r\n")) << index;
    for (const char* header :
         {"Content-Type: text/html; charset=utf-8\r\n", "Cache-Control: no-cache\r\n",
          "X-Content-Type-Options: nosniff\r\n", "X-Frame-Options: DENY\r\n",
          "Content-Security-Policy: default-src 'none'; script-src 'self';",
          "frame-ancestors 'none'\r\n", "ETag: \""}) {
        EXPECT_NE(index.find(header), std::string::npos) << header << " in\n" << index;
    }
    EXPECT_TRUE(index.ends_with("\r\n\r\n<!doctype html><p>app</p>")) << index;

    auto js = exchange(server(),
                       "GET /assets/app-X1.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(js.find("Content-Type: text/javascript; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(js.find("Cache-Control: public, max-age=31536000, immutable\r\n"), std::string::npos);
}

TEST_F(net_test, KeepAliveServesAPageAndItsFilesOnOneConnection) {
    start(with_web_files());
    auto both = exchange(server(),
                         "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /assets/app-X1.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto second = both.find("HTTP/1.1 200 OK", 1);
    ASSERT_NE(second, std::string::npos) << both;
    EXPECT_TRUE(both.starts_with("HTTP/1.1 200 OK")) << both;
    EXPECT_TRUE(both.ends_with("console.log(1)")) << both;
}

TEST_F(net_test, HeadConditionalAndOtherMethods) {
    start(with_web_files());
    auto head = exchange(server(), "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK")) << head;
    EXPECT_NE(head.find("Content-Length: 25\r\n"), std::string::npos) << head;
    EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;

    const auto at = head.find("ETag: ");
    ASSERT_NE(at, std::string::npos);
    const auto etag = head.substr(at + 6, head.find("\r\n", at) - at - 6);
    auto again = exchange(server(), "GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag +
                                        "\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(again.starts_with("HTTP/1.1 304 Not Modified")) << again;
    EXPECT_TRUE(again.ends_with("\r\n\r\n")) << again;

    auto post = exchange(server(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(post.starts_with("HTTP/1.1 405")) << post;
    EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos) << post;

    EXPECT_EQ(tcp_probe::http_get(server(), "/missing.js").status, 404);
    EXPECT_EQ(tcp_probe::http_get(server(), "/../index.html").status, 404);
    EXPECT_EQ(tcp_probe::http_get(server(), "/healthz").status, 200);
}

TEST_F(net_test, WithAWebClientItsOwnOriginIsAllowedAndOthersOnlyIfListed) {
    auto o = with_web_files();
    o.allowed_origins = {"https://app.example.com"};
    start(o);
    {
        ws_client c;  // the served page: Origin names the Host it was loaded from
        EXPECT_TRUE(c.open(server(), "/", {{"Origin", "http://localhost"}}));
    }
    {
        ws_client c;
        EXPECT_TRUE(c.open(server(), "/", {{"Origin", "https://app.example.com"}}));
    }
    for (const char* origin :
         {"http://evil.example", "http://localhost.evil.example", "null", "http://localhost:1"}) {
        ws_client c;
        EXPECT_EQ(c.handshake(server(), "/", {{"Origin", origin}}), 403) << origin;
    }
    ASSERT_TRUE(rec_->wait([&] { return rec_->created == 2; }));
}

TEST_F(net_test, WithAWebClientAndNoListOtherOriginsAreRefused) {
    start(with_web_files());
    ws_client c;
    EXPECT_EQ(c.handshake(server(), "/", {{"Origin", "https://anywhere.example"}}), 403);
    ws_client same;
    EXPECT_TRUE(same.open(server(), "/", {{"Origin", "http://LOCALHOST"}}));
}

}  // namespace
}  // namespace confide::net::test
