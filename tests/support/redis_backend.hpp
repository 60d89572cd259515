#pragma once
// The Redis a suite runs on: one redis-server, or a Redis Cluster of 3 masters. Tests written
// against it run unchanged on both (issue 8: the messaging, offline, two-node and idempotency
// tests on a single Redis and on a cluster, one copy of each).

#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"

#include <memory>
#include <string>
#include <vector>

namespace confide::test {

enum class backend_kind { single, cluster };

/// Starts one redis-server (the defaults of redis_server) or a 3-master redis_cluster without
/// replicas (the defaults of redis_cluster), and does what tests need on either the same way.
/// The destructor stops it.
///
/// Thread safety: as redis_server and redis_cluster (the queries from any thread).
class redis_backend {
public:
    explicit redis_backend(backend_kind kind);
    ~redis_backend();

    redis_backend(const redis_backend&) = delete;
    redis_backend& operator=(const redis_backend&) = delete;

    /// The redis-server, for tests that run on one Redis only; null on a cluster.
    redis_server* single() const noexcept { return single_.get(); }

    /// A confide-server on it (server_process, with `extra_args`), named `name` in the log.
    std::unique_ptr<server_process> start_server(std::vector<std::string> extra_args = {},
                                                 std::string name = "server") const;

    /// Lists `id` in the directory through confide-admin (see list_specialist); throws
    /// std::runtime_error if it is refused.
    void list_specialist(const std::string& id, std::vector<std::string> extra = {}) const;

    /// Runs one command (see redis_server::command) on the Redis that holds `key`: on a cluster,
    /// the master serving its slot.
    std::string on_owner(const std::string& key, const std::vector<std::string>& args) const;

private:
    std::unique_ptr<redis_server> single_;
    std::unique_ptr<redis_cluster> cluster_;
};

}  // namespace confide::test
