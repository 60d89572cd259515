#include "core.hpp"
#include "wire_directory.hpp"

#include "confide/v1/confide.pb.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <utility>

namespace confide::client::detail {

namespace {

// The directory's conversions (wire_directory.hpp) overload these: one overload set.
using detail::from_proto;
using std::chrono::milliseconds;

// A connection that stayed up this long resets the reconnect backoff. Resetting on every
// successful authenticate would let a server that accepts and then drops us at once turn the
// client into a tight reconnect loop.
constexpr auto stable_connection = std::chrono::seconds(10);

// After a final refusal of authenticate, how long the server gets to send the GoAway that
// says why.
constexpr auto auth_failure_grace = std::chrono::seconds(2);

// Events per ack at most, so a long catch-up moves the server's cursor as it goes.
constexpr unsigned ack_every_events = 100;

// An ack that only covers our own messages' events (skip_own_echo) waits this many ack delays
// for company: at W (a client sending ten messages a second and receiving few) it is one ack
// per ten sends instead of one per send.
constexpr int own_event_ack_delays = 10;

// Per conversation: how many seen seqs and own sent messages are remembered.
constexpr std::size_t seen_capacity = 1024;
constexpr std::size_t own_capacity = 1024;

constexpr auto never = clock::time_point::max();

error make_error(error_code code, std::string text, bool retryable) {
    return error{code, std::move(text), retryable, 0};
}

error not_connected() {
    return make_error(error_code::not_connected, "not connected", true);
}

error from_proto(const v1::ErrorReply& e) {
    error out;
    const int code = static_cast<int>(e.code());
    out.code = code >= 1 && code <= 10 ? static_cast<error_code>(code) : error_code::internal;
    out.message = e.message();
    out.retryable = e.retryable();
    out.retry_after_ms = e.retry_after_ms();
    return out;
}

error unexpected_reply() {
    return make_error(error_code::protocol_error, "unexpected reply from the server", false);
}

role from_proto(v1::Role r) {
    switch (r) {
        case v1::CLIENT:
            return role::client;
        case v1::SPECIALIST:
            return role::specialist;
        default:
            return role::unknown;
    }
}

conversation_state from_proto(v1::ConversationState s) {
    switch (s) {
        case v1::INQUIRY:
            return conversation_state::inquiry;
        case v1::ACTIVE:
            return conversation_state::active;
        case v1::DECLINED:
            return conversation_state::declined;
        case v1::CLOSED:
            return conversation_state::closed;
        case v1::EXPIRED:
            return conversation_state::expired;
        case v1::ERASED:
            return conversation_state::erased;
        default:
            return conversation_state::unknown;
    }
}

message from_proto(const v1::Message& m, const std::string& me) {
    message out;
    out.conversation_id = m.conversation_id();
    out.seq = m.seq();
    out.sender_id = m.sender_id();
    out.client_msg_id = m.client_msg_id();
    out.body = m.body();
    out.server_time_ms = m.server_time_ms();
    out.outgoing = !me.empty() && m.sender_id() == me;
    return out;
}

conversation from_proto(const v1::Conversation& c, const std::string& me) {
    conversation out;
    out.id = c.id();
    out.client_id = c.client_id();
    out.specialist_id = c.specialist_id();
    out.state = from_proto(c.state());
    out.free_consultation = c.free_consultation();
    out.created_ms = c.created_ms();
    out.updated_ms = c.updated_ms();
    out.last_seq = c.last_seq();
    if (c.has_last_message()) {
        out.last_message = from_proto(c.last_message(), me);
    }
    out.unread_count = c.unread_count();
    out.read_seq = c.read_seq();
    out.other_read_seq = c.other_read_seq();
    out.other_delivered_seq = c.other_delivered_seq();
    if (c.has_other_presence()) {
        out.other_presence = from_proto(c.other_presence());
    }
    out.topic = c.topic();
    out.preferred_times = from_proto(c.preferred_times());
    out.expires_at_ms = c.expires_at_ms();
    out.decline_reason = decline_reason_from_proto(c.decline_reason());
    return out;
}

// Invokes `done` with `r` when there is a handler.
template <class Handler, class Result>
std::function<void()> bind_handler(Handler done, Result r) {
    return [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); };
}

}  // namespace

clock::duration backoff_delay(unsigned attempt, milliseconds min, milliseconds max,
                              jitter_rng& rng) {
    min = std::max(min, milliseconds(0));
    max = std::max(max, min);
    auto cap = std::max(min, milliseconds(1));
    for (unsigned i = 0; i < attempt && cap < max; ++i) {
        cap *= 2;
    }
    cap = std::min(cap, max);
    std::uniform_int_distribution<milliseconds::rep> pick(min.count(), std::max(min, cap).count());
    return milliseconds(pick(rng));
}

class frame_buffers {
public:
    v1::Frame in;   // the frame being handled
    v1::Frame out;  // see core::scratch_frame()
};

std::shared_ptr<frame_buffers> make_frame_buffers() {
    return std::make_shared<frame_buffers>();
}

core::core(options opts, std::uint64_t seed, tuning t)
    : opts_(std::move(opts)),
      tuning_(std::move(t)),
      rng_(static_cast<jitter_rng::result_type>(seed ^ (seed >> 32))),
      buffers_(tuning_.buffers ? tuning_.buffers : make_frame_buffers()),
      outbox_(tuning_.in_flight_per_conversation, tuning_.in_flight_per_connection) {}

core::~core() = default;

std::vector<action> core::take_actions() {
    return std::exchange(actions_, {});
}

void core::take_actions(std::vector<action>& into) {
    into.clear();
    std::swap(into, actions_);
}

// ---- lifecycle --------------------------------------------------------------------------------

void core::start(clock::time_point now) {
    if (started_) {
        return;
    }
    started_ = true;
    attempt_ = 0;
    auth_rejections_ = 0;
    if (!cursor_loaded_) {
        cursor_loaded_ = true;
        if (cursor_.empty() && opts_.load_cursor) {
            // A failing hook must not prevent connecting: we then resume from the server's
            // stored cursor, which is what an empty cursor means.
            try {
                cursor_ = opts_.load_cursor();
                saved_cursor_ = cursor_;
            } catch (...) {
                cursor_.clear();
            }
        }
    }
    begin_attempt(now);
}

void core::stop(clock::time_point /*now*/) {
    if (!started_) {
        return;
    }
    if (phase_ == phase::connected) {
        flush_ack();
    }
    enter_closed(close_reason::stopped, "stopped");
}

void core::begin_attempt(clock::time_point now) {
    std::string token;
    try {
        token = opts_.token_provider ? opts_.token_provider() : std::string();
    } catch (const std::exception& e) {
        reconnect_with_backoff(std::string("token provider failed: ") + e.what(), now);
        return;
    } catch (...) {
        reconnect_with_backoff("token provider failed", now);
        return;
    }
    if (token.empty()) {
        enter_closed(close_reason::token_rejected, "the token provider returned no token");
        return;
    }
    token_ = std::move(token);
    conn_ = ++last_conn_;
    phase_ = phase::opening;
    attempt_deadline_ = now + opts_.connect_timeout;
    report(state_change{connection_state::connecting, close_reason::none, {}, {}, {}, {}, {}});
    actions_.emplace_back(open_connection{conn_});
}

void core::on_open(conn_id id, clock::time_point now) {
    if (id != conn_ || phase_ != phase::opening) {
        return;
    }
    phase_ = phase::authenticating;
    last_received_ = now;
    v1::Frame f;
    auth_request_ = next_request_id();
    f.set_request_id(auth_request_);
    auto* a = f.mutable_authenticate();
    a->set_token(std::exchange(token_, {}));
    a->set_device_id(opts_.device_id);
    send(f);
}

void core::on_close(conn_id id, const close_info& info, clock::time_point now) {
    if (id != conn_ || conn_ == 0) {
        return;
    }
    // Our side of the connection is gone already; only the decision what to do next remains.
    conn_ = 0;
    if (info.certificate_refused) {
        // Trust is configuration: another attempt meets the same certificate.
        drop_connection(false, 1000);
        enter_closed(close_reason::certificate_refused, info.reason);
        return;
    }
    connection_ended(info.code, info.reason, now);
}

void core::reconnect(clock::time_point now) {
    if (phase_ != phase::opening && phase_ != phase::authenticating && phase_ != phase::connected) {
        return;
    }
    drop_connection(false, 1000);
    schedule_reconnect(quick_delay(), "reconnect requested", now);
}

void core::drop_connection(bool graceful, std::uint16_t code) {
    if (conn_ != 0) {
        actions_.emplace_back(close_connection{conn_, code, graceful});
        conn_ = 0;
    }
    phase_ = phase::idle;
    auth_request_ = 0;
    auth_failure_.reset();
    sync_request_ = 0;
    ack_at_.reset();
    acked_cursor_.clear();
    unacked_events_ = 0;
    outbox_.reset();
    fail_requests(not_connected());
}

void core::connection_ended(std::uint16_t code, const std::string& reason, clock::time_point now) {
    const bool stable = phase_ == phase::connected && now - connected_at_ >= stable_connection;
    auto auth_failure = std::exchange(auth_failure_, std::nullopt);
    if (code == 1000 && signing_out_) {
        // The server may close before its reply to sign_out reaches us: the close is the answer.
        if (auto done = std::exchange(sign_out_done_, nullptr)) {
            complete([done] { done(std::nullopt); });
        }
    }
    signing_out_ = false;
    // Graceful for a GoAway (the connection still works); a no-op after on_close.
    drop_connection(true, 1000);
    if (stable) {
        attempt_ = 0;
    }
    std::string detail = reason.empty() ? std::string("connection lost") : reason;
    if (code != 0) {
        detail = "closed by server (" + std::to_string(code) + (reason.empty() ? "" : " ") +
                 reason + ")";
    }
    if (auth_failure && code != 4001 && code != 4002 && code != 4004) {
        // Refused for a reason the close code does not name: retrying would not help.
        enter_closed(close_reason::protocol_error, std::move(*auth_failure));
        return;
    }
    switch (code) {
        case 1000:
            enter_closed(close_reason::signed_out, detail);
            return;
        case 1008:
        case 1009:
            enter_closed(close_reason::protocol_error, detail);
            return;
        case 4001:
            // An expired token is routine: come back at once with a fresh one. The jitter keeps
            // the devices of one user from reconnecting in lockstep.
            schedule_reconnect(quick_delay(), "token expired", now);
            return;
        case 4002:
            token_rejected(detail, now);
            return;
        case 4004:
            enter_closed(close_reason::too_many_connections, detail);
            return;
        case 4006:
            // Automatic logoff: the person signs in again; reconnecting by itself would undo it.
            enter_closed(close_reason::idle_logoff, "signed out after inactivity");
            return;
        default:
            // 1001 going away, 4003 too slow, 4005 heartbeat missed, resets: resume elsewhere
            // or later from the cursor.
            reconnect_with_backoff(detail, now);
            return;
    }
}

void core::schedule_reconnect(clock::duration delay, std::string detail, clock::time_point now) {
    phase_ = phase::waiting;
    reconnect_at_ = now + delay;
    report(state_change{connection_state::connection_lost,
                        close_reason::none,
                        reconnect_at_,
                        std::move(detail),
                        {},
                        {},
                        {}});
}

clock::duration core::quick_delay() {
    std::uniform_int_distribution<milliseconds::rep> pick(
        0, std::max(opts_.reconnect_min, milliseconds(0)).count());
    return milliseconds(pick(rng_));
}

void core::reconnect_with_backoff(std::string detail, clock::time_point now) {
    const auto delay = backoff_delay(attempt_, opts_.reconnect_min, opts_.reconnect_max, rng_);
    if (attempt_ < std::numeric_limits<unsigned>::max()) {
        ++attempt_;
    }
    schedule_reconnect(delay, std::move(detail), now);
}

void core::token_rejected(std::string detail, clock::time_point now) {
    drop_connection(false, 1000);
    ++auth_rejections_;
    // The provider may have handed out a token that expired a moment ago: one retry with a
    // fresh token is reasonable; a second rejection in a row will not get better by retrying.
    if (auth_rejections_ >= 2) {
        enter_closed(close_reason::token_rejected, std::move(detail));
        return;
    }
    if (reported_ != connection_state::connecting) {
        schedule_reconnect(quick_delay(), std::move(detail), now);
        return;
    }
    // A refusal while connecting: the attempt goes on with a fresh token, so nothing is
    // reported ("connection lost" here read as a network problem just before "token rejected",
    // issue 12). The short jitter is all the wait.
    phase_ = phase::waiting;
    reconnect_at_ = now + quick_delay();
}

void core::enter_closed(close_reason reason, std::string detail) {
    drop_connection(true, 1000);
    started_ = false;
    signing_out_ = false;
    report(state_change{connection_state::closed, reason, {}, std::move(detail), {}, {}, {}});
}

void core::report(state_change s) {
    reported_ = s.state;
    actions_.emplace_back(notify{std::move(s)});
}

// ---- frames -----------------------------------------------------------------------------------

v1::Frame& core::scratch_frame() {
    buffers_->out.Clear();
    return buffers_->out;
}

void core::send(v1::Frame& frame) {
    if (conn_ == 0) {
        return;
    }
    sent_since_ping_ = true;
    if (tuning_.watcher != nullptr) {
        tuning_.watcher->on_sending(frame);
    }
    actions_.emplace_back(send_frame{conn_, frame.SerializeAsString()});
}

void core::on_frame(conn_id id, std::string_view bytes, clock::time_point now) {
    if (id != conn_ || conn_ == 0 ||
        (phase_ != phase::authenticating && phase_ != phase::connected)) {
        return;
    }
    last_received_ = now;
    // Reused: parsing into a cleared message keeps its allocations. Nothing re-enters on_frame
    // (of this core, or of another sharing the buffers) while `frame` is in use.
    v1::Frame& frame = buffers_->in;
    if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        if (tuning_.watcher != nullptr) {
            tuning_.watcher->on_malformed();
        }
        drop_connection(false, 1000);
        reconnect_with_backoff("malformed frame from the server", now);
        return;
    }
    if (tuning_.watcher != nullptr) {
        tuning_.watcher->on_received(frame);
    }
    const auto rid = frame.request_id();
    if (rid == 0) {
        handle_push(frame, now);
        return;
    }
    if (rid == auth_request_) {
        handle_auth_reply(frame, now);
        return;
    }
    if (phase_ != phase::connected) {
        return;
    }
    if (rid == sync_request_) {
        handle_sync_reply(frame, now);
        return;
    }
    if (frame.has_sent() && !frame.sent().cursor().empty()) {
        // Our own message's event, which the server will not push to this connection: it is
        // the next event whether or not the reply still finds its request (it may have timed
        // out and gone again; the retry is then answered as a duplicate, without a cursor).
        event_processed(frame.sent().cursor(), now, true);
    }
    if (auto* item = outbox_.take_request(rid)) {
        handle_send_reply(*item, frame, now);
        return;
    }
    if (auto it = requests_.find(rid); it != requests_.end()) {
        auto req = std::move(it->second);
        requests_.erase(it);
        if (frame.has_error()) {
            req.on_error(from_proto(frame.error()));
        } else {
            req.on_reply(frame);
        }
        return;
    }
    // Pongs, failed acks and replies to requests already timed out need nothing.
}

void core::handle_auth_reply(const v1::Frame& frame, clock::time_point now) {
    auth_request_ = 0;
    if (frame.has_error()) {
        const auto e = from_proto(frame.error());
        if (e.code == error_code::unauthenticated) {
            token_rejected("token rejected: " + e.message, now);
        } else if (e.retryable) {
            drop_connection(true, 1000);
            reconnect_with_backoff("authenticate failed: " + e.message, now);
        } else {
            // The server follows a final refusal with a GoAway and a close whose code says
            // what it was (4004: too many connections). Wait for it, briefly, rather than
            // guess from the reply.
            auth_failure_ = "authenticate failed: " + e.message;
            attempt_deadline_ = std::min(attempt_deadline_, now + auth_failure_grace);
        }
        return;
    }
    if (!frame.has_authenticated()) {
        drop_connection(false, 1000);
        reconnect_with_backoff("unexpected reply to authenticate", now);
        return;
    }
    const auto& a = frame.authenticated();
    phase_ = phase::connected;
    auth_rejections_ = 0;
    connected_at_ = now;
    user_id_ = a.user_id();
    if (a.limits().max_body_bytes() > 0) {
        max_body_bytes_ = a.limits().max_body_bytes();
    }
    ping_interval_ = opts_.heartbeat_timeout / 3;
    if (a.limits().heartbeat_interval_ms() > 0) {
        ping_interval_ = std::min<clock::duration>(
            ping_interval_, milliseconds(a.limits().heartbeat_interval_ms()));
    }
    if (ping_interval_ <= clock::duration::zero()) {
        ping_interval_ = std::chrono::seconds(5);
    }
    next_ping_ = now + ping_interval_;
    state_change connected{connection_state::connected,
                           close_reason::none,
                           {},
                           {},
                           user_id_,
                           from_proto(a.role()),
                           {}};
    if (a.has_safety_notice()) {
        connected.safety_notice = from_proto(a.safety_notice());
    }
    connected.retention_days = a.limits().retention_days();
    connected.retention_s = a.limits().retention_s();
    report(std::move(connected));

    v1::Frame sync;
    sync_request_ = next_request_id();
    sync_resumes_ = !cursor_.empty();
    sync.set_request_id(sync_request_);
    sync.mutable_sync()->set_after_cursor(cursor_);
    sync.mutable_sync()->set_skip_own_echo(opts_.skip_own_echo);
    send(sync);
    // The cursor may have been processed but not acked (or the ack lost) on the last
    // connection; acking again is cheap and makes the senders' "delivered" catch up.
    if (!cursor_.empty()) {
        ack_at_ = now + opts_.ack_delay;
    }
    pump_outbox(now);
}

void core::handle_sync_reply(const v1::Frame& frame, clock::time_point now) {
    sync_request_ = 0;
    if (frame.has_error()) {
        const auto e = from_proto(frame.error());
        if (!e.retryable) {
            // A cursor the server cannot parse would fail forever: fall back to the server's
            // stored cursor and let the application reload.
            cursor_.clear();
            actions_.emplace_back(notify{reset_notice{}});
        }
        drop_connection(true, 1000);
        reconnect_with_backoff("sync failed: " + e.message, now);
        return;
    }
    if (!frame.has_synced()) {
        drop_connection(false, 1000);
        reconnect_with_backoff("unexpected reply to sync", now);
        return;
    }
    if (frame.synced().reset()) {
        actions_.emplace_back(notify{reset_notice{}});
    }
    if (cursor_.empty()) {
        cursor_ = frame.synced().from_cursor();
    }
    actions_.emplace_back(notify{synced_notice{sync_resumes_, frame.synced().reset()}});
}

void core::handle_push(const v1::Frame& frame, clock::time_point now) {
    if (frame.has_go_away()) {
        // The server closes right after this; acting now spares waiting for the close frame,
        // which may never come through a dying connection.
        const auto code = static_cast<std::uint16_t>(frame.go_away().close_code());
        connection_ended(code, frame.go_away().reason(), now);
        return;
    }
    if (phase_ != phase::connected) {
        return;
    }
    switch (frame.kind_case()) {
        case v1::Frame::kEvent:
            handle_event(frame.event(), now);
            break;
        case v1::Frame::kReceipt: {
            if (tuning_.lean) {
                break;
            }
            const auto& r = frame.receipt();
            const bool read = r.kind() == v1::READ;
            // A READ receipt with our own user id comes from another of our devices: it says
            // nothing about our messages' ticks.
            if (r.user_id() != user_id_) {
                apply_marks(r.conversation_id(), r.up_to_seq(), read ? r.up_to_seq() : 0);
            }
            actions_.emplace_back(notify{
                receipt{r.conversation_id(), r.user_id(),
                        read ? receipt_kind::read : receipt_kind::delivered, r.up_to_seq()}});
            break;
        }
        case v1::Frame::kPresence:
            if (!tuning_.lean) {
                actions_.emplace_back(notify{from_proto(frame.presence().presence())});
            }
            break;
        case v1::Frame::kTypingPush:
            if (!tuning_.lean) {
                const auto& t = frame.typing_push();
                actions_.emplace_back(notify{typing{t.conversation_id(), t.user_id(), t.typing()}});
            }
            break;
        default:
            break;
    }
}

void core::handle_event(const v1::EventPush& event, clock::time_point now) {
    if (event.has_message()) {
        const auto& m = event.message();
        // Lean, nothing is reported from events: only an own message still queued matters.
        if (tuning_.lean || first_sight(m.conversation_id(), m.seq())) {
            const auto* own = m.sender_id() == user_id_ ? outbox_.find(m.client_msg_id()) : nullptr;
            if (own != nullptr) {
                // Our own message came back before its SendReply (or its reply was lost with
                // the last connection): it is stored, so it is sent.
                mark_sent(*own, m.conversation_id(), m.seq(), m.server_time_ms(), nullptr);
                pump_outbox(now);
            } else if (!tuning_.lean) {
                actions_.emplace_back(notify{from_proto(m, user_id_)});
            }
        }
    } else if (event.has_conversation() && !tuning_.lean) {
        apply_conversation_marks(event.conversation());
        actions_.emplace_back(notify{from_proto(event.conversation(), user_id_)});
    }
    if (!event.cursor().empty()) {
        event_processed(event.cursor(), now);
    }
}

void core::send_ping(clock::time_point now) {
    auto& f = scratch_frame();
    f.set_request_id(next_request_id());
    f.mutable_ping()->set_client_time_ms(
        std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count());
    send(f);
}

// ---- time -------------------------------------------------------------------------------------

void core::on_tick(clock::time_point now) {
    switch (phase_) {
        case phase::waiting:
            if (now >= reconnect_at_) {
                begin_attempt(now);
            }
            break;
        case phase::opening:
        case phase::authenticating:
            if (now >= attempt_deadline_) {
                if (auto failure = std::exchange(auth_failure_, std::nullopt)) {
                    enter_closed(close_reason::protocol_error, std::move(*failure));
                    break;
                }
                drop_connection(false, 1000);
                reconnect_with_backoff("connect timeout", now);
            }
            break;
        case phase::connected:
            if (opts_.heartbeat_timeout > milliseconds(0) &&
                now - last_received_ >= opts_.heartbeat_timeout) {
                // Half-open connections are exactly the ones TCP does not report: only the
                // silence of the server tells.
                drop_connection(false, 1000);
                reconnect_with_backoff("heartbeat timeout", now);
                break;
            }
            if (now >= next_ping_) {
                // A ping is for the server to hear from us and for us to hear from it: traffic
                // both ways since the last check did both already.
                if (!sent_since_ping_ || now - last_received_ >= ping_interval_) {
                    send_ping(now);
                }
                sent_since_ping_ = false;
                next_ping_ = now + ping_interval_;
            }
            break;
        case phase::idle:
            break;
    }
    if (phase_ != phase::connected) {
        return;
    }
    if (ack_at_ && now >= *ack_at_) {
        flush_ack();
    }
    std::vector<std::uint64_t> expired;
    for (const auto& [id, req] : requests_) {
        if (now >= req.deadline) {
            expired.push_back(id);
        }
    }
    for (auto id : expired) {
        auto req = std::move(requests_.at(id));
        requests_.erase(id);
        req.on_error(make_error(error_code::timeout, "no reply from the server", true));
    }
    // A send without reply may have been stored: it goes again with the same id (idempotent).
    outbox_.expire(now);
    pump_outbox(now);
}

std::optional<clock::time_point> core::next_wakeup() const {
    auto at = never;
    switch (phase_) {
        case phase::waiting:
            at = reconnect_at_;
            break;
        case phase::opening:
        case phase::authenticating:
            at = attempt_deadline_;
            break;
        case phase::connected:
            at = next_ping_;
            if (opts_.heartbeat_timeout > milliseconds(0)) {
                at = std::min(at, last_received_ + opts_.heartbeat_timeout);
            }
            if (ack_at_) {
                at = std::min(at, *ack_at_);
            }
            for (const auto& [id, req] : requests_) {
                at = std::min(at, req.deadline);
            }
            if (const auto due = outbox_.next_due(outbox_hold_until_)) {
                at = std::min(at, *due);
            }
            break;
        case phase::idle:
            break;
    }
    if (at == never) {
        return std::nullopt;
    }
    return at;
}

// ---- requests ---------------------------------------------------------------------------------

void core::complete(std::function<void()> fn) {
    actions_.emplace_back(run_callback{std::move(fn)});
}

void core::request(v1::Frame& frame, std::function<void(const v1::Frame&)> on_reply,
                   std::function<void(error)> on_error, clock::time_point now) {
    if (phase_ != phase::connected) {
        on_error(not_connected());
        return;
    }
    const auto id = next_request_id();
    frame.set_request_id(id);
    requests_.emplace(
        id, pending_request{std::move(on_reply), std::move(on_error), now + opts_.request_timeout});
    send(frame);
}

void core::request_done(done_handler done, v1::Frame& frame, clock::time_point now) {
    auto on_error = [this, done](error e) {
        if (done) {
            complete([done, e = std::move(e)] { done(e); });
        }
    };
    auto on_reply = [this, done = std::move(done)](const v1::Frame& reply) {
        if (!done) {
            return;
        }
        if (reply.has_ok()) {
            complete([done] { done(std::nullopt); });
        } else {
            complete([done] { done(unexpected_reply()); });
        }
    };
    request(frame, std::move(on_reply), std::move(on_error), now);
}

void core::fail_requests(const error& e) {
    auto requests = std::exchange(requests_, {});
    for (auto& [id, req] : requests) {
        req.on_error(e);
    }
}

void core::list_conversations(std::uint32_t limit, reply_handler<std::vector<conversation>> done,
                              clock::time_point now) {
    using result_type = result<std::vector<conversation>>;
    v1::Frame f;
    f.mutable_list_conversations()->set_limit(limit);
    auto on_error = [this, done](error e) {
        if (done) {
            complete(bind_handler(done, result_type(std::move(e))));
        }
    };
    auto on_reply = [this, done = std::move(done)](const v1::Frame& reply) {
        if (!reply.has_conversations()) {
            if (done) {
                complete(bind_handler(done, result_type(unexpected_reply())));
            }
            return;
        }
        std::vector<conversation> out;
        out.reserve(static_cast<std::size_t>(reply.conversations().conversations_size()));
        for (const auto& c : reply.conversations().conversations()) {
            apply_conversation_marks(c);
            out.push_back(from_proto(c, user_id_));
        }
        if (done) {
            complete(bind_handler(done, result_type(std::move(out))));
        }
    };
    request(f, std::move(on_reply), std::move(on_error), now);
}

void core::history(std::string conversation_id, std::uint64_t before_seq, std::uint32_t limit,
                   reply_handler<history_page> done, clock::time_point now) {
    using result_type = result<history_page>;
    v1::Frame f;
    auto* h = f.mutable_get_history();
    h->set_conversation_id(std::move(conversation_id));
    h->set_before_seq(before_seq);
    h->set_limit(limit);
    auto on_error = [this, done](error e) {
        if (done) {
            complete(bind_handler(done, result_type(std::move(e))));
        }
    };
    auto on_reply = [this, done = std::move(done)](const v1::Frame& reply) {
        if (!done) {
            return;
        }
        if (!reply.has_history()) {
            complete(bind_handler(done, result_type(unexpected_reply())));
            return;
        }
        history_page page;
        page.more = reply.history().more();
        page.trimmed = reply.history().trimmed();
        page.messages.reserve(static_cast<std::size_t>(reply.history().messages_size()));
        for (const auto& m : reply.history().messages()) {
            page.messages.push_back(from_proto(m, user_id_));
        }
        complete(bind_handler(done, result_type(std::move(page))));
    };
    request(f, std::move(on_reply), std::move(on_error), now);
}

void core::mark_read(std::string conversation_id, std::uint64_t up_to_seq, done_handler done,
                     clock::time_point now) {
    v1::Frame f;
    f.mutable_mark_read()->set_conversation_id(std::move(conversation_id));
    f.mutable_mark_read()->set_up_to_seq(up_to_seq);
    request_done(std::move(done), f, now);
}

void core::set_typing(std::string conversation_id, bool active, done_handler done,
                      clock::time_point now) {
    v1::Frame f;
    f.mutable_typing()->set_conversation_id(std::move(conversation_id));
    f.mutable_typing()->set_typing(active);
    request_done(std::move(done), f, now);
}

void core::set_presence(presence_state state, done_handler done, clock::time_point now) {
    v1::Frame f;
    f.mutable_set_presence()->set_state(state == presence_state::away ? v1::AWAY : v1::ONLINE);
    request_done(std::move(done), f, now);
}

void core::update_conversation(std::string conversation_id, int verb,
                               reply_handler<conversation> done, clock::time_point now,
                               decline_reason reason) {
    using result_type = result<conversation>;
    v1::Frame f;
    auto* u = f.mutable_update_conversation();
    u->set_conversation_id(std::move(conversation_id));
    u->set_action(v1::ConversationAction_IsValid(verb) ? static_cast<v1::ConversationAction>(verb)
                                                       : v1::CONVERSATION_ACTION_UNSPECIFIED);
    u->set_decline_reason(static_cast<v1::DeclineReason>(to_proto(reason)));
    auto on_error = [this, done](error e) {
        if (done) {
            complete(bind_handler(done, result_type(std::move(e))));
        }
    };
    auto on_reply = [this, done = std::move(done)](const v1::Frame& reply) {
        if (!reply.has_conversation()) {
            if (done) {
                complete(bind_handler(done, result_type(unexpected_reply())));
            }
            return;
        }
        apply_conversation_marks(reply.conversation().conversation());
        if (done) {
            complete(bind_handler(
                done, result_type(from_proto(reply.conversation().conversation(), user_id_))));
        }
    };
    request(f, std::move(on_reply), std::move(on_error), now);
}

void core::sign_out(done_handler done, clock::time_point now) {
    if (phase_ != phase::connected) {
        if (done) {
            complete([done] { done(not_connected()); });
        }
        return;
    }
    v1::Frame f;
    f.mutable_sign_out();
    signing_out_ = true;
    sign_out_done_ = std::move(done);
    auto on_error = [this](error e) {
        signing_out_ = false;
        if (auto d = std::exchange(sign_out_done_, nullptr)) {
            complete([d, e = std::move(e)] { d(e); });
        }
    };
    auto on_reply = [this](const v1::Frame& /*reply*/) {
        if (auto d = std::exchange(sign_out_done_, nullptr)) {
            complete([d] { d(std::nullopt); });
        }
        enter_closed(close_reason::signed_out, "signed out");
    };
    request(f, std::move(on_reply), std::move(on_error), now);
}

// ---- outbox -----------------------------------------------------------------------------------

void core::send_message(std::string client_msg_id, std::string conversation_id, std::string body,
                        clock::time_point now) {
    outbox_item item;
    item.client_msg_id = std::move(client_msg_id);
    item.target = std::move(conversation_id);
    item.body = std::move(body);
    enqueue(std::move(item), now);
}

void core::start_inquiry(std::string client_msg_id, std::string specialist_id, std::string body,
                         inquiry_details details, clock::time_point now) {
    outbox_item item;
    item.client_msg_id = std::move(client_msg_id);
    item.inquiry = true;
    item.target = std::move(specialist_id);
    item.body = std::move(body);
    item.free_consultation = details.free_consultation;
    item.topic = std::move(details.topic);
    item.preferred_times = std::move(details.preferred_times);
    enqueue(std::move(item), now);
}

void core::enqueue(outbox_item item, clock::time_point now) {
    // An inquiry's conversation is known once it is sent.
    static const std::string none;
    const std::string& conversation_id = item.inquiry ? none : item.target;
    std::optional<error> refused;
    if (item.target.empty()) {
        refused = make_error(error_code::invalid_argument,
                             item.inquiry ? "no specialist" : "no conversation", false);
    } else if (item.body.empty()) {
        refused = make_error(error_code::invalid_argument, "empty message", false);
    } else if (item.body.size() > max_body_bytes_) {
        refused = make_error(error_code::too_large, "message too long", false);
    }
    const outbox_item* queued = refused ? nullptr : outbox_.push(item);
    if (queued == nullptr && !refused) {
        refused = make_error(error_code::conflict, "client_msg_id already queued", false);
    }
    if (refused) {
        report_send(item.client_msg_id, conversation_id, send_state::failed, 0, 0,
                    std::move(refused));
        return;
    }
    if (!tuning_.lean) {
        report_send(queued->client_msg_id, queued->inquiry ? conversation_id : queued->target,
                    send_state::pending, 0, 0);
    }
    if (phase_ == phase::waiting) {
        // Someone is waiting for this message: try now rather than at the end of the backoff
        // (up to 10 s). One send starts at most one attempt (a failed one waits again), and the
        // message stays in the outbox until that or a later connection takes it.
        begin_attempt(now);
        return;
    }
    pump_outbox(now);
}

void core::pump_outbox(clock::time_point now) {
    if (phase_ != phase::connected || now < outbox_hold_until_) {
        return;
    }
    // Only the first items of a conversation are ever in flight (with the default of one, only
    // the head): the server numbers messages in arrival order, and a message waiting for its
    // retry is not overtaken by the ones behind it.
    outbox_.for_each_ready(now, [this, now](outbox_item& item) { return send_item(item, now); });
}

std::pair<std::uint64_t, clock::time_point> core::send_item(outbox_item& item,
                                                            clock::time_point now) {
    auto& f = scratch_frame();
    const auto request_id = next_request_id();
    f.set_request_id(request_id);
    if (item.inquiry) {
        auto* r = f.mutable_start_inquiry();
        r->set_specialist_id(item.target);
        r->set_client_msg_id(item.client_msg_id);
        r->set_body(item.body);
        r->set_free_consultation(item.free_consultation);
        r->set_topic(item.topic);
        to_proto(item.preferred_times, *r->mutable_preferred_times());
    } else {
        auto* r = f.mutable_send_message();
        r->set_conversation_id(item.target);
        r->set_client_msg_id(item.client_msg_id);
        r->set_body(item.body);
    }
    send(f);
    return {request_id, now + opts_.request_timeout};
}

void core::handle_send_reply(outbox_item& item, const v1::Frame& frame, clock::time_point now) {
    if (frame.has_sent()) {
        const auto& s = frame.sent();
        const std::string& conversation_id =
            s.conversation_id().empty() && !item.inquiry ? item.target : s.conversation_id();
        if (!tuning_.lean) {
            first_sight(conversation_id, s.seq());
        }
        mark_sent(item, conversation_id, s.seq(), s.server_time_ms(), &s);
    } else {
        const auto e = frame.has_error() ? from_proto(frame.error()) : unexpected_reply();
        // The protocol calls both codes retryable; don't let a missing flag lose a message.
        if (e.retryable || e.code == error_code::unavailable ||
            e.code == error_code::rate_limited) {
            ++item.failures;
            const auto delay = e.retry_after_ms > 0
                                   ? clock::duration(milliseconds(e.retry_after_ms))
                                   : backoff_delay(item.failures - 1, opts_.reconnect_min,
                                                   opts_.reconnect_max, rng_);
            outbox_.retry_at(item, now + delay);
            if (e.code == error_code::rate_limited) {
                // The limit is per user, not per conversation: hold the whole outbox.
                outbox_hold_until_ = std::max(outbox_hold_until_, now + delay);
            }
        } else {
            report_send(item.client_msg_id, item.inquiry ? std::string() : item.target,
                        send_state::failed, 0, 0, e);
            // Last: the item's own string is the argument.
            outbox_.erase(item.client_msg_id);
        }
    }
    pump_outbox(now);
}

void core::mark_sent(const outbox_item& item, const std::string& conversation_id, std::uint64_t seq,
                     std::int64_t server_time_ms, const v1::SendReply* reply) {
    if (tuning_.watcher != nullptr) {
        tuning_.watcher->on_stored(item, conversation_id, seq, reply);
    }
    if (!tuning_.lean) {
        report_send(item.client_msg_id, conversation_id, send_state::sent, seq, server_time_ms,
                    std::nullopt,
                    reply != nullptr && reply->has_safety_notice()
                        ? std::optional(from_proto(reply->safety_notice()))
                        : std::nullopt);
        auto& marks = marks_[conversation_id];
        marks.own[seq] = own_message{item.client_msg_id, send_state::sent, server_time_ms};
        if (marks.own.size() > own_capacity) {
            marks.own.erase(marks.own.begin());
        }
        // A receipt may have overtaken the reply.
        apply_marks(conversation_id, 0, 0);
    }
    outbox_.erase(item.client_msg_id);
}

void core::report_send(const std::string& client_msg_id, const std::string& conversation_id,
                       send_state state, std::uint64_t seq, std::int64_t server_time_ms,
                       std::optional<error> err, std::optional<safety_notice> notice) {
    actions_.emplace_back(notify{send_update{client_msg_id, conversation_id, state, seq,
                                             server_time_ms, std::move(err), std::move(notice)}});
}

// ---- receipts, dedupe, acks -------------------------------------------------------------------

void core::apply_marks(const std::string& conversation_id, std::uint64_t delivered,
                       std::uint64_t read) {
    auto& marks = marks_[conversation_id];
    marks.read = std::max(marks.read, read);
    marks.delivered = std::max({marks.delivered, delivered, marks.read});
    for (auto it = marks.own.begin(); it != marks.own.end() && it->first <= marks.delivered;) {
        auto& own = it->second;
        if (it->first <= marks.read) {
            report_send(own.client_msg_id, conversation_id, send_state::read, it->first,
                        own.server_time_ms);
            it = marks.own.erase(it);
            continue;
        }
        if (own.state == send_state::sent) {
            own.state = send_state::delivered;
            report_send(own.client_msg_id, conversation_id, send_state::delivered, it->first,
                        own.server_time_ms);
        }
        ++it;
    }
}

void core::apply_conversation_marks(const v1::Conversation& c) {
    if (tuning_.lean || c.id().empty() ||
        (c.other_delivered_seq() == 0 && c.other_read_seq() == 0)) {
        return;
    }
    apply_marks(c.id(), c.other_delivered_seq(), c.other_read_seq());
}

bool core::first_sight(const std::string& conversation_id, std::uint64_t seq) {
    auto& seen = seen_[conversation_id];
    if (seq <= seen.floor) {
        return false;
    }
    if (seq == seen.floor + 1) {
        // The usual case, seqs in order: the floor moves up and nothing is stored.
        seen.floor = seq;
    } else if (!seen.seqs.insert(seq).second) {
        return false;
    } else if (seen.seqs.size() > seen_capacity) {
        seen.floor = *seen.seqs.begin();
        seen.seqs.erase(seen.seqs.begin());
    }
    while (!seen.seqs.empty() && *seen.seqs.begin() <= seen.floor + 1) {
        seen.floor = std::max(seen.floor, *seen.seqs.begin());
        seen.seqs.erase(seen.seqs.begin());
    }
    return true;
}

void core::event_processed(const std::string& cursor, clock::time_point now, bool own) {
    cursor_ = cursor;
    if (++unacked_events_ >= ack_every_events) {
        flush_ack();
        return;
    }
    const auto at = now + (own ? opts_.ack_delay * own_event_ack_delays : opts_.ack_delay);
    if (!ack_at_ || at < *ack_at_) {
        ack_at_ = at;
    }
}

void core::flush_ack() {
    ack_at_.reset();
    unacked_events_ = 0;
    if (phase_ != phase::connected || cursor_.empty() || cursor_ == acked_cursor_) {
        return;
    }
    auto& f = scratch_frame();
    f.set_request_id(next_request_id());
    f.mutable_ack()->set_cursor(cursor_);
    send(f);
    acked_cursor_ = cursor_;
    if (cursor_ != saved_cursor_) {
        saved_cursor_ = cursor_;
        actions_.emplace_back(notify{cursor_saved{cursor_}});
    }
}

}  // namespace confide::client::detail
