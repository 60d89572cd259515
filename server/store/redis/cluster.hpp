#pragma once

#include "common/asio_types.hpp"
#include "store/redis/cluster_topology.hpp"
#include "store/redis/completion.hpp"
#include "store/redis/config.hpp"
#include "store/redis/errc.hpp"
#include "store/redis/reply.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::store::redis {

/// Where and how to reach a Redis Cluster.
struct cluster_config {
    /// Nodes to ask for the slot map at start (any node of the cluster will do; more than one in
    /// case some are down). Later maps come from the masters themselves.
    std::vector<node_address> seeds;
    /// The settings of every connection to a node (password, deadlines, backoff); its host,
    /// port and unix_socket are ignored. command_timeout is also each command's deadline for
    /// the automatic retries below.
    config node;
    /// MOVED and ASK redirections followed for one command before it fails with the last one.
    unsigned max_redirects = 5;
    /// The pause before a command that surely did not run is sent again (TRYAGAIN, CLUSTERDOWN,
    /// no connection to the owner of its slot): doubles from min to max, jittered.
    std::chrono::milliseconds retry_min{10};
    std::chrono::milliseconds retry_max{200};
    /// Refreshes of the slot map (CLUSTER SLOTS) are at least this far apart.
    std::chrono::milliseconds refresh_min_interval{100};
    /// A refresh this long after the last one even when nothing asked for it. Zero: never.
    std::chrono::milliseconds refresh_interval{10000};
};

/// A Redis Cluster client over hiredis: one pipelined `connection` per master, and every command
/// run on the master that owns its slot (hiredis 0.14 has no cluster support).
///
/// The slot map comes from `CLUSTER SLOTS`, asked at start, after a MOVED, after a command found
/// its master unreachable (not connected, disconnected, timed out) and every
/// cluster_config::refresh_interval; connections to nodes that are no longer masters are closed
/// once their commands have completed. A command is sent again automatically only when it surely
/// did not run: after MOVED (to the new owner), ASK (ASKING and the command to the target, back
/// to back), TRYAGAIN and CLUSTERDOWN (after a pause), or while the owner of its slot is unknown
/// or not connected (until the command's deadline, command_timeout after async_exec). A timeout
/// or a dropped connection is an unknown outcome, reported as on one connection.
///
/// Lifetime: stop() ends it; destroying the last reference also stops it. Pending operations do
/// not keep it alive.
///
/// Thread safety: every public member may be called from any thread.
class cluster : public std::enable_shared_from_this<cluster> {
public:
    /// `ex` is any executor; the cluster makes its own strand on it (each connection too).
    static std::shared_ptr<cluster> create(executor ex, cluster_config cfg);
    ~cluster();  // NOLINT(bugprone-exception-escape): see cluster.cpp

    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;

    /// Connects to the seeds and asks for the slot map. No effect after stop().
    void start();

    /// Fails pending and future commands with errc::stopped and closes every connection.
    void stop();

    const cluster_config& settings() const noexcept { return cfg_; }

    /// Runs one command on the master that owns `slot` (see key_slot()). `args` as for
    /// connection::async_exec; every key it names must be in `slot` (else Redis answers
    /// CROSSSLOT).
    ///
    /// Completion signature: void(error_code, reply), as connection::async_exec: errc::timeout
    /// and errc::disconnected when the command may have run (the caller retries idempotently),
    /// errc::server_error with the reply for an error reply (also a MOVED or ASK beyond
    /// cluster_config::max_redirects, or TRYAGAIN/CLUSTERDOWN still answered at the deadline),
    /// errc::not_connected when no connection to the slot's owner was up before the deadline,
    /// errc::stopped after stop(). The completion runs on the handler's associated executor (by
    /// default the cluster's strand), never inline in this call. Not cancellable: it completes
    /// by its deadline, or by the deadline of the attempt then in flight, at the latest.
    template <class CompletionToken>
    auto async_exec(std::uint16_t slot, std::vector<std::string> args, CompletionToken&& token) {
        return detail::async_submit<boost::system::error_code, reply>(
            token, executor_,
            [self = shared_from_this(), slot](
                detail::completion_ptr<boost::system::error_code, reply> op,
                std::vector<std::string> argv) {
                self->submit(slot, std::move(argv), std::move(op));
            },
            std::move(args));
    }

    /// As above, on the slot of `routing_key` (a key, or a shard channel, of the command).
    template <class CompletionToken>
    auto async_exec(std::string_view routing_key, std::vector<std::string> args,
                    CompletionToken&& token) {
        return async_exec(key_slot(routing_key), std::move(args),
                          std::forward<CompletionToken>(token));
    }

    /// The current slot map (null until the first one arrives). Immutable: a new map replaces
    /// it.
    std::shared_ptr<const slot_map> topology() const;

    /// The nodes this client has a connection to (up or reconnecting): the masters of the
    /// current map, and for a moment nodes it needed otherwise (seeds, the target of an ASK, a
    /// former master finishing its commands).
    std::vector<node_address> connections() const;

    /// Asks for a refresh of the slot map (soon, within cluster_config::refresh_min_interval).
    void refresh();

    /// `listener` runs on the cluster's strand after every change of the slot map; it must
    /// return quickly (post anything longer). It may run after the listener's owner is gone:
    /// capture a weak reference.
    void on_topology_change(std::function<void()> listener);

private:
    struct impl;
    cluster(executor ex, cluster_config cfg);
    void submit(std::uint16_t slot, std::vector<std::string> args,
                detail::completion_ptr<boost::system::error_code, reply> op);

    cluster_config cfg_;
    executor executor_;  ///< the cluster's strand
    std::unique_ptr<impl> impl_;
};

}  // namespace confide::store::redis
