#pragma once
// Where the store's commands go: one Redis or a Redis Cluster, behind one value.

#include "store/redis/cluster.hpp"
#include "store/redis/connection.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::store {

/// One Redis (a pipelined connection) or a Redis Cluster: exactly one of the two is set. The
/// store's commands and scripts name their keys, so on a cluster each goes to the master of its
/// key's slot (routing_key()); on one Redis they go straight to the connection, with nothing
/// added to that path but a test of one pointer.
///
/// Thread safety: immutable; what it points to is safe from any thread.
class db {
public:
    // Implicit on purpose: every store class took a connection before clusters existed, and one
    // Redis stays the common case (tests and confide-admin pass their connection as before).
    db(std::shared_ptr<redis::connection> c) noexcept  // NOLINT(google-explicit-constructor)
        : conn_(std::move(c)) {}
    db(redis::connection& c)  // NOLINT(google-explicit-constructor)
        : conn_(c.shared_from_this()) {}
    db(std::shared_ptr<redis::cluster> c) noexcept  // NOLINT(google-explicit-constructor)
        : cluster_(std::move(c)) {}

    /// The connection to the one Redis, or null on a cluster.
    redis::connection* single() const noexcept { return conn_.get(); }
    /// The cluster, or null on one Redis.
    redis::cluster* cluster() const noexcept { return cluster_.get(); }
    bool is_cluster() const noexcept { return cluster_ != nullptr; }

    /// Runs one command, as connection::async_exec (on a cluster: cluster::async_exec on the
    /// slot of routing_key(args)). For completion handlers that need no coroutine (fire and
    /// forget: typing notices, the audit trail).
    template <class Handler>
    void async_exec(std::vector<std::string> args, Handler&& handler) const {
        if (conn_) {
            conn_->async_exec(std::move(args), std::forward<Handler>(handler));
        } else {
            const auto slot = slot_of(args);
            cluster_->async_exec(slot, std::move(args), std::forward<Handler>(handler));
        }
    }

    /// As async_exec, on the master that owns `slot` whatever the command names (on one Redis:
    /// on it). For commands without a key that must reach a given master (WAIT).
    template <class Handler>
    void async_exec_on(std::uint16_t slot, std::vector<std::string> args, Handler&& handler) const {
        if (conn_) {
            conn_->async_exec(std::move(args), std::forward<Handler>(handler));
        } else {
            cluster_->async_exec(slot, std::move(args), std::forward<Handler>(handler));
        }
    }

    /// The cluster slot a command goes to (see routing_key()).
    static std::uint16_t slot_of(const std::vector<std::string>& args);

private:
    std::shared_ptr<redis::connection> conn_;
    std::shared_ptr<redis::cluster> cluster_;
};

/// The key a command is routed by on a cluster: its first key (XINFO's and XREAD's are not the
/// first argument), or for a shard channel's SPUBLISH the channel. Commands without a key (PING,
/// INFO, CONFIG) go wherever their name hashes: master_slots() (commands.hpp) names every master.
std::string_view routing_key(const std::vector<std::string>& args);

}  // namespace confide::store
