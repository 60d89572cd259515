#pragma once
// Thin helpers over one Redis or a Redis Cluster (store::db) for the store's coroutines: Redis
// trouble becomes errc::unavailable (retryable, outcome unknown), script replies become outcomes.

#include "common/error.hpp"
#include "store/db.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/script.hpp"

#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace confide::store {

using redis::reply;

/// A command's arguments. (g++ 12 rejects a braced list inside a co_await expression: building
/// the vector in a call avoids it.)
template <class... Args>
std::vector<std::string> cmd(Args&&... args) {
    std::vector<std::string> v;
    v.reserve(sizeof...(Args));
    (v.emplace_back(std::forward<Args>(args)), ...);
    return v;
}

/// Several commands, for call_all.
template <class... Commands>
std::vector<std::vector<std::string>> cmds(Commands&&... commands) {
    std::vector<std::vector<std::string>> v;
    v.reserve(sizeof...(Commands));
    (v.push_back(std::forward<Commands>(commands)), ...);
    return v;
}

/// Runs one command (on a cluster: on the master of routing_key(args)). Errors (not connected,
/// timeout, dropped, error reply) -> unavailable.
awaitable<outcome<reply>> call(const db& d, std::vector<std::string> args);

/// Runs a script. Its reply must be an array starting with a status string: {'err', CODE, msg}
/// becomes the failure CODE; anything else is returned as is.
awaitable<outcome<reply>> call_script(const db& d, const redis::script& s,
                                      std::vector<std::string> keys, std::vector<std::string> args);

/// A script's reply as call_script() answers it: {'err', CODE, msg} becomes the failure CODE;
/// anything else is returned as is. (One reply of a batch of sends, too.)
outcome<reply> script_reply(reply r);

/// The status string at the head of a script's reply ("ok", "dup", "retry"), or empty.
std::string_view script_status(const reply& r) noexcept;

/// Runs every command at once (pipelined; on a cluster each on its slot's master) and completes
/// when all have replied, with one outcome per command, in order.
awaitable<std::vector<outcome<reply>>> call_all(const db& d,
                                                std::vector<std::vector<std::string>> commands);

/// As call_all, but hands back Redis's own outcome of each command, unlogged: for commands whose
/// error reply is an expected answer (XINFO on a stream that does not exist yet).
awaitable<std::vector<std::tuple<boost::system::error_code, reply>>> exec_all(
    const db& d, std::vector<std::vector<std::string>> commands);

/// WAIT `replicas` `timeout` on the master of each of `slots` (each master once; on one Redis: on
/// its connection), all at once. WAIT counts the replicas that confirmed every write sent before
/// it on the same connection, so it must go out after the writes to confirm, on this db (the
/// same connections). Returns the fewest replicas a master confirmed within the timeout.
/// `timeout` must be below the connection's command deadline.
awaitable<outcome<std::int64_t>> wait_for_replicas(const db& d, std::vector<std::uint16_t> slots,
                                                   unsigned replicas,
                                                   std::chrono::milliseconds timeout);

/// As call, on the master that owns `slot` (on one Redis: on it).
awaitable<outcome<reply>> call_on(const db& d, std::uint16_t slot, std::vector<std::string> args);

/// One slot served by each master of the cluster (to run a command on every master: CONFIG GET,
/// INFO); empty on one Redis or before the cluster has its first slot map.
std::vector<std::uint16_t> master_slots(const db& d);

/// The slots whose masters a walk over every key (SCAN) must visit, one per master: {0} on one
/// Redis; master_slots() on a cluster (empty before its first slot map).
std::vector<std::uint16_t> scan_slots(const db& d);

/// One page of a SCAN: the cursor to go on with ("0" once every key was visited) and its keys.
struct scan_page {
    std::string cursor;
    std::vector<std::string> keys;
};

/// SCAN from `cursor` for keys matching `pattern`, of `type` when not empty, `count` a hint of
/// how many per page. For admin commands and start-up checks, never on a message's path. On a
/// Redis Cluster SCAN visits the keys of one master: the one that owns `slot` (master_slots()).
awaitable<outcome<scan_page>> scan(db conn, std::string cursor, std::string pattern,
                                   std::string_view type = {}, std::uint32_t count = 1000,
                                   std::uint16_t slot = 0);

/// The strings of an array reply from element `from` on (a hash's HGETALL, a stream entry's
/// fields), as views into `r`; empty for anything but an array.
std::vector<std::string_view> flat_strings(const reply& r, std::size_t from = 0);

/// The failure for a Redis error: unavailable, and the reason for the logs.
failure storage_failure(const boost::system::error_code& ec, const reply& r);

}  // namespace confide::store
