#pragma once
// What the chat domain needs from storage and from the node-to-node bus. The store layer
// implements these against Redis; unit tests implement them with fakes (tests/support/
// fake_ports.hpp). Values cross as domain types (routing/domain.hpp), never as wire frames.
//
// Every coroutine takes its parameters by value (they outlive the caller's frame), may be called
// from any thread, and reports storage trouble as errc::unavailable (retryable: the outcome may
// be unknown, and every write here is idempotent or safely repeatable).

#include "auth/identity.hpp"
#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "routing/domain.hpp"
#include "routing/notice.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace confide::routing {

// ---------------------------------------------------------------------------------------------
// Notices

/// Receives the notices of the users it subscribed to.
class notice_listener {
public:
    virtual ~notice_listener() = default;
    /// A notice for the user. Any thread; must not block.
    virtual void on_notice(std::shared_ptr<const notice> n) = 0;
    /// Notices may have been lost (the bus reconnected): re-read the stream from storage.
    virtual void on_bus_reset() = 0;
};

/// The node's subscription to live notices. Redis pub/sub only wakes connections up; the stored
/// stream stays the source of truth.
class notice_bus {
public:
    virtual ~notice_bus() = default;

    /// Starts delivering `user_id`'s notices to `listener` and completes once every notice
    /// published from now on is sure to arrive (the subscription is confirmed). The listener is
    /// held weakly. Fails with unavailable when that cannot be confirmed.
    virtual awaitable<outcome<void>> subscribe(std::string user_id,
                                               std::shared_ptr<notice_listener> listener) = 0;

    /// Stops delivering to `listener`. Never fails.
    virtual void unsubscribe(const std::string& user_id, const notice_listener* listener) = 0;

    /// Tells `to_user` that `from_user` is (not) typing in the conversation. Fire and forget:
    /// typing is never stored.
    virtual void publish_typing(std::string to_user, std::string conversation_id,
                                std::string from_user, bool typing) = 0;
};

// ---------------------------------------------------------------------------------------------
// Conversations, messages, streams.

struct send_result {
    std::string conversation_id;
    std::uint64_t seq = 0;
    std::int64_t server_time_ms = 0;
    bool duplicate = false;  ///< a retry: the original's seq and time are returned
    /// The message's event in the sender's own stream (not for a duplicate: empty and 0): its
    /// cursor and its n (gapless per user, as notice::n).
    std::string event_cursor;
    std::uint64_t event_n = 0;
};

/// A message from a client to a specialist that opens a conversation, or continues the open one.
struct inquiry_command {
    std::string client_id;  ///< the authenticated sender
    std::string specialist_id;
    std::string client_msg_id;
    std::string body;
    bool free_consultation = false;
    std::string topic;                        ///< for a new conversation
    std::vector<time_range> preferred_times;  ///< for a new conversation
    std::string new_conversation_id;          ///< used if a new conversation is needed
    std::int64_t now_ms = 0;
    std::int64_t expires_at_ms = 0;  ///< a new conversation expires then unless answered
};

struct send_command {
    std::string sender_id;  ///< the authenticated sender, never a client-supplied field
    std::string conversation_id;
    std::string client_msg_id;
    std::string body;
    std::int64_t now_ms = 0;
};

/// A page of a user's stream of events, oldest first.
struct event_batch {
    std::vector<std::shared_ptr<const notice>> events;
    /// The requested cursor is older than the oldest event still kept (or not a valid position):
    /// the batch starts at the oldest kept event; events may have been missed.
    bool reset = false;
    /// Read with check_gap only: the cursor is after the stream's last event (a cursor the
    /// server never handed out, or storage lost its newest events); the batch is empty.
    bool beyond_end = false;
    /// Read with check_gap only: the position of the stream's last event ("0-0" and 0: none).
    std::string end_cursor;
    std::uint64_t end_n = 0;
    /// Read with check_gap only: the n of the event at the cursor read after (0: before the
    /// first), when the cursor tells it.
    std::optional<std::uint64_t> cursor_n;
    /// Stream entries read, `events` and the ones left out included (a message retention or an
    /// erasure deleted, a record refused): a full batch may have more behind it.
    std::size_t entries_read = 0;
    /// The last entry read (empty and 0 when none): the stream moves past it even when it was
    /// left out, so that a read never starts again before entries nobody can be shown.
    std::string last_cursor;
    std::uint64_t last_n = 0;
};

/// "`user_id`'s device received every message of the conversation up to `seq`", told to `to`,
/// the other party.
struct delivered_mark {
    std::string conversation_id;
    std::uint64_t seq = 0;
    std::string to;
    bool operator==(const delivered_mark&) const = default;
};
using delivered_marks = std::vector<delivered_mark>;

/// What storage knows of a device's place in its user's stream.
struct device_position {
    std::string cursor;             ///< the device's saved cursor; empty for a new device
    bool user_has_devices = false;  ///< whether any device of the user has a saved cursor
};

/// Conversations, messages, the per-user event streams and per-device cursors.
class chat_store {
public:
    virtual ~chat_store() = default;

    /// Checks the token's role against the directory and binds it on first sight. A specialist
    /// must be listed (with the store's "open directory", for development, an unlisted one is
    /// listed now); a listed specialist cannot sign in as a client; a stored role never changes,
    /// except that an unlisted "specialist" who never signed in (bound by an inquiry before the
    /// directory existed) is a client. Refusals fail with unauthenticated and say why.
    virtual awaitable<outcome<void>> bind_role(std::string user_id, auth::role r) = 0;

    /// Stores the message in the client's open conversation with this specialist, or else in a
    /// new one (state INQUIRY, with the topic, preferred times and expiry), which needs a listed
    /// specialist (not_found otherwise) accepting new clients (failed_precondition otherwise); no
    /// inquiry ever binds a role or lists anyone. conflict if the client_msg_id was used for
    /// another message. Atomic; idempotent by client_msg_id.
    virtual awaitable<outcome<send_result>> start_inquiry(inquiry_command cmd) = 0;

    /// Stores the message in the conversation: forbidden if the sender is not a party (or the
    /// conversation does not exist), failed_precondition if it is DECLINED or CLOSED, conflict if
    /// the client_msg_id was used for another message. Atomic; idempotent by client_msg_id.
    virtual awaitable<outcome<send_result>> send_message(send_command cmd) = 0;

    /// Accept / decline (with `reason`) / close, by `user_id` (roles and states as in the
    /// protocol). Both parties get a conversation event. Returns the conversation as `user_id`
    /// sees it.
    virtual awaitable<outcome<conversation>> update_conversation(std::string user_id,
                                                                 std::string conversation_id,
                                                                 conversation_action action,
                                                                 decline_reason reason,
                                                                 std::int64_t now_ms) = 0;

    /// Moves `user_id`'s read mark forward to `up_to_seq` (clamped to the last seq), recomputes
    /// the unread count, and sends a READ receipt to the other party and the reader's devices.
    virtual awaitable<outcome<void>> mark_read(std::string user_id, std::string conversation_id,
                                               std::uint64_t up_to_seq) = 0;

    /// A device acks the events it processed up to `cursor` (a position of the user's stream:
    /// the caller checked it), in one atomic step: the device's stored cursor moves forward
    /// (never back) and `user_id`'s delivered marks move forward, each mark that moved sending
    /// its DELIVERED receipt to `mark.to`. The marks come from the user's own stream (routing
    /// never takes them from a client).
    virtual awaitable<outcome<void>> ack(std::string user_id, std::string device_id,
                                         std::string cursor, delivered_marks marks) = 0;

    /// The user's conversations as they see them (unread count, marks, last message, other
    /// party's presence). Specialists: INQUIRY first (newest first), then by last activity.
    virtual awaitable<outcome<std::vector<conversation>>> list_conversations(
        std::string user_id, std::uint32_t limit) = 0;

    /// Messages with seq < before_seq (0: from the newest), newest first.
    virtual awaitable<outcome<history_page>> history(std::string user_id,
                                                     std::string conversation_id,
                                                     std::uint64_t before_seq,
                                                     std::uint32_t limit) = 0;

    /// The other party of a conversation of `user_id`; forbidden otherwise.
    virtual awaitable<outcome<std::string>> other_party(std::string user_id,
                                                        std::string conversation_id) = 0;

    /// Up to `limit` events of the user's stream after `after_cursor` (empty: from the start).
    /// With `check_gap`, also tells whether events after the cursor were already dropped (or the
    /// cursor is not a position of this stream): `reset` in the batch.
    virtual awaitable<outcome<event_batch>> read_events(std::string user_id,
                                                        std::string after_cursor,
                                                        std::uint32_t limit, bool check_gap) = 0;

    /// The position of the newest event of the user's stream, and its n ("0-0" and 0 if none).
    virtual awaitable<outcome<std::pair<std::string, std::uint64_t>>> stream_end(
        std::string user_id) = 0;

    /// Where the device stopped (its last saved cursor, empty if none), and whether the user has
    /// any device saved at all.
    virtual awaitable<outcome<device_position>> device_cursor(std::string user_id,
                                                              std::string device_id) = 0;
    /// Moves the device's stored cursor forward (never back); with `forward_only` false, sets it
    /// whatever it was (a stored cursor beyond the stream's end: storage lost events).
    virtual awaitable<outcome<void>> save_device_cursor(std::string user_id, std::string device_id,
                                                        std::string cursor, bool forward_only) = 0;
};

// ---------------------------------------------------------------------------------------------
// The directory of specialists (read side: confide-admin writes it).

/// What storage knows of a specialist's activity: presence, and first-reply times.
struct specialist_activity {
    routing::presence presence;
    /// Time from a new inquiry to the specialist's first reply (ms), for the inquiries answered
    /// in the window asked for.
    std::vector<std::uint64_t> first_reply_ms;
};

class directory_store {
public:
    virtual ~directory_store() = default;

    /// The directory's version: it changes whenever an entry is added, changed or removed.
    virtual awaitable<outcome<std::uint64_t>> version() = 0;

    /// Every listed specialist (in no particular order) and the version they are at least as
    /// new as.
    virtual awaitable<outcome<std::pair<std::uint64_t, std::vector<specialist_profile>>>>
    load() = 0;

    /// The activity of each of `user_ids` (in the same order): presence, and the first replies
    /// given since `since_ms`.
    virtual awaitable<outcome<std::vector<specialist_activity>>> activity(
        std::vector<std::string> user_ids, std::int64_t since_ms) = 0;
};

// ---------------------------------------------------------------------------------------------
// The consultation workflow's deadlines: inquiry expiry and unread reminders.

/// A reminder that may be due: messages of a conversation unread by one party since
/// `unread_since_ms` (the first unread message of the burst).
struct due_reminder {
    std::string conversation_id;
    bool to_specialist = false;  ///< the recipient is the specialist (else the client)
    std::string recipient_id;
    std::string specialist_id;
    std::int64_t unread_since_ms = 0;
    std::int64_t due_ms = 0;  ///< as scheduled by storage (without office hours)
};

/// Deadlines kept by storage, shared by every node: each is acted on once, by whichever node
/// gets to it first.
class workflow_store {
public:
    virtual ~workflow_store() = default;

    /// Up to `limit` inquiries whose expiry is due at `now_ms`, oldest first.
    virtual awaitable<outcome<std::vector<std::string>>> due_expiries(std::int64_t now_ms,
                                                                      std::uint32_t limit) = 0;

    /// Expires the inquiry if it still is unanswered and due, telling both parties (a
    /// conversation event each). True when this call expired it; false when it was answered,
    /// closed or expired by another node meanwhile.
    virtual awaitable<outcome<bool>> expire_inquiry(std::string conversation_id,
                                                    std::int64_t now_ms) = 0;

    /// Up to `limit` reminders scheduled at or before `now_ms`.
    virtual awaitable<outcome<std::vector<due_reminder>>> due_reminders(std::int64_t now_ms,
                                                                        std::uint32_t limit) = 0;

    /// Moves a reminder to `due_ms` (later), unless it was sent or cancelled meanwhile.
    virtual awaitable<outcome<void>> postpone_reminder(due_reminder r, std::int64_t due_ms) = 0;

    /// Appends the reminder event (content-free: recipient, conversation, how long) to the
    /// reminder stream if the messages are still unread and no node sent it yet. True when this
    /// call sent it.
    virtual awaitable<outcome<bool>> send_reminder(due_reminder r, std::int64_t now_ms) = 0;

    /// Retention: up to `limit` conversations holding a message written before `cutoff_ms`.
    virtual awaitable<outcome<std::vector<std::string>>> due_retention(std::int64_t cutoff_ms,
                                                                       std::uint32_t limit) = 0;

    /// Deletes up to `limit` of the conversation's oldest messages written before `cutoff_ms`
    /// (with their dedupe records), unless another node did. `due` is set when older ones
    /// remain for another call.
    struct trimmed {
        std::uint32_t messages = 0;
        bool due = false;
    };
    virtual awaitable<outcome<trimmed>> trim_conversation(std::string conversation_id,
                                                          std::int64_t cutoff_ms,
                                                          std::uint32_t limit,
                                                          std::int64_t now_ms) = 0;
};

// ---------------------------------------------------------------------------------------------
// Presence.

/// Online / away / offline per user, with last-seen, kept in Redis with expiry so that the users
/// of a crashed node do not stay online. Changes are pushed to the other party of each of the
/// user's conversations (never to anyone else).
class presence_store {
public:
    virtual ~presence_store() = default;

    /// Registers a live connection of the user (expires after the presence TTL unless refreshed).
    /// Returns how many live connections the user has now, this one included. A user going from
    /// no connection to one becomes ONLINE.
    virtual awaitable<outcome<std::uint32_t>> connect(std::string user_id,
                                                      std::string connection_id,
                                                      std::int64_t now_ms) = 0;

    /// Removes a connection. With `signed_out`, a user left with no connection goes OFFLINE at
    /// once; without it, nothing visible happens yet (see confirm_lost).
    virtual awaitable<outcome<void>> disconnect(std::string user_id, std::string connection_id,
                                                bool signed_out, std::int64_t now_ms) = 0;

    /// After the grace period: if the user still has no live connection (on any node), they go
    /// OFFLINE with connection_lost.
    virtual awaitable<outcome<void>> confirm_lost(std::string user_id, std::int64_t now_ms) = 0;

    /// ONLINE or AWAY, set by the user.
    virtual awaitable<outcome<void>> set_status(std::string user_id, presence_state state,
                                                std::int64_t now_ms) = 0;

    /// Extends the expiry of these live connections (user id, connection id).
    virtual awaitable<outcome<void>> refresh(
        std::vector<std::pair<std::string, std::string>> connections, std::int64_t now_ms) = 0;

    /// Expires the connections of crashed nodes: users left with none go OFFLINE with
    /// connection_lost. Safe to run on every node concurrently.
    virtual awaitable<outcome<void>> sweep(std::int64_t now_ms) = 0;
};

}  // namespace confide::routing
