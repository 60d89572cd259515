#pragma once
// What the cluster tests share: a conversation written into a Redis Cluster as inquiry.lua and
// update.lua would have left it (they are not split into steps on a cluster yet), and the
// message bodies a device receives.

#include "store/keys.hpp"
#include "store/redis/cluster_topology.hpp"
#include "support/redis_cluster.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace confide::test {

/// Runs one command on the master of `cluster` that owns `key`'s slot.
inline std::string on_owner(const redis_cluster& cluster, const std::string& key,
                            const std::vector<std::string>& args) {
    return cluster.command(cluster.owner(store::redis::key_slot(key)), args);
}

/// Conversation `cid` between `client` and `specialist`, active, with no message yet.
inline void seed_conversation(const redis_cluster& cluster, const std::string& cid,
                              const std::string& client, const std::string& specialist) {
    namespace keys = store::keys;
    const std::string now = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    const auto meta = keys::conversation(cid);
    on_owner(cluster, meta,
             {"HSET",   meta,      "client", client,        "specialist", specialist, "state",
              "active", "free",    "0",      "created",     now,          "updated",  now,
              "read_c", "0",       "read_s", "0",           "unread_c",   "0",        "unread_s",
              "0",      "expires", "0",      "first_reply", now});
    for (const auto& [user, other] : {std::pair{client, specialist}, {specialist, client}}) {
        on_owner(cluster, keys::conversations(user), {"ZADD", keys::conversations(user), now, cid});
        on_owner(cluster, keys::contacts(user), {"SADD", keys::contacts(user), other});
    }
}

/// The bodies of the message events `c` receives, in order, up to and including `last`.
inline std::vector<std::string> bodies_until(ws_client& c, const std::string& last) {
    std::vector<std::string> out;
    while (auto f = c.next(std::chrono::seconds(10))) {
        if (f->has_event() && f->event().has_message()) {
            out.push_back(f->event().message().body());
            if (out.back() == last) {
                return out;
            }
        }
    }
    ADD_FAILURE() << "'" << last << "' never came";
    return out;
}

}  // namespace confide::test
