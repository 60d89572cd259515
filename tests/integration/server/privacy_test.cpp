// Health-data privacy end to end, on a real Redis and real servers: the audit trail (its Redis
// stream, its JSON lines in the log, `confide-admin audit query` by user and time range) and the
// automatic logoff (docs/privacy.md).

#include "harness.hpp"

#include "common/clock.hpp"

#include <chrono>
#include <regex>
#include <thread>

namespace confide::test {
namespace {

using privacy = server_test;
using namespace std::chrono_literals;

// The audit stream's entries as Redis renders them ("[id, [a, sign_in, u, alice, ...]], ...").
std::string audit_stream(const redis_server& redis) {
    return redis.command({"XRANGE", "cf:audit", "-", "+"});
}

// Waits (at most 5 s) until the audit stream holds an entry matching `re`: the server adds it
// without waiting, after it answered.
bool stream_shows(const redis_server& redis, const std::regex& re) {
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < give_up) {
        if (std::regex_search(audit_stream(redis), re)) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

// The lines `confide-admin audit query` prints for `args`, checking it succeeded.
std::vector<std::string> audit_query(const redis_server& redis, std::vector<std::string> args) {
    args.insert(args.begin(), {"audit", "query"});
    auto r = run_admin(redis, std::move(args));
    EXPECT_EQ(r.status, 0) << r.text();
    return r.lines;
}

TEST_F(privacy, AFailedSignInIsAuditedInRedisAndInTheLogWithoutTheToken) {
    const auto alice = unique("alice");
    auto& srv = server();
    std::string forged = mint(alice, role::client);
    // Not the last character: its low bits may be padding, and a change there makes the
    // signature malformed rather than wrong.
    auto& ch = forged[forged.size() - 2];
    ch = ch == 'A' ? 'B' : 'A';
    auto c = srv.connect();
    v1::Frame f;
    f.mutable_authenticate()->set_token(forged);
    f.mutable_authenticate()->set_device_id("kiosk-3");
    auto r = c->request(f);
    ASSERT_TRUE(r && r->has_error());
    EXPECT_EQ(r->error().code(), v1::UNAUTHENTICATED);

    const auto line = srv.process().wait_for_line(
        std::regex(R"(^\{"audit":"sign_in_failed".*"device":"kiosk-3")"), 5s);
    ASSERT_TRUE(line) << "no JSON line for the failed sign-in";
    EXPECT_NE(line->find(R"("address":"127.0.0.1:)"), std::string::npos) << *line;
    EXPECT_NE(line->find(R"("detail":"bad token signature")"), std::string::npos) << *line;
    EXPECT_EQ(line->find("\"user\""), std::string::npos) << "an unproven token names nobody";
    ASSERT_TRUE(
        stream_shows(*redis_, std::regex(R"(a, sign_in_failed, d, kiosk-3, ip, 127\.0\.0\.1:)")))
        << audit_stream(*redis_);
    // Not the token, nor its signature, anywhere: neither in Redis nor in the log.
    const auto signature = forged.substr(forged.rfind('.') + 1);
    EXPECT_EQ(audit_stream(*redis_).find(signature), std::string::npos);
    for (const auto& l : srv.process().lines()) {
        EXPECT_EQ(l.find(signature), std::string::npos) << l;
    }
}

TEST_F(privacy, AHistoryReadIsAuditedAndQueriedByUserAndTimeWithoutTheBody) {
    const auto alice = unique("alice");
    const auto bob = specialist("dr.bob");
    const auto eve = unique("eve");
    auto& srv = server();
    const std::int64_t start_ms = now_ms();
    auto a = login(alice, role::client, "phone");
    const std::string secret = "canary-7f3a: I have not slept for a week";
    const auto sent = must_send(*a, start_inquiry(bob, "m1", secret));
    auto b = login(bob, role::specialist, "desk");
    auto h = b->request(history(sent.conversation_id()));
    ASSERT_TRUE(h && h->has_history()) << (h ? h->DebugString() : "no reply");
    ASSERT_EQ(h->history().messages_size(), 1);
    auto e = login(eve, role::client, "laptop");
    must_fail(*e, history(sent.conversation_id()), v1::FORBIDDEN);

    ASSERT_TRUE(srv.process().wait_for_line(
        std::regex(R"(^\{"audit":"access_denied".*"user":")" + eve + "\""), 5s));
    const auto read_line = srv.process().wait_for_line(
        std::regex(R"(^\{"audit":"history_read".*"user":")" + bob + "\""), 5s);
    ASSERT_TRUE(read_line);
    EXPECT_NE(read_line->find("\"conversation\":\"" + sent.conversation_id() + "\""),
              std::string::npos)
        << *read_line;
    EXPECT_NE(read_line->find(R"("detail":"1 messages")"), std::string::npos) << *read_line;
    ASSERT_TRUE(stream_shows(*redis_, std::regex("a, access_denied, u, " + eve)));
    ASSERT_TRUE(stream_shows(*redis_, std::regex("a, history_read, u, " + bob)));
    EXPECT_EQ(audit_stream(*redis_).find("canary-7f3a"), std::string::npos);
    for (const auto& l : srv.process().lines()) {
        if (l.starts_with("{\"audit\"")) {
            EXPECT_EQ(l.find("canary-7f3a"), std::string::npos) << l;
        }
    }

    // The query, as an operator runs it: Bob's events since the start, oldest first; nobody
    // else's.
    const auto now = std::to_string(now_ms() + 1000);  // Redis's clock may run a little ahead
    const auto from = std::to_string(start_ms - 1000);
    const auto bobs = audit_query(*redis_, {"--user", bob, "--from", from, "--to", now});
    ASSERT_EQ(bobs.size(), 3u) << "sign-in, sync, history read";
    EXPECT_EQ(bobs[0].rfind(R"({"audit":"sign_in",)", 0), 0u) << bobs[0];
    EXPECT_NE(bobs[0].find(R"("device":"desk")"), std::string::npos) << bobs[0];
    EXPECT_EQ(bobs[1].rfind(R"({"audit":"sync",)", 0), 0u) << bobs[1];
    EXPECT_EQ(bobs[2].rfind(R"({"audit":"history_read",)", 0), 0u) << bobs[2];
    EXPECT_NE(bobs[2].find("\"conversation\":\"" + sent.conversation_id() + "\""),
              std::string::npos);
    for (const auto& l : bobs) {
        EXPECT_NE(l.find("\"user\":\"" + bob + "\""), std::string::npos) << l;
    }
    // Alice's: sign-in, sync, the inquiry; a limit of 2 says there is more.
    const auto first_two =
        audit_query(*redis_, {"--user", alice, "--from", from, "--to", now, "--limit", "2"});
    ASSERT_EQ(first_two.size(), 3u);  // "more" comes on stderr, maybe before stdout's lines
    EXPECT_EQ(std::count(first_two.begin(), first_two.end(), "more"), 1);
    EXPECT_EQ(std::count_if(first_two.begin(), first_two.end(),
                            [](const std::string& l) { return l.starts_with(R"({"audit":)"); }),
              2);
    // A range that ends before anything happened holds nothing of theirs.
    EXPECT_TRUE(
        audit_query(*redis_, {"--user", bob, "--to", std::to_string(start_ms - 60'000)}).empty());
    // A bad range is a usage error.
    EXPECT_EQ(run_admin(*redis_, {"audit", "query", "--from", "tomorrow"}).status, 2);
}

TEST_F(privacy, ConfideAdminRecordsItsChangesAndAuditQueriesInTheTrail) {
    const auto id = unique("dr.audited");
    const auto from = std::to_string(now_ms() - 1000);
    list_specialist(*redis_, id);
    auto r = run_admin(*redis_, {"directory", "update", id, "--accepting", "no"});
    ASSERT_EQ(r.status, 0) << r.text();
    r = run_admin(*redis_, {"directory", "show", id});  // a read of the public directory
    ASSERT_EQ(r.status, 0) << r.text();
    r = run_admin(*redis_, {"directory", "remove", id});
    ASSERT_EQ(r.status, 0) << r.text();
    r = run_admin(*redis_, {"directory", "remove", id});  // refused: changes nothing
    ASSERT_EQ(r.status, 1) << r.text();

    const auto to = std::to_string(now_ms() + 1000);
    auto lines = audit_query(*redis_, {"--from", from, "--to", to});
    std::vector<std::string> commands;
    for (const auto& l : lines) {
        if (l.find(id) == std::string::npos) {
            continue;
        }
        EXPECT_EQ(l.rfind(R"({"audit":"admin_command",)", 0), 0u) << l;
        EXPECT_NE(l.find(R"("user":"os:)"), std::string::npos) << l;
        EXPECT_NE(l.find(R"("device":"confide-admin")"), std::string::npos) << l;
        const auto at = l.find(R"("detail":")");
        ASSERT_NE(at, std::string::npos) << l;
        commands.push_back(l.substr(at + 10, l.find('"', at + 10) - at - 10));
    }
    EXPECT_EQ(commands, (std::vector<std::string>{"directory add " + id, "directory update " + id,
                                                  "directory remove " + id}));
    // The query just run is in the trail now, as the next query shows.
    lines = audit_query(*redis_, {"--from", from, "--to", std::to_string(now_ms() + 1000)});
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [](const std::string& l) {
                                return l.find(R"("detail":"audit query")") != std::string::npos;
                            }),
              1);
}

TEST_F(privacy, AnIdleConnectionIsSignedOutWith4006WhilePingsDoNotCount) {
    const auto alice = unique("alice");
    const auto bob = specialist("dr.bob");
    auto& srv = server({"--idle-logoff-s", "2"});
    const auto started = std::chrono::steady_clock::now();
    auto idle = login(alice, role::client, "phone");
    auto busy = login(bob, role::specialist, "desk");
    // Alice only pings; Bob chooses his presence every 300 ms (user activity). Each round waits
    // up to 300 ms for a close: Alice's comes after 2 s, Bob's never.
    v1::Frame ping;
    ping.mutable_ping();
    v1::Frame online;
    online.mutable_set_presence()->set_state(v1::ONLINE);
    std::optional<close_info> closed;
    auto closed_after = 0ms;
    while (std::chrono::steady_clock::now() - started < 4s) {
        if (!closed) {
            idle->send(ping);
            closed = idle->wait_closed(300ms);
            closed_after = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started);
        }
        auto r = busy->request(online);
        ASSERT_TRUE(r && !r->has_error()) << "Bob's connection ended";
        if (closed) {
            ASSERT_FALSE(busy->wait_closed(300ms)) << "Bob was active";
        }
    }
    ASSERT_TRUE(closed) << "Alice was not signed out";
    EXPECT_GE(closed_after, 2s) << "pings do not count as activity, but the logoff waits for 2 s";
    EXPECT_EQ(closed->code, 4006);
    EXPECT_EQ(closed->reason, "signed out after inactivity");
    ASSERT_TRUE(srv.process().wait_for_line(
        std::regex(R"(^\{"audit":"logoff".*"user":")" + alice + "\""), 5s));
    EXPECT_FALSE(srv.process().wait_for_line(
        std::regex(R"(^\{"audit":"logoff".*"user":")" + bob + "\""), 0ms));
}

}  // namespace
}  // namespace confide::test
