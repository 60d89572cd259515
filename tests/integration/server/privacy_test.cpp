// Health-data privacy end to end, on a real Redis and real servers: the audit trail (its Redis
// stream, its JSON lines in the log, the store's query by user and time range) and the
// automatic logoff (docs/privacy.md).

#include "harness.hpp"

#include "common/clock.hpp"
#include "store/audit_log_redis.hpp"
#include "store/redis/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
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

// The query of the store (what `confide-admin audit` runs), on a connection of its own.
class audit_reader {
public:
    explicit audit_reader(const redis_server& redis) : work_(asio::make_work_guard(ioc_)) {
        store::redis::config cfg;
        cfg.host = redis.host();
        cfg.port = redis.port();
        conn_ = store::redis::connection::create(ioc_.get_executor(), cfg);
        std::promise<void> up;
        conn_->on_connected([&up, once = std::make_shared<std::once_flag>()] {
            std::call_once(*once, [&up] { up.set_value(); });
        });
        conn_->start();
        thread_ = std::thread([this] { ioc_.run(); });
        if (up.get_future().wait_for(5s) != std::future_status::ready) {
            ADD_FAILURE() << "no connection to Redis";
        }
        log_.emplace(conn_, store::audit_config{});
    }
    ~audit_reader() {
        conn_->stop();
        work_.reset();
        ioc_.stop();
        thread_.join();
    }
    audit_reader(const audit_reader&) = delete;
    audit_reader& operator=(const audit_reader&) = delete;

    store::audit_page query(const std::string& user, std::int64_t from_ms, std::int64_t to_ms,
                            std::uint32_t limit = 100) {
        auto f = asio::co_spawn(ioc_, log_->query(user, from_ms, to_ms, limit), asio::use_future);
        if (f.wait_for(10s) != std::future_status::ready) {
            ADD_FAILURE() << "the query did not complete";
            return {};
        }
        auto r = f.get();
        if (!r) {
            ADD_FAILURE() << "the query failed: " << r.error().message;
            return {};
        }
        return std::move(*r);
    }

private:
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::shared_ptr<store::redis::connection> conn_;
    std::optional<store::redis_audit_log> log_;
    std::thread thread_;
};

TEST_F(privacy, AFailedSignInIsAuditedInRedisAndInTheLogWithoutTheToken) {
    const auto alice = unique("alice");
    auto& srv = server();
    std::string forged = mint(alice, role::client);
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
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
    const auto bob = unique("dr.bob");
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

    // The query: Bob's events since the start, oldest first; nobody else's.
    audit_reader reader(*redis_);
    const auto now = now_ms() + 1000;  // Redis's clock may run a little ahead of ours
    const auto page = reader.query(bob, start_ms - 1000, now);
    ASSERT_EQ(page.events.size(), 3u) << "sign-in, sync, history read";
    EXPECT_FALSE(page.more);
    EXPECT_EQ(page.events[0].action, routing::audit_action::sign_in);
    EXPECT_EQ(page.events[0].device_id, "desk");
    EXPECT_EQ(page.events[1].action, routing::audit_action::sync);
    EXPECT_EQ(page.events[2].action, routing::audit_action::history_read);
    EXPECT_EQ(page.events[2].conversation_id, sent.conversation_id());
    EXPECT_EQ(page.events[2].detail, "1 messages");
    EXPECT_FALSE(page.events[2].connection_id.empty());
    for (const auto& ev : page.events) {
        EXPECT_EQ(ev.user_id, bob);
        EXPECT_GE(ev.time_ms, start_ms - 1000);
        EXPECT_LE(ev.time_ms, now);
    }
    // Alice's: sign-in, sync, the inquiry; a limit of 2 says there is more.
    const auto first_two = reader.query(alice, start_ms - 1000, now, 2);
    ASSERT_EQ(first_two.events.size(), 2u);
    EXPECT_TRUE(first_two.more);
    EXPECT_EQ(first_two.events[0].action, routing::audit_action::sign_in);
    // A range that ends before anything happened holds nothing of theirs.
    EXPECT_TRUE(reader.query(bob, 0, start_ms - 60'000).events.empty());
}

TEST_F(privacy, AnIdleConnectionIsSignedOutWith4006WhilePingsDoNotCount) {
    const auto alice = unique("alice");
    const auto bob = unique("dr.bob");
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
