#pragma once
// The pure parts of the Redis Cluster client: key slots, redirections, the slot map. No I/O.

#include "store/redis/reply.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confide::store::redis {

/// The number of hash slots of a Redis Cluster.
inline constexpr std::uint16_t slot_count = 16384;

/// The hash slot of `key` as Redis Cluster computes it: CRC16 (XMODEM) of the hash tag (the
/// text between the first `{` and the first `}` after it, when not empty) or else of the whole
/// key, modulo 16384. Equals `CLUSTER KEYSLOT key`. Also the slot of a shard channel (SPUBLISH,
/// SSUBSCRIBE).
/// Thread safety: pure.
std::uint16_t key_slot(std::string_view key) noexcept;

/// A node's address, as Redis Cluster reports it (an IP and a port).
struct node_address {
    std::string host;
    std::uint16_t port = 0;

    /// "host:port"
    std::string to_string() const;
    friend bool operator==(const node_address&, const node_address&) = default;
};

/// Parses "host:port" (the host may be empty: Redis 7 sends ":port" when a node's endpoint is
/// unknown, meaning "the node you asked"). nullopt when malformed.
/// Thread safety: pure.
std::optional<node_address> parse_node_address(std::string_view host_port);

/// A MOVED or ASK error reply: the slot is served by `target` (MOVED: from now on; ASK: for this
/// one command, which must be preceded by ASKING).
struct redirect {
    enum class kind { moved, ask };
    kind type = kind::moved;
    std::uint16_t slot = 0;
    node_address target;
};

/// Parses an error reply's text, "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381". An
/// empty host is replaced by `asked_host`, the host of the node that answered. nullopt for any
/// other error.
/// Thread safety: pure.
std::optional<redirect> parse_redirect(std::string_view error, std::string_view asked_host);

/// Whether an error reply says the command was not run and may be sent again as it is, after a
/// pause: TRYAGAIN (a multi-key command during a slot migration) or CLUSTERDOWN.
/// Thread safety: pure.
bool is_retryable_cluster_error(std::string_view error) noexcept;

/// Which master serves each slot, from `CLUSTER SLOTS`.
struct slot_map {
    static constexpr std::uint16_t no_owner = 0xffff;

    std::vector<node_address> masters;   ///< each once
    std::vector<node_address> replicas;  ///< each once (sources of a refresh, when masters fail)
    std::array<std::uint16_t, slot_count> owner;  ///< index into `masters`, or no_owner

    slot_map() { owner.fill(no_owner); }

    /// The master serving `slot`, or null.
    const node_address* owner_of(std::uint16_t slot) const noexcept {
        const auto i = owner[slot];
        return i == no_owner ? nullptr : &masters[i];
    }

    /// The index of `address` in `masters`, added when missing.
    std::uint16_t add_master(const node_address& address);
};

/// Parses the reply to `CLUSTER SLOTS` (arrays of [first slot, last slot, master, replicas...],
/// each node as [ip, port, id, ...]). An empty ip stands for `asked_host`; nodes whose address is
/// unknown ("?") are left out. nullopt when the reply does not have that shape.
/// Thread safety: pure.
std::optional<slot_map> parse_cluster_slots(const reply& r, std::string_view asked_host);

}  // namespace confide::store::redis
