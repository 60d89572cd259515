// The directory of specialists on a Redis Cluster: confide-admin --redis-cluster lists and removes
// specialists (the entry in the specialist's slot, the index and its version each in their own:
// docs/design.md, "The directory on a Redis Cluster"), servers on the cluster let exactly the
// listed ones sign in as specialists, and a change stopped between its steps is finished by
// running it again. Real redis-server nodes, real confide-admin and server processes.

#include "store/keys.hpp"
#include "store/redis/cluster_topology.hpp"
#include "support/redis_cluster.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace confide::test {
namespace {

using auth::role;
using namespace std::chrono_literals;
namespace keys = store::keys;

class cluster_directory : public ::testing::Test {
protected:
    static void SetUpTestSuite() { cluster_ = std::make_unique<redis_cluster>(); }
    static void TearDownTestSuite() { cluster_.reset(); }

    static std::string unique(const std::string& base) {
        static std::atomic<int> n{0};
        return base + "." + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "." +
               std::to_string(++n);
    }

    /// Runs one command on the master that owns `key`'s slot.
    static std::string on_owner(const std::string& key, const std::vector<std::string>& args) {
        return cluster_->command(cluster_->owner(store::redis::key_slot(key)), args);
    }

    /// A server with a closed directory: only listed specialists sign in as specialists.
    static std::unique_ptr<server_process> start_server() {
        return std::make_unique<server_process>(*cluster_,
                                                std::vector<std::string>{"--log-level", "info"});
    }

    static std::unique_ptr<redis_cluster> cluster_;
};

std::unique_ptr<redis_cluster> cluster_directory::cluster_;

/// Whether `id` signs in as a specialist (a closed directory refuses the unlisted).
bool signs_in_as_specialist(const server_process& srv, const std::string& id) {
    auto c = srv.connect();
    v1::Frame auth;
    auth.mutable_authenticate()->set_token(mint(id, role::specialist));
    auth.mutable_authenticate()->set_device_id("d");
    auto r = c->request(auth);
    return r && r->has_authenticated();
}

/// The ids a client's directory listing shows, of those in `mine`.
std::set<std::string> listed(const server_process& srv, const std::set<std::string>& mine) {
    auto c = srv.connect();
    c->login(mint("client.of.listing", role::client), "d", true);
    v1::Frame f;
    f.mutable_list_specialists()->set_limit(100);
    auto r = c->request(f);
    std::set<std::string> out;
    if (!r || !r->has_specialists()) {
        ADD_FAILURE() << "no listing: " << (r ? r->DebugString() : "no reply");
        return out;
    }
    for (const auto& s : r->specialists().specialists()) {
        if (mine.count(s.id()) != 0) {
            out.insert(s.id());
        }
    }
    return out;
}

TEST_F(cluster_directory, ConfideAdminListsAndRemovesSpecialistsAndServersFollow) {
    const auto ana = unique("dr.ana"), ben = unique("dr.ben");
    ASSERT_EQ(run_admin(*cluster_, {"directory", "add", ana, "--name", "Dr Ana"}).status, 0);
    ASSERT_EQ(run_admin(*cluster_, {"directory", "add", ben, "--name", "Dr Ben"}).status, 0);
    auto again = run_admin(*cluster_, {"directory", "add", ana, "--name", "Dr Ana"});
    EXPECT_EQ(again.status, 1) << "listed already";
    EXPECT_NE(again.text().find("listed already"), std::string::npos) << again.text();

    auto all = run_admin(*cluster_, {"directory", "list"});
    ASSERT_EQ(all.status, 0) << all.text();
    EXPECT_NE(all.text().find(ana), std::string::npos) << all.text();
    EXPECT_NE(all.text().find(ben), std::string::npos) << all.text();
    auto shown = run_admin(*cluster_, {"directory", "show", ben});
    ASSERT_EQ(shown.status, 0) << shown.text();
    EXPECT_NE(shown.text().find("Dr Ben"), std::string::npos) << shown.text();

    auto srv = start_server();
    EXPECT_TRUE(signs_in_as_specialist(*srv, ana));
    EXPECT_FALSE(signs_in_as_specialist(*srv, unique("dr.unlisted")));
    EXPECT_EQ(listed(*srv, {ana, ben}), (std::set<std::string>{ana, ben}));

    // A removal reaches a running server: the version moved, so its next listing reloads.
    auto removed = run_admin(*cluster_, {"directory", "remove", ben});
    ASSERT_EQ(removed.status, 0) << removed.text();
    EXPECT_EQ(listed(*srv, {ana, ben}), (std::set<std::string>{ana}));
    EXPECT_FALSE(signs_in_as_specialist(*srv, ben));
    EXPECT_EQ(on_owner(keys::profile(ben), {"EXISTS", keys::profile(ben)}), "0");
    EXPECT_EQ(on_owner(keys::directory(), {"ZSCORE", keys::directory(), ben}), "(nil)");

    // Each change is in the audit trail, which is on the cluster too.
    auto audit = run_admin(*cluster_, {"audit", "query", "--limit", "1000"});
    ASSERT_EQ(audit.status, 0) << audit.text();
    EXPECT_NE(audit.text().find("directory add " + ana), std::string::npos) << audit.text();
    EXPECT_NE(audit.text().find("directory remove " + ben), std::string::npos) << audit.text();
}

TEST_F(cluster_directory, AChangeStoppedBetweenItsStepsIsFinishedByRunningItAgain) {
    // An add that stopped after the entry's step: the entry exists, the index lacks the id.
    const auto half_added = unique("dr.half");
    on_owner(keys::profile(half_added),
             {"HSET", keys::profile(half_added), "name", "Half", "accepting", "1"});
    auto srv = start_server();
    EXPECT_EQ(listed(*srv, {half_added}), std::set<std::string>{}) << "not in the index yet";
    auto finished = run_admin(*cluster_, {"directory", "add", half_added, "--name", "Dr Half"});
    ASSERT_EQ(finished.status, 0) << "the add is finished, not refused: " << finished.text();
    EXPECT_EQ(listed(*srv, {half_added}), std::set<std::string>{half_added});
    EXPECT_EQ(run_admin(*cluster_, {"directory", "add", half_added, "--name", "X"}).status, 1)
        << "now it is listed";

    // A removal that stopped after the entry's step: the index still names the id.
    const auto half_removed = unique("dr.gone");
    on_owner(keys::directory(), {"ZADD", keys::directory(), "0", half_removed});
    auto gone = run_admin(*cluster_, {"directory", "remove", half_removed});
    ASSERT_EQ(gone.status, 0) << gone.text();
    EXPECT_EQ(on_owner(keys::directory(), {"ZSCORE", keys::directory(), half_removed}), "(nil)");
}

TEST_F(cluster_directory, MigrateFindsSpecialistsOnEveryMaster) {
    // Users bound as specialists before the directory existed, one per master at least.
    std::set<std::string> masters_seen;
    std::vector<std::string> ids;
    for (int i = 0; i < 30 && masters_seen.size() < cluster_->masters().size(); ++i) {
        const auto id = unique("dr.old");
        const auto key = keys::user(id);
        masters_seen.insert(cluster_->address(cluster_->owner(store::redis::key_slot(key))));
        on_owner(key, {"HSET", key, "role", "specialist", "last_seen", "1000"});
        ids.push_back(id);
    }
    ASSERT_EQ(masters_seen.size(), cluster_->masters().size());
    auto applied = run_admin(*cluster_, {"directory", "migrate", "--apply"});
    ASSERT_EQ(applied.status, 0) << applied.text();
    for (const auto& id : ids) {
        EXPECT_NE(applied.text().find(id + ": listed"), std::string::npos) << applied.text();
        EXPECT_EQ(run_admin(*cluster_, {"directory", "show", id}).status, 0) << id;
    }
}

TEST_F(cluster_directory, AMalformedClusterAddressIsAUsageError) {
    // The later option wins, so this names a unix socket where a cluster node is expected.
    auto r = run_admin(*cluster_, {"--redis-cluster", "unix:/tmp/x.sock", "directory", "list"});
    EXPECT_EQ(r.status, 2) << r.text();
    EXPECT_NE(r.text().find("--redis-cluster: 'unix:/tmp/x.sock' is not HOST:PORT"),
              std::string::npos)
        << r.text();
}

}  // namespace
}  // namespace confide::test
