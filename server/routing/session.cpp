#include "routing/session.hpp"

#include "auth/token_verifier.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/random_id.hpp"
#include "protocol/codec.hpp"
#include "protocol/validate.hpp"
#include "routing/presence_tracker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace confide::routing {
namespace {

// Unacked message events remembered for delivered receipts. A client that never acks loses
// receipts for the oldest ones only; marks are "up to seq", so a later ack covers them.
constexpr std::size_t max_unacked = 10'000;

// How long the pump waits before reading storage again after a failure.
constexpr std::chrono::milliseconds storage_retry{1000};

v1::Role to_wire(auth::role r) {
    return r == auth::role::client ? v1::CLIENT : v1::SPECIALIST;
}

}  // namespace

session::session(executor strand, services& svc, outbound& out, connection_info info)
    : strand_(std::move(strand)),
      svc_(svc),
      out_(out),
      info_(std::move(info)),
      log_prefix_("conn=" + info_.connection_id + " user=-"),
      created_(clock::now()),
      last_received_(created_),
      deadline_(strand_),
      request_bucket_(svc.config.request_rate, svc.config.request_burst, created_),
      typing_bucket_(svc.config.typing_rate, svc.config.typing_burst, created_),
      room_timer_(strand_) {}

void session::start() {
    arm_deadline();
}

// ---------------------------------------------------------------------------------------------
// Frames in

awaitable<void> session::on_frame(std::string_view bytes) {
    if (closed_) {
        co_return;
    }
    last_received_ = clock::now();
    auto frame = protocol::decode(bytes);
    if (!frame) {
        reply_error(protocol::peek_request_id(bytes), frame.error());
        co_return;
    }
    const std::uint64_t rid = frame->request_id();
    if (auto ok = protocol::validate_request(*frame, svc_.config.limits); !ok) {
        reply_error(rid, ok.error());
        co_return;
    }
    if (auto wait = request_bucket_.take(last_received_); wait.count() > 0) {
        reply_error(rid, fail(errc::rate_limited, "too many requests",
                              static_cast<std::uint32_t>(wait.count())));
        co_return;
    }
    if (!authenticated_ && frame->kind_case() != v1::Frame::kAuthenticate) {
        reply_error(rid, fail(errc::unauthenticated, "authenticate first"));
        go_away(close_code::unauthenticated, "authenticate first");
        co_return;
    }
    try {
        co_await dispatch(*frame);
    } catch (const std::exception& e) {
        // A bug, not the client's fault: answer, log, and keep the connection.
        log::error("{} request failed: {}", log_prefix_, e.what());
        reply_error(rid, fail(errc::internal, "internal error"));
    }
}

void session::on_text_frame() {
    if (closed_) {
        return;
    }
    last_received_ = clock::now();
    reply_error(0, fail(errc::invalid_argument,
                        "text frames are not accepted: send binary confide.v1.Frame messages"));
}

awaitable<void> session::dispatch(const v1::Frame& f) {
    const std::uint64_t rid = f.request_id();
    using K = v1::Frame::KindCase;
    switch (f.kind_case()) {
        case K::kAuthenticate:
            co_await authenticate(rid, f.authenticate());
            break;
        case K::kPing: {
            v1::Frame r;
            r.mutable_pong()->set_client_time_ms(f.ping().client_time_ms());
            r.mutable_pong()->set_server_time_ms(now_ms());
            reply(r, rid);
            break;
        }
        case K::kSync:
            co_await sync(rid, f.sync());
            break;
        case K::kAck:
            co_await ack(rid, f.ack());
            break;
        case K::kStartInquiry:
            co_await start_inquiry(rid, f.start_inquiry());
            break;
        case K::kSendMessage:
            co_await send_message(rid, f.send_message());
            break;
        case K::kMarkRead:
            co_await mark_read(rid, f.mark_read());
            break;
        case K::kTyping:
            co_await typing(rid, f.typing());
            break;
        case K::kSetPresence:
            co_await set_presence(rid, f.set_presence());
            break;
        case K::kListConversations:
            co_await list_conversations(rid, f.list_conversations());
            break;
        case K::kGetHistory:
            co_await get_history(rid, f.get_history());
            break;
        case K::kUpdateConversation:
            co_await update_conversation(rid, f.update_conversation());
            break;
        case K::kSignOut:
            co_await sign_out(rid);
            break;
        default:
            reply_error(rid, fail(errc::invalid_argument, "unknown request kind"));
            break;
    }
}

// ---------------------------------------------------------------------------------------------
// Replies

void session::reply(v1::Frame& frame, std::uint64_t rid) {
    if (closed_) {
        return;
    }
    frame.set_request_id(rid);
    out_.send(protocol::encode(frame));
}

void session::reply_ok(std::uint64_t rid) {
    v1::Frame f;
    f.mutable_ok();
    reply(f, rid);
}

void session::reply_error(std::uint64_t rid, const failure& f) {
    if (closed_) {
        return;
    }
    if (f.code == errc::internal) {
        log::error("{} internal error: {}", log_prefix_, f.message);
    }
    out_.send(protocol::encode_error(rid, f));
}

void session::reply_sent(std::uint64_t rid, const send_result& r,
                         const std::string& client_msg_id) {
    v1::Frame f;
    auto* s = f.mutable_sent();
    s->set_conversation_id(r.conversation_id);
    s->set_seq(r.seq);
    s->set_server_time_ms(r.server_time_ms);
    s->set_client_msg_id(client_msg_id);
    s->set_duplicate(r.duplicate);
    reply(f, rid);
}

void session::go_away(std::uint16_t code, const std::string& reason) {
    if (closed_) {
        return;
    }
    v1::Frame f;
    f.mutable_go_away()->set_close_code(code);
    f.mutable_go_away()->set_reason(reason);
    out_.send(protocol::encode(f));
    out_.close(code, reason);
}

// ---------------------------------------------------------------------------------------------
// Authentication

awaitable<void> session::authenticate(std::uint64_t rid, const v1::AuthenticateRequest& req) {
    if (authenticated_) {
        reply_error(rid, fail(errc::failed_precondition, "already authenticated"));
        co_return;
    }
    const std::string& token = req.token().empty() ? info_.bearer_token : req.token();
    if (token.empty()) {
        reply_error(rid, fail(errc::unauthenticated, "a token is required"));
        go_away(close_code::unauthenticated, "a token is required");
        co_return;
    }
    auto id = svc_.verifier.verify(token, now_ms());
    if (!id) {
        log::info("{} authentication refused: {}", log_prefix_, id.error().message);
        reply_error(rid, id.error());
        go_away(close_code::unauthenticated, id.error().message);
        co_return;
    }
    const std::string user = id->user_id;
    auto bound = co_await svc_.chat.bind_role(user, id->user_role);
    if (closed_) {
        co_return;
    }
    if (!bound) {
        reply_error(rid, bound.error());
        if (bound.error().code == errc::unauthenticated) {
            go_away(close_code::unauthenticated, bound.error().message);
        }
        co_return;
    }
    auto count = co_await svc_.presence.connect(user, info_.connection_id, now_ms());
    if (closed_) {
        if (count) {
            co_await svc_.presence.disconnect(user, info_.connection_id, false, now_ms());
        }
        co_return;
    }
    if (!count) {
        reply_error(rid, count.error());
        co_return;
    }
    if (*count > svc_.config.max_connections_per_user) {
        co_await svc_.presence.disconnect(user, info_.connection_id, false, now_ms());
        const std::string why = "too many connections for this user (at most " +
                                std::to_string(svc_.config.max_connections_per_user) + ")";
        reply_error(rid, fail(errc::failed_precondition, why));
        go_away(close_code::too_many_connections, why);
        co_return;
    }
    // Subscribed before anything is read from the stream: every event stored from now on is
    // either in what sync reads or announced by a notice.
    auto sub = co_await svc_.bus.subscribe(user, shared_from_this());
    if (!sub || closed_) {
        svc_.bus.unsubscribe(user, this);
        co_await svc_.presence.disconnect(user, info_.connection_id, false, now_ms());
        if (!sub) {
            reply_error(rid, sub.error());
        }
        co_return;
    }
    identity_ = std::move(*id);
    device_id_ = req.device_id();
    authenticated_ = true;
    log_prefix_ = "conn=" + info_.connection_id + " user=" + identity_.user_id;
    svc_.tracker.connection_opened(identity_.user_id, info_.connection_id);

    const std::int64_t valid_ms =
        identity_.expires_at_ms +
        std::chrono::duration_cast<std::chrono::milliseconds>(svc_.verifier.config().leeway)
            .count() -
        now_ms();
    token_expiry_ = clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(valid_ms, 0));
    arm_deadline();
    log::info("{} authenticated as {} device={} from {}", log_prefix_,
              auth::to_string(identity_.user_role), device_id_, info_.remote_address);

    v1::Frame f;
    auto* a = f.mutable_authenticated();
    a->set_user_id(identity_.user_id);
    a->set_role(to_wire(identity_.user_role));
    a->set_expires_at_ms(identity_.expires_at_ms);
    a->set_connection_id(info_.connection_id);
    a->set_server_time_ms(now_ms());
    auto* l = a->mutable_limits();
    const auto& cfg = svc_.config;
    l->set_max_frame_bytes(static_cast<std::uint32_t>(cfg.limits.max_frame_bytes));
    l->set_max_body_bytes(static_cast<std::uint32_t>(cfg.limits.max_body_bytes));
    l->set_heartbeat_interval_ms(static_cast<std::uint32_t>(cfg.heartbeat_interval.count()));
    l->set_send_rate_per_second(static_cast<std::uint32_t>(cfg.send_rate));
    l->set_send_burst(static_cast<std::uint32_t>(cfg.send_burst));
    reply(f, rid);
}

// ---------------------------------------------------------------------------------------------
// The event stream: sync, pump, notices, acks

awaitable<void> session::sync(std::uint64_t rid, const v1::SyncRequest& req) {
    const std::string& user = identity_.user_id;
    std::string cursor = req.after_cursor();
    std::uint64_t n = 0;
    live_ = false;
    syncing_ = true;
    struct end_of_sync {
        bool& syncing;
        ~end_of_sync() { syncing = false; }
    } guard{syncing_};
    if (cursor.empty()) {
        auto stored = co_await svc_.chat.device_cursor(user, device_id_);
        if (!stored) {
            reply_error(rid, stored.error());
            co_return;
        }
        cursor = std::move(stored->cursor);
        if (cursor.empty()) {
            // A new device. The user's first one gets everything kept for them (what was
            // written to them before they ever connected); a further one starts at the present
            // and loads the past through list_conversations / get_history.
            if (stored->user_has_devices) {
                auto end = co_await svc_.chat.stream_end(user);
                if (!end) {
                    reply_error(rid, end.error());
                    co_return;
                }
                cursor = end->first;
                n = end->second;
            } else {
                cursor = "0-0";
            }
            // Recorded at once, so that what arrives while this device is offline waits for it.
            auto saved = co_await svc_.chat.save_device_cursor(user, device_id_, cursor);
            if (!saved) {
                reply_error(rid, saved.error());
                co_return;
            }
        }
    }
    auto first = co_await svc_.chat.read_events(user, cursor, svc_.config.event_batch, true);
    if (closed_) {
        co_return;
    }
    if (!first) {
        reply_error(rid, first.error());
        co_return;
    }
    // A sync restarts the stream: a pump still running from an earlier one stops.
    ++pump_generation_;
    pumping_ = false;
    unacked_.clear();
    unacked_head_ = 0;
    cursor_ = cursor;
    last_n_ = n;  // known only for the present; otherwise the first event read sets it
    live_ = true;
    if (first->reset) {
        log::info("{} device={} cursor {} is gone: stream reset", log_prefix_, device_id_, cursor);
    }

    v1::Frame f;
    f.mutable_synced()->set_from_cursor(cursor);
    f.mutable_synced()->set_reset(first->reset);
    reply(f, rid);
    const bool all_sent = push_batch(first->events);
    // Notices that arrived while reading were held back (syncing_): the pump catches up on them,
    // as on a full batch (more may be waiting) or one that did not fit the outbound queue.
    syncing_ = false;
    if (wake_pending_ || !all_sent || first->events.size() == svc_.config.event_batch) {
        wake_pending_ = false;
        wake_pump();
    }
}

bool session::push_batch(const std::vector<std::shared_ptr<const notice>>& events) {
    const std::size_t high = svc_.config.max_outbound_bytes / 4;
    for (const auto& e : events) {
        // The rest stays in storage, read again once the client has taken what is queued.
        if (closed_ || out_.queued_bytes() > high) {
            return false;
        }
        push_event(*e);
    }
    return true;
}

void session::push_event(const notice& n) {
    if (closed_) {
        return;
    }
    if (last_n_ != 0 && n.n <= last_n_) {
        return;  // already sent: a notice and a read raced
    }
    out_.send(n.frame);
    cursor_ = n.cursor;
    last_n_ = n.n;
    if (!n.conversation_id.empty() && n.sender_id != identity_.user_id) {
        if (auto pos = protocol::parse_cursor(n.cursor)) {
            if (unacked_.size() - unacked_head_ >= max_unacked) {
                ++unacked_head_;  // a client that never acks: forget the oldest
                if (unacked_head_ >= max_unacked) {
                    unacked_.erase(unacked_.begin(),
                                   unacked_.begin() + static_cast<std::ptrdiff_t>(unacked_head_));
                    unacked_head_ = 0;
                }
            }
            unacked_.push_back({*pos, n.conversation_id, n.seq});
        }
    }
}

void session::wake_pump() {
    if (!live_ || closed_) {
        return;
    }
    if (pumping_) {
        wake_pending_ = true;
        return;
    }
    pumping_ = true;
    asio::co_spawn(strand_, pump(shared_from_this()), log_exception{"event pump"});
}

awaitable<void> session::pump(std::shared_ptr<session> self) {
    const std::uint64_t generation = self->pump_generation_;
    auto current = [&] { return !self->closed_ && self->pump_generation_ == generation; };
    do {
        self->wake_pending_ = false;
        bool more = true;
        while (more && current()) {
            if (!co_await self->wait_for_room() || !current()) {
                break;
            }
            auto batch = co_await self->svc_.chat.read_events(
                self->identity_.user_id, self->cursor_, self->svc_.config.event_batch, false);
            if (!current()) {
                break;
            }
            if (!batch) {
                // Storage is down: the events are safe there; try again shortly.
                asio::steady_timer t(self->strand_, storage_retry);
                co_await t.async_wait(use_nothrow);
                continue;
            }
            more = !self->push_batch(batch->events) ||
                   batch->events.size() == self->svc_.config.event_batch;
        }
    } while (current() && self->wake_pending_);
    if (self->pump_generation_ == generation) {
        self->pumping_ = false;
    }
}

awaitable<bool> session::wait_for_room() {
    const std::size_t high = svc_.config.max_outbound_bytes / 4;
    if (out_.queued_bytes() <= high) {
        co_return true;
    }
    waiting_for_room_ = true;
    room_timer_.expires_after(svc_.config.stalled_reader_timeout);
    auto [ec] = co_await room_timer_.async_wait(use_nothrow);
    waiting_for_room_ = false;
    if (closed_) {
        co_return false;
    }
    if (!ec) {
        log::info("{} client stopped reading: closing", log_prefix_);
        go_away(close_code::too_slow, "you stopped reading: reconnect and resume from your cursor");
        co_return false;
    }
    co_return true;
}

void session::on_written() {
    if (waiting_for_room_ && out_.queued_bytes() <= svc_.config.max_outbound_bytes / 8) {
        room_timer_.cancel();
    }
}

void session::on_notice(std::shared_ptr<const notice> n) {
    asio::post(strand_, [self = shared_from_this(), n = std::move(n)] { self->handle_notice(n); });
}

void session::on_bus_reset() {
    asio::post(strand_, [self = shared_from_this()] {
        self->last_n_ = 0;
        self->wake_pump();
    });
}

void session::handle_notice(const std::shared_ptr<const notice>& n) {
    if (closed_ || !authenticated_) {
        return;
    }
    if (n->type != notice::kind::event) {
        // Live-only signals: receipts, presence, typing.
        out_.send(n->frame);
        return;
    }
    if (!live_) {
        wake_pending_ = wake_pending_ || syncing_;  // a sync is reading: check again after it
        return;
    }
    if (pumping_) {
        wake_pending_ = true;
        return;
    }
    if (last_n_ != 0 && n->n <= last_n_) {
        return;
    }
    if (last_n_ != 0 && n->n == last_n_ + 1 &&
        out_.queued_bytes() <= svc_.config.max_outbound_bytes / 4) {
        push_event(*n);  // the common case: in order, no storage read needed
        return;
    }
    wake_pump();
}

awaitable<void> session::ack(std::uint64_t rid, const v1::AckRequest& req) {
    const auto pos = protocol::parse_cursor(req.cursor());
    if (!pos) {
        reply_error(rid, fail(errc::invalid_argument, "cursor is malformed"));
        co_return;
    }
    while (unacked_head_ < unacked_.size() && unacked_[unacked_head_].position <= *pos) {
        const auto& u = unacked_[unacked_head_++];
        auto& mark = pending_marks_[u.conversation_id];
        mark = std::max(mark, u.seq);
    }
    if (unacked_head_ == unacked_.size()) {
        unacked_.clear();
        unacked_head_ = 0;
    } else if (unacked_head_ > unacked_.size() / 2) {
        unacked_.erase(unacked_.begin(),
                       unacked_.begin() + static_cast<std::ptrdiff_t>(unacked_head_));
        unacked_head_ = 0;
    }
    std::vector<std::pair<std::string, std::uint64_t>> marks(pending_marks_.begin(),
                                                             pending_marks_.end());
    pending_marks_.clear();
    auto r = co_await svc_.chat.ack(identity_.user_id, device_id_, req.cursor(), marks);
    if (!r) {
        // Kept for the next ack: the marks only move forward, so sending them again is safe.
        for (auto& [cid, seq] : marks) {
            auto& m = pending_marks_[cid];
            m = std::max(m, seq);
        }
        reply_error(rid, r.error());
    }
}

// ---------------------------------------------------------------------------------------------
// Conversations and messages

std::uint32_t session::page_size(std::uint32_t requested) const noexcept {
    // Validation already refused more than the maximum; 0 means "the default".
    return requested == 0 ? svc_.config.limits.default_page : requested;
}

bool session::admit_send(std::uint64_t rid) {
    auto wait = svc_.send_limits.take(identity_.user_id, clock::now());
    if (wait.count() == 0) {
        return true;
    }
    reply_error(rid, fail(errc::rate_limited, "too many messages: slow down",
                          static_cast<std::uint32_t>(wait.count())));
    return false;
}

awaitable<void> session::start_inquiry(std::uint64_t rid, const v1::StartInquiryRequest& req) {
    if (identity_.user_role != auth::role::client) {
        reply_error(rid, fail(errc::forbidden, "only clients can start an inquiry"));
        co_return;
    }
    if (!admit_send(rid)) {
        co_return;
    }
    inquiry_command cmd;
    cmd.client_id = identity_.user_id;
    cmd.specialist_id = req.specialist_id();
    cmd.client_msg_id = req.client_msg_id();
    cmd.body = req.body();
    cmd.free_consultation = req.free_consultation();
    cmd.new_conversation_id = random_hex_id();
    cmd.now_ms = now_ms();
    auto r = co_await svc_.chat.start_inquiry(std::move(cmd));
    if (!r) {
        reply_error(rid, r.error());
        co_return;
    }
    reply_sent(rid, *r, req.client_msg_id());
}

awaitable<void> session::send_message(std::uint64_t rid, const v1::SendMessageRequest& req) {
    if (!admit_send(rid)) {
        co_return;
    }
    send_command cmd;
    cmd.sender_id = identity_.user_id;
    cmd.conversation_id = req.conversation_id();
    cmd.client_msg_id = req.client_msg_id();
    cmd.body = req.body();
    cmd.now_ms = now_ms();
    auto r = co_await svc_.chat.send_message(std::move(cmd));
    if (!r) {
        reply_error(rid, r.error());
        co_return;
    }
    reply_sent(rid, *r, req.client_msg_id());
}

awaitable<void> session::mark_read(std::uint64_t rid, const v1::MarkReadRequest& req) {
    auto r =
        co_await svc_.chat.mark_read(identity_.user_id, req.conversation_id(), req.up_to_seq());
    if (!r) {
        reply_error(rid, r.error());
        co_return;
    }
    reply_ok(rid);
}

awaitable<void> session::typing(std::uint64_t rid, const v1::TypingRequest& req) {
    if (auto wait = typing_bucket_.take(clock::now()); wait.count() > 0) {
        reply_error(rid, fail(errc::rate_limited, "too many typing notices",
                              static_cast<std::uint32_t>(wait.count())));
        co_return;
    }
    auto other = co_await svc_.chat.other_party(identity_.user_id, req.conversation_id());
    if (!other) {
        reply_error(rid, other.error());
        co_return;
    }
    svc_.bus.publish_typing(std::move(*other), req.conversation_id(), identity_.user_id,
                            req.typing());
    reply_ok(rid);
}

awaitable<void> session::set_presence(std::uint64_t rid, const v1::SetPresenceRequest& req) {
    auto r = co_await svc_.presence.set_status(identity_.user_id, req.state(), now_ms());
    if (!r) {
        reply_error(rid, r.error());
        co_return;
    }
    reply_ok(rid);
}

awaitable<void> session::list_conversations(std::uint64_t rid,
                                            const v1::ListConversationsRequest& req) {
    auto r = co_await svc_.chat.list_conversations(identity_.user_id, page_size(req.limit()));
    if (!r) {
        reply_error(rid, r.error());
        co_return;
    }
    v1::Frame f;
    auto* out = f.mutable_conversations();
    for (auto& c : *r) {
        *out->add_conversations() = std::move(c);
    }
    reply(f, rid);
}

awaitable<void> session::get_history(std::uint64_t rid, const v1::GetHistoryRequest& req) {
    const auto& lim = svc_.config.limits;
    const std::uint32_t limit = req.limit() == 0 ? lim.default_page : req.limit();
    auto r = co_await svc_.chat.history(identity_.user_id, req.conversation_id(), req.before_seq(),
                                        limit);
    if (!r) {
        reply_error(rid, r.error());
        co_return;
    }
    v1::Frame f;
    *f.mutable_history() = std::move(*r);
    reply(f, rid);
}

awaitable<void> session::update_conversation(std::uint64_t rid,
                                             const v1::UpdateConversationRequest& req) {
    auto r = co_await svc_.chat.update_conversation(identity_.user_id, req.conversation_id(),
                                                    req.action(), now_ms());
    if (!r) {
        reply_error(rid, r.error());
        co_return;
    }
    v1::Frame f;
    *f.mutable_conversation()->mutable_conversation() = std::move(*r);
    reply(f, rid);
}

awaitable<void> session::sign_out(std::uint64_t rid) {
    signed_out_ = true;
    reply_ok(rid);
    log::info("{} signed out", log_prefix_);
    out_.close(close_code::normal, "signed out");
    co_return;
}

// ---------------------------------------------------------------------------------------------
// Deadlines and the end

void session::arm_deadline() {
    if (closed_) {
        return;
    }
    const auto idle_limit = 3 * svc_.config.heartbeat_interval;
    auto next = last_received_ + idle_limit;
    if (!authenticated_) {
        next = std::min(next, created_ + svc_.config.auth_timeout);
    } else {
        next = std::min(next, token_expiry_);
    }
    deadline_.expires_at(next);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) {
            self->on_deadline();
        }
    });
}

void session::on_deadline() {
    if (closed_) {
        return;
    }
    const auto now = clock::now();
    if (!authenticated_ && now >= created_ + svc_.config.auth_timeout) {
        log::info("{} not authenticated in time", log_prefix_);
        go_away(close_code::unauthenticated, "not authenticated in time");
    } else if (authenticated_ && now >= token_expiry_) {
        log::info("{} token expired", log_prefix_);
        go_away(close_code::token_expired, "token expired: reconnect with a fresh token");
    } else if (now >= last_received_ + 3 * svc_.config.heartbeat_interval) {
        log::info("{} heartbeat missed", log_prefix_);
        go_away(close_code::heartbeat_missed, "no heartbeat: reconnect");
    } else {
        arm_deadline();
    }
}

awaitable<void> session::on_closed() {
    if (closed_) {
        co_return;
    }
    closed_ = true;
    ++pump_generation_;
    deadline_.cancel();
    room_timer_.cancel();
    if (!authenticated_) {
        co_return;
    }
    const std::string& user = identity_.user_id;
    svc_.bus.unsubscribe(user, this);
    svc_.tracker.connection_closed(user, info_.connection_id, signed_out_);
    auto r = co_await svc_.presence.disconnect(user, info_.connection_id, signed_out_, now_ms());
    if (!r) {
        // The entry expires by itself; the sweeper then reports the user as lost.
        log::warn("{} presence not updated on close: {}", log_prefix_, r.error().message);
    }
    log::info("{} closed", log_prefix_);
}

std::shared_ptr<connection_handler> session_factory::create(executor strand, outbound& out,
                                                            connection_info info) {
    auto s = std::make_shared<session>(std::move(strand), svc_, out, std::move(info));
    s->start();
    return s;
}

}  // namespace confide::routing
