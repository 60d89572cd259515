#pragma once
// The client's sans-io core: every decision of the client library (when to connect, what to
// send, what to tell the application) and no I/O. It consumes events (transport opened, frame
// received, transport closed, time passed, user call) and produces actions (open/close a
// connection, send a frame, notify the application, run a completion handler). The caller owns
// the clock and the sockets; tests drive it with fake time and hand-made frames.

#include "outbox.hpp"

#include "confide/client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace confide::v1 {
class Frame;
class SendReply;
class EventPush;
class Conversation;
class ErrorReply;
}  // namespace confide::v1

namespace confide::client::detail {

/// Names one transport connection. Events carrying an id the core no longer uses are stale and
/// ignored, so the transport never has to guess whether the core still cares.
using conn_id = std::uint64_t;

/// How a transport connection ended: the WebSocket close code (0 when there was no close frame,
/// e.g. a reset, EOF, or a failed connect) and a human-readable reason.
struct close_info {
    std::uint16_t code = 0;
    std::string reason;
    /// The server's TLS certificate was refused: closed(certificate_refused), no retry.
    bool certificate_refused = false;
};

// ---- actions -------------------------------------------------------------------------------

/// Open connection `id` to the configured URL; report on_open or on_close.
struct open_connection {
    conn_id id = 0;
};
/// Send one binary WebSocket message on connection `id`.
struct send_frame {
    conn_id id = 0;
    std::string bytes;
};
/// Close connection `id`: graceful = flush queued frames and send a close frame with `code`;
/// otherwise drop the socket at once (the peer is presumed dead). No on_close is needed after.
struct close_connection {
    conn_id id = 0;
    std::uint16_t code = 1000;
    bool graceful = true;
};
/// The server no longer had our cursor (handlers::on_reset).
struct reset_notice {};
/// The server now holds `cursor` for this device (options::save_cursor).
struct cursor_saved {
    std::string cursor;
};
/// The server has answered sync: the event stream is (re)starting from the cursor.
struct synced_notice {
    bool resumed = false;  ///< from a cursor of ours (not from the server's stored one)
    bool reset = false;    ///< the server no longer had it (a reset_notice came first)
};
using notification = std::variant<state_change, message, conversation, receipt, presence, typing,
                                  send_update, reset_notice, cursor_saved, synced_notice>;
/// Tell the application (the matching handlers:: callback).
struct notify {
    notification what;
};
/// Run a request's completion handler (already bound to its result).
struct run_callback {
    std::function<void()> fn;
};
using action = std::variant<open_connection, send_frame, close_connection, notify, run_callback>;

/// Sees the protocol as the core speaks it, for a verifier (the load generator). Each call comes
/// while the core handles an input, before it acts on the frame; it must not call the core.
class observer {
public:
    /// A frame about to be sent (its request id set).
    virtual void on_sending(const v1::Frame& frame) = 0;
    /// A frame from the server on the current connection.
    virtual void on_received(const v1::Frame& frame) = 0;
    /// A message from the server that is no frame (the core then drops the connection).
    virtual void on_malformed() = 0;
    /// Outbox item `item` is stored as `seq` of `conversation_id`: its SendReply (`reply`, which
    /// on_received saw already) says so, or its own message came back (`reply` null). Comes
    /// before its send_update (none when lean) and before it leaves the outbox.
    virtual void on_stored(const outbox_item& item, const std::string& conversation_id,
                           std::uint64_t seq, const v1::SendReply* reply) = 0;

protected:
    ~observer() = default;
};

/// The frames a core parses into and builds its frequent frames in, reused rather than
/// reallocated. The cores of one thread may share one: thousands of cores (the load generator's)
/// would otherwise each keep their last frame, to free it cold on the next.
/// Thread safety: none; only cores that run on the same thread share one.
class frame_buffers;
std::shared_ptr<frame_buffers> make_frame_buffers();

/// Where the core may depart from what the library needs (the load generator's needs). The
/// defaults are the library's.
struct tuning {
    /// Sends in flight per conversation. 1: the server stores messages in the order of
    /// send_message, retries included. More pipelines them; a retried message may then be
    /// stored after a later one.
    unsigned in_flight_per_conversation = 1;
    /// Sends in flight on the connection, all conversations together; 0: no bound.
    unsigned in_flight_per_connection = 0;
    /// Only what a driver that follows the frames itself (through a watcher) needs: state
    /// changes, synced, saved cursors, and own messages that failed (observer::on_stored tells
    /// which were stored). No pending, sent, delivered or read updates, no incoming messages,
    /// conversations, receipts, presence or typing, and nothing remembered to tell them apart
    /// (no dedupe, no ticks).
    bool lean = false;
    /// Sees every frame when set; must outlive the core.
    observer* watcher = nullptr;
    /// Shared with the other cores of this thread; null: the core's own.
    std::shared_ptr<frame_buffers> buffers;
};

/// The jitter's random source: eight bytes, as a load generator runs thousands of cores (a
/// Mersenne Twister would be 2.5 KB each).
using jitter_rng = std::minstd_rand;

/// Delay before reconnect attempt `attempt` (0-based): uniformly random in
/// [min, min(max, min * 2^attempt)] ("full jitter" above a floor). Thread safety: uses `rng`.
clock::duration backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                              std::chrono::milliseconds max, jitter_rng& rng);

/// The client state machine. Every input takes the current time; after each input the caller
/// executes take_actions() in order and arranges a call to on_tick() at next_wakeup().
///
/// Thread safety: none; the owner serializes all calls (the library's io thread).
class core {
public:
    /// `seed` feeds the jitter of reconnect delays.
    core(options opts, std::uint64_t seed, tuning t = {});
    ~core();
    core(const core&) = delete;
    core& operator=(const core&) = delete;

    // ---- inputs: lifecycle and transport
    void start(clock::time_point now);
    void stop(clock::time_point now);
    void on_open(conn_id id, clock::time_point now);
    void on_frame(conn_id id, std::string_view bytes, clock::time_point now);
    void on_close(conn_id id, const close_info& info, clock::time_point now);
    /// Time passed: fires whatever deadline is due. Harmless when nothing is.
    void on_tick(clock::time_point now);
    /// Drops the connection at once (no close frame) and connects again after a short random
    /// delay (within reconnect_min), resuming from the cursor; the backoff does not grow. For
    /// testing resumption (the load generator's churn). Nothing happens without a connection or
    /// an attempt under way.
    void reconnect(clock::time_point now);

    // ---- inputs: the application (see client.hpp for meaning)
    void send_message(std::string client_msg_id, std::string conversation_id, std::string body,
                      clock::time_point now);
    void start_inquiry(std::string client_msg_id, std::string specialist_id, std::string body,
                       inquiry_details details, clock::time_point now);
    void start_inquiry(std::string client_msg_id, std::string specialist_id, std::string body,
                       bool free_consultation, clock::time_point now) {
        start_inquiry(std::move(client_msg_id), std::move(specialist_id), std::move(body),
                      inquiry_details{free_consultation, {}, {}}, now);
    }
    void list_specialists(specialist_filter filter, reply_handler<specialist_page> done,
                          clock::time_point now);
    void get_specialist(std::string specialist_id, reply_handler<specialist> done,
                        clock::time_point now);
    void list_conversations(std::uint32_t limit, reply_handler<std::vector<conversation>> done,
                            clock::time_point now);
    void history(std::string conversation_id, std::uint64_t before_seq, std::uint32_t limit,
                 reply_handler<history_page> done, clock::time_point now);
    void mark_read(std::string conversation_id, std::uint64_t up_to_seq, done_handler done,
                   clock::time_point now);
    void set_typing(std::string conversation_id, bool active, done_handler done,
                    clock::time_point now);
    void set_presence(presence_state state, done_handler done, clock::time_point now);
    /// verb: 1 accept, 2 decline, 3 close (confide.v1.ConversationAction); `reason` for decline.
    void update_conversation(std::string conversation_id, int verb,
                             reply_handler<conversation> done, clock::time_point now,
                             decline_reason reason = decline_reason::unspecified);
    void sign_out(done_handler done, clock::time_point now);

    // ---- outputs
    /// The actions produced since the last call, in order.
    std::vector<action> take_actions();
    /// Same, into `into` (cleared first); the vectors swap buffers, so a caller that keeps one
    /// allocates none.
    void take_actions(std::vector<action>& into);
    /// When on_tick() must be called next; nullopt: only on another input.
    std::optional<clock::time_point> next_wakeup() const;

    // ---- inspection (tests, diagnostics)
    connection_state state() const noexcept { return reported_; }
    const std::string& cursor() const noexcept { return cursor_; }
    std::size_t outbox_size() const noexcept { return outbox_.size(); }
    unsigned reconnect_attempt() const noexcept { return attempt_; }

private:
    enum class phase { idle, waiting, opening, authenticating, connected };

    struct pending_request {
        std::function<void(const v1::Frame&)> on_reply;
        std::function<void(error)> on_error;
        clock::time_point deadline{};
    };

    struct own_message {
        std::string client_msg_id;
        send_state state = send_state::sent;
        std::int64_t server_time_ms = 0;
    };

    // The other party's marks in one conversation, and this object's sent messages there that
    // have not been seen read yet.
    struct conversation_marks {
        std::uint64_t delivered = 0;
        std::uint64_t read = 0;
        std::map<std::uint64_t, own_message> own;
    };

    // Seqs of one conversation already handed to the application: everything at or below
    // `floor`, and `seqs` above it. Bounded: past capacity the floor moves up.
    struct seen_seqs {
        std::uint64_t floor = 0;
        std::set<std::uint64_t> seqs;
    };

    // lifecycle
    void begin_attempt(clock::time_point now);
    void drop_connection(bool graceful, std::uint16_t code);
    void connection_ended(std::uint16_t code, const std::string& reason, clock::time_point now);
    void schedule_reconnect(clock::duration delay, std::string detail, clock::time_point now);
    void reconnect_with_backoff(std::string detail, clock::time_point now);
    clock::duration quick_delay();  // uniform in [0, reconnect_min]
    void token_rejected(std::string detail, clock::time_point now);
    void enter_closed(close_reason reason, std::string detail);
    void report(state_change s);

    // frames
    std::uint64_t next_request_id() noexcept { return ++last_request_id_; }
    // The outgoing frame of the hot paths (sends, acks, pings), cleared: reused, not reallocated.
    v1::Frame& scratch_frame();
    void send(v1::Frame& frame);
    void handle_push(const v1::Frame& frame, clock::time_point now);
    void handle_auth_reply(const v1::Frame& frame, clock::time_point now);
    void handle_sync_reply(const v1::Frame& frame, clock::time_point now);
    void handle_event(const v1::EventPush& event, clock::time_point now);
    void send_ping(clock::time_point now);

    // requests
    void request(v1::Frame& frame, std::function<void(const v1::Frame&)> on_reply,
                 std::function<void(error)> on_error, clock::time_point now);
    void request_done(done_handler done, v1::Frame& frame, clock::time_point now);
    /// A request whose reply `convert` turns into a T (nullopt: the reply made no sense).
    /// Defined in core_directory.cpp, the one place using it so far.
    template <class T, class Convert>
    void request_value(v1::Frame& frame, reply_handler<T> done, Convert convert,
                       clock::time_point now);
    void fail_requests(const error& e);
    void complete(std::function<void()> fn);

    // outbox
    void enqueue(outbox_item item, clock::time_point now);
    void pump_outbox(clock::time_point now);
    // Sends it; the request id it went as and the deadline of its reply.
    std::pair<std::uint64_t, clock::time_point> send_item(outbox_item& item, clock::time_point now);
    void handle_send_reply(outbox_item& item, const v1::Frame& frame, clock::time_point now);
    // Reports it sent and takes it out of the outbox (last: `conversation_id` may be its target).
    void mark_sent(const outbox_item& item, const std::string& conversation_id, std::uint64_t seq,
                   std::int64_t server_time_ms, const v1::SendReply* reply);
    void report_send(const std::string& client_msg_id, const std::string& conversation_id,
                     send_state state, std::uint64_t seq, std::int64_t server_time_ms,
                     std::optional<error> err = std::nullopt,
                     std::optional<safety_notice> notice = std::nullopt);

    // receipts, dedupe, acks
    void apply_marks(const std::string& conversation_id, std::uint64_t delivered,
                     std::uint64_t read);
    void apply_conversation_marks(const v1::Conversation& c);
    bool first_sight(const std::string& conversation_id, std::uint64_t seq);
    // `own`: the event of our own message, taken from its SendReply (skip_own_echo); it is
    // acked lazily, since nobody waits for it (no other party's "delivered" hangs on it).
    void event_processed(const std::string& cursor, clock::time_point now, bool own = false);
    void flush_ack();

    options opts_;
    tuning tuning_;
    jitter_rng rng_;
    std::vector<action> actions_;
    std::shared_ptr<frame_buffers> buffers_;

    // connection
    bool started_ = false;
    bool cursor_loaded_ = false;
    phase phase_ = phase::idle;
    connection_state reported_ = connection_state::closed;
    conn_id conn_ = 0;
    conn_id last_conn_ = 0;
    unsigned attempt_ = 0;          // reconnects since the last stable connection
    unsigned auth_rejections_ = 0;  // consecutive
    std::string token_;
    clock::time_point reconnect_at_{};
    clock::time_point attempt_deadline_{};
    clock::time_point connected_at_{};
    clock::time_point last_received_{};
    clock::time_point next_ping_{};
    clock::duration ping_interval_{};
    bool sent_since_ping_ = false;  // the server heard from us since the last ping check
    std::uint64_t auth_request_ = 0;
    // Set when authenticate was refused for good: the close that follows decides how.
    std::optional<std::string> auth_failure_;
    std::uint64_t sync_request_ = 0;
    bool sync_resumes_ = false;  // the sync in flight carries a cursor of ours
    std::uint64_t last_request_id_ = 0;
    bool signing_out_ = false;
    done_handler sign_out_done_;

    // session
    std::string user_id_;
    std::size_t max_body_bytes_ = 8 * 1024;

    // requests
    std::map<std::uint64_t, pending_request> requests_;  // other than sends

    outbox outbox_;
    clock::time_point outbox_hold_until_{};  // after RATE_LIMITED

    // receipts and dedupe
    std::unordered_map<std::string, conversation_marks> marks_;
    std::unordered_map<std::string, seen_seqs> seen_;

    // cursor and acks
    std::string cursor_;        // last event processed
    std::string acked_cursor_;  // last sent in an ack on the current connection
    std::string saved_cursor_;  // last passed to save_cursor
    unsigned unacked_events_ = 0;
    std::optional<clock::time_point> ack_at_;
};

}  // namespace confide::client::detail
