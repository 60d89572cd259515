#include "support/fake_ports.hpp"

#include "protocol/cursor.hpp"

#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <stdexcept>

namespace confide::testing {
namespace {

template <class T>
using result = awaitable<outcome<T>>;

}  // namespace

// ---------------------------------------------------------------------------------------------
// call_gate, failure_plan

awaitable<void> call_gate::pass() {
    if (!hold) {
        co_return;
    }
    auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                      asio::steady_timer::time_point::max());
    held_.push_back(timer);
    co_await timer->async_wait(use_nothrow);
}

void call_gate::release() {
    for (auto& t : held_) {
        t->cancel();
    }
    held_.clear();
}

void failure_plan::fail_next(const std::string& method, errc code) {
    planned_.emplace(method, code);
}

void failure_plan::throw_next(const std::string& method) {
    planned_.emplace(method, std::nullopt);
}

std::optional<failure> failure_plan::take(const std::string& method) {
    auto it = planned_.find(method);
    if (it == planned_.end()) {
        return std::nullopt;
    }
    const auto code = it->second;
    planned_.erase(it);
    if (!code) {
        throw std::runtime_error(method + " threw (planned by the test)");
    }
    return fail(*code, method + " failed (planned by the test)");
}

// ---------------------------------------------------------------------------------------------
// fake_chat_store

std::shared_ptr<const routing::notice> fake_chat_store::append(const std::string& user,
                                                               routing::notice::payload what) {
    auto& stream = streams[user];
    auto n = std::make_shared<routing::notice>();
    n->n = stream.size() + 1;
    n->cursor = "1-" + std::to_string(n->n);
    n->what = std::move(what);
    stream.push_back(n);
    return n;
}

std::shared_ptr<const routing::notice> fake_chat_store::append_message(
    const std::string& user, const std::string& conversation_id, std::uint64_t seq,
    const std::string& sender, std::string body) {
    routing::message m;
    m.conversation_id = conversation_id;
    m.seq = seq;
    m.sender_id = sender;
    m.client_msg_id = "m" + std::to_string(seq);
    m.body = std::move(body);
    m.server_time_ms = 1000 + static_cast<std::int64_t>(seq);
    return append(user, std::move(m));
}

std::shared_ptr<const routing::notice> fake_chat_store::append_conversation(
    const std::string& user, routing::conversation c) {
    return append(user, std::move(c));
}

result<void> fake_chat_store::bind_role(std::string user_id, auth::role r) {
    if (auto f = failures.take("bind_role")) {
        co_return *f;
    }
    auto [it, inserted] = roles.try_emplace(user_id, r);
    if (!inserted && it->second != r) {
        co_return fail(errc::unauthenticated, "role mismatch");
    }
    co_return outcome<void>{};
}

result<routing::send_result> fake_chat_store::start_inquiry(routing::inquiry_command cmd) {
    // The client's open conversation with this specialist: the first inquiry's.
    std::string cid = cmd.new_conversation_id;
    for (const auto& earlier : inquiries) {
        if (earlier.client_id == cmd.client_id && earlier.specialist_id == cmd.specialist_id) {
            cid = earlier.new_conversation_id;
            break;
        }
    }
    inquiries.push_back(cmd);
    if (auto f = failures.take("start_inquiry")) {
        co_return *f;
    }
    routing::send_result r;
    r.conversation_id = cid;
    r.seq = ++seqs_[cid];
    r.server_time_ms = cmd.now_ms;
    co_return r;
}

result<routing::send_result> fake_chat_store::send_message(routing::send_command cmd) {
    sends.push_back(cmd);
    if (auto f = failures.take("send_message")) {
        co_await send_replies.pass();
        co_return *f;
    }
    routing::send_result r;
    r.conversation_id = cmd.conversation_id;
    r.seq = ++seqs_[cmd.conversation_id];
    r.server_time_ms = cmd.now_ms;
    const auto p = parties.find(cmd.conversation_id);
    if (sends_append_events && p != parties.end()) {
        for (const auto& user : {p->second.first, p->second.second}) {
            auto n = append_message(user, cmd.conversation_id, r.seq, cmd.sender_id, cmd.body);
            sent_events.emplace_back(user, n);
            if (user == cmd.sender_id) {
                r.event_cursor = n->cursor;
                r.event_n = n->n;
            }
        }
    }
    co_await send_replies.pass();
    co_return r;
}

result<routing::conversation> fake_chat_store::update_conversation(
    std::string user_id, std::string conversation_id, routing::conversation_action action,
    routing::decline_reason reason, std::int64_t now_ms) {
    updates.push_back({user_id, conversation_id, action, reason});
    if (auto f = failures.take("update_conversation")) {
        co_return *f;
    }
    routing::conversation c;
    c.id = conversation_id;
    c.state = action == routing::conversation_action::accept ? routing::conversation_state::active
              : action == routing::conversation_action::decline
                  ? routing::conversation_state::declined
                  : routing::conversation_state::closed;
    c.updated_ms = now_ms;
    co_return c;
}

result<void> fake_chat_store::mark_read(std::string user_id, std::string conversation_id,
                                        std::uint64_t up_to_seq) {
    read_marks.push_back({user_id, conversation_id, up_to_seq});
    if (auto f = failures.take("mark_read")) {
        co_return *f;
    }
    co_return outcome<void>{};
}

result<void> fake_chat_store::ack(std::string user_id, std::string device_id, std::string cursor,
                                  routing::delivered_marks marks) {
    ack_calls.push_back({user_id, device_id, cursor, marks});
    co_await acks.pass();
    if (auto f = failures.take("ack")) {
        co_return *f;
    }
    device_cursors[{user_id, device_id}] = cursor;
    co_return outcome<void>{};
}

result<std::vector<routing::conversation>> fake_chat_store::list_conversations(
    std::string user_id, std::uint32_t limit) {
    list_limits.push_back(limit);
    if (auto f = failures.take("list_conversations")) {
        co_return *f;
    }
    std::vector<routing::conversation> out;
    for (const auto& c : conversations) {
        if (out.size() < limit && (c.client_id == user_id || c.specialist_id == user_id)) {
            out.push_back(c);
        }
    }
    co_return out;
}

result<routing::history_page> fake_chat_store::history(std::string user_id,
                                                       std::string conversation_id,
                                                       std::uint64_t before_seq,
                                                       std::uint32_t limit) {
    history_calls.push_back({user_id, conversation_id, before_seq, limit});
    if (auto f = failures.take("history")) {
        co_return *f;
    }
    co_return history_answer;
}

result<std::string> fake_chat_store::other_party(std::string user_id, std::string conversation_id) {
    if (auto f = failures.take("other_party")) {
        co_return *f;
    }
    auto it = parties.find(conversation_id);
    if (it == parties.end() || (it->second.first != user_id && it->second.second != user_id)) {
        co_return fail(errc::forbidden, "no such conversation");
    }
    co_return it->second.first == user_id ? it->second.second : it->second.first;
}

result<routing::event_batch> fake_chat_store::read_events(std::string user_id,
                                                          std::string after_cursor,
                                                          std::uint32_t limit, bool check_gap) {
    read_calls.push_back({user_id, after_cursor, limit, check_gap});
    co_await reads.pass();
    if (auto f = failures.take("read_events")) {
        co_return *f;
    }
    const auto after = protocol::parse_cursor(after_cursor.empty() ? "0-0" : after_cursor);
    if (!after) {
        throw std::invalid_argument("read_events: malformed cursor " + after_cursor);
    }
    routing::event_batch batch;
    const auto& stream = streams[user_id];
    if (check_gap) {
        batch.reset = cursor_gone;
        batch.end_cursor = stream.empty() ? "0-0" : stream.back()->cursor;
        batch.end_n = stream.empty() ? 0 : stream.back()->n;
        batch.beyond_end = *protocol::parse_cursor(batch.end_cursor) < *after;
        batch.cursor_n = after->seq;
    }
    for (const auto& e : stream) {
        if (batch.events.size() == limit) {
            break;
        }
        if (*protocol::parse_cursor(e->cursor) > *after) {
            batch.events.push_back(e);
        }
    }
    co_return batch;
}

result<std::pair<std::string, std::uint64_t>> fake_chat_store::stream_end(std::string user_id) {
    if (auto f = failures.take("stream_end")) {
        co_return *f;
    }
    const auto& stream = streams[user_id];
    if (stream.empty()) {
        co_return std::pair<std::string, std::uint64_t>{"0-0", 0};
    }
    co_return std::pair<std::string, std::uint64_t>{stream.back()->cursor, stream.back()->n};
}

result<routing::device_position> fake_chat_store::device_cursor(std::string user_id,
                                                                std::string device_id) {
    if (auto f = failures.take("device_cursor")) {
        co_return *f;
    }
    routing::device_position pos;
    if (auto it = device_cursors.find({user_id, device_id}); it != device_cursors.end()) {
        pos.cursor = it->second;
    }
    pos.user_has_devices = std::any_of(device_cursors.begin(), device_cursors.end(),
                                       [&](const auto& kv) { return kv.first.first == user_id; });
    co_return pos;
}

result<void> fake_chat_store::save_device_cursor(std::string user_id, std::string device_id,
                                                 std::string cursor, bool forward_only) {
    saved_cursors.emplace_back(device_id, cursor);
    saved_forward_only.push_back(forward_only);
    if (auto f = failures.take("save_device_cursor")) {
        co_return *f;
    }
    device_cursors[{user_id, device_id}] = cursor;
    co_return outcome<void>{};
}

// ---------------------------------------------------------------------------------------------
// fake_presence_store

result<std::uint32_t> fake_presence_store::connect(std::string user_id, std::string connection_id,
                                                   std::int64_t) {
    co_await connects.pass();
    if (auto f = failures.take("connect")) {
        co_return *f;
    }
    auto& conns = live[user_id];
    conns.insert(connection_id);
    co_return static_cast<std::uint32_t>(conns.size());
}

result<void> fake_presence_store::disconnect(std::string user_id, std::string connection_id,
                                             bool signed_out, std::int64_t) {
    disconnects.push_back({user_id, connection_id, signed_out});
    if (auto f = failures.take("disconnect")) {
        co_return *f;
    }
    live[user_id].erase(connection_id);
    co_return outcome<void>{};
}

result<void> fake_presence_store::confirm_lost(std::string user_id, std::int64_t) {
    lost.push_back(user_id);
    co_return outcome<void>{};
}

result<void> fake_presence_store::set_status(std::string user_id, routing::presence_state state,
                                             std::int64_t) {
    statuses.emplace_back(user_id, state);
    if (auto f = failures.take("set_status")) {
        co_return *f;
    }
    co_return outcome<void>{};
}

result<void> fake_presence_store::refresh(std::vector<std::pair<std::string, std::string>>,
                                          std::int64_t) {
    co_return outcome<void>{};
}

result<void> fake_presence_store::sweep(std::int64_t) {
    co_return outcome<void>{};
}

// ---------------------------------------------------------------------------------------------
// fake_notice_bus

result<void> fake_notice_bus::subscribe(std::string user_id,
                                        std::shared_ptr<routing::notice_listener> listener) {
    listeners_[user_id].push_back(listener);
    co_await subscriptions.pass();
    if (auto f = failures.take("subscribe")) {
        co_return *f;
    }
    co_return outcome<void>{};
}

void fake_notice_bus::unsubscribe(const std::string& user_id,
                                  const routing::notice_listener* listener) {
    unsubscribed.push_back(user_id);
    std::erase_if(listeners_[user_id], [listener](const auto& w) {
        auto s = w.lock();
        return !s || s.get() == listener;
    });
}

void fake_notice_bus::publish_typing(std::string to_user, std::string conversation_id,
                                     std::string from_user, bool is_typing) {
    typing.push_back({to_user, conversation_id, from_user, is_typing});
}

std::size_t fake_notice_bus::listeners(const std::string& user_id) const {
    auto it = listeners_.find(user_id);
    if (it == listeners_.end()) {
        return 0;
    }
    return static_cast<std::size_t>(std::count_if(it->second.begin(), it->second.end(),
                                                  [](const auto& w) { return !w.expired(); }));
}

void fake_notice_bus::deliver(const std::string& user_id,
                              const std::shared_ptr<const routing::notice>& n) {
    for (auto& w : listeners_[user_id]) {
        if (auto s = w.lock()) {
            s->on_notice(n);
        }
    }
}

void fake_notice_bus::reset() {
    for (auto& [user, v] : listeners_) {
        for (auto& w : v) {
            if (auto s = w.lock()) {
                s->on_bus_reset();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// fake_outbound

void fake_outbound::send(std::shared_ptr<const std::string> frame) {
    if (close_code) {
        return;
    }
    queued += frame->size();
    sent.push_back(std::move(frame));
}

void fake_outbound::close(std::uint16_t code, std::string reason) {
    if (!close_code) {
        close_code = code;
        close_reason = std::move(reason);
    }
}

std::vector<v1::Frame> fake_outbound::frames() const {
    std::vector<v1::Frame> out;
    for (const auto& bytes : sent) {
        v1::Frame f;
        if (!f.ParseFromString(*bytes)) {
            throw std::runtime_error("fake_outbound: a frame sent does not parse");
        }
        out.push_back(std::move(f));
    }
    return out;
}

std::vector<v1::Frame> fake_outbound::take_all() {
    auto all = frames();
    std::vector<v1::Frame> out(all.begin() + static_cast<std::ptrdiff_t>(taken_), all.end());
    taken_ = all.size();
    return out;
}

void fake_outbound::drain(routing::connection_handler& handler) {
    queued = 0;
    handler.on_written();
}

// ---------------------------------------------------------------------------------------------
// fake_directory_store

result<std::uint64_t> fake_directory_store::version() {
    if (auto f = failures.take("version")) {
        co_return *f;
    }
    co_return version_number;
}

result<std::pair<std::uint64_t, std::vector<routing::specialist_profile>>>
fake_directory_store::load() {
    ++loads;
    if (auto f = failures.take("load")) {
        co_return *f;
    }
    co_return std::pair{version_number, entries};
}

result<std::vector<routing::specialist_activity>> fake_directory_store::activity(
    std::vector<std::string> user_ids, std::int64_t since_ms) {
    activity_since.push_back(since_ms);
    if (auto f = failures.take("activity")) {
        co_return *f;
    }
    std::vector<routing::specialist_activity> out;
    for (const auto& id : user_ids) {
        auto& a = out.emplace_back();
        auto p = presences.find(id);
        if (p != presences.end()) {
            a.presence = p->second;
        } else {
            a.presence.user_id = id;
        }
        if (auto r = first_replies.find(id); r != first_replies.end()) {
            a.first_reply_ms = r->second;
        }
    }
    co_return out;
}

// ---------------------------------------------------------------------------------------------
// fake_workflow_store

result<std::vector<std::string>> fake_workflow_store::due_expiries(std::int64_t now_ms,
                                                                   std::uint32_t limit) {
    if (auto f = failures.take("due_expiries")) {
        co_return *f;
    }
    std::vector<std::string> out;
    for (const auto& [cid, due] : expiries) {
        if (due <= now_ms && out.size() < limit) {
            out.push_back(cid);
        }
    }
    co_return out;
}

result<bool> fake_workflow_store::expire_inquiry(std::string conversation_id,
                                                 std::int64_t /*now_ms*/) {
    if (auto f = failures.take("expire_inquiry")) {
        co_return *f;
    }
    const bool had = expiries.erase(conversation_id) == 1;
    if (had) {
        expired.push_back(conversation_id);
    }
    co_return had;
}

result<std::vector<routing::due_reminder>> fake_workflow_store::due_reminders(std::int64_t now_ms,
                                                                              std::uint32_t limit) {
    if (auto f = failures.take("due_reminders")) {
        co_return *f;
    }
    std::vector<routing::due_reminder> out;
    for (const auto& r : reminders) {
        if (r.due_ms <= now_ms && out.size() < limit) {
            out.push_back(r);
        }
    }
    co_return out;
}

result<void> fake_workflow_store::postpone_reminder(routing::due_reminder r, std::int64_t due_ms) {
    if (auto f = failures.take("postpone_reminder")) {
        co_return *f;
    }
    postponed.emplace_back(r.conversation_id, due_ms);
    for (auto& s : reminders) {
        if (s.conversation_id == r.conversation_id && s.to_specialist == r.to_specialist) {
            s.due_ms = due_ms;
        }
    }
    co_return outcome<void>{};
}

result<bool> fake_workflow_store::send_reminder(routing::due_reminder r, std::int64_t /*now_ms*/) {
    if (auto f = failures.take("send_reminder")) {
        co_return *f;
    }
    auto it = std::find_if(reminders.begin(), reminders.end(), [&](const auto& s) {
        return s.conversation_id == r.conversation_id && s.to_specialist == r.to_specialist;
    });
    if (it == reminders.end()) {
        co_return false;
    }
    reminders.erase(it);
    sent.push_back(std::move(r));
    co_return true;
}

result<std::vector<std::string>> fake_workflow_store::due_retention(std::int64_t cutoff_ms,
                                                                    std::uint32_t limit) {
    if (auto f = failures.take("due_retention")) {
        co_return *f;
    }
    std::vector<std::string> out;
    for (const auto& [cid, times] : messages) {
        if (!times.empty() && times.front() < cutoff_ms && out.size() < limit) {
            out.push_back(cid);
        }
    }
    co_return out;
}

result<routing::workflow_store::trimmed> fake_workflow_store::trim_conversation(
    std::string conversation_id, std::int64_t cutoff_ms, std::uint32_t limit,
    std::int64_t /*now_ms*/) {
    if (auto f = failures.take("trim_conversation")) {
        co_return *f;
    }
    trimmed out;
    auto& times = messages[conversation_id];
    while (!times.empty() && times.front() < cutoff_ms && out.messages < limit) {
        times.erase(times.begin());
        ++out.messages;
    }
    out.due = !times.empty() && times.front() < cutoff_ms;
    co_return out;
}

std::vector<routing::audit_event> fake_audit_log::of(routing::audit_action action) const {
    std::vector<routing::audit_event> out;
    for (const auto& e : events) {
        if (e.action == action) {
            out.push_back(e);
        }
    }
    return out;
}

}  // namespace confide::testing
