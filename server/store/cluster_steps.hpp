#pragma once
// The per-slot steps of a write on a Redis Cluster (docs/design.md, "Redis Cluster"): what one
// script does atomically on one Redis becomes a conversation step, then user steps, then the
// global schedule's step, each in one slot and each idempotent, so that the sender's retry
// repairs whatever a crash between them left undone.

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "store/db.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace confide::store::cluster_steps {

/// The user step of message `seq` (log id `log_id`) of conversation `cid` for `user`: its
/// pointer appended to the user's stream with its wake-up, unless already there
/// (user_events.lua). When earlier messages of the conversation are missing from the user's
/// stream (their sends stopped between steps), they are read from the log and appended first,
/// in order. `notice_prefix` is the message's notice but its ids (message_notice_prefix()); empty:
/// built from the log entry (a retry, which no longer has the body as stored).
///
/// Returns the message's event id in the user's stream ("0-<n>"), or empty when its pointer was
/// appended by another call (a concurrent send's repair): the sender then gets no cursor and
/// the event is pushed as usual. Fails with unavailable on Redis trouble (the outcome is unknown:
/// the caller does not ack, and the retry runs the step again).
awaitable<outcome<std::string>> append_message(db d, std::string user, std::string cid,
                                               std::uint64_t seq, std::string log_id,
                                               std::string notice_prefix, std::size_t maxlen);

/// Exits the process at once (std::_Exit) when the fault point `name` is armed: the environment
/// variable CONFIDE_TEST_EXIT_AT names it. Only in builds with CONFIDE_FAULT_POINTS (test
/// builds: the kill-between-steps tests); a no-op otherwise.
void fault_point(const char* name) noexcept;

}  // namespace confide::store::cluster_steps
