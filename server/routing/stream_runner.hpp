#pragma once
// The thin shell around routing::event_stream: feeds it what happens to one connection and
// executes what it decides, on the connection's strand.

#include "common/asio_types.hpp"
#include "routing/connection.hpp"
#include "routing/event_stream.hpp"
#include "routing/ports.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>

namespace confide::routing {

/// Runs one connection's event stream: pushes its frames to the client, reads batches from
/// storage when it asks (each read a coroutine of its own, concurrent with the connection's
/// requests), keeps its one timer, and closes a stalled reader with 4003.
///
/// Inputs before start() and after close() are ignored.
///
/// Thread safety: none; every member is called on the connection's strand, and the runner's own
/// completions run there.
class stream_runner {
public:
    /// Every reference outlives the runner.
    stream_runner(connection& conn, chat_store& chat, const event_stream::options& opts);

    /// Starts the stream of `conn`'s (now authenticated) user, idle until the first sync.
    /// `owner` keeps `conn` and this runner alive while a read or the timer is pending.
    void start(std::weak_ptr<void> owner);
    /// The connection ended.
    void close();

    bool started() const noexcept { return started_; }

    void on_notice(const std::shared_ptr<const notice>& n);
    void on_bus_reset();
    void on_written();

    /// As event_stream's: a sync request starts, fails, or has read its first batch.
    void sync_started(bool skip_own_echo);
    void sync_failed();
    void synced(std::string cursor, std::optional<std::uint64_t> n, const event_batch& first);

    /// As event_stream's (requires started()).
    delivered_marks take_marks(const protocol::cursor_position& up_to);
    void restore_marks(const delivered_marks& marks);
    /// As event_stream's; the held events before `n` are pushed before it returns, so the
    /// caller's reply follows them.
    bool own_event(const std::string& cursor, std::uint64_t n);

    /// A send in flight for as long as it lives (event_stream::send_started, send_ended): on
    /// every way out of the send's coroutine (a reply, an error, an exception, the coroutine
    /// destroyed), the notices held for its reply are pushed or dropped with the connection.
    class send_in_flight {
    public:
        explicit send_in_flight(stream_runner& runner);
        ~send_in_flight();
        send_in_flight(const send_in_flight&) = delete;
        send_in_flight& operator=(const send_in_flight&) = delete;

    private:
        stream_runner& runner_;
    };

    /// The machine itself, for inspection (tests, logs).
    const event_stream& stream() const noexcept { return stream_; }

private:
    /// Whether inputs are taken: started, and the connection not closed.
    bool running() const noexcept { return started_ && !conn_.closed(); }
    void run_actions();
    void set_timer();
    void on_tick();
    static awaitable<void> read_batch(std::shared_ptr<void> keep, stream_runner* self,
                                      event_stream::read r);

    connection& conn_;
    chat_store& chat_;
    std::weak_ptr<void> owner_;
    event_stream stream_;  // of conn_.user_id(), filled in by the time start() is called
    asio::steady_timer timer_;
    std::optional<event_stream::time_point> timer_at_;
    bool started_ = false;
    bool running_actions_ = false;
};

}  // namespace confide::routing
