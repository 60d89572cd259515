#include "routing/requests.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/random_id.hpp"
#include "protocol/cursor.hpp"
#include "routing/connection_audit.hpp"
#include "routing/routing_metrics.hpp"
#include "routing/wire.hpp"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>

namespace confide::routing {
namespace {

// The conversation a request is about, if it names one.
std::string conversation_of(const v1::Frame& f) {
    using K = v1::Frame::KindCase;
    switch (f.kind_case()) {
        case K::kSendMessage:
            return f.send_message().conversation_id();
        case K::kMarkRead:
            return f.mark_read().conversation_id();
        case K::kTyping:
            return f.typing().conversation_id();
        case K::kGetHistory:
            return f.get_history().conversation_id();
        case K::kUpdateConversation:
            return f.update_conversation().conversation_id();
        default:
            return {};
    }
}

// The request's kind as the protocol names it ("send_message").
std::string kind_of(const v1::Frame& f) {
    const auto* field = v1::Frame::descriptor()->FindFieldByNumber(f.kind_case());
    return field != nullptr ? field->name() : "unknown";
}

}  // namespace

request_dispatcher::request_dispatcher(services& svc, connection& conn, stream_runner& stream,
                                       steady_time now)
    : svc_(svc),
      conn_(conn),
      stream_(stream),
      typing_bucket_(svc.config.typing_rate, svc.config.typing_burst, now) {}

awaitable<void> request_dispatcher::dispatch(const v1::Frame& f) {
    const std::uint64_t rid = f.request_id();
    current_ = &f;
    using K = v1::Frame::KindCase;
    switch (f.kind_case()) {
        case K::kAuthenticate:
            conn_.reply_error(rid, fail(errc::failed_precondition, "already authenticated"));
            break;
        case K::kPing:
            ping(rid, f.ping());
            break;
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
            sign_out(rid);
            break;
        case K::kListSpecialists:
            co_await list_specialists(rid, f.list_specialists());
            break;
        case K::kGetSpecialist:
            co_await get_specialist(rid, f.get_specialist());
            break;
        default:
            conn_.reply_error(rid, fail(errc::invalid_argument, "unknown request kind"));
            break;
    }
    current_ = nullptr;
}

template <class T>
bool request_dispatcher::failed(std::uint64_t rid, const outcome<T>& r) {
    if (r) {
        return false;
    }
    if (r.error().code == errc::forbidden) {
        deny(rid, r.error());
    } else {
        conn_.reply_error(rid, r.error());
    }
    return true;
}

void request_dispatcher::audit(audit_action action, std::string conversation_id,
                               std::string detail) {
    svc_.audit.record(audit_event_of(conn_, action, std::move(conversation_id), std::move(detail)));
}

void request_dispatcher::deny(std::uint64_t rid, const failure& f) {
    if (current_ != nullptr) {
        audit(audit_action::access_denied, conversation_of(*current_),
              kind_of(*current_) + ": " + f.message);
    }
    conn_.reply_error(rid, f);
}

std::uint32_t request_dispatcher::page_size(std::uint32_t requested) const noexcept {
    // Validation already refused more than the maximum; 0 means "the default".
    return requested == 0 ? svc_.config.limits.default_page : requested;
}

void request_dispatcher::ping(std::uint64_t rid, const v1::PingRequest& req) {
    v1::Frame r;
    r.mutable_pong()->set_client_time_ms(req.client_time_ms());
    r.mutable_pong()->set_server_time_ms(now_ms());
    conn_.reply(r, rid);
}

// ---------------------------------------------------------------------------------------------
// The event stream

awaitable<void> request_dispatcher::sync(std::uint64_t rid, const v1::SyncRequest& req) {
    const std::string& user = conn_.user_id();
    std::string cursor = req.after_cursor();
    const bool from_client = !cursor.empty();
    std::optional<std::uint64_t> n;
    stream_.sync_started(req.skip_own_echo());
    // However this ends before the stream is synced (a failure, or a thrown bug), the stream is
    // left idle rather than syncing forever. After synced() it is a no-op.
    struct idle_unless_synced {
        stream_runner& stream;
        ~idle_unless_synced() { stream.sync_failed(); }
    } guard{stream_};
    if (cursor.empty()) {
        auto stored = co_await svc_.chat.device_cursor(user, conn_.device_id());
        if (failed(rid, stored)) {
            co_return;
        }
        cursor = std::move(stored->cursor);
        if (cursor.empty()) {
            // A new device. The user's first one gets everything kept for them (what was
            // written to them before they ever connected); a further one starts at the present
            // and loads the past through list_conversations / get_history.
            if (stored->user_has_devices) {
                auto end = co_await svc_.chat.stream_end(user);
                if (failed(rid, end)) {
                    co_return;
                }
                cursor = end->first;
                n = end->second;
            } else {
                cursor = "0-0";
            }
            // Recorded at once, so that what arrives while this device is offline waits for it.
            auto saved =
                co_await svc_.chat.save_device_cursor(user, conn_.device_id(), cursor, true);
            if (failed(rid, saved)) {
                co_return;
            }
        }
    }
    auto first = co_await svc_.chat.read_events(user, cursor, svc_.config.stream.batch, true);
    if (conn_.closed() || failed(rid, first)) {
        co_return;
    }
    bool reset = first->reset;
    if (!n) {
        n = first->cursor_n;
    }
    if (first->beyond_end) {
        if (from_client) {
            conn_.reply_error(rid, fail(errc::invalid_argument,
                                        "after_cursor is after your last event (this server "
                                        "never handed it out): sync without one"));
            co_return;
        }
        // The device's stored cursor is past the end: storage lost its newest events (a Redis
        // restored from an older file). Waiting for the stream to catch up would hide every new
        // event from this device: start after the last event there is, and say so.
        log::warn("{} device={} stored cursor {} is after the last event {}: stream reset",
                  conn_.log_prefix(), conn_.device_id(), cursor, first->end_cursor);
        cursor = first->end_cursor;
        n = first->end_n;
        reset = true;
        stats::stream_resets.inc();
        auto saved = co_await svc_.chat.save_device_cursor(user, conn_.device_id(), cursor, false);
        if (conn_.closed() || failed(rid, saved)) {
            co_return;
        }
    } else if (reset) {
        stats::stream_resets.inc();
        log::info("{} device={} cursor {} is gone: stream reset", conn_.log_prefix(),
                  conn_.device_id(), cursor);
    }
    audit(audit_action::sync, {}, "from " + cursor + (first->reset ? " (reset)" : ""));
    v1::Frame f;
    f.mutable_synced()->set_from_cursor(cursor);
    f.mutable_synced()->set_reset(reset);
    conn_.reply(f, rid);
    stream_.synced(std::move(cursor), n, *first);
}

awaitable<void> request_dispatcher::ack(std::uint64_t rid, const v1::AckRequest& req) {
    const auto pos = protocol::parse_cursor(req.cursor());
    if (!pos) {
        conn_.reply_error(rid, fail(errc::invalid_argument, "cursor is malformed"));
        co_return;
    }
    // Anything up to the last event this connection pushed (or synced from) was handed out;
    // beyond it, only storage knows where the user's stream ends.
    const auto known = protocol::parse_cursor(stream_.stream().cursor());
    if (!known || *known < *pos) {
        auto end = co_await svc_.chat.stream_end(conn_.user_id());
        if (failed(rid, end)) {
            co_return;
        }
        const auto last = protocol::parse_cursor(end->first);
        if (!last || *last < *pos) {
            conn_.reply_error(rid, fail(errc::invalid_argument,
                                        "cursor is after your last event (this server never "
                                        "handed it out)"));
            co_return;
        }
    }
    auto marks = stream_.take_marks(*pos);
    auto r = co_await svc_.chat.ack(conn_.user_id(), conn_.device_id(), req.cursor(), marks);
    if (!r) {
        stream_.restore_marks(marks);
        conn_.reply_error(rid, r.error());
        co_return;
    }
    stats::device_acks.inc();
}

// ---------------------------------------------------------------------------------------------
// Messages

bool request_dispatcher::admit_send(std::uint64_t rid) {
    auto wait = svc_.send_limits.take(conn_.user_id(), std::chrono::steady_clock::now());
    if (wait.count() == 0) {
        return true;
    }
    conn_.reply_error(rid, fail(errc::rate_limited, "too many messages: slow down",
                                static_cast<std::uint32_t>(wait.count())));
    return false;
}

void request_dispatcher::reply_sent(std::uint64_t rid, const send_result& r,
                                    const std::string& client_msg_id,
                                    metrics::histogram::time_point received,
                                    bool with_safety_notice) {
    (r.duplicate ? stats::messages_duplicate : stats::messages_stored).inc();
    stats::send_ack_latency.observe_since(received);
    v1::Frame f;
    auto* s = f.mutable_sent();
    s->set_conversation_id(r.conversation_id);
    s->set_seq(r.seq);
    s->set_server_time_ms(r.server_time_ms);
    s->set_client_msg_id(client_msg_id);
    s->set_duplicate(r.duplicate);
    if (with_safety_notice) {
        to_wire(svc_.config.safety_notice, *s->mutable_safety_notice());
    }
    // Decided as the reply goes out, on the strand: every event before this one has been
    // pushed ahead of it (held ones too: own_event pushes them), and its notice, held or to
    // come, is dropped as already pushed. Held events after it follow the reply, pushed when
    // the send's send_in_flight ends.
    if (!r.duplicate && !r.event_cursor.empty() && stream_.own_event(r.event_cursor, r.event_n)) {
        s->set_cursor(r.event_cursor);
    }
    conn_.reply(f, rid);
}

awaitable<void> request_dispatcher::start_inquiry(std::uint64_t rid,
                                                  const v1::StartInquiryRequest& req) {
    const auto received = metrics::histogram::now();
    if (conn_.identity().user_role != auth::role::client) {
        deny(rid, fail(errc::forbidden, "only clients can start an inquiry"));
        co_return;
    }
    const std::int64_t now = now_ms();
    // Validation checked each range on its own; whether it lies ahead needs the time.
    constexpr std::int64_t horizon_ms = 180LL * 24 * 3600 * 1000;
    for (const auto& t : req.preferred_times()) {
        if (t.end_ms() <= now || t.start_ms() > now + horizon_ms) {
            conn_.reply_error(rid, fail(errc::invalid_argument,
                                        "preferred_times must end in the future and start "
                                        "within 180 days"));
            co_return;
        }
    }
    if (!admit_send(rid)) {
        co_return;
    }
    inquiry_command cmd;
    cmd.client_id = conn_.user_id();
    cmd.specialist_id = req.specialist_id();
    cmd.client_msg_id = req.client_msg_id();
    cmd.body = req.body();
    cmd.free_consultation = req.free_consultation();
    cmd.topic = req.topic();
    for (const auto& t : req.preferred_times()) {
        cmd.preferred_times.push_back(from_wire(t));
    }
    cmd.new_conversation_id = random_hex_id();
    cmd.now_ms = now;
    cmd.expires_at_ms = now + svc_.config.inquiry_expiry.count();
    const std::string new_id = cmd.new_conversation_id;
    const stream_runner::send_in_flight in_flight(stream_);
    auto r = co_await svc_.chat.start_inquiry(std::move(cmd));
    if (!failed(rid, r)) {
        if (r->conversation_id == new_id && !r->duplicate) {
            audit(audit_action::conversation_state, r->conversation_id, "inquiry");
        }
        // The first message of a conversation is its seq 1: this inquiry opened it (or is a
        // retry of the one that did), so the client is shown the notice now.
        reply_sent(rid, *r, req.client_msg_id(), received, r->seq == 1);
    }
}

awaitable<void> request_dispatcher::send_message(std::uint64_t rid,
                                                 const v1::SendMessageRequest& req) {
    const auto received = metrics::histogram::now();
    if (!admit_send(rid)) {
        co_return;
    }
    send_command cmd;
    cmd.sender_id = conn_.user_id();
    cmd.conversation_id = req.conversation_id();
    cmd.client_msg_id = req.client_msg_id();
    cmd.body = req.body();
    cmd.now_ms = now_ms();
    const stream_runner::send_in_flight in_flight(stream_);
    auto r = co_await svc_.chat.send_message(std::move(cmd));
    if (!failed(rid, r)) {
        reply_sent(rid, *r, req.client_msg_id(), received);
    }
}

awaitable<void> request_dispatcher::mark_read(std::uint64_t rid, const v1::MarkReadRequest& req) {
    auto r = co_await svc_.chat.mark_read(conn_.user_id(), req.conversation_id(), req.up_to_seq());
    if (!failed(rid, r)) {
        conn_.reply_ok(rid);
    }
}

awaitable<void> request_dispatcher::typing(std::uint64_t rid, const v1::TypingRequest& req) {
    if (auto wait = typing_bucket_.take(std::chrono::steady_clock::now()); wait.count() > 0) {
        conn_.reply_error(rid, fail(errc::rate_limited, "too many typing notices",
                                    static_cast<std::uint32_t>(wait.count())));
        co_return;
    }
    auto other = co_await svc_.chat.other_party(conn_.user_id(), req.conversation_id());
    if (failed(rid, other)) {
        co_return;
    }
    svc_.bus.publish_typing(std::move(*other), req.conversation_id(), conn_.user_id(),
                            req.typing());
    conn_.reply_ok(rid);
}

// ---------------------------------------------------------------------------------------------
// Presence, conversations, the end

awaitable<void> request_dispatcher::set_presence(std::uint64_t rid,
                                                 const v1::SetPresenceRequest& req) {
    auto r = co_await svc_.presence.set_status(conn_.user_id(), from_wire(req.state()), now_ms());
    if (!failed(rid, r)) {
        conn_.reply_ok(rid);
    }
}

awaitable<void> request_dispatcher::list_conversations(std::uint64_t rid,
                                                       const v1::ListConversationsRequest& req) {
    auto r = co_await svc_.chat.list_conversations(conn_.user_id(), page_size(req.limit()));
    if (failed(rid, r)) {
        co_return;
    }
    audit(audit_action::conversations_read, {}, std::to_string(r->size()) + " conversations");
    if (conn_.identity().user_role == auth::role::client) {
        co_await add_availability(*r);
    }
    v1::Frame f;
    auto* out = f.mutable_conversations();
    for (const auto& c : *r) {
        to_wire(c, *out->add_conversations());
    }
    conn_.reply(f, rid);
}

awaitable<void> request_dispatcher::get_history(std::uint64_t rid,
                                                const v1::GetHistoryRequest& req) {
    auto r = co_await svc_.chat.history(conn_.user_id(), req.conversation_id(), req.before_seq(),
                                        page_size(req.limit()));
    if (failed(rid, r)) {
        co_return;
    }
    audit(audit_action::history_read, req.conversation_id(),
          std::to_string(r->messages.size()) + " messages" +
              (req.before_seq() != 0 ? " before " + std::to_string(req.before_seq()) : ""));
    v1::Frame f;
    auto* out = f.mutable_history();
    for (const auto& m : r->messages) {
        to_wire(m, *out->add_messages());
    }
    out->set_more(r->more);
    out->set_trimmed(r->trimmed);
    conn_.reply(f, rid);
}

awaitable<void> request_dispatcher::update_conversation(std::uint64_t rid,
                                                        const v1::UpdateConversationRequest& req) {
    auto r = co_await svc_.chat.update_conversation(conn_.user_id(), req.conversation_id(),
                                                    from_wire(req.action()),
                                                    from_wire(req.decline_reason()), now_ms());
    if (failed(rid, r)) {
        co_return;
    }
    std::string action = v1::ConversationAction_Name(req.action());
    std::transform(action.begin(), action.end(), action.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    audit(audit_action::conversation_state, req.conversation_id(), std::move(action));
    v1::Frame f;
    to_wire(*r, *f.mutable_conversation()->mutable_conversation());
    conn_.reply(f, rid);
}

// ---------------------------------------------------------------------------------------------
// The directory

awaitable<outcome<std::vector<specialist_listing>>> request_dispatcher::listings(
    std::vector<specialist_profile> profiles, std::int64_t now) {
    std::vector<std::string> ids;
    ids.reserve(profiles.size());
    for (const auto& p : profiles) {
        ids.push_back(p.id);
    }
    auto activity =
        co_await svc_.directory.store().activity(std::move(ids), now - reply_time_window.count());
    if (!activity) {
        co_return activity.error();
    }
    std::vector<specialist_listing> out;
    out.reserve(profiles.size());
    for (std::size_t i = 0; i < profiles.size() && i < activity->size(); ++i) {
        auto& a = (*activity)[i];
        auto avail = availability_at(profiles[i], now);
        avail.first_reply_samples = static_cast<std::uint32_t>(a.first_reply_ms.size());
        avail.median_first_reply_ms = median_of(a.first_reply_ms);
        out.push_back(
            specialist_listing{std::move(profiles[i]), std::move(a.presence), std::move(avail)});
    }
    co_return out;
}

awaitable<void> request_dispatcher::add_availability(std::vector<conversation>& convs) {
    auto snapshot = co_await svc_.directory.snapshot();
    if (!snapshot) {
        co_return;
    }
    std::vector<specialist_profile> profiles;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < convs.size(); ++i) {
        if (const auto* p = (*snapshot)->find(convs[i].specialist_id);
            p != nullptr && convs[i].other_presence) {
            profiles.push_back(*p);
            which.push_back(i);
        }
    }
    if (profiles.empty()) {
        co_return;
    }
    auto found = co_await listings(std::move(profiles), now_ms());
    if (!found) {
        co_return;
    }
    for (std::size_t k = 0; k < which.size() && k < found->size(); ++k) {
        convs[which[k]].specialist_availability = (*found)[k].availability;
    }
}

awaitable<void> request_dispatcher::list_specialists(std::uint64_t rid,
                                                     const v1::ListSpecialistsRequest& req) {
    auto snapshot = co_await svc_.directory.snapshot();
    if (failed(rid, snapshot)) {
        co_return;
    }
    directory_query q;
    q.specialty = req.specialty();
    q.language = req.language();
    q.accepting_only = req.accepting_new_clients_only();
    q.limit = page_size(req.limit());
    q.page_token = req.page_token();
    auto page = page_of(**snapshot, q);
    if (failed(rid, page)) {
        co_return;
    }
    std::vector<specialist_profile> profiles;
    profiles.reserve(page->entries.size());
    for (const auto* p : page->entries) {
        profiles.push_back(*p);
    }
    auto found = co_await listings(std::move(profiles), now_ms());
    if (failed(rid, found)) {
        co_return;
    }
    v1::Frame f;
    auto* out = f.mutable_specialists();
    for (const auto& l : *found) {
        to_wire(l, *out->add_specialists());
    }
    out->set_next_page_token(page->next_page_token);
    conn_.reply(f, rid);
}

awaitable<void> request_dispatcher::get_specialist(std::uint64_t rid,
                                                   const v1::GetSpecialistRequest& req) {
    auto snapshot = co_await svc_.directory.snapshot();
    if (failed(rid, snapshot)) {
        co_return;
    }
    const auto* p = (*snapshot)->find(req.specialist_id());
    if (p == nullptr) {
        conn_.reply_error(rid, fail(errc::not_found, "no specialist with this id is listed"));
        co_return;
    }
    std::vector<specialist_profile> one{*p};
    auto found = co_await listings(std::move(one), now_ms());
    if (failed(rid, found)) {
        co_return;
    }
    v1::Frame f;
    for (const auto& l : *found) {
        to_wire(l, *f.mutable_specialists()->add_specialists());
    }
    conn_.reply(f, rid);
}

void request_dispatcher::sign_out(std::uint64_t rid) {
    conn_.set_signed_out();
    audit(audit_action::sign_out, {}, {});
    conn_.reply_ok(rid);
    log::info("{} signed out", conn_.log_prefix());
    conn_.close(close_code::normal, "signed out");
}

bool is_user_activity(const v1::Frame& request) noexcept {
    using K = v1::Frame::KindCase;
    switch (request.kind_case()) {
        case K::kStartInquiry:
        case K::kSendMessage:
        case K::kTyping:
        case K::kSetPresence:
        case K::kGetHistory:
        case K::kUpdateConversation:
        case K::kListSpecialists:
        case K::kGetSpecialist:
            return true;
        default:
            return false;
    }
}

}  // namespace confide::routing
