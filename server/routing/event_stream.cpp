#include "routing/event_stream.hpp"

#include "routing/routing_metrics.hpp"
#include "routing/wire.hpp"

#include <algorithm>

namespace confide::routing {
namespace {

// Actions (and held notices) kept allocated between inputs: a live connection pushes one frame
// per notice, so a small buffer is reused; the large one of a catch-up batch is given back.
constexpr std::size_t kept_capacity = 4;

// Empties `v`, giving its buffer back if it grew past kept_capacity.
template <class T>
void clear_keeping_small(std::vector<T>& v) noexcept {
    if (v.capacity() > kept_capacity) {
        std::vector<T>().swap(v);
    } else {
        v.clear();
    }
}

}  // namespace

event_stream::event_stream(const std::string& user_id, const options& opts)
    : user_id_(user_id), opts_(opts) {}

void event_stream::clear_actions() noexcept {
    clear_keeping_small(actions_);
}

std::optional<event_stream::time_point> event_stream::next_wakeup() const noexcept {
    if (state_ == state::waiting_for_room || state_ == state::retry_wait) {
        return wakeup_;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Sync

void event_stream::sync_started(bool skip_own_echo) {
    if (state_ == state::closed) {
        return;
    }
    state_ = state::syncing;
    skip_own_echo_ = skip_own_echo;
    // The sync's read starts at or before the last event pushed: it covers the held ones.
    clear_keeping_small(held_);
    wake_pending_ = false;
    ++read_id_;
}

void event_stream::sync_failed() {
    if (state_ == state::syncing) {
        state_ = state::idle;
    }
}

void event_stream::synced(std::string cursor, std::optional<std::uint64_t> n,
                          const event_batch& first, std::size_t queued, time_point now) {
    if (state_ != state::syncing) {
        return;
    }
    cursor_ = std::move(cursor);
    last_n_ = n;
    unacked_.clear();
    unacked_head_ = 0;
    queued_ = queued;
    const bool all_sent = push_read(first);
    // Notices that arrived while the sync read were held back: one more read catches up on
    // them, as after a full batch (more may be waiting) or one that did not fit the queue.
    if (wake_pending_ || !all_sent || full(first)) {
        wake_pending_ = false;
        read_more(now);
    } else {
        state_ = state::live;
    }
}

// ---------------------------------------------------------------------------------------------
// Notices and reads

void event_stream::on_notice(const std::shared_ptr<const notice>& n, std::size_t queued,
                             time_point now) {
    if (state_ == state::closed) {
        return;
    }
    if (!n->is_event()) {
        // Live-only signals (receipts, presence, typing) go out whatever the stream is doing.
        const auto& frame = frame_of(*n);
        actions_.emplace_back(push{frame});
        stats::live_pushes.inc();
        return;
    }
    switch (state_) {
        case state::idle:
            return;
        case state::syncing:
        case state::reading:
        case state::waiting_for_room:
        case state::retry_wait:
            wake_pending_ = true;
            return;
        case state::live:
            break;
        case state::closed:
            return;
    }
    if (last_n_ && n->n <= *last_n_) {
        return;  // already pushed: a notice and a read raced
    }
    queued_ = queued;
    if (!held_.empty()) {
        if (n->n <= held_.back()->n) {
            return;  // already held
        }
        if (n->n == held_.back()->n + 1 && held_.size() < opts_.max_held && !n->content_elsewhere) {
            held_.push_back(n);  // behind a held one: held too, so that order holds
            return;
        }
        // Past the bound, or a gap: what is held goes out, then this notice as usual.
        if (!release_held(held_.size(), now)) {
            return;
        }
    }
    if (last_n_ && n->n == *last_n_ + 1 && queued_ <= high_water() && !n->content_elsewhere) {
        if (holds(*n)) {
            held_.push_back(n);  // the send's reply may stand for it
        } else {
            push_event(*n);  // the common case: in order, no storage read needed
        }
        return;
    }
    // A gap (a notice was missed), an unknown position, no room, or a notice without its
    // content: storage has the events.
    read_more(now);
}

void event_stream::on_bus_reset(std::size_t queued, time_point now) {
    if (state_ == state::closed) {
        return;
    }
    last_n_.reset();
    // Held notices are events after the cursor: the read from it brings them again, in order.
    clear_keeping_small(held_);
    if (state_ == state::live) {
        queued_ = queued;
        read_more(now);
    } else if (state_ != state::idle) {
        // Reading, paused or syncing: check storage once more when that is done.
        wake_pending_ = true;
    }
}

void event_stream::read_more(time_point now) {
    if (queued_ > high_water()) {
        state_ = state::waiting_for_room;
        wakeup_ = now + opts_.stalled_reader_timeout;
        return;
    }
    start_read();
}

void event_stream::start_read() {
    state_ = state::reading;
    actions_.emplace_back(read{++read_id_, cursor_, opts_.batch});
}

void event_stream::on_read(std::uint64_t id, const outcome<event_batch>& batch, std::size_t queued,
                           time_point now) {
    if (state_ != state::reading || id != read_id_) {
        return;
    }
    if (!batch) {
        // Storage is down: the events are safe there; try again shortly.
        state_ = state::retry_wait;
        wakeup_ = now + opts_.storage_retry;
        return;
    }
    queued_ = queued;
    const bool all_sent = push_read(*batch);
    if (!all_sent || full(*batch)) {
        read_more(now);
    } else if (wake_pending_) {
        wake_pending_ = false;
        read_more(now);
    } else {
        state_ = state::live;
    }
}

void event_stream::on_written(std::size_t queued) {
    if (state_ == state::waiting_for_room && queued <= low_water()) {
        queued_ = queued;
        start_read();
    }
}

void event_stream::send_started() {
    ++sends_in_flight_;
}

void event_stream::send_ended(std::size_t queued, time_point now) {
    if (sends_in_flight_ > 0) {
        --sends_in_flight_;
    }
    if (sends_in_flight_ == 0 && !held_.empty()) {
        queued_ = queued;
        release_held(held_.size(), now);
    }
}

bool event_stream::own_event(const std::string& cursor, std::uint64_t n, std::size_t queued,
                             time_point now) {
    if (!held_.empty()) {
        // Held events before this one go out before the reply; if this one is not held (a
        // mismatch, or its notice has not come), all of them do.
        queued_ = queued;
        auto mine =
            std::find_if(held_.begin(), held_.end(), [n](const auto& h) { return h->n >= n; });
        if (mine != held_.end() && ((*mine)->n != n || (*mine)->cursor != cursor)) {
            mine = held_.end();
        }
        if (!release_held(static_cast<std::size_t>(mine - held_.begin()), now)) {
            return false;
        }
    }
    if (!skip_own_echo_ || state_ != state::live || !last_n_ || n != *last_n_ + 1) {
        return false;
    }
    if (!held_.empty()) {
        held_.erase(held_.begin());  // this event, held: the reply stands for it
    }
    cursor_ = cursor;
    last_n_ = n;
    return true;
}

void event_stream::on_tick(std::size_t queued, time_point now) {
    if (now < wakeup_) {
        return;
    }
    if (state_ == state::waiting_for_room) {
        state_ = state::closed;
        actions_.emplace_back(close_too_slow{});
    } else if (state_ == state::retry_wait) {
        queued_ = queued;
        read_more(now);
    }
}

void event_stream::close() {
    state_ = state::closed;
    actions_.clear();
    clear_keeping_small(held_);
}

bool event_stream::holds(const notice& n) const noexcept {
    const auto* m = n.message_event();
    return skip_own_echo_ && sends_in_flight_ > 0 && m != nullptr && m->sender_id == user_id_;
}

bool event_stream::release_held(std::size_t count, time_point now) {
    if (!push_batch(std::span(held_).first(count))) {
        // The rest, from the first one that did not fit, waits in storage after the cursor.
        clear_keeping_small(held_);
        read_more(now);
        return false;
    }
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(count));
    if (held_.empty()) {
        clear_keeping_small(held_);
    }
    return true;
}

bool event_stream::push_batch(std::span<const std::shared_ptr<const notice>> events) {
    for (const auto& e : events) {
        // The rest stays in storage, read again once the client has taken what is queued.
        if (queued_ > high_water()) {
            return false;
        }
        push_event(*e);
    }
    return true;
}

bool event_stream::push_read(const event_batch& batch) {
    if (!push_batch(batch.events)) {
        return false;
    }
    // Entries left out after the last event pushed (their messages were deleted by retention or
    // an erasure) are passed too: otherwise every later read would start before them again, and
    // every live notice would look like a gap.
    if (!batch.last_cursor.empty() && (!last_n_ || batch.last_n > *last_n_)) {
        cursor_ = batch.last_cursor;
        last_n_ = batch.last_n;
    }
    return true;
}

bool event_stream::full(const event_batch& batch) const noexcept {
    return std::max(batch.entries_read, batch.events.size()) >= opts_.batch;
}

void event_stream::push_event(const notice& n) {
    if (last_n_ && n.n <= *last_n_) {
        return;  // already pushed: a notice and a read raced
    }
    const auto& frame = frame_of(n);
    queued_ += frame->size();
    actions_.emplace_back(push{frame});
    cursor_ = n.cursor;
    last_n_ = n.n;
    const auto* m = n.message_event();
    (m != nullptr ? stats::message_events_pushed : stats::conversation_events_pushed).inc();
    if (m != nullptr && m->sender_id != user_id_) {
        remember_unacked(n, *m);
    }
}

// ---------------------------------------------------------------------------------------------
// Acks

void event_stream::remember_unacked(const notice& n, const message& m) {
    const auto pos = protocol::parse_cursor(n.cursor);
    if (!pos) {
        return;
    }
    if (unacked() >= opts_.max_unacked) {
        ++unacked_head_;  // a client that never acks: forget the oldest
        if (unacked_head_ >= opts_.max_unacked) {
            unacked_.erase(unacked_.begin(),
                           unacked_.begin() + static_cast<std::ptrdiff_t>(unacked_head_));
            unacked_head_ = 0;
        }
    }
    unacked_.push_back({*pos, m.conversation_id, m.seq, m.sender_id});
}

void event_stream::compact_unacked() {
    if (unacked_head_ == unacked_.size()) {
        unacked_.clear();
        unacked_head_ = 0;
    } else if (unacked_head_ > unacked_.size() / 2) {
        unacked_.erase(unacked_.begin(),
                       unacked_.begin() + static_cast<std::ptrdiff_t>(unacked_head_));
        unacked_head_ = 0;
    }
}

delivered_marks event_stream::take_marks(const protocol::cursor_position& up_to) {
    while (unacked_head_ < unacked_.size() && unacked_[unacked_head_].position <= up_to) {
        auto& u = unacked_[unacked_head_++];
        auto& mark = pending_marks_[u.conversation_id];
        if (u.seq > mark.seq) {
            mark.seq = u.seq;
            mark.to = std::move(u.sender);
        }
    }
    compact_unacked();
    delivered_marks marks;
    marks.reserve(pending_marks_.size());
    for (auto& [cid, m] : pending_marks_) {
        marks.push_back({cid, m.seq, std::move(m.to)});
    }
    pending_marks_.clear();
    return marks;
}

void event_stream::restore_marks(const delivered_marks& marks) {
    for (const auto& d : marks) {
        auto& m = pending_marks_[d.conversation_id];
        if (d.seq > m.seq) {
            m.seq = d.seq;
            m.to = d.to;
        }
    }
}

}  // namespace confide::routing
