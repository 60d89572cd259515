#include "store/presence_store_redis.hpp"

#include "store/commands.hpp"
#include "store/keys.hpp"
#include "store/scripts.hpp"

namespace confide::store {
namespace {

// Users swept per round; the rest wait for the next round.
constexpr const char* sweep_batch = "100";

// On a cluster the global presence expiry is a step of its own (presence_connect.lua): the
// scripts get the user's hash in its place.
std::vector<std::string> presence_keys(const std::string& user_id, bool cluster) {
    return {keys::user(user_id), keys::connections(user_id),
            cluster ? keys::user(user_id) : keys::presence_expiry(), keys::contacts(user_id)};
}

}  // namespace

redis_presence_store::redis_presence_store(db conn, std::chrono::milliseconds ttl)
    : conn_(std::move(conn)), ttl_(ttl) {}

awaitable<outcome<std::uint32_t>> redis_presence_store::connect(std::string user_id,
                                                                std::string connection_id,
                                                                std::int64_t now_ms) {
    auto k = presence_keys(user_id, conn_.is_cluster());
    auto res = co_await call_script(conn_, scripts::presence_connect(), std::move(k),
                                    cmd(user_id, std::move(connection_id), std::to_string(now_ms),
                                        std::to_string(ttl_.count())));
    if (!res) {
        co_return res.error();
    }
    if (conn_.is_cluster()) {
        auto step = co_await call(conn_, cmd("ZADD", keys::presence_expiry(), "GT",
                                             std::to_string(now_ms + ttl_.count()), user_id));
        if (!step) {
            co_return step.error();
        }
    }
    co_return static_cast<std::uint32_t>(res->integer);
}

awaitable<outcome<void>> redis_presence_store::disconnect(std::string user_id,
                                                          std::string connection_id,
                                                          bool signed_out, std::int64_t now_ms) {
    auto k = presence_keys(user_id, conn_.is_cluster());
    auto res = co_await call_script(
        conn_, scripts::presence_disconnect(), std::move(k),
        cmd(user_id, std::move(connection_id), std::to_string(now_ms), signed_out ? "1" : "0"));
    if (!res) {
        co_return res.error();
    }
    if (signed_out && res->integer == 0) {
        co_return co_await forget_expiry(std::move(user_id));
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> redis_presence_store::confirm_lost(std::string user_id,
                                                            std::int64_t now_ms) {
    auto k = presence_keys(user_id, conn_.is_cluster());
    auto res = co_await call_script(conn_, scripts::presence_confirm_lost(), std::move(k),
                                    cmd(user_id, std::to_string(now_ms)));
    if (!res) {
        co_return res.error();
    }
    if (res->integer == 0) {
        co_return co_await forget_expiry(std::move(user_id));
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> redis_presence_store::forget_expiry(std::string user_id) {
    // On one Redis the script did it. On a cluster a stale entry is harmless (the sweeper's
    // confirm_lost finds no live connection and drops it), so a crash before this step loses
    // nothing.
    if (!conn_.is_cluster()) {
        co_return outcome<void>{};
    }
    auto step = co_await call(conn_, cmd("ZREM", keys::presence_expiry(), user_id));
    if (!step) {
        co_return step.error();
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> redis_presence_store::set_status(std::string user_id,
                                                          routing::presence_state state,
                                                          std::int64_t now_ms) {
    const char* name = state == routing::presence_state::away ? "away" : "online";
    auto res = co_await call_script(conn_, scripts::presence_status(),
                                    cmd(keys::user(user_id), keys::contacts(user_id)),
                                    cmd(user_id, name, std::to_string(now_ms)));
    if (!res) {
        co_return res.error();
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> redis_presence_store::refresh(
    std::vector<std::pair<std::string, std::string>> connections, std::int64_t now_ms) {
    const std::string expiry = std::to_string(now_ms + ttl_.count());
    std::vector<std::vector<std::string>> cmds;
    cmds.reserve(connections.size() * 2);
    for (const auto& [user, conn] : connections) {
        cmds.push_back({"ZADD", keys::connections(user), expiry, conn});
        cmds.push_back({"ZADD", keys::presence_expiry(), "GT", expiry, user});
    }
    auto rows = co_await call_all(conn_, std::move(cmds));
    for (std::size_t i = 0; i < connections.size(); ++i) {
        const auto& r = rows[2 * i];
        if (!r) {
            co_return r.error();
        }
        // 1: the entry had expired and was added back (the node was too slow to refresh, or a
        // sweep ran): register the connection again so the user shows as online.
        if (r->integer == 1) {
            auto again = co_await connect(connections[i].first, connections[i].second, now_ms);
            if (!again) {
                co_return again.error();
            }
        }
    }
    co_return outcome<void>{};
}

awaitable<outcome<void>> redis_presence_store::sweep(std::int64_t now_ms) {
    auto due = co_await call(conn_, cmd("ZRANGEBYSCORE", keys::presence_expiry(), "-inf",
                                        std::to_string(now_ms), "LIMIT", "0", sweep_batch));
    if (!due) {
        co_return due.error();
    }
    for (const auto& u : due->elements) {
        auto r = co_await confirm_lost(u.str, now_ms);
        if (!r) {
            co_return r.error();
        }
    }
    co_return outcome<void>{};
}

}  // namespace confide::store
