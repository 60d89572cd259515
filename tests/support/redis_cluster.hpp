#pragma once
// A real Redis Cluster for integration tests: redis_server nodes with cluster mode on, joined
// with `redis-cli --cluster create`, and the operations tests need (slot migration, failover).

#include "support/redis_server.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confide::test {

struct redis_cluster_options {
    std::size_t masters = 3;
    std::size_t replicas_per_master = 0;
    /// cluster-node-timeout: a master unreachable this long is failed over to its replica.
    std::chrono::milliseconds node_timeout{2000};
    /// The bound of every wait for the cluster to settle (creation, migration, failover).
    std::chrono::milliseconds settle_timeout{30000};
};

/// Starts masters × (1 + replicas_per_master) redis-server processes (each a redis_server: own
/// temporary directory and free loopback port, AOF on) with `--cluster-enabled yes`, joins them
/// with `redis-cli --cluster create ... --cluster-yes [--cluster-replicas N]`, and returns once
/// the cluster is stable (see wait_until_stable()). Throws std::runtime_error when it cannot.
/// The destructor stops every node.
///
/// Node indexes are fixed for the fixture's life; which nodes are masters changes with
/// failovers: ask masters() and owner().
///
/// Thread safety: the queries (owner, masters, node_id, address, command) may be called from any
/// thread; the operations (migrations, kill, fail_over, wait_until_stable) from one thread at a
/// time.
class redis_cluster {
public:
    explicit redis_cluster(redis_cluster_options opts = {});
    ~redis_cluster();

    redis_cluster(const redis_cluster&) = delete;
    redis_cluster& operator=(const redis_cluster&) = delete;

    std::size_t size() const noexcept { return nodes_.size(); }
    redis_server& node(std::size_t i) { return *nodes_.at(i); }
    const redis_server& node(std::size_t i) const { return *nodes_.at(i); }
    /// "127.0.0.1:port" of node `i`.
    std::string address(std::size_t i) const;
    /// Node `i`'s cluster node id.
    std::string node_id(std::size_t i) const;
    /// Runs one command on node `i` (see redis_server::command).
    std::string command(std::size_t i, const std::vector<std::string>& args) const;

    /// The node serving `slot`, as a running node sees it.
    std::size_t owner(std::uint16_t slot) const;
    /// The node serving `key`'s slot (Redis's own CLUSTER KEYSLOT, not the server's code, says
    /// which slot that is).
    std::size_t owner_of(const std::string& key) const;
    /// The running nodes that serve slots, by index.
    std::vector<std::size_t> masters() const;
    /// A running replica of master `i`, if any.
    std::optional<std::size_t> replica_of(std::size_t i) const;
    /// A slot served by master `i` (its first one).
    std::uint16_t slot_of(std::size_t i) const;

    /// Waits until every running node says `cluster_state:ok`, every slot is served, every
    /// running node reports the same master for every slot, and every running replica's link
    /// to its master is up. Polls with a bounded deadline (options::settle_timeout); throws
    /// std::runtime_error after it.
    void wait_until_stable() const;

    /// The first half of a slot migration: `slot` IMPORTING on `to`, MIGRATING on its owner.
    /// Keys of the slot stay on the owner until finish_migration(): a command on a key the owner
    /// no longer has is answered ASK.
    void begin_migration(std::uint16_t slot, std::size_t to);
    /// Moves `key` (of a slot being migrated to `to`) to `to` now (MIGRATE).
    void migrate_key(const std::string& key, std::size_t to);
    /// Moves every remaining key of `slot` to `to`, assigns the slot to `to` on every master
    /// and waits until the cluster is stable.
    void finish_migration(std::uint16_t slot, std::size_t to);
    /// begin_migration() then finish_migration().
    void migrate_slot(std::uint16_t slot, std::size_t to);

    /// SIGKILL master `i` (a crash), wait until one of its replicas serves its slots and the
    /// cluster is stable again; returns the new master's index.
    std::size_t fail_over(std::size_t i);

private:
    struct slot_owner {
        std::uint16_t first;
        std::uint16_t last;
        std::uint16_t port;
        friend bool operator==(const slot_owner&, const slot_owner&) = default;
    };
    std::vector<slot_owner> slots_seen_by(std::size_t i) const;
    std::size_t index_of_port(std::uint16_t port) const;
    bool stable(std::string& why) const;

    redis_cluster_options opts_;
    std::vector<std::unique_ptr<redis_server>> nodes_;
    std::vector<std::string> ids_;
};

}  // namespace confide::test
