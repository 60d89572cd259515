#pragma once

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "store/redis/connection.hpp"

#include <string>

namespace confide::store {

/// What Redis does with what we ack, read from CONFIG GET and INFO at start-up.
struct persistence_report {
    std::string version;           ///< redis_version
    std::string appendonly;        ///< "yes" / "no"
    std::string appendfsync;       ///< "always" / "everysec" / "no"
    std::string maxmemory_policy;  ///< "noeviction", "allkeys-lru", ...
    /// Empty when acked messages are kept; otherwise why they could silently vanish.
    std::string problem;
    /// A weaker guarantee worth a warning (appendfsync no), or empty.
    std::string warning;
};

/// Reads the settings and judges them: Redis 7 or newer, `appendonly yes` and a non-evicting
/// `maxmemory-policy` are required for "sent" to mean "kept". Fails with unavailable when the
/// settings cannot be read (Redis down, CONFIG disabled).
awaitable<outcome<persistence_report>> check_persistence(redis::connection& conn);

}  // namespace confide::store
