// Authentication end to end: tokens in the first frame or the upgrade header, never in the URL;
// deadlines; expiry; an independent token implementation (PyJWT).

#include "harness.hpp"

#include <cstdio>
#include <stdexcept>

namespace confide::test {
namespace {

using authentication = server_test;

v1::Frame authenticate(const std::string& token, const std::string& device = "d1") {
    v1::Frame f;
    f.mutable_authenticate()->set_token(token);
    f.mutable_authenticate()->set_device_id(device);
    return f;
}

v1::Frame ping() {
    v1::Frame f;
    f.mutable_ping()->set_client_time_ms(42);
    return f;
}

TEST_F(authentication, NothingButAuthenticationBeforeIt) {
    auto c = server().connect();
    auto r = c->request(ping());
    ASSERT_TRUE(r && r->has_error());
    EXPECT_EQ(r->error().code(), v1::UNAUTHENTICATED);
    auto closed = c->wait_closed();
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->code, 4002);
}

TEST_F(authentication, AValidTokenAuthenticatesAndPingWorks) {
    const auto alice = unique("alice");
    auto c = server().connect();
    auto r = c->request(authenticate(mint(alice, role::client)));
    ASSERT_TRUE(r && r->has_authenticated()) << (r ? r->error().message() : "no reply");
    EXPECT_EQ(r->authenticated().user_id(), alice);
    EXPECT_EQ(r->authenticated().role(), v1::CLIENT);
    EXPECT_EQ(r->authenticated().limits().max_body_bytes(), 8192u);
    EXPECT_FALSE(r->authenticated().connection_id().empty());
    auto p = c->request(ping());
    ASSERT_TRUE(p && p->has_pong());
    EXPECT_EQ(p->pong().client_time_ms(), 42);
    // Authenticating twice is refused, and the connection stays.
    auto again = c->request(authenticate(mint(alice, role::client)));
    ASSERT_TRUE(again && again->has_error());
    EXPECT_EQ(again->error().code(), v1::FAILED_PRECONDITION);
    EXPECT_TRUE(c->request(ping()));
}

TEST_F(authentication, BadTokensAreRefusedAndTheConnectionClosed) {
    const auto alice = unique("alice");
    auto good = mint(alice, role::client);
    std::string forged = good;
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    for (const std::string& token :
         {forged, mint(alice, role::client, std::chrono::seconds(-120)), std::string("x.y.z")}) {
        auto c = server().connect();
        auto r = c->request(authenticate(token));
        ASSERT_TRUE(r && r->has_error());
        EXPECT_EQ(r->error().code(), v1::UNAUTHENTICATED);
        EXPECT_FALSE(r->error().retryable());
        // The reason never quotes the token.
        EXPECT_EQ(r->error().message().find(token), std::string::npos);
        auto closed = c->wait_closed();
        ASSERT_TRUE(closed);
        EXPECT_EQ(closed->code, 4002);
    }
}

TEST_F(authentication, ConnectionsThatDoNotAuthenticateInTimeAreClosed) {
    auto& srv = server({"--auth-timeout-ms", "300"});
    auto c = srv.connect();
    auto go_away = c->wait_for([](const v1::Frame& f) { return f.has_go_away(); }, 5s);
    ASSERT_TRUE(go_away);
    EXPECT_EQ(go_away->go_away().close_code(), 4002u);
    auto closed = c->wait_closed();
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->code, 4002);
}

TEST_F(authentication, ExpiredTokenClosesTheConnection) {
    auto& srv = server({"--token-leeway-s", "0"});
    auto c = srv.connect();
    auto r = c->request(authenticate(mint(unique("alice"), role::client, std::chrono::seconds(2))));
    ASSERT_TRUE(r && r->has_authenticated());
    auto go_away = c->wait_for([](const v1::Frame& f) { return f.has_go_away(); }, 10s);
    ASSERT_TRUE(go_away);
    EXPECT_EQ(go_away->go_away().close_code(), 4001u);
    auto closed = c->wait_closed();
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->code, 4001);
}

TEST_F(authentication, BearerHeaderIsAccepted) {
    const auto alice = unique("alice");
    ws_client::options o;
    o.bearer = mint(alice, role::client);
    auto c = server().connect(o);
    auto r = c->request(authenticate(""));
    ASSERT_TRUE(r && r->has_authenticated());
    EXPECT_EQ(r->authenticated().user_id(), alice);
}

TEST_F(authentication, ATokenInTheUrlIsRefused) {
    ws_client::options o;
    o.target = "/?token=" + mint(unique("alice"), role::client);
    EXPECT_THROW(server().connect(o), std::runtime_error);
    o.target = "/?access_token=abc";
    EXPECT_THROW(server().connect(o), std::runtime_error);
}

// An independent JWT implementation (Debian's PyJWT) mints the token the server accepts.
TEST_F(authentication, TokensMintedByPyJwtAuthenticate) {
    const auto alice = unique("alice");
    const std::string cmd =
        "/usr/bin/python3 -I -c 'import jwt, time, sys; "
        "print(jwt.encode({\"sub\": sys.argv[1], \"role\": \"client\", \"exp\": "
        "int(time.time()) + 600}, sys.argv[2], algorithm=\"HS256\", headers={\"kid\": "
        "\"test\"}))' " +
        alice + " '" + test_secret() + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096] = {};
    std::string token;
    while (std::fgets(buf, sizeof buf, p) != nullptr) {
        token += buf;
    }
    ASSERT_EQ(::pclose(p), 0) << "PyJWT missing? install python3-jwt (scripts/install-deps.sh)";
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
        token.pop_back();
    }
    auto c = server().connect();
    auto r = c->request(authenticate(token));
    ASSERT_TRUE(r && r->has_authenticated()) << (r ? r->error().message() : "no reply");
    EXPECT_EQ(r->authenticated().user_id(), alice);
}

TEST_F(authentication, HealthCheckAnswers) {
    // A plain HTTP GET /healthz for load balancers, on the same port.
    auto& srv = server();
    const std::string cmd = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(srv.port()) +
                            "; printf 'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: "
                            "close\\r\\n\\r\\n' >&3; timeout 5 cat <&3";
    FILE* p = ::popen(("bash -c \"" + cmd + "\"").c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096] = {};
    std::string out;
    while (std::fgets(buf, sizeof buf, p) != nullptr) {
        out += buf;
    }
    ::pclose(p);
    EXPECT_NE(out.find("200"), std::string::npos) << out;
}

}  // namespace
}  // namespace confide::test
