#include "support/redis_cluster.hpp"

#include "support/process.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace confide::test {
namespace {

using namespace std::chrono_literals;
std::string text(const redisReply& r) {
    return std::string(r.str != nullptr ? r.str : "", r.len);
}

void expect_ok(const std::string& reply, const std::string& what) {
    if (reply != "OK") {
        throw std::runtime_error(what + ": " + reply);
    }
}

// Polls `ready` every 20 ms (a cluster settles in a few hundred) until it returns true or
// `timeout` passes; then throws with the last reason it gave.
template <class Pred>
void poll_until(Pred ready, std::chrono::milliseconds timeout, const std::string& what) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    std::string why;
    while (!ready(why)) {
        if (std::chrono::steady_clock::now() >= until) {
            throw std::runtime_error(what + " within " + std::to_string(timeout.count()) +
                                     " ms: " + why);
        }
        std::this_thread::sleep_for(20ms);
    }
}

}  // namespace

redis_cluster::redis_cluster(redis_cluster_options opts) : opts_(opts) {
    const std::size_t n = opts_.masters * (1 + opts_.replicas_per_master);
    std::vector<std::string> create = {"--cluster", "create"};
    for (std::size_t i = 0; i < n; ++i) {
        redis_server_options o;
        o.cluster_bus = true;
        o.extra_args = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", std::to_string(opts_.node_timeout.count()),
                        // A replica takes over whatever its replication offset: the tests kill
                        // masters on purpose.
                        "--cluster-replica-validity-factor", "0",
                        // A replica's first sync starts at once, not after the default 5 s.
                        "--repl-diskless-sync-delay", "0"};
        nodes_.push_back(std::make_unique<redis_server>(std::move(o)));
        create.push_back(address(i));
    }
    create.insert(create.end(), {"--cluster-yes", "--cluster-replicas",
                                 std::to_string(opts_.replicas_per_master)});
    child_process cli("redis-cli", create, child_process::options{.name = "redis-cli", .env = {}});
    const auto status = cli.wait_exit(opts_.settle_timeout);
    if (status != 0) {
        throw std::runtime_error("redis-cli --cluster create failed (status " +
                                 (status ? std::to_string(*status) : std::string("none")) + ")");
    }
    for (std::size_t i = 0; i < n; ++i) {
        ids_.push_back(command(i, {"CLUSTER", "MYID"}));
    }
    wait_until_stable();
}

redis_cluster::~redis_cluster() = default;

std::string redis_cluster::address(std::size_t i) const {
    return node(i).host() + ":" + std::to_string(node(i).port());
}

std::string redis_cluster::node_id(std::size_t i) const {
    return ids_.at(i);
}

std::string redis_cluster::command(std::size_t i, const std::vector<std::string>& args) const {
    return node(i).command(args);
}

std::vector<redis_cluster::slot_owner> redis_cluster::slots_seen_by(std::size_t i) const {
    const auto r = node(i).query({"CLUSTER", "SLOTS"});
    std::vector<slot_owner> out;
    if (r->type != REDIS_REPLY_ARRAY) {
        return out;
    }
    for (std::size_t k = 0; k < r->elements; ++k) {
        const auto& range = *r->element[k];
        if (range.type != REDIS_REPLY_ARRAY || range.elements < 3 ||
            range.element[2]->type != REDIS_REPLY_ARRAY || range.element[2]->elements < 2) {
            continue;
        }
        out.push_back({static_cast<std::uint16_t>(range.element[0]->integer),
                       static_cast<std::uint16_t>(range.element[1]->integer),
                       static_cast<std::uint16_t>(range.element[2]->element[1]->integer)});
    }
    std::sort(out.begin(), out.end(),
              [](const slot_owner& a, const slot_owner& b) { return a.first < b.first; });
    return out;
}

std::size_t redis_cluster::index_of_port(std::uint16_t port) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->port() == port) {
            return i;
        }
    }
    throw std::runtime_error("no node listens on port " + std::to_string(port));
}

std::size_t redis_cluster::owner(std::uint16_t slot) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i]->running()) {
            continue;
        }
        for (const auto& s : slots_seen_by(i)) {
            if (s.first <= slot && slot <= s.last) {
                return index_of_port(s.port);
            }
        }
        break;
    }
    throw std::runtime_error("nobody serves slot " + std::to_string(slot));
}

std::size_t redis_cluster::owner_of(const std::string& key) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->running()) {
            return owner(
                static_cast<std::uint16_t>(std::stoi(command(i, {"CLUSTER", "KEYSLOT", key}))));
        }
    }
    throw std::runtime_error("no node of the cluster runs");
}

std::vector<std::size_t> redis_cluster::masters() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i]->running()) {
            continue;
        }
        for (const auto& s : slots_seen_by(i)) {
            const auto m = index_of_port(s.port);
            if (std::find(out.begin(), out.end(), m) == out.end()) {
                out.push_back(m);
            }
        }
        break;
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<std::size_t> redis_cluster::replica_of(std::size_t i) const {
    for (std::size_t j = 0; j < nodes_.size(); ++j) {
        if (j == i || !nodes_[j]->running()) {
            continue;
        }
        const auto role = node(j).query({"ROLE"});
        if (role->type == REDIS_REPLY_ARRAY && role->elements >= 3 &&
            text(*role->element[0]) == "slave" && role->element[2]->integer == node(i).port()) {
            return j;
        }
    }
    return std::nullopt;
}

std::uint16_t redis_cluster::slot_of(std::size_t i) const {
    for (std::size_t j = 0; j < nodes_.size(); ++j) {
        if (!nodes_[j]->running()) {
            continue;
        }
        for (const auto& s : slots_seen_by(j)) {
            if (s.port == node(i).port()) {
                return s.first;
            }
        }
        break;
    }
    throw std::runtime_error("node " + std::to_string(i) + " serves no slot");
}

bool redis_cluster::stable(std::string& why) const {
    try {
        std::optional<std::vector<slot_owner>> reference;
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (!nodes_[i]->running()) {
                continue;
            }
            const auto info = command(i, {"CLUSTER", "INFO"});
            if (info.find("cluster_state:ok") == std::string::npos) {
                why = address(i) + " says the cluster is not ok";
                return false;
            }
            auto seen = slots_seen_by(i);
            std::size_t covered = 0;
            for (const auto& s : seen) {
                covered += static_cast<std::size_t>(s.last - s.first) + 1;
                if (!nodes_[index_of_port(s.port)]->running()) {
                    why = address(i) + " still has slots on a stopped node";
                    return false;
                }
            }
            if (covered != 16384) {
                why = address(i) + " sees " + std::to_string(covered) + " slots served";
                return false;
            }
            if (!reference) {
                reference = std::move(seen);
            } else if (seen != *reference) {
                why = address(i) + " does not agree about the slots yet";
                return false;
            }
            const auto role = node(i).query({"ROLE"});
            if (role->type == REDIS_REPLY_ARRAY && role->elements >= 4 &&
                text(*role->element[0]) == "slave" && text(*role->element[3]) != "connected") {
                why = address(i) + " (a replica) is not in sync with its master";
                return false;
            }
        }
        return true;
    } catch (const std::exception& e) {
        why = e.what();
        return false;
    }
}

void redis_cluster::wait_until_stable() const {
    poll_until([this](std::string& why) { return stable(why); }, opts_.settle_timeout,
               "the cluster did not settle");
}

void redis_cluster::begin_migration(std::uint16_t slot, std::size_t to) {
    const auto from = owner(slot);
    const auto s = std::to_string(slot);
    expect_ok(command(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", node_id(from)}), "IMPORTING");
    expect_ok(command(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", node_id(to)}), "MIGRATING");
}

void redis_cluster::migrate_key(const std::string& key, std::size_t to) {
    const auto from = owner_of(key);
    const auto r = command(from, {"MIGRATE", node(to).host(), std::to_string(node(to).port()), "",
                                  "0", "5000", "KEYS", key});
    if (r != "OK" && r != "NOKEY") {
        throw std::runtime_error("MIGRATE " + key + ": " + r);
    }
}

void redis_cluster::finish_migration(std::uint16_t slot, std::size_t to) {
    const auto from = owner(slot);
    const auto s = std::to_string(slot);
    for (;;) {
        const auto keys = node(from).query({"CLUSTER", "GETKEYSINSLOT", s, "100"});
        if (keys->type != REDIS_REPLY_ARRAY || keys->elements == 0) {
            break;
        }
        std::vector<std::string> migrate = {
            "MIGRATE", node(to).host(), std::to_string(node(to).port()), "", "0", "5000", "KEYS"};
        for (std::size_t k = 0; k < keys->elements; ++k) {
            migrate.push_back(text(*keys->element[k]));
        }
        const auto r = command(from, migrate);
        if (r != "OK") {
            throw std::runtime_error("MIGRATE: " + r);
        }
    }
    // The target first: the source then redirects to a node that serves the slot.
    expect_ok(command(to, {"CLUSTER", "SETSLOT", s, "NODE", node_id(to)}), "SETSLOT NODE");
    expect_ok(command(from, {"CLUSTER", "SETSLOT", s, "NODE", node_id(to)}), "SETSLOT NODE");
    for (const auto m : masters()) {
        if (m != to && m != from) {
            expect_ok(command(m, {"CLUSTER", "SETSLOT", s, "NODE", node_id(to)}), "SETSLOT NODE");
        }
    }
    wait_until_stable();
}

void redis_cluster::migrate_slot(std::uint16_t slot, std::size_t to) {
    begin_migration(slot, to);
    finish_migration(slot, to);
}

std::size_t redis_cluster::fail_over(std::size_t i) {
    const auto slot = slot_of(i);
    if (!replica_of(i)) {
        throw std::runtime_error("node " + std::to_string(i) + " has no replica to fail over to");
    }
    node(i).kill();
    wait_until_stable();
    return owner(slot);
}

}  // namespace confide::test
