#include "routing/stream_runner.hpp"

#include "common/log.hpp"

#include <boost/asio/co_spawn.hpp>

namespace confide::routing {

stream_runner::stream_runner(connection& conn, chat_store& chat, const event_stream::options& opts)
    : conn_(conn), chat_(chat), stream_(conn.user_id(), opts), timer_(conn.strand()) {}

void stream_runner::start(std::weak_ptr<void> owner) {
    owner_ = std::move(owner);
    started_ = true;
}

void stream_runner::close() {
    stream_.close();
    timer_.cancel();
    timer_at_.reset();
}

void stream_runner::on_notice(const std::shared_ptr<const notice>& n) {
    if (running()) {
        stream_.on_notice(n, conn_.queued_bytes(), event_stream::clock::now());
        run_actions();
    }
}

void stream_runner::on_bus_reset() {
    if (running()) {
        stream_.on_bus_reset(conn_.queued_bytes(), event_stream::clock::now());
        run_actions();
    }
}

void stream_runner::on_written() {
    if (running()) {
        stream_.on_written(conn_.queued_bytes());
        run_actions();
    }
}

void stream_runner::sync_started(bool skip_own_echo) {
    stream_.sync_started(skip_own_echo);
    set_timer();
}

void stream_runner::sync_failed() {
    stream_.sync_failed();
}

void stream_runner::synced(std::string cursor, std::optional<std::uint64_t> n,
                           const event_batch& first) {
    stream_.synced(std::move(cursor), n, first, conn_.queued_bytes(), event_stream::clock::now());
    run_actions();
}

delivered_marks stream_runner::take_marks(const protocol::cursor_position& up_to) {
    return stream_.take_marks(up_to);
}

void stream_runner::restore_marks(const delivered_marks& marks) {
    stream_.restore_marks(marks);
}

bool stream_runner::own_event(const std::string& cursor, std::uint64_t n) {
    if (!running()) {
        return false;
    }
    const bool mine =
        stream_.own_event(cursor, n, conn_.queued_bytes(), event_stream::clock::now());
    run_actions();
    return mine;
}

stream_runner::send_in_flight::send_in_flight(stream_runner& runner) : runner_(runner) {
    runner_.stream_.send_started();
}

stream_runner::send_in_flight::~send_in_flight() {
    try {
        runner_.stream_.send_ended(runner_.conn_.queued_bytes(), event_stream::clock::now());
        if (runner_.running()) {
            runner_.run_actions();
        } else {
            runner_.stream_.clear_actions();
        }
    } catch (const std::exception& e) {
        // Only an allocation can fail here; the held events wait in storage for the next sync.
        log::error("{} pushing held events failed: {}", runner_.conn_.log_prefix(), e.what());
    }
}

void stream_runner::run_actions() {
    // A read may complete inline (co_spawn starts it at once on this strand, and a store that
    // answers without waiting finishes it), feeding the machine from inside this loop: the
    // actions it adds are appended to the list, and this loop runs them, in order.
    if (running_actions_) {
        return;
    }
    running_actions_ = true;
    // NOLINTNEXTLINE(modernize-loop-convert): an index, since running an action may grow the list.
    for (std::size_t i = 0; i < stream_.actions().size(); ++i) {
        const auto a = stream_.actions()[i];  // a copy, for the same reason
        if (const auto* p = std::get_if<event_stream::push>(&a)) {
            conn_.push(p->frame);
        } else if (const auto* r = std::get_if<event_stream::read>(&a)) {
            if (auto keep = owner_.lock()) {
                asio::co_spawn(conn_.strand(), read_batch(std::move(keep), this, *r),
                               log_exception{"event read"});
            }
        } else if (std::holds_alternative<event_stream::close_too_slow>(a)) {
            log::info("{} client stopped reading: closing", conn_.log_prefix());
            conn_.go_away(close_code::too_slow,
                          "you stopped reading: reconnect and resume from your cursor");
        }
    }
    stream_.clear_actions();
    running_actions_ = false;
    set_timer();
}

void stream_runner::set_timer() {
    const auto at = stream_.next_wakeup();
    if (at == timer_at_) {
        return;
    }
    timer_at_ = at;
    if (!at) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(*at);
    timer_.async_wait([keep = owner_.lock(), this](boost::system::error_code ec) {
        if (!ec && keep) {
            timer_at_.reset();
            on_tick();
        }
    });
}

void stream_runner::on_tick() {
    if (running()) {
        stream_.on_tick(conn_.queued_bytes(), event_stream::clock::now());
        run_actions();
    }
}

awaitable<void> stream_runner::read_batch([[maybe_unused]] std::shared_ptr<void> keep,
                                          stream_runner* self, event_stream::read r) {
    auto batch = co_await self->chat_.read_events(self->conn_.user_id(), std::move(r.after_cursor),
                                                  r.limit, false);
    if (self->conn_.closed()) {
        co_return;
    }
    self->stream_.on_read(r.id, batch, self->conn_.queued_bytes(), event_stream::clock::now());
    self->run_actions();
}

}  // namespace confide::routing
