#pragma once
// The ordered stream of a user's events to one connection, as a state machine without I/O:
// catch-up from the device's cursor in bounded batches, then live notices, pausing while the
// client's outbound queue is full, and the unacked message events that acks turn into
// delivered marks. routing::stream_runner executes its actions on the connection's strand;
// tests drive it with hand-made notices and fake time.

#include "protocol/cursor.hpp"
#include "routing/ports.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace confide::routing {

/// One connection's event stream. Every input that may send or wait takes the outbound queue's
/// current size (`queued`, bytes) and the time; after each input the caller executes actions()
/// in order, calls clear_actions(), and arranges a call to on_tick() at next_wakeup().
///
/// Thread safety: none; the owner serializes all calls (the connection's strand).
class event_stream {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    struct options {
        std::uint32_t batch = 100;  ///< events per storage read
        /// The network layer's outbound bound: reading pauses above 1/4 of it and resumes at
        /// 1/8, so catch-up never grows the queue past its bound.
        std::size_t max_outbound_bytes = 4 * 1024 * 1024;
        /// Paused this long while events wait: the client is closed as too slow (4003).
        std::chrono::milliseconds stalled_reader_timeout{30'000};
        std::chrono::milliseconds storage_retry{1'000};  ///< after a failed read
        /// Unacked message events remembered for delivered receipts. A client that never acks
        /// loses receipts for the oldest ones only; marks are "up to seq", so a later ack
        /// covers them.
        std::size_t max_unacked = 10'000;
        /// Notices held while a send is in flight (echo suppression, send_started()); one more
        /// pushes every held one, so a connection never holds more than this.
        std::size_t max_held = 64;
    };

    enum class state {
        idle,              ///< no sync yet, or the last one failed: events wait in storage
        syncing,           ///< a sync is reading its first batch; notices are noted
        live,              ///< in step: a notice with n == last + 1 is pushed as is
        reading,           ///< catching up: a read of the next batch is in flight
        waiting_for_room,  ///< catching up, paused until the queue drains to 1/8 of its bound
        retry_wait,        ///< catching up, paused after a failed read
        closed,            ///< the connection ended, or was closed as too slow
    };

    /// Send this frame (an event or a live signal) to the client.
    struct push {
        std::shared_ptr<const std::string> frame;
    };
    /// Read up to `limit` events after `after_cursor` from storage, then call on_read(id, ...).
    struct read {
        std::uint64_t id = 0;
        std::string after_cursor;
        std::uint32_t limit = 0;
    };
    /// The client stopped reading: close the connection with 4003 (it resumes from its cursor).
    struct close_too_slow {};
    using action = std::variant<push, read, close_too_slow>;

    /// `user_id`: whose stream (their own messages need no delivered receipt). Both arguments
    /// outlive the stream (they are shared by every connection's stream: a session's identity,
    /// the node's configuration).
    event_stream(const std::string& user_id, const options& opts);

    // ---- inputs
    /// A sync request starts: what the stream was doing stops (a read in flight is ignored when
    /// it completes), and notices are only noted until synced() or sync_failed().
    /// `skip_own_echo`: the client takes a SendReply with a cursor for its message's event
    /// (own_event()), for as long as this sync holds.
    void sync_started(bool skip_own_echo = false);
    /// The sync failed before it could start the stream: back to idle.
    void sync_failed();
    /// The sync's first batch, read after `cursor`; `n` is the number of the event at `cursor`
    /// when known (0: before the first event; nullopt: unknown, and the next notice is checked
    /// against storage). Call after the sync's reply was sent: the batch's events follow it.
    void synced(std::string cursor, std::optional<std::uint64_t> n, const event_batch& first,
                std::size_t queued, time_point now);
    /// A notice for the user arrived from the bus.
    void on_notice(const std::shared_ptr<const notice>& n, std::size_t queued, time_point now);
    /// The bus reconnected: notices may have been lost, so the stream is read from storage.
    void on_bus_reset(std::size_t queued, time_point now);
    /// The read of action `read{id}` completed.
    void on_read(std::uint64_t id, const outcome<event_batch>& batch, std::size_t queued,
                 time_point now);
    /// The outbound queue shrank to `queued` bytes.
    void on_written(std::size_t queued);
    /// A send (a message or an inquiry) of this connection is in flight. Until it ends, a live
    /// notice that would be pushed next and is a message of this user (this device's echo, or
    /// another device's message) is held instead of pushed, with every notice after it (order
    /// is never broken; at most max_held): the send's reply decides whether it stands for the
    /// first held one (own_event()). Only when the sync asked for skip_own_echo.
    void send_started();
    /// A send ended (replied, failed, or the connection closed mid-send). When no other send is
    /// in flight, every notice still held is pushed: after the send's reply, which the caller
    /// has sent by then.
    void send_ended(std::size_t queued, time_point now);
    /// This connection's message was stored as event `n` (at `cursor`) of the user's stream.
    /// True when its SendReply stands for that event: the client asked for it at sync, the
    /// stream is live and the event directly follows the last one pushed (n == last + 1), held
    /// or not yet noticed. The stream then moves past it, and its notice is dropped as already
    /// pushed. False: the event is pushed as usual, in order (the reply carries no cursor).
    /// Held notices before the event are pushed now (before the reply); after it, they stay
    /// held until send_ended(). A mismatch pushes every held notice now.
    bool own_event(const std::string& cursor, std::uint64_t n, std::size_t queued, time_point now);
    /// Time passed: fires whatever deadline is due. Harmless when nothing is.
    void on_tick(std::size_t queued, time_point now);
    /// The connection ended: nothing is done any more.
    void close();

    // ---- acks
    /// The client processed every event up to `up_to`: the message events pushed up to there
    /// become delivered marks. Returns every mark not yet stored (the earlier ones whose store
    /// failed included), highest seq per conversation, and forgets them.
    delivered_marks take_marks(const protocol::cursor_position& up_to);
    /// Storing `marks` failed: they are returned with the next take_marks (marks only move
    /// forward, so sending them again is safe).
    void restore_marks(const delivered_marks& marks);

    // ---- outputs
    const std::vector<action>& actions() const noexcept { return actions_; }
    void clear_actions() noexcept;
    /// When on_tick() must be called next; nullopt: only on another input.
    std::optional<time_point> next_wakeup() const noexcept;

    // ---- inspection (tests, logs)
    state current() const noexcept { return state_; }
    /// The position of the last event pushed (where the next read starts).
    const std::string& cursor() const noexcept { return cursor_; }
    /// The n of the last event pushed (0: before the first one); nullopt: unknown.
    std::optional<std::uint64_t> last_n() const noexcept { return last_n_; }
    /// Whether a notice arrived while reading or syncing (one more read follows).
    bool wake_pending() const noexcept { return wake_pending_; }
    std::size_t unacked() const noexcept { return unacked_.size() - unacked_head_; }
    std::size_t pending_marks() const noexcept { return pending_marks_.size(); }
    /// Notices held for a send's reply (send_started()).
    std::size_t held() const noexcept { return held_.size(); }

private:
    /// A message event pushed and not acked yet: acking it makes its sender see "delivered".
    struct unacked_event {
        protocol::cursor_position position;
        std::string conversation_id;
        std::uint64_t seq;
        std::string sender;
    };
    /// A delivered mark not stored yet.
    struct pending_mark {
        std::uint64_t seq = 0;
        std::string to;
    };

    std::size_t high_water() const noexcept { return opts_.max_outbound_bytes / 4; }
    std::size_t low_water() const noexcept { return opts_.max_outbound_bytes / 8; }

    /// More events may wait in storage: read them once the queue has room.
    void read_more(time_point now);
    void start_read();
    /// Pushes events in order while the queue has room; false if some did not fit.
    bool push_batch(std::span<const std::shared_ptr<const notice>> events);
    /// Pushes a batch read from storage; true when all of it went out. The stream then stands
    /// after the last entry read, even one left out (a deleted message).
    bool push_read(const event_batch& batch);
    /// Whether a read came back full, so that more may wait behind it.
    bool full(const event_batch& batch) const noexcept;
    void push_event(const notice& n);
    /// Whether a live notice next in line waits for the reply of a send in flight.
    bool holds(const notice& n) const noexcept;
    /// Pushes the first `count` held notices, in order, and forgets them; false if some did not
    /// fit: then nothing stays held and the stream reads from storage after the last one pushed.
    bool release_held(std::size_t count, time_point now);
    void remember_unacked(const notice& n, const message& m);
    void compact_unacked();

    const std::string& user_id_;
    const options& opts_;
    state state_ = state::idle;
    std::vector<action> actions_;

    std::size_t queued_ = 0;  // the outbound queue as of the current input, plus what it pushed
    std::string cursor_;
    std::optional<std::uint64_t> last_n_;
    bool wake_pending_ = false;
    bool skip_own_echo_ = false;
    std::uint32_t sends_in_flight_ = 0;
    std::uint64_t read_id_ = 0;  // of the read in flight; earlier ones are stale
    time_point wakeup_{};        // waiting_for_room: the stall deadline; retry_wait: the retry

    // Oldest first, from unacked_head_ on. A vector, not a deque: an idle connection's empty one
    // allocates nothing (libstdc++'s deque allocates ~570 bytes when constructed).
    std::vector<unacked_event> unacked_;
    std::size_t unacked_head_ = 0;
    /// Delivered marks not stored yet (their ack failed, or is about to be sent).
    std::map<std::string, pending_mark> pending_marks_;
    /// Live notices held while a send is in flight, contiguous from last_n_ + 1 (empty unless
    /// the stream is live with a send in flight). Empty, it allocates nothing.
    std::vector<std::shared_ptr<const notice>> held_;
};

}  // namespace confide::routing
