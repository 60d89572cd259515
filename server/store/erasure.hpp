#pragma once
// Erasure (docs/privacy.md, "Erasure"): what `confide-admin erase` does. A conversation is erased
// by destroying its data key (crypto-shredding: its sealed records, wherever a copy of them
// lies, can no longer be opened) and deleting its records; a user by erasing each of their
// conversations and deleting every key of theirs. Then Redis rewrites its files so that no old
// copy of a data key stays on disk.

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "store/db.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace confide::store {

/// What an erasure did.
struct erasure_report {
    std::vector<std::string> conversations;  ///< erased (their other parties see them as erased)
    std::uint64_t user_keys = 0;             ///< keys of the user deleted (erase_user)
    std::uint64_t connections_left = 0;      ///< live connections still registered at the end
};

/// Erases conversation `conversation_id` for both parties: its data key, log, dedupe records,
/// topic and preferred times are deleted; a tombstone (parties, state "erased", times) stays and
/// each party gets a conversation event with that state. not_found when there is no such
/// conversation. Erasing again is harmless.
awaitable<outcome<erasure_report>> erase_conversation(db conn, std::string conversation_id);

/// Erases user `user_id`: closes their connections (a pub/sub notice every node listens to),
/// erases every conversation of theirs (the other party gets the "erased" event), deletes every
/// key of theirs (main hash, profile and directory entry, event stream, indexes, devices and
/// cursors, inquiry records, presence) and their id from their contacts' sets. Waits up to
/// `close_wait` for their connections to unregister before deleting their keys. not_found when
/// nothing of the user is stored.
awaitable<outcome<erasure_report>> erase_user(db conn, std::string user_id,
                                              std::chrono::milliseconds close_wait);

/// Has Redis rewrite its append-only file (BGREWRITEAOF) and then write a new RDB snapshot
/// (BGSAVE), waiting for each to finish (at most `timeout` in all), so that no copy of an
/// erased data key stays in its files. Fails (unavailable, with the reason) when a rewrite fails
/// or does not finish in time.
awaitable<outcome<void>> rewrite_redis_files(db conn, std::chrono::milliseconds timeout);

}  // namespace confide::store
