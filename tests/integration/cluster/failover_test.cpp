// confide-server on a Redis Cluster whose masters have a replica each: a master fails over to its
// replica and clients go on.

#include "cluster_messaging.hpp"
#include "events_until.hpp"
#include "support/local.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace confide::test {
namespace {

using auth::role;
namespace keys = store::keys;

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
    const auto cid = open_conversation(*client, *specialist, bob, "q1").cid;
    must_send(*client, send_message(cid, "m1", "before the failover"));
    ASSERT_TRUE(specialist->wait_for(is_message_event("before the failover"), 10s));

    // Replication is asynchronous (README, "What sent guarantees"): the master is killed once
    // its replica has everything, so that what the test checks is the failover's handling.
    // The replica's own offset is polled: WAIT from a fresh connection does not wait for this
    // offset (it waits for the connection's own writes, none), and on a loaded machine the
    // replica took more than the 200 quick WAITs this loop once made (CI).
    const auto offset = replication(doomed, "master_repl_offset");
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (replication(*replica, "slave_repl_offset") < offset &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(20ms);
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
    EXPECT_EQ(sent->seq(), 3u);
    // The specialist's subscription moved to the replica: the message arrives, once.
    EXPECT_EQ(bodies_until(*specialist, "after the failover"),
              (std::vector<std::string>{"after the failover"}));
}

}  // namespace
}  // namespace confide::test
