// --ack-after-replicas: a message is acked only once a replica of every master it was written to
// confirmed it (WAIT), on one Redis with a replica and on a Redis Cluster with a replica per
// master. With the replica stopped (SIGSTOP) a send answers UNAVAILABLE (retry) within the
// timeout, not "sent"; once the replica is back the retry is acked once and the message is
// delivered once. Real redis-server processes, real servers, real sockets.

#include "events_until.hpp"
#include "own_echo.hpp"
#include "store/keys.hpp"
#include "store/redis/cluster_topology.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confide::test {
namespace {

using auth::role;
using std::chrono::steady_clock;
namespace keys = store::keys;

// The WAIT timeout given to the servers, and what "answered within the timeout" allows on a
// loaded box (sanitizer builds included). The servers' Redis command deadline is far above
// both, so an answer within the bound comes from WAIT's own timeout, not from a command that
// timed out.
constexpr auto wait_timeout = std::chrono::milliseconds(200);
constexpr auto answer_bound = std::chrono::milliseconds(4000);
constexpr auto command_deadline = std::chrono::milliseconds(15000);

/// The servers' arguments, with `wait` as WAIT's timeout.
std::vector<std::string> replica_flags_waiting(std::chrono::milliseconds wait) {
    return {"--ack-after-replicas",
            "1",
            "--ack-after-replicas-timeout-ms",
            std::to_string(wait.count()),
            "--redis-timeout-ms",
            std::to_string(command_deadline.count()),
            "--directory-open",
            "--send-rate",
            "10000",
            "--send-burst",
            "10000"};
}

const std::vector<std::string> replica_flags = replica_flags_waiting(wait_timeout);

/// `req` sent until it is answered with something other than a retryable UNAVAILABLE, as a
/// client would (the retry of a send or inquiry is idempotent), at most 20 times: with the
/// replicas up, a loaded machine (sanitizer builds) can still take longer than WAIT's 200 ms to
/// replicate a write now and then. The last answer, or nullopt if none came.
std::optional<v1::Frame> request_until_acked(ws_client& c, const v1::Frame& req) {
    std::optional<v1::Frame> r;
    for (int attempt = 0; attempt < 20; ++attempt) {
        r = c.request(req, 10s);
        if (!r || !r->has_error() || r->error().code() != v1::UNAVAILABLE ||
            !r->error().retryable()) {
            break;
        }
    }
    return r;
}

/// Blocks until `master` has a replica online again (WAIT, bounded). Not that it has every write:
/// WAIT from this fresh connection waits for that connection's own writes, none; the retries of
/// request_until_acked absorb the replica's remaining lag (the server's WAIT is on its writes).
bool replicas_caught_up(const std::function<std::string(const std::vector<std::string>&)>& master) {
    for (int i = 0; i < 100; ++i) {
        if (master({"WAIT", "1", "100"}) == "1") {
            return true;
        }
    }
    return false;
}

/// The check both set-ups share: `cid` is a conversation of `client` and `specialist` (whose
/// device saw every earlier message), `pause`/`resume` stop and continue the replica that
/// matters, `caught_up` waits for it to confirm everything.
void send_while_the_replica_is_stopped(ws_client& client, ws_client& specialist,
                                       const std::string& cid, const std::function<void()>& pause,
                                       const std::function<void()>& resume,
                                       const std::function<bool()>& caught_up) {
    // With the replica up, acks come back.
    auto first = request_until_acked(client, send_message(cid, "m1", "confirmed"));
    ASSERT_TRUE(first && first->has_sent()) << (first ? first->error().message() : "no reply");
    ASSERT_TRUE(specialist.wait_for(is_message_event("confirmed"), 10s));

    pause();
    const auto sent_at = steady_clock::now();
    auto refused = client.request(send_message(cid, "m2", "while the replica is stopped"), 10s);
    const auto took = steady_clock::now() - sent_at;
    ASSERT_TRUE(refused);
    ASSERT_TRUE(refused->has_error()) << "acked although no replica confirmed it";
    EXPECT_EQ(refused->error().code(), v1::UNAVAILABLE);
    EXPECT_TRUE(refused->error().retryable());
    EXPECT_GE(took, wait_timeout);
    EXPECT_LT(took, answer_bound) << "not answered by WAIT's timeout";

    resume();
    ASSERT_TRUE(caught_up());
    // The retry with the same id: stored once (the first attempt's), acked now.
    auto retried =
        request_until_acked(client, send_message(cid, "m2", "while the replica is stopped"));
    ASSERT_TRUE(retried && retried->has_sent())
        << (retried ? retried->error().message() : "no reply");
    EXPECT_TRUE(retried->sent().duplicate());
    EXPECT_EQ(retried->sent().seq(), first->sent().seq() + 1);
    auto last = request_until_acked(client, send_message(cid, "m3", "after"));
    ASSERT_TRUE(last && last->has_sent());
    EXPECT_EQ(last->sent().seq(), first->sent().seq() + 2);
    // Delivered once: the stored message's push, nothing for the retry.
    EXPECT_EQ(bodies_until(specialist, "after"),
              (std::vector<std::string>{"while the replica is stopped", "after"}));
}

/// One Redis and a replica of it.
struct redis_with_replica {
    static redis_server_options replica_of(const redis_server& primary) {
        redis_server_options ro;
        ro.extra_args = {"--replicaof", primary.host(), std::to_string(primary.port())};
        return ro;
    }

    redis_server master;
    redis_server replica{replica_of(master)};
    std::function<std::string(const std::vector<std::string>&)> on_master =
        [this](const std::vector<std::string>& args) { return master.command(args); };
};

/// Whether the server warned at start that a master has too few replicas for its acks.
bool warned_of_too_few_replicas(server_process& srv) {
    // The warning comes before the log's "listening on ... io thread(s)" line, both on stderr.
    // server_process waited for stdout's "listening on", which another thread reads: stderr's
    // lines may not be in yet (seen in CI under load), so its own line is waited for first.
    if (!srv.process().wait_for_line(
            [](std::string_view l) { return l.find(" io thread(s), node ") != std::string::npos; },
            10s)) {
        ADD_FAILURE() << "the server never logged that it listens";
        return false;
    }
    const auto lines = srv.process().lines();
    return std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
        return l.find("--ack-after-replicas 1: a master has 0 replica(s) connected") !=
               std::string::npos;
    });
}

/// A signed-in (and synced) device of each party.
struct parties {
    std::unique_ptr<ws_client> client;
    std::unique_ptr<ws_client> specialist;
};

parties sign_in(server_process& srv, const std::string& client, const std::string& specialist) {
    parties p{srv.connect(), srv.connect()};
    p.specialist->login(mint(specialist, role::specialist), "dev-1");
    p.client->login(mint(client, role::client), "dev-1");
    return p;
}

/// The conversation the client's inquiry to "bob" opens (acked: it waits for the replicas
/// too), once the specialist's device has its message; empty after a failure.
std::string open_by_inquiry(parties& p) {
    auto opened = request_until_acked(*p.client, start_inquiry("bob", "i1", "hello"));
    if (!opened || !opened->has_sent()) {
        ADD_FAILURE() << "inquiry: " << (opened ? opened->error().message() : "no reply");
        return {};
    }
    if (!p.specialist->wait_for(is_message_event("hello"), 10s)) {
        ADD_FAILURE() << "the inquiry never reached the specialist";
        return {};
    }
    return opened->sent().conversation_id();
}

TEST(ack_after_replicas, AServerWarnsAtStartWhenAMasterHasTooFewReplicas) {
    redis_server alone;
    server_process srv(alone, replica_flags);
    EXPECT_TRUE(warned_of_too_few_replicas(srv));
    // And no send is acked: stored on the master, answered retry.
    auto [client, specialist] = sign_in(srv, "alice", "bob");
    auto opened = client->request(start_inquiry("bob", "i1", "hello"), 10s);
    ASSERT_TRUE(opened && opened->has_error());
    EXPECT_EQ(opened->error().code(), v1::UNAVAILABLE);
}

TEST(ack_after_replicas, OnOneRedisARetryIsAnsweredUntilTheReplicaConfirms) {
    redis_with_replica redis;
    ASSERT_TRUE(replicas_caught_up(redis.on_master));

    server_process srv(redis.master, replica_flags);
    EXPECT_FALSE(warned_of_too_few_replicas(srv));
    auto p = sign_in(srv, "alice", "bob");
    const auto cid = open_by_inquiry(p);
    ASSERT_FALSE(cid.empty());

    send_while_the_replica_is_stopped(
        *p.client, *p.specialist, cid, [&] { redis.replica.pause(); },
        [&] { redis.replica.resume(); }, [&] { return replicas_caught_up(redis.on_master); });
}

// WAIT after the write: the notice of the sender's own event comes before the reply, is held,
// and the reply stands for it. WAIT's timeout is long here: a retry (a duplicate) would carry
// no cursor.
TEST(ack_after_replicas, TheSendReplyStandsForTheOwnEventWhoseNoticeCameFirst) {
    redis_with_replica redis;
    ASSERT_TRUE(replicas_caught_up(redis.on_master));
    server_process srv(redis.master, replica_flags_waiting(command_deadline / 3));
    auto p = sign_in(srv, "alice", "bob");
    auto phone = srv.connect();
    phone->login(mint("alice", role::client), "phone", false);
    sync_skipping_own_echo(*phone);
    const auto cid = open_by_inquiry(p);
    ASSERT_FALSE(cid.empty());
    ASSERT_TRUE(phone->wait_for(is_message_event("hello"), 10s)) << "in step";
    expect_own_echo_suppressed(*phone, *p.client, *p.specialist, cid, 8);
}

TEST(ack_after_replicas, OnAClusterEveryMasterTheSendWroteToMustConfirm) {
    redis_cluster_options opts;
    opts.replicas_per_master = 1;
    redis_cluster cluster(opts);
    server_process srv(cluster, replica_flags);
    auto p = sign_in(srv, "alice", "bob");
    const auto cid = open_by_inquiry(p);
    ASSERT_FALSE(cid.empty());

    // The replica of the master that holds the specialist's stream: the conversation's own
    // master may be another one, and its confirmation alone must not be enough.
    const auto master = cluster.owner(store::redis::key_slot(keys::inbox("bob")));
    const auto replica = cluster.replica_of(master);
    ASSERT_TRUE(replica);
    auto on_master = [&](const std::vector<std::string>& args) {
        return cluster.command(master, args);
    };
    send_while_the_replica_is_stopped(
        *p.client, *p.specialist, cid, [&] { cluster.node(*replica).pause(); },
        [&] { cluster.node(*replica).resume(); }, [&] { return replicas_caught_up(on_master); });
}

}  // namespace
}  // namespace confide::test
