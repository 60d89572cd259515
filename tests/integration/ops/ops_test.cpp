// What an operator relies on, end to end with a real redis-server and real confide-server
// processes: /metrics (checked by promtool) moving with traffic, /readyz through a Redis outage
// and a drain, the GoAwayPush before the 1001 close, JSON logs, and start-up naming the real
// cause when Redis cannot be used.

#include "../server/harness.hpp"
#include "ops_harness.hpp"
#include "support/local.hpp"

#include <boost/json.hpp>

#include <csignal>

namespace confide::test {
namespace {

using ops = server_test;

TEST_F(ops, MetricsAreValidAndMoveWithTheTraffic) {
    auto& srv = server();
    const auto before = scrape(srv.port());
    const auto alice = unique("alice"), bob = specialist("bob");
    auto specialist = login(bob, role::specialist);
    auto client = login(alice, role::client);
    auto sent = must_send(*client, start_inquiry(bob, "m1", "hello"));
    auto event = specialist->wait_for(is_message_event("hello"));
    ASSERT_TRUE(event);
    // The specialist's device acks: the sender sees "delivered".
    specialist->send(ack(event->event().cursor()));
    ASSERT_TRUE(client->wait_for(is_receipt(v1::DELIVERED, sent.seq())));
    must_send(*client, start_inquiry(bob, "m1", "hello"));  // a retry: duplicate
    must_fail(*client, send_message("no-such-conversation", "m2", "x"), v1::FORBIDDEN);
    client->close();
    ASSERT_TRUE(client->wait_closed());

    auto r = get(srv.port(), "/metrics");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    // Prometheus's own linter accepts the exposition.
    auto lint = run_tool("promtool", {"check", "metrics"}, r.body);
    EXPECT_EQ(lint.code, 0) << lint.output;

    // The client's close is counted once its session has ended; the specialist's stays open.
    ASSERT_TRUE(eventually([&] {
        auto m = scrape(srv.port());
        return m["confide_websocket_closes_total{by=\"client\",code=\"1000\"}"] >
                   before.at("confide_websocket_closes_total{by=\"client\",code=\"1000\"}") &&
               m["confide_sessions"] == 1 && m["confide_websocket_connections"] == 1;
    }));
    auto after = scrape(srv.port());
    auto grew = [&](const std::string& series, double by) {
        EXPECT_GE(after[series] - before.at(series), by) << series;
    };
    grew("confide_connections_accepted_total", 2);
    grew("confide_frames_received_total", 8);
    grew("confide_frames_sent_total", 8);
    grew("confide_authentications_total", 2);
    grew("confide_messages_acked_total{duplicate=\"false\"}", 1);
    grew("confide_messages_acked_total{duplicate=\"true\"}", 1);
    grew("confide_events_pushed_total{kind=\"message\"}", 2);  // to both parties
    grew("confide_events_pushed_total{kind=\"conversation\"}", 2);
    grew("confide_device_acks_total", 1);
    grew("confide_live_pushes_total", 1);  // the DELIVERED receipt
    grew("confide_error_replies_total{code=\"FORBIDDEN\"}", 1);
    grew("confide_send_ack_seconds_count", 2);
    grew("confide_redis_command_seconds_count", 4);
    EXPECT_EQ(after["confide_ready"], 1);
    // One of each per I/O thread.
    EXPECT_GE(after["confide_redis_connections_up{role=\"command\"}"], 1);
    EXPECT_EQ(after["confide_redis_connections_up{role=\"pubsub\"}"],
              after["confide_redis_connections_up{role=\"command\"}"]);
    EXPECT_GT(after["process_resident_memory_bytes"], 1e6);
    bool build_info = false;
    for (const auto& [series, value] : after) {
        build_info = build_info || (series.starts_with("confide_build_info{") && value == 1);
    }
    EXPECT_TRUE(build_info);
}

TEST_F(ops, ReadyzFollowsRedisWhileHealthzStaysUp) {
    redis_server redis;
    server_process srv(redis, {"--redis-timeout-ms", "500", "--redis-health-interval-ms", "300"});
    ASSERT_TRUE(eventually([&] { return get(srv.port(), "/readyz").status == 200; }));
    EXPECT_EQ(get(srv.port(), "/readyz").body, "ready\n");

    redis.stop();
    ASSERT_TRUE(eventually([&] { return get(srv.port(), "/readyz").status == 503; }));
    auto r = get(srv.port(), "/readyz");
    EXPECT_NE(r.body.find("Redis"), std::string::npos) << r.body;
    EXPECT_EQ(get(srv.port(), "/healthz").status, 200);
    EXPECT_EQ(scrape(srv.port())["confide_ready"], 0);

    redis.start();
    ASSERT_TRUE(eventually([&] { return get(srv.port(), "/readyz").status == 200; }, 20s));
    EXPECT_EQ(scrape(srv.port())["confide_ready"], 1);
}

TEST_F(ops, DrainTurnsReadyzOffThenSaysGoAwayBeforeClosingWith1001) {
    server_process srv(*redis_, {"--drain-delay-ms", "1500"});
    const auto alice = unique("alice");
    auto c = login(alice, role::client, "dev-1", &srv);
    ASSERT_EQ(get(srv.port(), "/readyz").status, 200);

    const auto t0 = std::chrono::steady_clock::now();
    srv.process().signal(SIGTERM);
    ASSERT_TRUE(eventually([&] { return get(srv.port(), "/readyz").status == 503; }));
    EXPECT_EQ(get(srv.port(), "/readyz").body, "not ready: draining\n");
    // During the delay the open connection works as before.
    auto pong = c->request([] {
        v1::Frame f;
        f.mutable_ping()->set_client_time_ms(1);
        return f;
    }());
    ASSERT_TRUE(pong && pong->has_pong());

    auto bye = c->wait_for([](const v1::Frame& f) { return f.has_go_away(); }, 10s);
    ASSERT_TRUE(bye);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1400ms);
    EXPECT_EQ(bye->go_away().close_code(), 1001u);
    auto closed = c->wait_closed(5s);
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->code, 1001);
    EXPECT_EQ(srv.process().wait_exit(15s), std::optional<int>(0));
}

TEST_F(ops, JsonLogsAreOneObjectPerLineWithIdsAndNeitherBodiesNorTokens) {
    server_process srv(*redis_, {"--log-format", "json", "--node-id", "node-json"});
    const auto alice = unique("alice"), bob = specialist("bob");
    const auto token = mint(alice, role::client);
    auto c = srv.connect();
    c->login(token, "dev-1");
    must_send(*c, start_inquiry(bob, "j1", "a very private sentence"));
    c->close();
    ASSERT_TRUE(srv.process().wait_for_line(
        [&](std::string_view l) {
            return l.find("\"msg\":\"closed\"") != std::string_view::npos &&
                   l.find(alice) != std::string_view::npos;
        },
        10s));
    srv.stop();

    bool saw_auth = false;
    for (const auto& line : srv.process().lines()) {
        if (line.starts_with("listening on")) {
            continue;  // stdout
        }
        EXPECT_EQ(line.find("a very private sentence"), std::string::npos) << line;
        EXPECT_EQ(line.find(token), std::string::npos) << line;
        boost::system::error_code ec;
        auto v = boost::json::parse(line, ec);
        ASSERT_FALSE(ec) << "not JSON: " << line;
        ASSERT_TRUE(v.is_object()) << line;
        const auto& o = v.as_object();
        if (o.contains("audit")) {
            // The audit trail's lines (docs/privacy.md) are JSON objects of their own, written
            // whatever the log format and level: an action, a time and who, never a body.
            EXPECT_TRUE(o.contains("time_ms") && o.contains("user")) << line;
            continue;
        }
        EXPECT_TRUE(o.contains("time") && o.contains("level") && o.contains("msg")) << line;
        EXPECT_EQ(o.at("node"), "node-json") << line;
        const auto& msg = o.at("msg").as_string();
        if (std::string_view(msg).starts_with("authenticated as")) {
            saw_auth = true;
            EXPECT_EQ(o.at("user"), alice.c_str());
            EXPECT_TRUE(o.contains("conn"));
        }
    }
    EXPECT_TRUE(saw_auth);
}

// Start-up against a Redis that cannot be used: the server exits and its last words say why.
std::string start_up_failure(std::vector<std::string> args) {
    args.insert(args.end(),
                {"--listen", "127.0.0.1:0", "--token-key", "test:HS256:text:" + test_secret(),
                 "--redis-startup-timeout-ms", "1000", "--redis-timeout-ms", "500",
                 "--data-key-file", test_data_key_file()});
    child_process p(server_binary(), args);
    auto code = p.wait_exit(20s);
    EXPECT_TRUE(code.has_value() && *code != 0);
    std::string out;
    for (const auto& l : p.lines()) {
        out += l + "\n";
    }
    return out;
}

TEST_F(ops, NothingListeningOnTheRedisPortIsNamedAsSuch) {
    const auto port = free_port();
    const auto out = start_up_failure({"--redis", "127.0.0.1:" + std::to_string(port)});
    EXPECT_NE(
        out.find("cannot use Redis at 127.0.0.1:" + std::to_string(port) +
                 ": cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused"),
        std::string::npos)
        << out;
    EXPECT_EQ(out.find("CONFIG GET"), std::string::npos) << out;
}

TEST_F(ops, AWrongRedisPasswordIsNamedAsSuch) {
    redis_server_options o;
    o.password = "the-right-password";
    redis_server redis(o);
    const auto out = start_up_failure({"--redis", "127.0.0.1:" + std::to_string(redis.port()),
                                       "--redis-password", "a-wrong-password"});
    EXPECT_NE(out.find("Redis answered -WRONGPASS"), std::string::npos) << out;
    EXPECT_EQ(out.find("a-wrong-password"), std::string::npos) << "a password was logged";
}

TEST_F(ops, ARedisThatRefusesConfigIsQuoted) {
    redis_server_options o;
    o.extra_args = {"--rename-command", "CONFIG", ""};
    redis_server redis(o);
    const auto out = start_up_failure({"--redis", "127.0.0.1:" + std::to_string(redis.port())});
    EXPECT_NE(out.find("Redis refused CONFIG GET appendonly: ERR unknown command"),
              std::string::npos)
        << out;
}

}  // namespace
}  // namespace confide::test
