// Retention end to end (docs/privacy.md, "Retention"), on a real Redis with its append-only file
// and two real servers sweeping it: messages older than the limit leave the log, their dedupe
// records, history, sync and every Redis key, each deleted once across the nodes; newer ones stay
// readable; a device whose cursor predates the trim gets the kept ones in order, once.
//
// Messages are made old by rewriting their time in the log ("backdating"), not by waiting: the
// retention is an hour, so nothing a test sends ages out while it runs, and the only waits are
// for what the sweepers do (their metric, a conversation event), each bounded.

#include "harness.hpp"
#include "sweep.hpp"

#include "common/random_id.hpp"
#include "support/http_get.hpp"
#include "support/metrics_text.hpp"

#include <chrono>
#include <functional>
#include <thread>

namespace confide::test {
namespace {

using retention = server_test;
using namespace std::chrono_literals;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The arguments of a test server: plaintext storage, so that a search of Redis for the canary
// means something (sealed, it would never be there anyway); sweeps every 100 ms.
std::vector<std::string> node_args(std::vector<std::string> extra) {
    std::vector<std::string> args{"--allow-plaintext-storage",
                                  "--workflow-interval-ms",
                                  "100",
                                  "--send-rate",
                                  "10000",
                                  "--send-burst",
                                  "10000",
                                  "--request-rate",
                                  "10000",
                                  "--request-burst",
                                  "10000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// Makes the first `count` messages of a conversation's log `age_ms` old, as if written then: the
// log is written again with those times, and the retention index told (as inquiry.lua would
// have at the time). Nothing else writes to the log meanwhile.
void backdate(const redis_server& redis, const std::string& cid, std::size_t count,
              std::int64_t age_ms) {
    const std::string log = "cf:c:{" + cid + "}:log";
    const std::string then = std::to_string(now_ms() - age_ms);
    std::vector<std::vector<std::string>> entries;
    {
        const auto reply = redis.query({"XRANGE", log, "-", "+"});
        const redisReply* r = reply.get();
        for (std::size_t i = 0; i < r->elements; ++i) {
            const auto* e = r->element[i];
            std::vector<std::string> xadd{"XADD", log,
                                          std::string(e->element[0]->str, e->element[0]->len)};
            const auto* f = e->element[1];
            for (std::size_t j = 0; j + 1 < f->elements; j += 2) {
                const std::string name(f->element[j]->str, f->element[j]->len);
                xadd.push_back(name);
                xadd.push_back(name == "t" && i < count
                                   ? then
                                   : std::string(f->element[j + 1]->str, f->element[j + 1]->len));
            }
            entries.push_back(std::move(xadd));
        }
    }
    ASSERT_GE(entries.size(), count);
    redis.command({"DEL", log});
    for (const auto& e : entries) {
        redis.command(e);
    }
    redis.command({"ZADD", "cf:retention", then, cid});
}

// Messages deleted by retention, summed over the nodes listening on `ports`.
double trimmed_total(const std::vector<std::uint16_t>& ports) {
    double sum = 0;
    for (const auto port : ports) {
        http_request r;
        r.port = port;
        r.target = "/metrics";
        const auto reply = http_get(r);
        EXPECT_EQ(reply.status, 200) << reply.error;
        sum += parse_metrics(reply.body)["confide_retention_trimmed_messages_total"];
    }
    return sum;
}

// Polls (at most 20 s) until `done`: the sweepers act every 100 ms.
bool eventually(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < give_up) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

bool is_conversation_state(const v1::Frame& f, const std::string& cid, v1::ConversationState s) {
    return f.has_event() && f.event().has_conversation() && f.event().conversation().id() == cid &&
           f.event().conversation().state() == s;
}

TEST_F(retention, OldMessagesLeaveEveryKeyOnceAcrossTwoNodesAndNewerOnesStayReadable) {
    const redis_server redis;
    server_process a(redis, node_args({"--retention-s", "3600"}), "node-a");
    server_process b(redis, node_args({"--retention-s", "3600"}), "node-b");
    const auto canary = "canary-" + random_hex_id();
    const auto bob = unique("dr.bob");
    list_specialist(redis, bob);
    const auto alice = unique("alice");
    const auto carol = unique("carol");

    // Alice's first device syncs once (its cursor: before everything) and goes away.
    {
        auto old = a.connect();
        const auto reply = old->login(mint(alice, role::client), "old");
        // The limit is stated to clients: exact, and in whole days rounded up.
        EXPECT_EQ(reply.limits().retention_s(), 3600u);
        EXPECT_EQ(reply.limits().retention_days(), 1u);
        old->close();
        ASSERT_TRUE(old->wait_closed());
    }
    auto al = a.connect();
    al->login(mint(alice, role::client), "dev-1");
    auto bo = b.connect();
    bo->login(mint(bob, role::specialist), "dev-1");
    auto ca = a.connect();
    ca->login(mint(carol, role::client), "dev-1");

    // 120 messages to age out in one conversation (more than one sweep call and one sync batch
    // take), two in another; then the ones to keep.
    constexpr int old_count = 120;
    const auto x = must_send(*al, start_inquiry(bob, "a0", "old 0 " + canary)).conversation_id();
    for (int i = 1; i < old_count; ++i) {
        must_send(*al, send_message(x, "a" + std::to_string(i),
                                    "old " + std::to_string(i) + " " + canary));
    }
    const auto y =
        must_send(*ca, start_inquiry(bob, "c0", "carol old " + canary)).conversation_id();
    must_send(*ca, send_message(y, "c1", "carol old again " + canary));
    backdate(redis, x, old_count, 2 * 3600 * 1000);
    backdate(redis, y, 2, 2 * 3600 * 1000);
    must_send(*al, send_message(x, "a" + std::to_string(old_count), "new 1"));
    must_send(*bo, send_message(x, "b1", "new 2 from bob"));

    // Deleted once: the nodes' counts add up to exactly the old messages, and stay there.
    const double expected = old_count + 2;
    ASSERT_TRUE(eventually([&] {
        return trimmed_total({a.port(), b.port()}) >= expected;
    })) << trimmed_total({a.port(), b.port()});
    EXPECT_EQ(trimmed_total({a.port(), b.port()}), expected);

    // The log keeps the newer ones; the dedupe records of the old ones are gone, the newer ones'
    // stay; the unread counts count only what is kept.
    EXPECT_EQ(redis.command({"XLEN", "cf:c:{" + x + "}:log"}), "2");
    EXPECT_EQ(redis.command({"XLEN", "cf:c:{" + y + "}:log"}), "0");
    for (int i = 0; i < old_count; ++i) {
        EXPECT_EQ(redis.command({"HEXISTS", "cf:c:{" + x + "}", "m:c:a" + std::to_string(i)}), "0")
            << i;
    }
    EXPECT_EQ(redis.command({"HEXISTS", "cf:c:{" + x + "}", "m:c:a" + std::to_string(old_count)}),
              "1");
    EXPECT_EQ(redis.command({"HEXISTS", "cf:c:{" + x + "}", "m:s:b1"}), "1");
    EXPECT_EQ(redis.command({"HEXISTS", "cf:c:{" + y + "}", "m:c:c0"}), "0");
    EXPECT_EQ(redis.command({"HGET", "cf:c:{" + x + "}", "unread_s"}), "1");
    EXPECT_EQ(redis.command({"HGET", "cf:c:{" + x + "}", "unread_c"}), "1");
    // The canary is in no key of any type.
    const auto every_key = dump_every_key(redis);
    EXPECT_EQ(every_key.find(canary), std::string::npos) << every_key;

    // History (through the other node) stops at the oldest kept message and says why.
    auto h = bo->request(history(x));
    ASSERT_TRUE(h && h->has_history());
    ASSERT_EQ(h->history().messages_size(), 2);
    EXPECT_EQ(h->history().messages(0).body(), "new 2 from bob");
    EXPECT_EQ(h->history().messages(1).body(), "new 1");
    EXPECT_FALSE(h->history().more());
    EXPECT_TRUE(h->history().trimmed());
    auto hy = ca->request(history(y));
    ASSERT_TRUE(hy && hy->has_history());
    EXPECT_EQ(hy->history().messages_size(), 0);
    EXPECT_TRUE(hy->history().trimmed());

    // The device whose cursor predates the trim: no error, the kept messages in order, once.
    auto old = a.connect();
    old->login(mint(alice, role::client), "old");
    must_send(*bo, send_message(x, "b2", "last"));
    std::vector<std::string> bodies;
    while (bodies.empty() || bodies.back() != "last") {
        auto f = old->wait_for(is_message_event(), 10s);
        ASSERT_TRUE(f) << "stopped after " << bodies.size() << " messages";
        bodies.push_back(f->event().message().body());
    }
    EXPECT_EQ(bodies, (std::vector<std::string>{"new 1", "new 2 from bob", "last"}));

    // A resend of an id whose dedupe record went with its message is a new message.
    const auto again = must_send(*al, send_message(x, "a5", "a5 again"));
    EXPECT_FALSE(again.duplicate());
    EXPECT_GT(again.seq(), static_cast<std::uint64_t>(old_count + 2));
    // So is a start_inquiry's, though its inquiry record (7 days) still names the conversation.
    const auto inquiry_again = must_send(*al, start_inquiry(bob, "a0", "a0 again"));
    EXPECT_FALSE(inquiry_again.duplicate());
    EXPECT_EQ(inquiry_again.conversation_id(), x);
    EXPECT_EQ(inquiry_again.seq(), again.seq() + 1);

    // One content-free audit event per sweep that deleted something; no node logged the canary.
    const auto audit = redis.command({"XRANGE", "cf:audit", "-", "+"});
    EXPECT_NE(audit.find("retention"), std::string::npos) << audit;
    EXPECT_EQ(audit.find(canary), std::string::npos);
    for (auto* node : {&a, &b}) {
        for (const auto& l : node->process().lines()) {
            EXPECT_EQ(l.find(canary), std::string::npos) << l;
        }
    }
    EXPECT_EQ(trimmed_total({a.port(), b.port()}), expected);
}

TEST_F(retention, OffByDefaultNothingIsDeletedAndClientsAreToldSo) {
    const redis_server redis;
    server_process srv(redis, node_args({"--inquiry-expiry-s", "1"}));
    const auto bob = unique("dr.bob");
    list_specialist(redis, bob);
    const auto alice = unique("alice");
    auto al = srv.connect();
    const auto reply = al->login(mint(alice, role::client), "dev-1");
    EXPECT_EQ(reply.limits().retention_s(), 0u);
    EXPECT_EQ(reply.limits().retention_days(), 0u);
    auto bo = srv.connect();
    bo->login(mint(bob, role::specialist), "dev-1");

    const auto x = must_send(*al, start_inquiry(bob, "a0", "kept 0")).conversation_id();
    must_send(*bo, send_message(x, "b0", "kept 1"));  // answered: it does not expire
    backdate(redis, x, 2, 400LL * 24 * 3600 * 1000);

    // Two inquiries that expire one after the other: the sweep that expires the second began
    // after the one that expired the first had run to its end, retention step included.
    for (const auto* id : {"probe-1", "probe-2"}) {
        const auto probe = unique(id);
        auto p = srv.connect();
        p->login(mint(probe, role::client), "dev-1");
        const auto cid = must_send(*p, start_inquiry(bob, "p0", "probe")).conversation_id();
        ASSERT_TRUE(p->wait_for(
            [&](const v1::Frame& f) { return is_conversation_state(f, cid, v1::EXPIRED); }, 10s));
    }
    EXPECT_EQ(redis.command({"XLEN", "cf:c:{" + x + "}:log"}), "2");
    EXPECT_EQ(trimmed_total({srv.port()}), 0.0);
    auto h = al->request(history(x));
    ASSERT_TRUE(h && h->has_history());
    EXPECT_EQ(h->history().messages_size(), 2);
    EXPECT_FALSE(h->history().trimmed());
}

}  // namespace
}  // namespace confide::test
