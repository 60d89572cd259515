#pragma once

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "store/db.hpp"
#include "store/redis/config.hpp"
#include "store/sealing.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confide::store {

/// What Redis does with what we ack, read from CONFIG GET and INFO at start-up.
struct persistence_report {
    std::string version;           ///< redis_version
    std::string appendonly;        ///< "yes" / "no"
    std::string appendfsync;       ///< "always" / "everysec" / "no"
    std::string maxmemory_policy;  ///< "noeviction", "allkeys-lru", ...
    /// connected_slaves: its replicas connected now (on a cluster, the fewest of any master).
    std::int64_t replicas = 0;
    /// Empty when acked messages are kept; otherwise why they could silently vanish.
    std::string problem;
    /// A weaker guarantee worth a warning (appendfsync no), or empty.
    std::string warning;
};

/// Reads the settings and judges them: Redis 7 or newer, `appendonly yes` and a non-evicting
/// `maxmemory-policy` are required for "sent" to mean "kept". Fails with unavailable when the
/// settings cannot be read; the message says why: Redis did not answer (and how: not connected,
/// timeout, ...), or refused a command (renamed, or forbidden by an ACL: its reply is quoted).
/// On a cluster, every master is checked: the first one with a problem names it.
awaitable<outcome<persistence_report>> check_persistence(db conn);

/// check_persistence() of one Redis, or of the master that owns `slot` on a cluster.
awaitable<outcome<persistence_report>> check_persistence_of(db conn,
                                                            std::optional<std::uint16_t> slot);

/// Why no connection to the Redis of `cfg` becomes ready, found out afresh with a connection of
/// its own (Asio, not hiredis): "cannot connect: Connection refused" (or the resolver's or the
/// unix socket's error); or, once connected, the first error reply to AUTH (when a password is
/// set) and PING ("-WRONGPASS ...", "-NOAUTH ...", "-LOADING ..."); or "no answer within N ms".
/// Empty when Redis answers PING. Bounded by cfg.connect_timeout + cfg.command_timeout.
awaitable<std::string> diagnose_connection(redis::config cfg);

}  // namespace confide::store

namespace confide::store {

/// What start-up found of the key layout (docs/design.md, "Key layout").
struct layout_report {
    /// The version now recorded in Redis (keys::layout_version after a first start on a Redis
    /// without Confide data), or empty if none.
    std::string version;
    /// Whether this start recorded it (a Redis without Confide data).
    bool recorded = false;
    /// Empty when this server can use the data; otherwise why not (data of another layout
    /// version, or Confide data from before layout versions).
    std::string problem;
};

/// Reads `cf:layout` (a global key: on a cluster, in its own slot; every master is scanned). A
/// Redis without it and without any `cf:*` key gets it (SET NX: nodes starting together agree);
/// with it at another version, or without it but with `cf:*` keys (the data of a server before
/// layout versions, layout 1), the report names the problem. Fails with unavailable when Redis
/// cannot be asked.
awaitable<outcome<layout_report>> check_layout(db conn, std::string_view expected);

/// Whether the keys of `s` are those the data was sealed with: `cf:keys` records, per
/// key-encryption key id and for the fingerprint key, an HMAC under that key of a fixed text.
/// A key whose id is recorded with another value, or a key file holding none of the recorded
/// ids, is named in the returned problem (prefixed with `source`, the key file); empty when
/// the keys fit (the ones not recorded yet are recorded). Nothing to check in plaintext
/// storage. Fails with unavailable when Redis cannot be asked.
awaitable<outcome<std::string>> check_keys(db conn, const sealer& s, std::string source);

}  // namespace confide::store
