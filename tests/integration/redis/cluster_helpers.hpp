#pragma once
// Shared by the Redis Cluster tests: one cluster (3 masters, each with a replica) for the whole
// executable, a client configured for tests, keys and channels in chosen slots, and counters
// read from the nodes.

#include "helpers.hpp"
#include "store/redis/cluster.hpp"
#include "support/redis_cluster.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace confide::store::redis::test_helpers {

/// The cluster of this executable: started by the first call, stopped after the last test.
/// Tests leave it stable (every slot served, every node agreeing) but may have moved slots or
/// failed masters over: they look up owners, never assume them.
test::redis_cluster& shared_cluster();

/// A client of `c` with short delays and no periodic refresh (what a test observes is then
/// caused by what it does).
cluster_config cluster_test_config(const test::redis_cluster& c);

/// Starts a client; returns once it has a slot map.
std::shared_ptr<cluster> start_cluster(executor ex, cluster_config cfg);

/// A hash tag whose keys are in `slot`, e.g. "{t123}".
std::string tag_for_slot(std::uint16_t slot);

/// Runs one command through the client and waits for its result.
result exec(cluster& c, std::uint16_t slot, std::vector<std::string> args);
std::future<result> exec_async(cluster& c, std::uint16_t slot, std::vector<std::string> args);

/// A count from `INFO <section>` of node `i`: the number after `field` (e.g.
/// "errorstat_MOVED:count=", "cmdstat_get:calls="), 0 when absent.
long info_count(const test::redis_cluster& c, std::size_t i, const std::string& section,
                const std::string& field);

}  // namespace confide::store::redis::test_helpers
