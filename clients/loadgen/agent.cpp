#include "agent.hpp"

#include "message_body.hpp"
#include "shard.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>

namespace confide::loadgen {
namespace {

// A paced agent that falls this far behind (server too slow) skips sends instead of queueing
// without bound.
constexpr std::size_t max_outbox = 10'000;
// Paced sends generated per timer expiry at most (after a stall).
constexpr int max_catch_up = 100;

std::string msg_id(std::uint64_t n) {
    // Appending (rather than "m" + to_string) dodges g++ 12's -Wrestrict false positive at -O3.
    std::string id(1, 'm');
    id += std::to_string(n);
    return id;
}

std::optional<std::uint64_t> parse_msg_id(std::string_view s) {
    if (s.size() < 2 || s.front() != 'm') {
        return std::nullopt;
    }
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), n);
    if (ec != std::errc{} || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return n;
}

std::chrono::microseconds us(std::int64_t v) {
    return std::chrono::microseconds(std::max<std::int64_t>(v, 0));
}

std::chrono::milliseconds ms(std::int64_t v) {
    return std::chrono::milliseconds(std::max<std::int64_t>(v, 0));
}

}  // namespace

agent::agent(shard& owner, std::uint32_t local, std::uint32_t index, agent_role role,
             std::string user_id, std::string token)
    : shard_(owner),
      local_(local),
      index_(index),
      role_(role),
      user_id_(std::move(user_id)),
      device_id_("d-" + user_id_),
      token_(std::move(token)),
      ledger_(owner.opt().expect_echo),
      pace_timer_(owner.ioc()),
      ack_timer_(owner.ioc()),
      ping_timer_(owner.ioc()),
      churn_timer_(owner.ioc()),
      aux_timer_(owner.ioc()) {}

agent::~agent() = default;

bool agent::opening() const noexcept {
    return state_ == state::connecting || state_ == state::authenticating ||
           state_ == state::syncing;
}

std::uint64_t agent::seq_holes() const noexcept {
    std::uint64_t n = 0;
    for (const auto& [id, t] : trackers_) {
        n += t.holes();
    }
    return n;
}

bool agent::sending_complete() const noexcept {
    if (state_ == state::failed) {
        return true;
    }
    if (!outbox_.empty() || !inflight_.empty()) {
        return false;
    }
    if (role_ == agent_role::specialist && shard_.opt().backlog) {
        return true;
    }
    const auto target = shard_.opt().messages_per_connection;
    return sending_stopped_ || !shard_.sending_enabled() ||
           (target != 0 && ledger_.size() >= target) || done();
}

// ---------------------------------------------------------------------------------------------
// Connection life cycle

void agent::start() {
    if (state_ != state::idle) {
        return;
    }
    if (shard_.opt().rate > 0 && !shard_.opt().connect_only) {
        start_pacing();
    }
    connect();
}

void agent::connect() {
    state_ = state::connecting;
    ++link_id_;
    counters::add(shard_.c().connect_attempts);
    link_ = ws::connection::open(shard_.ioc().get_executor(), shard_.target(), *this, link_id_,
                                 shard_.source_for(index_));
    // The link bounds connect + handshake; this bounds authentication and sync as well.
    arm_aux(aux_purpose::open_deadline,
            static_cast<std::int64_t>(shard_.opt().connect_timeout_s * 1000) + 1000);
}

void agent::schedule_reconnect(std::int64_t delay_ms) {
    state_ = state::waiting;
    arm_aux(aux_purpose::reconnect, delay_ms);
}

void agent::give_up(const std::string& why) {
    shard_.note("gave up: " + why);
    counters::add(shard_.c().failed);
    state_ = state::failed;
    aux_timer_.cancel();
    pace_timer_.cancel();
    churn_timer_.cancel();
    ping_timer_.cancel();
    ack_timer_.cancel();
    if (link_) {
        link_->close(1000, false);
    }
    // Messages that were never acked stay unacked: they are reported, not lost.
}

void agent::arm_aux(aux_purpose purpose, std::int64_t delay_ms) {
    aux_ = purpose;
    aux_timer_.expires_after(ms(delay_ms));
    aux_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            on_aux();
        }
    });
}

void agent::on_aux() {
    const auto purpose = std::exchange(aux_, aux_purpose::none);
    switch (purpose) {
        case aux_purpose::open_deadline:
            if (opening() && link_) {
                shard_.note("open timed out (authenticate/sync)");
                link_->close(1000, false);
            }
            break;
        case aux_purpose::reconnect:
            if (state_ == state::waiting) {
                if (shard_.closing()) {
                    state_ = state::done;
                } else {
                    connect();
                }
            }
            break;
        case aux_purpose::resume_sending:
            pump_sends();
            break;
        case aux_purpose::none:
            break;
    }
}

void agent::on_open(std::uint64_t link) {
    if (link != link_id_ || state_ != state::connecting) {
        return;
    }
    state_ = state::authenticating;
    auto& f = shard_.scratch_out();
    f.Clear();
    auth_rid_ = next_rid();
    f.set_request_id(auth_rid_);
    auto* a = f.mutable_authenticate();
    a->set_token(token_);
    a->set_device_id(device_id_);
    write(f);
}

void agent::on_close(std::uint64_t link, const ws::close_info& info) {
    if (link != link_id_) {
        return;
    }
    link_.reset();
    ack_timer_.cancel();
    ack_armed_ = false;
    ping_timer_.cancel();
    churn_timer_.cancel();
    if (aux_ != aux_purpose::none) {
        aux_ = aux_purpose::none;
        aux_timer_.cancel();
    }
    // The outbox survives: what was in flight is sent again, with the same ids.
    for (auto it = inflight_.rbegin(); it != inflight_.rend(); ++it) {
        requeue(it->n);
    }
    inflight_.clear();

    const state prev = state_;
    switch (prev) {
        case state::closing:
            state_ = state::done;
            return;
        case state::going_offline:
            state_ = state::offline;
            return;
        case state::failed:
        case state::done:
            return;
        default:
            break;
    }
    if (dropping_) {
        dropping_ = false;
        std::uniform_int_distribution<std::int64_t> d(50, 500);
        schedule_reconnect(d(shard_.rng()));
        return;
    }
    if (prev == state::live) {
        counters::add(shard_.c().unexpected_closes);
        if (info.code != 0) {
            counters::add(shard_.c().server_closes[close_slot(info.code)]);
        }
        shard_.note("closed while live: " + std::to_string(info.code) + " " + info.reason);
    } else {
        counters::add(shard_.c().attempt_failures);
        if (info.code != 0) {
            counters::add(shard_.c().server_closes[close_slot(info.code)]);
        }
        shard_.note("connection failed: " +
                    (info.code != 0 ? std::to_string(info.code) + " " : "") + info.reason);
    }
    if (shard_.closing()) {
        state_ = state::done;
        return;
    }
    ++failures_in_row_;
    if (failures_in_row_ > shard_.opt().connect_retries) {
        give_up(info.reason.empty() ? "connection failed" : info.reason);
        return;
    }
    std::uniform_int_distribution<std::int64_t> jitter(0, 200);
    const std::int64_t backoff =
        std::min<std::int64_t>(5000, 200LL << std::min<std::uint32_t>(failures_in_row_ - 1, 5));
    schedule_reconnect(backoff + jitter(shard_.rng()));
}

void agent::go_online() {
    if (state_ == state::offline) {
        connect();
    }
}

void agent::stop_sending() {
    sending_stopped_ = true;
    pacing_ = false;
    pace_timer_.cancel();
    churn_timer_.cancel();
}

void agent::close() {
    stop_sending();
    switch (state_) {
        case state::connecting:
        case state::authenticating:
        case state::syncing:
        case state::live:
        case state::going_offline:
            send_ack();
            state_ = state::closing;
            if (link_) {
                link_->close(1000, true);
            } else {
                state_ = state::done;
            }
            break;
        case state::idle:
        case state::waiting:
        case state::offline:
            aux_timer_.cancel();
            aux_ = aux_purpose::none;
            state_ = state::done;
            break;
        case state::closing:
        case state::done:
        case state::failed:
            break;
    }
}

// ---------------------------------------------------------------------------------------------
// Frames in

void agent::on_message(std::uint64_t link, std::string_view bytes, bool /*binary*/) {
    if (link != link_id_ || !link_) {
        return;
    }
    auto& f = shard_.scratch_in();
    if (!f.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        counters::add(shard_.c().bad_frames);
        return;
    }
    const std::uint64_t rid = f.request_id();
    switch (f.kind_case()) {
        case v1::Frame::kAuthenticated:
            if (rid == auth_rid_ && state_ == state::authenticating) {
                on_authenticated(f.authenticated());
            } else {
                counters::add(shard_.c().bad_frames);
            }
            break;
        case v1::Frame::kSynced:
            if (rid == sync_rid_ && state_ == state::syncing) {
                on_synced(f.synced());
            } else {
                counters::add(shard_.c().bad_frames);
            }
            break;
        case v1::Frame::kSent:
            on_sent(rid, f.sent());
            break;
        case v1::Frame::kError:
            on_error(rid, f.error());
            break;
        case v1::Frame::kEvent:
            on_event(f.event());
            break;
        case v1::Frame::kReceipt:
            counters::add(shard_.c().receipts);
            break;
        case v1::Frame::kPresence:
            counters::add(shard_.c().presence);
            break;
        case v1::Frame::kGoAway:
            shard_.note("go_away " + std::to_string(f.go_away().close_code()) + ": " +
                        f.go_away().reason());
            break;
        case v1::Frame::kPong:
        case v1::Frame::kOk:
        case v1::Frame::kTypingPush:
            break;
        default:
            counters::add(shard_.c().bad_frames);
            break;
    }
}

void agent::on_authenticated(const v1::AuthenticateReply& r) {
    if (r.user_id() != user_id_) {
        shard_.note("authenticated as another user");
        counters::add(shard_.c().corrupted);
    }
    if (r.has_limits()) {
        if (r.limits().heartbeat_interval_ms() > 0) {
            heartbeat_ms_ = r.limits().heartbeat_interval_ms();
        }
        shard_.note_limits(r.limits());
    }
    state_ = state::syncing;
    auto& f = shard_.scratch_out();
    f.Clear();
    sync_rid_ = next_rid();
    f.set_request_id(sync_rid_);
    f.mutable_sync()->set_after_cursor(cursor_);
    write(f);
}

void agent::on_synced(const v1::SyncReply& r) {
    if (aux_ == aux_purpose::open_deadline) {
        aux_ = aux_purpose::none;
        aux_timer_.cancel();
    }
    if (r.reset() && !cursor_.empty()) {
        counters::add(shard_.c().sync_resets);
        shard_.note("sync reset on resume");
    }
    if (cursor_.empty()) {
        cursor_ = r.from_cursor();
        acked_cursor_ = cursor_;
    }
    state_ = state::live;
    failures_in_row_ = 0;
    if (!established_once_) {
        established_once_ = true;
        counters::add(shard_.c().established);
    } else {
        counters::add(shard_.c().reconnects);
    }
    schedule_ping();
    if (role_ == agent_role::specialist && shard_.backlog_offline_phase() && !offline_once_) {
        offline_once_ = true;
        state_ = state::going_offline;
        link_->close(1000, true);
        return;
    }
    schedule_churn();
    for (agent* c : clients_) {
        c->pump_sends();
    }
    pump_sends();
}

// ---------------------------------------------------------------------------------------------
// Sending

void agent::start_pacing() {
    const auto senders = shard_.senders();
    if (senders == 0 || pacing_) {
        return;
    }
    pacing_ = true;
    pace_interval_us_ = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(1e6 * static_cast<double>(senders) / shard_.opt().rate));
    std::uniform_int_distribution<std::int64_t> phase(0, pace_interval_us_ - 1);
    next_due_us_ = shard_.now_us() + phase(shard_.rng());
    pace_timer_.expires_after(us(next_due_us_ - shard_.now_us()));
    pace_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            on_pace();
        }
    });
}

void agent::on_pace() {
    if (!pacing_) {
        return;
    }
    const std::int64_t now = shard_.now_us();
    for (int i = 0; i < max_catch_up && next_due_us_ <= now; ++i) {
        if (can_generate()) {
            if (outbox_.size() >= max_outbox) {
                counters::add(shard_.c().behind_schedule);
            } else {
                generate(next_due_us_);
            }
        }
        next_due_us_ += pace_interval_us_;
    }
    if (next_due_us_ <= now) {
        // Still behind after catching up: skip the rest rather than burst.
        next_due_us_ = now + pace_interval_us_;
    }
    pump_sends();
    const auto target = shard_.opt().messages_per_connection;
    if (target != 0 && ledger_.size() >= target) {
        pacing_ = false;
        return;
    }
    pace_timer_.expires_after(us(next_due_us_ - now));
    pace_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            on_pace();
        }
    });
}

bool agent::can_generate() const noexcept {
    const auto& o = shard_.opt();
    if (sending_stopped_ || !shard_.sending_enabled() || o.connect_only || done() ||
        state_ == state::closing) {
        return false;
    }
    if (o.messages_per_connection != 0 && ledger_.size() >= o.messages_per_connection) {
        return false;
    }
    if (role_ == agent_role::specialist) {
        return !o.backlog && !rotation_.empty();
    }
    return true;
}

void agent::generate(std::int64_t due_us) {
    std::uint32_t key = local_;
    if (role_ == agent_role::specialist) {
        key = rotation_[next_in_rotation_++ % rotation_.size()];
    }
    outbox_.push_back(ledger_.create(key, due_us));
    counters::add(shard_.c().generated);
}

bool agent::can_send(std::uint64_t n) const noexcept {
    if (role_ == agent_role::specialist) {
        return true;
    }
    if (n == 0) {
        // The inquiry: the specialist must be listening, or it would start after it (a new
        // device's stream starts at the present). In backlog mode it has its cursor already.
        return shard_.opt().backlog || (peer_ != nullptr && peer_->established_once());
    }
    return !conversation_id_.empty();
}

void agent::pump_sends() {
    if (state_ != state::live) {
        return;
    }
    const std::int64_t now = shard_.now_us();
    if (now < paused_until_us_) {
        if (aux_ == aux_purpose::none) {
            arm_aux(aux_purpose::resume_sending, (paused_until_us_ - now) / 1000 + 1);
        }
        return;
    }
    const auto window = shard_.opt().window;
    // Bounded: each turn sends one message, and at most `window` may be in flight.
    while (inflight_.size() < window) {
        if (outbox_.empty()) {
            if (shard_.opt().rate > 0 || !can_generate() ||
                (role_ == agent_role::client && conversation_id_.empty() && ledger_.size() > 0)) {
                break;
            }
            generate(now);
        }
        const std::uint64_t n = outbox_.front();
        if (!can_send(n)) {
            break;
        }
        outbox_.pop_front();
        send_one(n);
    }
}

const std::string& agent::conversation_of(std::uint32_t key) const {
    if (role_ == agent_role::client) {
        return conversation_id_;
    }
    return conversations_.at(key);
}

void agent::send_one(std::uint64_t n) {
    auto& rec = ledger_.at(n);
    ++rec.attempts;
    if (rec.attempts > 1) {
        counters::add(shard_.c().retries);
    }
    counters::add(shard_.c().sent);
    auto& f = shard_.scratch_out();
    f.Clear();
    const std::uint64_t rid = next_rid();
    f.set_request_id(rid);
    std::string body = make_body(index_, n, shard_.opt().body_bytes);
    if (role_ == agent_role::client && n == 0) {
        auto* q = f.mutable_start_inquiry();
        q->set_specialist_id(peer_->user_id());
        q->set_client_msg_id(msg_id(n));
        q->set_body(std::move(body));
    } else {
        auto* q = f.mutable_send_message();
        q->set_conversation_id(conversation_of(rec.conversation));
        q->set_client_msg_id(msg_id(n));
        q->set_body(std::move(body));
    }
    inflight_.push_back(in_flight{rid, n});
    write(f);
}

void agent::requeue(std::uint64_t n) {
    outbox_.insert(std::lower_bound(outbox_.begin(), outbox_.end(), n), n);
}

void agent::on_sent(std::uint64_t rid, const v1::SendReply& r) {
    auto it = std::find_if(inflight_.begin(), inflight_.end(),
                           [rid](const in_flight& e) { return e.request_id == rid; });
    if (it == inflight_.end()) {
        counters::add(shard_.c().bad_frames);
        return;
    }
    const std::uint64_t n = it->n;
    inflight_.erase(it);
    auto& rec = ledger_.at(n);
    if (role_ == agent_role::client && conversation_id_.empty()) {
        conversation_id_ = r.conversation_id();
    }
    if (r.conversation_id() != conversation_of(rec.conversation) ||
        (!r.client_msg_id().empty() && r.client_msg_id() != msg_id(n))) {
        counters::add(shard_.c().corrupted);
        shard_.note("SendReply for another conversation or message");
    }
    if (r.duplicate()) {
        counters::add(shard_.c().acked_duplicate);
    }
    const std::int64_t now = shard_.now_us();
    switch (ledger_.on_ack(n, r.seq(), now)) {
        case check::first:
            counters::add(shard_.c().acked);
            shard_.record_ack(now - rec.created_us);
            break;
        case check::again:
            break;
        case check::seq_mismatch:
        case check::wrong_conversation:
        case check::unknown:
            counters::add(shard_.c().corrupted);
            shard_.note("SendReply seq differs from the pushed seq");
            break;
    }
    pump_sends();
}

void agent::on_error(std::uint64_t rid, const v1::ErrorReply& e) {
    counters::add(shard_.c().error_replies);
    const auto code = static_cast<std::size_t>(e.code());
    counters::add(shard_.c().errors[std::min(code, error_code_slots - 1)]);
    if (rid == auth_rid_ && state_ == state::authenticating) {
        shard_.note("authenticate: " + v1::ErrorCode_Name(e.code()) + " " + e.message());
        if (e.retryable() || e.code() == v1::UNAVAILABLE) {
            link_->close(1000, false);
        } else {
            give_up("authentication refused: " + e.message());
        }
        return;
    }
    if (rid == sync_rid_ && state_ == state::syncing) {
        shard_.note("sync: " + v1::ErrorCode_Name(e.code()) + " " + e.message());
        link_->close(1000, false);
        return;
    }
    if (rid == ack_rid_ && rid != 0) {
        // The ack did not count: send it again with the next batch.
        acked_cursor_.clear();
        schedule_ack();
        return;
    }
    auto it = std::find_if(inflight_.begin(), inflight_.end(),
                           [rid](const in_flight& x) { return x.request_id == rid; });
    if (it == inflight_.end()) {
        shard_.note("error reply: " + v1::ErrorCode_Name(e.code()) + " " + e.message());
        return;
    }
    const std::uint64_t n = it->n;
    inflight_.erase(it);
    if (e.retryable() || e.code() == v1::RATE_LIMITED || e.code() == v1::UNAVAILABLE) {
        requeue(n);
        const std::int64_t wait_ms = std::max<std::int64_t>(e.retry_after_ms(), 20);
        paused_until_us_ = std::max(paused_until_us_, shard_.now_us() + wait_ms * 1000);
        if (e.code() != v1::RATE_LIMITED) {
            shard_.note("send: " + v1::ErrorCode_Name(e.code()) + " " + e.message());
        }
        pump_sends();
        return;
    }
    shard_.note("send refused: " + v1::ErrorCode_Name(e.code()) + " " + e.message());
    ledger_.on_failed(n);
    counters::add(shard_.c().failed_messages);
    pump_sends();
}

// ---------------------------------------------------------------------------------------------
// Events

void agent::on_event(const v1::EventPush& e) {
    counters::add(shard_.c().events);
    if (!e.cursor().empty()) {
        cursor_ = e.cursor();
        schedule_ack();
    }
    if (e.has_message()) {
        check_message(e.message());
    } else if (e.has_conversation()) {
        counters::add(shard_.c().conversation_events);
        const auto& c = e.conversation();
        if (role_ == agent_role::specialist) {
            if (agent* client = shard_.find_user(c.client_id())) {
                learn_conversation(c.id(), client);
            }
        }
    }
}

void agent::learn_conversation(const std::string& conversation_id, agent* client) {
    if (client->role_ != agent_role::client || client->peer_ != this) {
        counters::add(shard_.c().misrouted);
        shard_.note("a conversation of another specialist was pushed");
        return;
    }
    auto [it, inserted] = conversations_.try_emplace(client->local_, conversation_id);
    if (inserted) {
        rotation_.push_back(client->local_);
        pump_sends();
    } else if (it->second != conversation_id) {
        counters::add(shard_.c().corrupted);
        shard_.note("two conversations for one client/specialist pair");
    }
}

void agent::check_message(const v1::Message& m) {
    auto& c = shard_.c();
    const bool gapless = shard_.opt().expect_echo;
    const auto order =
        trackers_.try_emplace(m.conversation_id(), 1, gapless).first->second.on_seq(m.seq());
    switch (order) {
        case seq_tracker::verdict::in_order:
        case seq_tracker::verdict::behind:  // judged below, once the ledger says if it is new
            break;
        case seq_tracker::verdict::gap:
            counters::add(c.seq_gaps);
            break;
        case seq_tracker::verdict::reordered:
            counters::add(c.reordered);
            break;
        case seq_tracker::verdict::duplicate:
            counters::add(c.seq_duplicates);
            break;
    }
    agent* sender = shard_.find_user(m.sender_id());
    const auto n = parse_msg_id(m.client_msg_id());
    if (sender == nullptr || !n || !sender->ledger_.contains(*n)) {
        counters::add(c.unknown_messages);
        shard_.note("a message this run did not send was pushed");
        return;
    }
    const bool echo = sender == this;
    if (!echo) {
        const bool party = role_ == agent_role::client
                               ? sender == peer_
                               : (sender->role_ == agent_role::client && sender->peer_ == this);
        if (!party) {
            counters::add(c.misrouted);
            shard_.note("a message was pushed to a device that is not a party");
            return;
        }
    }
    const auto& rec = sender->ledger_.at(*n);
    agent& client = shard_.at(rec.conversation);
    if (client.conversation_id_.empty()) {
        client.conversation_id_ = m.conversation_id();
    } else if (client.conversation_id_ != m.conversation_id()) {
        counters::add(c.corrupted);
        shard_.note("a message was pushed in another conversation");
        return;
    }
    if (role_ == agent_role::specialist && sender->role_ == agent_role::client) {
        learn_conversation(m.conversation_id(), sender);
    }
    if (!body_matches(m.body(), sender->index_, *n, shard_.opt().body_bytes)) {
        counters::add(c.corrupted);
        shard_.note("a body arrived corrupted");
    }
    const std::int64_t now = shard_.now_us();
    switch (sender->ledger_.on_delivery(*n, m.seq(), rec.conversation, echo)) {
        case check::first:
            if (order == seq_tracker::verdict::behind) {
                counters::add(c.reordered);
            }
            if (echo) {
                counters::add(c.echoed);
            } else {
                counters::add(c.delivered);
                shard_.note_delivery(now);
                if (!shard_.opt().backlog) {
                    shard_.record_delivery(now - rec.created_us);
                }
            }
            break;
        case check::again:
            counters::add(c.duplicated);
            break;
        case check::seq_mismatch:
        case check::wrong_conversation:
        case check::unknown:
            counters::add(c.corrupted);
            shard_.note("a pushed message's seq differs from its acked seq");
            break;
    }
}

// ---------------------------------------------------------------------------------------------
// Acks, heartbeats, churn

void agent::schedule_ack() {
    if (ack_armed_) {
        return;
    }
    const auto delay = shard_.opt().ack_delay_ms;
    if (delay == 0) {
        send_ack();
        return;
    }
    ack_armed_ = true;
    ack_timer_.expires_after(ms(delay));
    ack_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            ack_armed_ = false;
            send_ack();
        }
    });
}

void agent::send_ack() {
    if (!link_ || (state_ != state::live && state_ != state::going_offline) ||
        cursor_ == acked_cursor_ || cursor_.empty()) {
        return;
    }
    auto& f = shard_.scratch_out();
    f.Clear();
    ack_rid_ = next_rid();
    f.set_request_id(ack_rid_);
    f.mutable_ack()->set_cursor(cursor_);
    acked_cursor_ = cursor_;
    counters::add(shard_.c().acks_sent);
    write(f);
}

void agent::schedule_ping() {
    ping_timer_.expires_after(ms(heartbeat_ms_));
    ping_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || state_ != state::live) {
            return;
        }
        if (shard_.now_us() - last_sent_us_ >= heartbeat_ms_ * 1000 / 2) {
            auto& f = shard_.scratch_out();
            f.Clear();
            f.set_request_id(next_rid());
            f.mutable_ping()->set_client_time_ms(shard_.now_us() / 1000);
            counters::add(shard_.c().pings_sent);
            write(f);
        }
        schedule_ping();
    });
}

void agent::schedule_churn() {
    const double p = shard_.opt().churn;
    if (p <= 0 || !shard_.churn_enabled() || sending_stopped_) {
        return;
    }
    // Drops form a Poisson process: P(drop within a second) = p means a rate of -ln(1 - p).
    const double rate = p >= 1 ? 20.0 : -std::log1p(-p);
    std::exponential_distribution<double> d(rate);
    const auto delay_ms = static_cast<std::int64_t>(std::min(d(shard_.rng()), 3600.0) * 1000);
    churn_timer_.expires_after(ms(delay_ms));
    churn_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || state_ != state::live || !shard_.churn_enabled() || sending_stopped_) {
            return;
        }
        counters::add(shard_.c().drops);
        dropping_ = true;
        link_->close(1000, false);
    });
}

void agent::write(const v1::Frame& f) {
    std::string bytes;
    f.SerializeToString(&bytes);
    last_sent_us_ = shard_.now_us();
    link_->send(std::move(bytes));
}

}  // namespace confide::loadgen
