#pragma once
// The Confide client library: one object, one WebSocket connection to a Confide server, kept
// alive and resumed for you. Plain structs in, callbacks out; no Beast or protobuf here.
//
//   confide::client::options o;
//   o.url = "ws://127.0.0.1:8080/";
//   o.device_id = "phone-1";
//   o.token_provider = [] { return fetch_token(); };
//   confide::client::handlers h;
//   h.on_message = [](const confide::client::message& m) { show(m); };
//   h.on_send_update = [](const confide::client::send_update& u) { tick(u); };
//   confide::client::client c{o, h};
//   c.start();
//   // pending -> sent -> delivered -> read, through on_send_update:
//   std::string id = c.send_message(conversation_id, "hello");
//
// Threading: every callback (handlers and request completions) runs on the library's own thread,
// one at a time. Every public member function may be called from any thread, including from a
// callback; none of them blocks (except the destructor). Callbacks must not throw.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace confide::client {

using clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Errors

/// Why a request failed. 1..10 are the server's codes (confide.v1.ErrorCode); 100+ are the
/// library's own.
enum class error_code : int {
    unauthenticated = 1,      ///< bad, expired or missing token
    forbidden = 2,            ///< not allowed (also: no such conversation)
    invalid_argument = 3,     ///< malformed request (e.g. an empty body)
    too_large = 4,            ///< e.g. a body over the server's limit
    rate_limited = 5,         ///< too many requests; see retry_after_ms
    unavailable = 6,          ///< server storage unavailable; outcome unknown
    conflict = 7,             ///< e.g. a client_msg_id reused with another body
    failed_precondition = 8,  ///< not possible in the conversation's current state
    internal = 9,             ///< a server bug
    not_found = 10,           ///< e.g. an inquiry to an id that is not a listed specialist
    not_connected = 100,      ///< no connection now, or it was lost before the reply came
    timeout = 101,            ///< no reply within options::request_timeout; outcome unknown
    protocol_error = 102,     ///< the server's reply made no sense
};

/// A failed request. `retryable`: the same request may succeed if sent again later.
struct error {
    error_code code = error_code::internal;
    std::string message;  ///< human readable, safe to show
    bool retryable = false;
    std::uint32_t retry_after_ms = 0;  ///< for rate_limited: wait at least this long
};

/// "forbidden", "not_connected", ...
const char* to_string(error_code c) noexcept;

/// A request's outcome: a value or an error.
template <class T>
class result {
public:
    result(T value) : v_(std::move(value)) {}
    result(error e) : v_(std::move(e)) {}
    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    /// Precondition: ok().
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    /// Precondition: !ok().
    const error& err() const { return std::get<1>(v_); }

private:
    std::variant<T, error> v_;
};

// ---------------------------------------------------------------------------------------------
// The protocol's data, as plain structs (see proto/confide/v1/confide.proto)

enum class role { unknown, client, specialist };
/// `erased`: erased by the operator (the other party's account or the conversation); nothing
/// of it can be read any more.
enum class conversation_state { unknown, inquiry, active, declined, closed, expired, erased };
enum class presence_state { unknown, online, away, offline };
enum class receipt_kind { delivered, read };

struct message {
    std::string conversation_id;
    std::uint64_t seq = 0;  ///< gapless from 1 within its conversation
    std::string sender_id;
    std::string client_msg_id;
    std::string body;
    std::int64_t server_time_ms = 0;
    bool outgoing = false;  ///< sent by the signed-in user (from any of their devices)
};

/// An interval of absolute time, [start_ms, end_ms), in ms since the Unix epoch.
struct time_range {
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
};

/// A listed specialist's office hours and reply times, at the server's `server_time_ms`. Every
/// time is absolute: show it in the person's own time zone ("away until Monday 09:00").
struct availability {
    bool has_office_hours = false;  ///< otherwise: no restriction (within_office_hours)
    bool within_office_hours = true;
    std::int64_t changes_at_ms = 0;  ///< when within_office_hours changes next (0: never)
    std::vector<time_range> upcoming_office_hours;  ///< the next 7 days', oldest first
    std::uint32_t expected_reply_minutes = 0;       ///< as the specialist states it (0: not)
    /// Measured by the server over the last 30 days: the median time from an inquiry to the
    /// specialist's first reply, over `first_reply_samples` inquiries (0: no measurement).
    std::uint64_t median_first_reply_ms = 0;
    std::uint32_t first_reply_samples = 0;
    std::int64_t server_time_ms = 0;
};

struct presence {
    std::string user_id;
    presence_state state = presence_state::unknown;
    std::int64_t last_seen_ms = 0;
    bool connection_lost = false;  ///< offline without a goodbye (rather than signed out)
    /// Listed specialists, in directory listings and a client's conversation list (not in
    /// on_presence: keep the last one). `state` stays the connection state; outside office
    /// hours show the specialist as away.
    std::optional<::confide::client::availability> availability;
};

/// Why a specialist declines an inquiry: a fixed list, for a kind message in the person's
/// language (confide.v1.DeclineReason).
enum class decline_reason {
    unspecified,
    no_capacity,
    outside_expertise,
    schedule_mismatch,
    language_mismatch,
    other_care_needed,
    other,
};

/// The operator's "this chat is not for emergencies" text and crisis line: show it to a client
/// when they start an inquiry.
struct safety_notice {
    std::string text;
    std::string crisis_line;
};

struct conversation {
    std::string id;
    std::string client_id;
    std::string specialist_id;
    conversation_state state = conversation_state::unknown;
    bool free_consultation = false;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::uint64_t last_seq = 0;
    std::optional<message> last_message;  ///< when listed
    std::uint64_t unread_count = 0;
    std::uint64_t read_seq = 0;               ///< this user's read mark
    std::uint64_t other_read_seq = 0;         ///< the other party's read mark
    std::uint64_t other_delivered_seq = 0;    ///< the other party's delivered mark
    std::optional<presence> other_presence;   ///< when listed (clients: with availability)
    std::string topic;                        ///< what the inquiry is about (may be empty)
    std::vector<time_range> preferred_times;  ///< for the initial consultation
    /// inquiry: when it expires unanswered (0: it was answered); expired: when it did.
    std::int64_t expires_at_ms = 0;
    /// declined: the reason the specialist gave.
    ::confide::client::decline_reason decline_reason =
        ::confide::client::decline_reason::unspecified;
};

/// What a start_inquiry may carry besides its message. topic and preferred_times count for a
/// new conversation only (topic: one line, at most 200 bytes; up to 5 times, each at most 24 h,
/// ending in the future, within 180 days: otherwise the send fails with invalid_argument).
struct inquiry_details {
    bool free_consultation = false;
    std::string topic;
    std::vector<time_range> preferred_times;
};

/// Weekly office hours in the specialist's time zone: [start_minute, end_minute) after local
/// midnight of `day` (1 Monday .. 7 Sunday).
struct weekly_hours {
    unsigned day = 0;
    std::uint32_t start_minute = 0;
    std::uint32_t end_minute = 0;
};

/// A directory entry, as the platform's operator wrote it, with the presence and availability
/// now.
struct specialist {
    std::string id;
    std::string display_name;
    std::vector<std::string> specialties;
    std::vector<std::string> languages;
    std::string bio;
    std::string time_zone;  ///< IANA name of the office hours' zone
    std::vector<weekly_hours> office_hours;
    bool accepting_new_clients = false;
    std::uint32_t free_consultation_minutes = 0;  ///< 0: none offered
    ::confide::client::presence presence;         ///< with availability
};

/// A list_specialists request: every filter optional.
struct specialist_filter {
    std::string specialty;  ///< case-insensitive
    std::string language;   ///< case-insensitive; "pt" matches "pt-BR"
    bool accepting_new_clients_only = false;
    std::uint32_t limit = 0;  ///< 0: the server's default (50; at most 200)
    std::string page_token;   ///< a previous page's next_page_token; empty: the first page
};

/// One page of the directory, sorted by display name.
struct specialist_page {
    std::vector<specialist> specialists;
    std::string next_page_token;  ///< empty: this was the last page
};

/// `user_id` has received / read every message of the conversation up to `up_to_seq`.
struct receipt {
    std::string conversation_id;
    std::string user_id;
    receipt_kind kind = receipt_kind::delivered;
    std::uint64_t up_to_seq = 0;
};

struct typing {
    std::string conversation_id;
    std::string user_id;
    bool active = false;
};

/// One page of get-history: newest first.
struct history_page {
    std::vector<message> messages;
    bool more = false;  ///< older messages remain
    /// The page reached the oldest message kept, and older ones were deleted by the server's
    /// retention (state_change::retention_days).
    bool trimmed = false;
};

// ---------------------------------------------------------------------------------------------
// Connection and outbox state

enum class connection_state {
    connecting,       ///< an attempt is under way (TCP, WebSocket, authenticate)
    connected,        ///< authenticated; the event stream is (re)starting from the last cursor
    connection_lost,  ///< no connection; the next attempt is at state_change::next_attempt
    closed,           ///< no connection and no retry; see state_change::reason. start() again
};

enum class close_reason {
    none,                  ///< (state is not closed)
    stopped,               ///< stop() or the destructor
    signed_out,            ///< sign_out(), or the server ended the session (close code 1000)
    token_rejected,        ///< the server refused the token twice in a row (or it was empty)
    too_many_connections,  ///< close code 4004
    idle_logoff,           ///< close code 4006: signed out after inactivity; not reconnected
    protocol_error,        ///< close code 1008/1009: a client/server mismatch
    /// wss://: the server's certificate was refused (unknown CA, another host name, expired).
    /// A configuration error (options::ca_file, the URL's host): not retried.
    certificate_refused,
};

struct state_change {
    connection_state state = connection_state::connecting;
    close_reason reason = close_reason::none;  ///< for closed
    clock::time_point next_attempt{};          ///< for connection_lost
    std::string detail;                        ///< human-readable cause, e.g. "heartbeat timeout"
    std::string user_id;                       ///< for connected
    role user_role = role::unknown;            ///< for connected
    std::optional<::confide::client::safety_notice> safety_notice;  ///< connected clients
    /// For connected: the server's retention. Messages older than this are deleted from the
    /// server (whole days, rounded up; 0: kept as long as their conversation).
    std::uint32_t retention_days = 0;
    std::uint64_t retention_s = 0;  ///< the same, exact, in seconds
};

/// pending -> sent -> delivered -> read, or pending -> failed. States only move forward and
/// may skip (e.g. sent -> read).
enum class send_state { pending, sent, delivered, read, failed };

/// The state of a message this object sent (send_message / start_inquiry).
struct send_update {
    std::string client_msg_id;
    std::string conversation_id;  ///< empty for a start_inquiry until it is sent
    send_state state = send_state::pending;
    std::uint64_t seq = 0;            ///< from sent on
    std::int64_t server_time_ms = 0;  ///< from sent on
    std::optional<error> err;         ///< for failed
    /// sent, for a start_inquiry that opened a new conversation: show it to the client now.
    std::optional<::confide::client::safety_notice> safety_notice;
};

// ---------------------------------------------------------------------------------------------
// Configuration

struct options {
    /// "ws://host:port/path" or "wss://host:port/path" ("/" when no path).
    std::string url;
    /// wss://: the CA certificates (PEM) the server's certificate must chain to; empty: the
    /// system's CAs. The certificate must also name the URL's host. TLS 1.2 at least.
    std::string ca_file;
    /// Stable id of this installation, 1..128 chars of [A-Za-z0-9._:-].
    std::string device_id;
    /// Called on the library's thread before every connection attempt: a current token.
    /// An empty string means "no token": the client closes with token_rejected. An exception
    /// counts as a failed attempt (retried with backoff).
    std::function<std::string()> token_provider;

    /// A connection on which nothing was received for this long is dead (even if TCP has not
    /// noticed): connection_lost, then reconnect. Pings go out every min(the server's heartbeat
    /// interval, heartbeat_timeout / 3), so a live server always answers in time.
    std::chrono::milliseconds heartbeat_timeout{15'000};
    /// Reconnect delays: attempt n waits a random time in [min, min(max, min * 2^n)]; n starts
    /// over after a connection that lasted 10 s. After token expiry (4001): within [0, min].
    /// A send refused with a retryable error and no retry_after backs off the same way.
    /// A send_message/start_inquiry while waiting to reconnect starts the attempt at once (the
    /// message stays pending in the outbox and goes out once connected).
    /// The cap is 10 s: after an outage a person who waits half a minute for the app to notice
    /// the server is back reads it as broken (issue 12 saw ~29 s within a minute).
    std::chrono::milliseconds reconnect_min{500};
    std::chrono::milliseconds reconnect_max{10'000};
    /// Bound on one attempt: TCP + WebSocket handshake + authenticate.
    std::chrono::milliseconds connect_timeout{10'000};
    /// Bound on a request's reply; an outbox send past it is re-sent (same client_msg_id).
    std::chrono::milliseconds request_timeout{10'000};
    /// Processed events are acked at most this long after they arrive (or after 100 events).
    std::chrono::milliseconds ack_delay{100};
    /// Asks the server not to push this device's own messages back to the connection that sent
    /// them (`SyncRequest.skip_own_echo`): their SendReply then carries the event's cursor and
    /// stands for the push. Nothing the application sees changes (a sent message is reported by
    /// its send_update, as always; other devices of the user still get it as a message); the
    /// connection saves one frame per message, and the cursor such a reply moves is acked with
    /// the next ack, or 10 ack_delays later when nothing else comes.
    bool skip_own_echo = true;

    /// Optional cursor persistence: load is called once by start() when the object has no
    /// cursor yet; save after each ack with the cursor the server now holds for this device
    /// (also for the final ack of stop() and of the destructor, on the library's thread).
    std::function<std::string()> load_cursor;
    std::function<void(const std::string&)> save_cursor;
};

/// Event callbacks; each may be empty. All run on the library's thread.
struct handlers {
    std::function<void(const state_change&)> on_state;
    /// Messages from the event stream (catch-up, then live), each once: incoming ones and the
    /// user's own from other devices. This object's own sends are reported by on_send_update.
    std::function<void(const message&)> on_message;
    /// A conversation was created or changed state.
    std::function<void(const conversation&)> on_conversation;
    std::function<void(const receipt&)> on_receipt;
    std::function<void(const presence&)> on_presence;
    std::function<void(const typing&)> on_typing;
    std::function<void(const send_update&)> on_send_update;
    /// The server no longer had this device's cursor: events may be missing. Reload the
    /// conversation list and open histories.
    std::function<void()> on_reset;
};

template <class T>
using reply_handler = std::function<void(result<T>)>;
/// For requests without a value: nullopt on success.
using done_handler = std::function<void(std::optional<error>)>;

// ---------------------------------------------------------------------------------------------

/// A connection to a Confide server that reconnects, resumes and re-sends by itself.
///
/// Requests other than sends fail at once with a retryable not_connected error while there is
/// no connection, and with not_connected if the connection is lost before their reply. Sends
/// are queued in an in-memory outbox instead and go out, in order per conversation, whenever
/// the client is connected.
///
/// The outbox and the cursor live in memory (see options::save_cursor to keep the cursor).
///
/// Thread safety: all member functions may be called concurrently from any thread; completion
/// handlers run on the library's thread. Do not destroy the object from one of its callbacks.
class client {
public:
    /// Starts the library's thread; does not connect yet. Throws std::invalid_argument for a
    /// bad url or device_id, an unreadable ca_file, or a missing token_provider.
    client(options opts, handlers h);
    /// Stops (as stop()), waits up to ~2 s for a polite close, and joins the thread. Reports
    /// nothing itself (no closed(stopped)) but calls options::save_cursor for its final ack;
    /// callbacks already under way finish first. Pending requests are dropped without
    /// completion; the in-memory outbox is lost.
    ~client();  // NOLINT(bugprone-exception-escape): see client.cpp
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Connects, and from then on reconnects whenever the connection is lost. Also restarts a
    /// closed client (the outbox and cursor are kept).
    void start();
    /// Closes the connection (after flushing acks) and stops reconnecting: closed(stopped).
    void stop();

    /// Queues a message; returns its client_msg_id (generated, unique). Progress is reported
    /// through handlers::on_send_update, starting with pending.
    std::string send_message(const std::string& conversation_id, const std::string& body);
    /// Client role only: writes to a specialist, opening an inquiry unless a conversation with
    /// them is open. An outbox item like send_message; the conversation id arrives with sent.
    std::string start_inquiry(const std::string& specialist_id, const std::string& body,
                              bool free_consultation = false);
    /// start_inquiry with a topic and preferred times for the initial consultation.
    std::string start_inquiry(const std::string& specialist_id, const std::string& body,
                              inquiry_details details);

    /// The directory: listed specialists matching `filter`, with presence and availability.
    void list_specialists(specialist_filter filter, reply_handler<specialist_page> done);
    /// One listed specialist; not_found when the id is not listed.
    void get_specialist(const std::string& specialist_id, reply_handler<specialist> done);

    /// At most `limit` conversations (0: server default). Specialists get inquiries first.
    void list_conversations(std::uint32_t limit, reply_handler<std::vector<conversation>> done);
    /// Messages with seq < before_seq (0: from the newest), newest first.
    void history(const std::string& conversation_id, std::uint64_t before_seq, std::uint32_t limit,
                 reply_handler<history_page> done);
    /// Marks every message up to `up_to_seq` as read (the other party sees "read").
    void mark_read(const std::string& conversation_id, std::uint64_t up_to_seq,
                   done_handler done = {});
    void set_typing(const std::string& conversation_id, bool active, done_handler done = {});
    /// online or away.
    void set_presence(presence_state state, done_handler done = {});
    /// Specialist, from inquiry.
    void accept(const std::string& conversation_id, reply_handler<conversation> done = {});
    /// Specialist, from inquiry.
    void decline(const std::string& conversation_id, reply_handler<conversation> done = {});
    /// Specialist, from inquiry, with a reason the client is shown.
    void decline(const std::string& conversation_id, decline_reason reason,
                 reply_handler<conversation> done = {});
    /// Either party, from inquiry or active.
    void close(const std::string& conversation_id, reply_handler<conversation> done = {});
    /// Ends this device's session on the server; then closed(signed_out). Offline it fails with
    /// not_connected like any request (call stop() too if you are leaving anyway).
    void sign_out(done_handler done = {});

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace confide::client
