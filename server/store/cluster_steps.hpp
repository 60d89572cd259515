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
#include <vector>

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
/// A stream without an event of the conversation yet gets it first (append_conversation_event
/// with the conversation as it is now): `is_client` and `other` say who `user` is in it.
awaitable<outcome<std::string>> append_message(db d, std::string user, bool is_client,
                                               std::string other, std::string cid,
                                               std::uint64_t seq, std::string log_id,
                                               std::string notice_prefix, std::size_t maxlen);

/// The conversation event's fields of `cid` as it is now (k c c <id> ..., last; no delivered
/// marks), read on its slot (conversation_state.lua 'peek'). Forbidden if its parties are not
/// `client` and `specialist`.
awaitable<outcome<std::vector<std::string>>> conversation_snapshot(db d, std::string cid,
                                                                   std::string client,
                                                                   std::string specialist);

/// The user step of a conversation event (its creation or a state change) for `user` (the
/// client when `is_client`, else the specialist), `other` the other party: the user's indexes
/// (conversation list, contacts, open conversations or inquiries) and the event appended to
/// their stream with its wake-up, unless an event of this state or a later one is there already
/// (user_conversation.lua). `fields` are the event's fields (k c c <id> ...), naming its state.
/// Fails with unavailable on Redis trouble.
awaitable<outcome<void>> append_conversation_event(db d, std::string user, bool is_client,
                                                   std::string other, std::string cid,
                                                   std::int64_t now_ms,
                                                   std::vector<std::string> fields,
                                                   std::size_t maxlen);

/// A change of a conversation's state on a Redis Cluster.
struct state_change {
    std::string conversation_id;
    std::string actor;   ///< the authenticated user; empty for the sweeper's expiry
    std::string action;  ///< accept, decline, close, expire
    std::string client;
    std::string specialist;
    std::string reason;  ///< decline reason, or empty
    std::int64_t now_ms = 0;
    std::size_t maxlen = 0;  ///< of user streams
    const char* fault = "";  ///< fault points "<fault>:conversation", ":client", ":specialist"
};

/// The steps of a state change (update.lua or expire.lua on one Redis): the conversation's
/// (conversation_state.lua), each party's (append_conversation_event, with both parties'
/// delivered marks), then the schedule's (the inquiry's expiry and, for a conversation that
/// ended, its reminders). A state that already holds runs the user and schedule steps again
/// (the repair of a change a crash stopped). Returns the conversation step's reply:
/// {'ok', changed, state before, the event's fields...}, or {'gone'} / {'early'} for an expiry
/// with nothing (yet) to do, after which nothing else ran. The fields end with both parties'
/// delivered marks, as update.lua's reply.
awaitable<outcome<redis::reply>> change_state(db d, state_change c);

/// The event ids append_message() answered for the two parties of a message.
struct party_events {
    std::string client;
    std::string specialist;
};

/// append_message() for both parties of a message at once: the two steps are independent (each
/// in its user's slot, usually on two masters), so a send waits for one round trip instead of
/// two. Fails when either fails (the other may have run: the retry repairs it as any step cut
/// short). Fault points: "send:client" and "send:specialist" as that party's step completes
/// (the other's then may or may not have run), "send:users" once both have.
awaitable<outcome<party_events>> append_to_both(db d, std::string client, std::string specialist,
                                                std::string cid, std::uint64_t seq,
                                                std::string log_id, std::string notice_prefix,
                                                std::size_t maxlen);

/// Exits the process at once (std::_Exit) when the fault point `name` is armed: the environment
/// variable CONFIDE_TEST_EXIT_AT names it. Only in builds with CONFIDE_FAULT_POINTS (test
/// builds: the kill-between-steps tests); a no-op otherwise.
void fault_point(const char* name) noexcept;

}  // namespace confide::store::cluster_steps
