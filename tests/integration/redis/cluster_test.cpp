#include "cluster_helpers.hpp"

#include "store/redis/script.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

namespace confide::store::redis {
namespace {

using namespace test_helpers;

class cluster_test : public ::testing::Test {
protected:
    io_threads io_{2};
    test::redis_cluster& nodes_ = shared_cluster();

    // Redirections answered by node `i` so far.
    long moved(std::size_t i) {
        return info_count(nodes_, i, "errorstats", "errorstat_MOVED:count=");
    }
    long asked(std::size_t i) {
        return info_count(nodes_, i, "errorstats", "errorstat_ASK:count=");
    }
    long calls(std::size_t i, const std::string& command) {
        return info_count(nodes_, i, "commandstats", "cmdstat_" + command + ":calls=");
    }
};

TEST_F(cluster_test, routes_each_command_to_the_master_of_its_slot) {
    auto client = start_cluster(io_.get(), cluster_test_config(nodes_));
    const auto masters = nodes_.masters();
    ASSERT_EQ(masters.size(), 3u);
    std::vector<long> moved_before;
    for (const auto m : masters) {
        moved_before.push_back(moved(m));
    }
    for (const auto m : masters) {
        const auto slot = nodes_.slot_of(m);
        const auto key = tag_for_slot(slot) + ":routed";
        auto [ec, r] = exec(*client, slot, {"SET", key, "on-" + std::to_string(m)});
        ASSERT_FALSE(ec) << ec.message() << " " << r.str;
        // The value is on that master itself.
        EXPECT_EQ(nodes_.command(m, {"GET", key}), "on-" + std::to_string(m));
        // Routed by key as well.
        auto f = asio::co_spawn(
            io_.get(),
            [](std::shared_ptr<cluster> c, std::string k) -> awaitable<result> {
                std::vector<std::string> args{"GET", k};
                auto [e, rep] = co_await c->async_exec(k, std::move(args), use_nothrow);
                co_return result(e, std::move(rep));
            }(client, key),
            asio::use_future);
        ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
        std::tie(ec, r) = f.get();
        EXPECT_FALSE(ec);
        EXPECT_EQ(r.str, "on-" + std::to_string(m));
    }
    // Straight to the owners: no master answered a MOVED.
    for (std::size_t i = 0; i < masters.size(); ++i) {
        EXPECT_EQ(moved(masters[i]), moved_before[i]);
    }
    // One connection per master.
    EXPECT_EQ(client->connections().size(), 3u);
}

TEST_F(cluster_test, follows_moved_after_a_slot_moved_and_then_goes_straight_to_the_new_owner) {
    auto client = start_cluster(io_.get(), cluster_test_config(nodes_));
    const auto masters = nodes_.masters();
    const auto from = masters[0];
    const auto to = masters[1];
    const auto slot = nodes_.slot_of(from);
    const auto key = tag_for_slot(slot) + ":moving";
    auto [ec, r] = exec(*client, slot, {"SET", key, "v1"});
    ASSERT_FALSE(ec) << r.str;

    nodes_.migrate_slot(slot, to);
    const auto moved_before = moved(from);
    // The client refreshes its map on its own too (once its connections are up, and every
    // 10 s): if such a refresh already saw the migration, it goes straight to `to` and no MOVED
    // is needed. Seen once in a loaded dev run; the redirection itself is what this test is for
    // whenever the map is still the old one.
    const node_address old_owner{nodes_.node(from).host(), nodes_.node(from).port()};
    const node_address* owner = client->topology()->owner_of(slot);
    const bool stale = owner != nullptr && *owner == old_owner;

    std::tie(ec, r) = exec(*client, slot, {"GET", key});  // to `from`, MOVED, then to `to`
    EXPECT_FALSE(ec) << ec.message() << " " << r.str;
    EXPECT_EQ(r.str, "v1");
    const auto redirected = stale ? 1 : 0;
    EXPECT_EQ(moved(from), moved_before + redirected);
    EXPECT_EQ(*client->topology()->owner_of(slot),
              (node_address{nodes_.node(to).host(), nodes_.node(to).port()}));

    for (int i = 0; i < 5; ++i) {
        std::tie(ec, r) = exec(*client, slot, {"INCR", key + ":n"});
        EXPECT_FALSE(ec) << r.str;
        EXPECT_EQ(r.integer, i + 1);
    }
    EXPECT_EQ(moved(from), moved_before + redirected);  // no redirection any more
    EXPECT_EQ(nodes_.command(to, {"GET", key + ":n"}), "5");
}

TEST_F(cluster_test, follows_ask_during_a_migration_with_asking_right_before_the_command) {
    auto client = start_cluster(io_.get(), cluster_test_config(nodes_));
    const auto masters = nodes_.masters();
    const auto from = masters[1];
    const auto to = masters[2];
    const auto slot = nodes_.slot_of(from);
    const auto tag = tag_for_slot(slot);
    auto [ec, r] = exec(*client, slot, {"SET", tag + ":moved", "here-then-there"});
    ASSERT_FALSE(ec) << r.str;
    std::tie(ec, r) = exec(*client, slot, {"SET", tag + ":stays", "here"});
    ASSERT_FALSE(ec) << r.str;

    nodes_.begin_migration(slot, to);
    nodes_.migrate_key(tag + ":moved", to);
    const auto asked_before = asked(from);
    const auto asking_before = calls(to, "asking");

    // The target serves other commands of this client meanwhile: nothing may come between an
    // ASKING and its command.
    test_helpers::command_monitor monitor(nodes_.node(to));
    const auto busy_slot = nodes_.slot_of(to);
    const auto busy = tag_for_slot(busy_slot) + ":busy";
    std::vector<std::future<result>> traffic;
    for (int i = 0; i < 50; ++i) {
        traffic.push_back(exec_async(*client, busy_slot, {"INCR", busy}));
    }
    std::tie(ec, r) = exec(*client, slot, {"GET", tag + ":moved"});
    EXPECT_FALSE(ec) << ec.message() << " " << r.str;
    EXPECT_EQ(r.str, "here-then-there");
    // A key the source still has is served there; a new key goes to the target.
    std::tie(ec, r) = exec(*client, slot, {"GET", tag + ":stays"});
    EXPECT_EQ(r.str, "here");
    std::tie(ec, r) = exec(*client, slot, {"SET", tag + ":new", "born-there"});
    EXPECT_FALSE(ec) << r.str;
    for (auto& f : traffic) {
        EXPECT_FALSE(std::get<0>(get(f)));
    }
    EXPECT_EQ(asked(from), asked_before + 2);
    EXPECT_EQ(calls(to, "asking"), asking_before + 2);
    EXPECT_TRUE(monitor.wait_for_sequence({"ASKING", "GET"}, 10s));
    EXPECT_TRUE(monitor.wait_for_sequence({"ASKING", "SET"}, 10s));
    // Not cached as the owner: the slot still belongs to `from`.
    EXPECT_EQ(*client->topology()->owner_of(slot),
              (node_address{nodes_.node(from).host(), nodes_.node(from).port()}));

    nodes_.finish_migration(slot, to);
    EXPECT_EQ(nodes_.command(to, {"GET", tag + ":new"}), "born-there");
}

TEST_F(cluster_test, retries_tryagain_until_the_migration_ends) {
    auto client = start_cluster(io_.get(), cluster_test_config(nodes_));
    const auto masters = nodes_.masters();
    const auto from = masters[2];
    const auto to = masters[0];
    const auto slot = nodes_.slot_of(from);
    const auto tag = tag_for_slot(slot);
    auto [ec, r] = exec(*client, slot, {"MSET", tag + ":a", "1", tag + ":b", "2"});
    ASSERT_FALSE(ec) << r.str;

    // One key moved, the other not: a command on both is answered TRYAGAIN by either node.
    nodes_.begin_migration(slot, to);
    nodes_.migrate_key(tag + ":a", to);
    const auto tryagain_before =
        info_count(nodes_, from, "errorstats", "errorstat_TRYAGAIN:count=");
    auto both = exec_async(*client, slot, {"MGET", tag + ":a", tag + ":b"});
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (info_count(nodes_, from, "errorstats", "errorstat_TRYAGAIN:count=") <
               tryagain_before + 2 &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(5ms);  // polls Redis's counter
    }
    EXPECT_GE(info_count(nodes_, from, "errorstats", "errorstat_TRYAGAIN:count="),
              tryagain_before + 2);  // answered, and sent again
    EXPECT_EQ(both.wait_for(0s), std::future_status::timeout);

    nodes_.finish_migration(slot, to);
    std::tie(ec, r) = get(both);
    EXPECT_FALSE(ec) << ec.message() << " " << r.str;
    ASSERT_EQ(r.elements.size(), 2u);
    EXPECT_EQ(r.elements[0].str, "1");
    EXPECT_EQ(r.elements[1].str, "2");
}

TEST_F(cluster_test, evalsha_falls_back_to_eval_on_each_master) {
    auto client = start_cluster(io_.get(), cluster_test_config(nodes_));
    const script s("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])");
    for (const auto m : nodes_.masters()) {
        EXPECT_EQ(nodes_.command(m, {"SCRIPT", "FLUSH"}), "OK");
    }
    auto run = [&](std::string key, std::string value) {
        auto body = [](const script& sc, std::shared_ptr<cluster> c, std::string k,
                       std::string v) -> awaitable<result> {
            std::vector<std::string> keys{std::move(k)};
            std::vector<std::string> args{std::move(v)};
            co_return co_await sc.run(*c, std::move(keys), std::move(args));
        };
        auto f = asio::co_spawn(io_.get(), body(s, client, std::move(key), std::move(value)),
                                asio::use_future);
        EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
        return f.get();
    };
    for (const auto m : nodes_.masters()) {
        const auto key = tag_for_slot(nodes_.slot_of(m)) + ":script";
        const auto evalsha = calls(m, "evalsha");
        const auto eval = calls(m, "eval");
        auto [ec, r] = run(key, "first");  // NOSCRIPT on this master: EVAL
        EXPECT_FALSE(ec) << ec.message() << " " << r.str;
        EXPECT_EQ(r.str, "first");
        EXPECT_EQ(calls(m, "evalsha"), evalsha + 1);
        EXPECT_EQ(calls(m, "eval"), eval + 1);
        std::tie(ec, r) = run(key, "second");  // cached there now
        EXPECT_EQ(r.str, "second");
        EXPECT_EQ(calls(m, "evalsha"), evalsha + 2);
        EXPECT_EQ(calls(m, "eval"), eval + 1);
        EXPECT_EQ(nodes_.command(m, {"GET", key}), "second");
    }
}

TEST_F(cluster_test, a_command_past_its_deadline_fails_as_on_one_connection) {
    auto cfg = cluster_test_config(nodes_);
    cfg.node.command_timeout = 300ms;
    cfg.node.health_interval = 0ms;  // only the commands below are pending
    auto client = start_cluster(io_.get(), cfg);
    const auto m = nodes_.masters()[0];
    const auto slot = nodes_.slot_of(m);
    const auto key = tag_for_slot(slot) + ":deadline";

    nodes_.node(m).pause();  // well below cluster-node-timeout: no failover
    const auto start = std::chrono::steady_clock::now();
    auto late = exec_async(*client, slot, {"SET", key, "maybe"});
    auto also = exec_async(*client, slot, {"SET", key, "maybe too"});
    auto [ec, r] = get(late);
    const auto took = std::chrono::steady_clock::now() - start;
    auto [ec2, r2] = get(also);
    nodes_.node(m).resume();
    EXPECT_EQ(ec, errc::timeout);        // the oldest pending command timed out
    EXPECT_EQ(ec2, errc::disconnected);  // the others lost their connection: outcome unknown
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 3s);

    // The connection comes back; the command retried by the caller succeeds.
    std::tie(ec, r) = exec(*client, slot, {"SET", key, "sure"});
    EXPECT_FALSE(ec) << ec.message() << " " << r.str;
    EXPECT_EQ(nodes_.command(m, {"GET", key}), "sure");
}

TEST_F(cluster_test, recovers_after_a_master_fails_over_to_its_replica) {
    auto client = start_cluster(io_.get(), cluster_test_config(nodes_));
    std::size_t m = 0;
    for (const auto candidate : nodes_.masters()) {
        if (nodes_.replica_of(candidate)) {
            m = candidate;
        }
    }
    const auto slot = nodes_.slot_of(m);
    const auto key = tag_for_slot(slot) + ":failover";
    auto [ec, r] = exec(*client, slot, {"SET", key, "kept"});
    ASSERT_FALSE(ec) << r.str;
    std::tie(ec, r) = exec(*client, slot, {"WAIT", "1", "5000"});  // on the replica too
    ASSERT_EQ(r.integer, 1);

    // Commands in flight when the master dies: their outcome is unknown.
    nodes_.node(m).pause();
    const std::string counter = key + ":" + std::string(1000, 'n');
    std::vector<std::future<result>> in_flight;
    for (int i = 0; i < 3; ++i) {
        in_flight.push_back(exec_async(*client, slot, {"INCR", counter}));
    }
    // Sent: the frozen master's socket holds them (the replica's acks are far smaller).
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (nodes_.node(m).unread_bytes() < 3 * counter.size() &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_GE(nodes_.node(m).unread_bytes(), 3 * counter.size());
    nodes_.node(m).kill();
    for (auto& f : in_flight) {
        EXPECT_EQ(std::get<0>(get(f)), errc::disconnected);
    }

    const auto promoted = nodes_.fail_over(m);
    EXPECT_NE(promoted, m);
    std::tie(ec, r) = exec(*client, slot, {"GET", key});
    EXPECT_FALSE(ec) << ec.message() << " " << r.str;
    EXPECT_EQ(r.str, "kept");
    std::tie(ec, r) = exec(*client, slot, {"SET", key, "after"});
    EXPECT_FALSE(ec) << r.str;
    EXPECT_EQ(nodes_.command(promoted, {"GET", key}), "after");

    // The dead master's connection is closed; one per master is left.
    const auto conns = client->connections();
    EXPECT_EQ(conns.size(), 3u);
    EXPECT_EQ(std::count(conns.begin(), conns.end(),
                         node_address{nodes_.node(m).host(), nodes_.node(m).port()}),
              0);
}

}  // namespace
}  // namespace confide::store::redis
