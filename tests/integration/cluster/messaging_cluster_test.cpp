// confide-server on a Redis Cluster (--redis-cluster): messages, receipts, offline delivery,
// idempotent retries and two nodes, and a server killed between the per-slot steps of a send
// (docs/design.md, "Redis Cluster"). Real redis-server nodes, real servers, real sockets.

#include "store/keys.hpp"
#include "store/redis/cluster_topology.hpp"
#include "support/redis_cluster.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace confide::test {
namespace {

using auth::role;
namespace keys = store::keys;

class cluster_messaging : public ::testing::Test {
protected:
    static void SetUpTestSuite() { start_cluster({}); }
    static void TearDownTestSuite() { cluster_.reset(); }

    static void start_cluster(redis_cluster_options opts) {
        cluster_ = std::make_unique<redis_cluster>(opts);
        // What the first server start records: conversations are seeded before some servers
        // start, and cf:* keys without it would be taken for data of layout 1.
        on_owner(keys::layout(),
                 {"SET", keys::layout(), std::string(keys::layout_version_plaintext)});
    }

    /// A server on the suite's cluster. Conversations are seeded in Redis (inquiries are not
    /// split into steps yet), so text is stored in plaintext; specialists are listed at sign-in.
    static std::unique_ptr<server_process> start_server(
        const std::string& name = "server",
        std::vector<std::pair<std::string, std::string>> env = {}) {
        return std::make_unique<server_process>(
            *cluster_,
            std::vector<std::string>{"--allow-plaintext-storage", "--directory-open", "--send-rate",
                                     "10000", "--send-burst", "10000"},
            name, std::move(env));
    }

    static std::string unique(const std::string& base) {
        static std::atomic<int> n{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = info->name();  // "Test/Param" for parameterised tests
        std::replace(name.begin(), name.end(), '/', '_');
        return base + "." + name + "." + std::to_string(++n);
    }

    /// Runs one command on the master that owns `key`'s slot.
    static std::string on_owner(const std::string& key, const std::vector<std::string>& args) {
        return cluster_->command(cluster_->owner(store::redis::key_slot(key)), args);
    }

    /// An active conversation between `client` and `specialist`, written as inquiry.lua and
    /// update.lua would have left it.
    static std::string seed_conversation(const std::string& client, const std::string& specialist) {
        const auto cid = unique("c");
        const std::string now =
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
        const auto meta = keys::conversation(cid);
        on_owner(meta, {"HSET",        meta,     "client",   client, "specialist", specialist,
                        "state",       "active", "free",     "0",    "created",    now,
                        "updated",     now,      "read_c",   "0",    "read_s",     "0",
                        "unread_c",    "0",      "unread_s", "0",    "expires",    "0",
                        "first_reply", now});
        for (const auto& [user, other] : {std::pair{client, specialist}, {specialist, client}}) {
            on_owner(keys::conversations(user), {"ZADD", keys::conversations(user), now, cid});
            on_owner(keys::contacts(user), {"SADD", keys::contacts(user), other});
        }
        return cid;
    }

    /// Signed in and synced: from the device's stored position, or from `after_cursor`
    /// ("0-0": the start of the user's stream; a new device otherwise starts at its end).
    static std::unique_ptr<ws_client> login(server_process& srv, const std::string& user, role r,
                                            const std::string& device = "dev-1",
                                            const std::string& after_cursor = {}) {
        auto c = srv.connect();
        c->login(mint(user, r), device, true, after_cursor);
        return c;
    }

    static std::unique_ptr<redis_cluster> cluster_;
};

std::unique_ptr<redis_cluster> cluster_messaging::cluster_;

v1::SendReply must_send(ws_client& c, v1::Frame req) {
    auto r = c.request(std::move(req), 10s);
    if (!r || !r->has_sent()) {
        ADD_FAILURE() << "send failed: " << (r ? r->error().message() : "no reply");
        return {};
    }
    return r->sent();
}

/// The bodies of the message events `c` receives, in order, up to and including `last`.
std::vector<std::string> bodies_until(ws_client& c, const std::string& last) {
    std::vector<std::string> out;
    while (auto f = c.next(10s)) {
        if (f->has_event() && f->event().has_message()) {
            out.push_back(f->event().message().body());
            if (out.back() == last) {
                return out;
            }
        }
    }
    ADD_FAILURE() << "'" << last << "' never came";
    return out;
}

TEST_F(cluster_messaging, MessagesReceiptsAndReadMarksGoRoundTrip) {
    auto srv = start_server();
    const auto alice = unique("alice"), bob = unique("bob");
    auto specialist = login(*srv, bob, role::specialist);
    auto client = login(*srv, alice, role::client);
    const auto cid = seed_conversation(alice, bob);

    auto sent = must_send(*client, send_message(cid, "m1", "hello"));
    EXPECT_EQ(sent.seq(), 1u);
    EXPECT_FALSE(sent.duplicate());
    auto got = specialist->wait_for(is_message_event("hello"), 10s);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->event().message().sender_id(), alice);
    EXPECT_EQ(got->event().message().seq(), 1u);

    // Delivered: the specialist's ack moves their mark (their slot), the receipt reaches the
    // client's node.
    specialist->send(ack(got->event().cursor()));
    ASSERT_TRUE(client->wait_for(is_receipt(v1::DELIVERED, 1), 10s));

    auto answer = must_send(*specialist, send_message(cid, "r1", "I am here"));
    EXPECT_EQ(answer.seq(), 2u);
    ASSERT_TRUE(client->wait_for(is_message_event("I am here"), 10s));

    // Read: the conversation's step, then the schedule's.
    auto read = client->request(mark_read(cid, 2));
    ASSERT_TRUE(read && !read->has_error()) << read->error().message();
    ASSERT_TRUE(specialist->wait_for(is_receipt(v1::READ, 2), 10s));

    // History reads the conversation's log on its master.
    auto page = client->request(history(cid));
    ASSERT_TRUE(page && page->has_history());
    ASSERT_EQ(page->history().messages_size(), 2);
}

TEST_F(cluster_messaging, AnOfflineDeviceGetsEverythingFromItsCursorInOrder) {
    auto srv = start_server();
    const auto alice = unique("alice"), bob = unique("bob");
    login(*srv, bob, role::specialist)->close();  // signs in once (listed), then away
    auto client = login(*srv, alice, role::client);
    const auto cid = seed_conversation(alice, bob);
    for (int i = 1; i <= 5; ++i) {
        must_send(*client, send_message(cid, "m" + std::to_string(i), "n" + std::to_string(i)));
    }
    // The same device again: it resumes from its stored position.
    auto specialist = login(*srv, bob, role::specialist);
    EXPECT_EQ(bodies_until(*specialist, "n5"),
              (std::vector<std::string>{"n1", "n2", "n3", "n4", "n5"}));
}

TEST_F(cluster_messaging, ARetryWithTheSameIdIsStoredAndDeliveredOnce) {
    auto srv = start_server();
    const auto alice = unique("alice"), bob = unique("bob");
    auto specialist = login(*srv, bob, role::specialist);
    auto client = login(*srv, alice, role::client);
    const auto cid = seed_conversation(alice, bob);

    auto first = must_send(*client, send_message(cid, "same", "once"));
    auto again = must_send(*client, send_message(cid, "same", "once"));
    EXPECT_TRUE(again.duplicate());
    EXPECT_EQ(again.seq(), first.seq());
    must_send(*client, send_message(cid, "end", "marker"));
    EXPECT_EQ(bodies_until(*specialist, "marker"), (std::vector<std::string>{"once", "marker"}));

    // The same id with another body is a conflict, and stores nothing.
    auto other = client->request(send_message(cid, "same", "changed"), 10s);
    ASSERT_TRUE(other && other->has_error());
    EXPECT_EQ(other->error().code(), v1::CONFLICT);
}

TEST_F(cluster_messaging, TwoServerNodesShareTheCluster) {
    auto a = start_server("node-a");
    auto b = start_server("node-b");
    const auto alice = unique("alice"), bob = unique("bob");
    auto client = login(*a, alice, role::client);
    auto specialist = login(*b, bob, role::specialist);
    const auto cid = seed_conversation(alice, bob);

    must_send(*client, send_message(cid, "a1", "from a"));
    ASSERT_TRUE(specialist->wait_for(is_message_event("from a"), 10s));
    must_send(*specialist, send_message(cid, "b1", "from b"));
    ASSERT_TRUE(client->wait_for(is_message_event("from b"), 10s));
    // Both parties' seqs are consecutive although each node guessed its own.
    auto more = must_send(*client, send_message(cid, "a2", "again from a"));
    EXPECT_EQ(more.seq(), 3u);
}

// A server killed right after the conversation's step (or after the client's step) has stored
// the message but not acked it. The sender's retry with the same client_msg_id, through another
// server, repairs the missing pointers: every device of both parties gets it exactly once.
class cluster_kill_between_steps : public cluster_messaging,
                                   public ::testing::WithParamInterface<const char*> {};

TEST_P(cluster_kill_between_steps, TheSendersRetryDeliversExactlyOnceToEveryDevice) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto cid = seed_conversation(alice, bob);
    auto srv = start_server();
    auto client = login(*srv, alice, role::client, "dev-1");
    must_send(*client, send_message(cid, "before", "before"));
    {
        // The fault point fires on this server's first send.
        auto doomed = start_server("doomed", {{"CONFIDE_TEST_EXIT_AT", GetParam()}});
        auto doomed_client = login(*doomed, alice, role::client, "dev-1");
        doomed_client->send(send_message(cid, "cut", "cut short"));
        // No reply: the process exits between the steps.
        ASSERT_TRUE(doomed->process().wait_exit(10s)) << "the fault point did not fire";
    }
    auto retried = must_send(*client, send_message(cid, "cut", "cut short"));
    EXPECT_TRUE(retried.duplicate());
    EXPECT_EQ(retried.seq(), 2u);
    must_send(*client, send_message(cid, "after", "after"));

    // Devices reading both streams from their start.
    auto specialist = login(*srv, bob, role::specialist, "fresh", "0-0");
    EXPECT_EQ(bodies_until(*specialist, "after"),
              (std::vector<std::string>{"before", "cut short", "after"}));
    auto other_device = login(*srv, alice, role::client, "fresh", "0-0");
    EXPECT_EQ(bodies_until(*other_device, "after"),
              (std::vector<std::string>{"before", "cut short", "after"}));
}

// Without a retry, the next send in the conversation (here the other party's) finds the gap in
// each stream and appends the missing message first, in seq order.
TEST_P(cluster_kill_between_steps, TheNextSendRepairsTheGapInOrder) {
    const auto alice = unique("alice"), bob = unique("bob");
    const auto cid = seed_conversation(alice, bob);
    {
        auto doomed = start_server("doomed", {{"CONFIDE_TEST_EXIT_AT", GetParam()}});
        login(*doomed, bob, role::specialist)->close();
        auto client = login(*doomed, alice, role::client);
        client->send(send_message(cid, "cut", "cut short"));
        ASSERT_TRUE(doomed->process().wait_exit(10s)) << "the fault point did not fire";
    }
    auto srv = start_server();
    auto specialist = login(*srv, bob, role::specialist, "dev-1", "0-0");
    auto answer = must_send(*specialist, send_message(cid, "r", "answer"));
    EXPECT_EQ(answer.seq(), 2u);
    EXPECT_EQ(bodies_until(*specialist, "answer"),
              (std::vector<std::string>{"cut short", "answer"}));
    auto client = login(*srv, alice, role::client, "fresh", "0-0");
    EXPECT_EQ(bodies_until(*client, "answer"), (std::vector<std::string>{"cut short", "answer"}));
    // The sender's retry still answers the stored message, and adds nothing.
    auto retried = must_send(*client, send_message(cid, "cut", "cut short"));
    EXPECT_TRUE(retried.duplicate());
    EXPECT_EQ(retried.seq(), 1u);
}

// A master with a replica each: one is killed, its replica takes over, clients go on.
class cluster_failover : public cluster_messaging {
protected:
    static void SetUpTestSuite() {
        redis_cluster_options opts;
        opts.replicas_per_master = 1;
        start_cluster(opts);
    }

    /// A user id whose keys are served by master `i`.
    static std::string user_on(std::size_t i, const std::string& base) {
        for (int n = 0; n < 10000; ++n) {
            auto id = unique(base);
            if (cluster_->owner(store::redis::key_slot(keys::inbox(id))) == i) {
                return id;
            }
        }
        throw std::runtime_error("no user id lands on master " + std::to_string(i));
    }

    /// The number after `field` in node `i`'s INFO replication, or -1.
    static long long replication(std::size_t i, const std::string& field) {
        const auto info = cluster_->command(i, {"INFO", "replication"});
        const auto at = info.find(field + ":");
        return at == std::string::npos ? -1 : std::stoll(info.substr(at + field.size() + 1));
    }
};

TEST_F(cluster_failover, ClientsResumeWhenAMasterFailsOverToItsReplica) {
    // Not the first master: the server's classic subscription (notices other than messages) is
    // on it, and following its failover is not built yet (docs/design.md, "Redis Cluster").
    const auto masters = cluster_->masters();
    ASSERT_GE(masters.size(), 2u);
    const auto doomed = masters[1];
    const auto replica = cluster_->replica_of(doomed);
    ASSERT_TRUE(replica);
    auto srv = start_server();
    const auto alice = unique("alice"), bob = user_on(doomed, "bob");
    auto specialist = login(*srv, bob, role::specialist);
    auto client = login(*srv, alice, role::client);
    const auto cid = seed_conversation(alice, bob);
    must_send(*client, send_message(cid, "m1", "before the failover"));
    ASSERT_TRUE(specialist->wait_for(is_message_event("before the failover"), 10s));

    // Replication is asynchronous (README, "What sent guarantees"): the master is killed once
    // its replica has everything, so that what the test checks is the failover's handling.
    const auto offset = replication(doomed, "master_repl_offset");
    for (int i = 0; i < 200 && replication(*replica, "slave_repl_offset") < offset; ++i) {
        cluster_->command(doomed, {"WAIT", "1", "50"});
    }
    ASSERT_GE(replication(*replica, "slave_repl_offset"), offset);
    EXPECT_EQ(cluster_->fail_over(doomed), *replica);

    // The client retries with the same id while the cluster settles, as a client does on
    // UNAVAILABLE; each attempt waits for its reply.
    std::optional<v1::SendReply> sent;
    for (int attempt = 0; attempt < 20 && !sent; ++attempt) {
        auto r = client->request(send_message(cid, "m2", "after the failover"), 10s);
        ASSERT_TRUE(r) << "no reply";
        if (r->has_sent()) {
            sent = r->sent();
        } else {
            ASSERT_TRUE(r->error().retryable()) << r->error().message();
        }
    }
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->seq(), 2u);
    // The specialist's subscription moved to the replica: the message arrives, once.
    EXPECT_EQ(bodies_until(*specialist, "after the failover"),
              (std::vector<std::string>{"after the failover"}));
}

INSTANTIATE_TEST_SUITE_P(points, cluster_kill_between_steps,
                         ::testing::Values("send:conversation", "send:client", "send:specialist"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                             const std::string point = p.param;
                             return point == "send:conversation"
                                        ? std::string("AfterTheConversationStep")
                                    : point == "send:client" ? std::string("AfterTheClientStep")
                                                             : std::string("AfterBothUserSteps");
                         });

}  // namespace
}  // namespace confide::test
