#include "agent.hpp"

#include "message_body.hpp"
#include "shard.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>
#include <variant>

namespace confide::loadgen {
namespace {

using namespace std::chrono_literals;
namespace cd = client::detail;

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

std::chrono::microseconds us(std::int64_t v) {
    return std::chrono::microseconds(std::max<std::int64_t>(v, 0));
}

client::options core_options(const options& o, const std::string& user_id,
                             const std::string& token) {
    client::options c;
    c.device_id = "d-" + user_id;
    c.token_provider = [&token] { return token; };
    // Three of the server's default heartbeat intervals: the core pings a quiet connection every
    // 15 s (the server's interval when shorter), like a device.
    c.heartbeat_timeout = 45s;
    c.reconnect_min = 200ms;
    c.reconnect_max = 5s;
    c.connect_timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(o.connect_timeout_s * 1000));
    // Long enough for Redis's AOF rewrites under load: a resend is harmless (the server answers
    // duplicate) but not free.
    c.request_timeout = 30s;
    c.ack_delay = std::chrono::milliseconds(o.ack_delay_ms);
    c.skip_own_echo = o.skip_own_echo;
    return c;
}

cd::tuning core_tuning(const options& o, cd::observer* watcher,
                       std::shared_ptr<cd::frame_buffers> frames) {
    cd::tuning t;
    // The window is per connection: a client has one conversation, a specialist shares it.
    t.in_flight_per_conversation = o.window;
    t.in_flight_per_connection = o.window;
    // The checks read the frames themselves; converted events and ticks would be thrown away.
    t.lean = true;
    t.watcher = watcher;
    t.buffers = std::move(frames);
    return t;
}

}  // namespace

agent::agent(shard& owner, std::uint32_t local, std::uint32_t index, agent_role role,
             std::string user_id, std::string token)
    : shard_(owner),
      local_(local),
      index_(index),
      role_(role),
      user_id_(std::move(user_id)),
      token_(std::move(token)),
      ledger_(owner.opt().expect_echo),
      core_(core_options(owner.opt(), user_id_, token_), owner.rng()(),
            core_tuning(owner.opt(), this, owner.frames())),
      runner_(owner.ioc().get_executor(), core_, owner.target(), *this, owner.source_for(index)),
      pace_timer_(owner.ioc()),
      churn_timer_(owner.ioc()) {}

agent::~agent() = default;

bool agent::opening() const noexcept {
    return state_ == state::connecting &&
           core_.state() != client::connection_state::connection_lost;
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
    if (pending_sends() != 0) {
        return false;
    }
    if (role_ == agent_role::specialist && shard_.opt().backlog) {
        return true;
    }
    const auto target = shard_.opt().messages_per_connection;
    return sending_stopped_ || !shard_.sending_enabled() ||
           (target != 0 && ledger_.size() >= target) || done();
}

std::optional<std::uint64_t> agent::message_number(std::string_view client_msg_id) const {
    std::uint64_t n = 0;
    if (client_msg_id.size() < 2 || client_msg_id.front() != 'm') {
        return std::nullopt;
    }
    const auto* end = client_msg_id.data() + client_msg_id.size();
    auto [p, ec] = std::from_chars(client_msg_id.data() + 1, end, n);
    if (ec != std::errc{} || p != end) {
        return std::nullopt;
    }
    return n;
}

// ---------------------------------------------------------------------------------------------
// Connection life cycle: the core decides; the agent counts and steers.

void agent::start() {
    if (state_ != state::idle) {
        return;
    }
    if (shard_.opt().rate > 0 && !shard_.opt().connect_only) {
        start_pacing();
    }
    state_ = state::connecting;
    input([this](auto now) { core_.start(now); });
}

void agent::go_online() {
    if (state_ == state::offline) {
        state_ = state::connecting;
        input([this](auto now) { core_.start(now); });
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
        case state::live:
        case state::going_offline:
            // stop() acks what was processed, then closes gracefully.
            state_ = state::closing;
            input([this](auto now) { core_.stop(now); });
            break;
        case state::idle:
        case state::offline:
            state_ = state::done;
            break;
        case state::closing:
        case state::done:
        case state::failed:
            break;
    }
}

void agent::corrupted(const char* what) {
    counters::add(shard_.c().corrupted);
    shard_.note(what);
}

void agent::give_up(const std::string& why) {
    shard_.note("gave up: " + why);
    counters::add(shard_.c().failed);
    state_ = state::failed;
    pace_timer_.cancel();
    churn_timer_.cancel();
    // Messages that were never acked stay unacked: they are reported, not lost.
    input([this](auto now) { core_.stop(now); });
}

void agent::on_notify(cd::notification& n) {
    if (auto* u = std::get_if<client::send_update>(&n)) {
        on_send_update(*u);
    } else if (auto* s = std::get_if<client::state_change>(&n)) {
        on_state(*s);
    } else if (auto* sy = std::get_if<cd::synced_notice>(&n)) {
        on_synced(*sy);
    }
}

void agent::on_state(const client::state_change& s) {
    auto& c = shard_.c();
    switch (s.state) {
        case client::connection_state::connecting:
            counters::add(c.connect_attempts);
            break;
        case client::connection_state::connected:
            if (s.user_id != user_id_) {
                corrupted("authenticated as another user");
            }
            break;
        case client::connection_state::connection_lost:
            if (state_ != state::connecting && state_ != state::live) {
                break;
            }
            if (std::exchange(dropping_, false)) {
                state_ = state::connecting;
                break;
            }
            if (state_ == state::live) {
                counters::add(c.unexpected_closes);
                shard_.note("closed while live: " + s.detail);
            } else {
                counters::add(c.attempt_failures);
                shard_.note("connection failed: " + s.detail);
            }
            state_ = state::connecting;
            if (shard_.closing()) {
                close();
            } else if (++failures_in_row_ > shard_.opt().connect_retries) {
                give_up(s.detail);
            }
            break;
        case client::connection_state::closed:
            // The server ended the session for good (a refused token, too many connections,
            // a sign-out, a protocol error); our own stop() is expected.
            if (state_ == state::connecting || state_ == state::live) {
                give_up(s.detail);
            }
            break;
    }
}

void agent::on_synced(const cd::synced_notice& s) {
    if (state_ != state::connecting) {
        return;
    }
    auto& c = shard_.c();
    if (s.reset && s.resumed) {
        counters::add(c.sync_resets);
        shard_.note("sync reset on resume");
    }
    state_ = state::live;
    failures_in_row_ = 0;
    if (!established_once_) {
        established_once_ = true;
        counters::add(c.established);
    } else {
        counters::add(c.reconnects);
    }
    if (role_ == agent_role::specialist && shard_.backlog_offline_phase() && !offline_once_) {
        offline_once_ = true;
        state_ = state::going_offline;
        input([this](auto now) { core_.stop(now); });
        return;
    }
    schedule_churn();
    // Their inquiries waited for this specialist to listen.
    for (agent* client : clients_) {
        client->runner_.drain();
    }
}

void agent::on_drained() {
    if ((state_ == state::closing || state_ == state::going_offline) &&
        core_.state() == client::connection_state::closed && runner_.connections() == 0) {
        state_ = state_ == state::closing ? state::done : state::offline;
        return;
    }
    if (state_ == state::connecting || state_ == state::live || state_ == state::offline) {
        hand_over();
        fill_window();
    }
}

void agent::on_connection_closed(const ws::close_info& info) {
    // The close frames that answer our own closes are no news.
    if (info.code != 0 && (state_ == state::connecting || state_ == state::live)) {
        counters::add(shard_.c().server_closes[close_slot(info.code)]);
    }
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
    churn_timer_.expires_after(std::chrono::milliseconds(delay_ms));
    churn_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || state_ != state::live || !shard_.churn_enabled() || sending_stopped_) {
            return;
        }
        counters::add(shard_.c().drops);
        dropping_ = true;
        input([this](auto now) { core_.reconnect(now); });
    });
}

// ---------------------------------------------------------------------------------------------
// Sending: the agent generates (paced, or to keep the window full) and hands messages to the
// core, which sends, retries and reports them.

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
            if (pending_sends() >= max_outbox) {
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
    runner_.drain();  // hands the new messages over
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
    held_.push_back(ledger_.create(key, due_us));
    counters::add(shard_.c().generated);
}

bool agent::can_hand_over(std::uint64_t n) const noexcept {
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

void agent::hand_over() {
    while (!held_.empty() && can_hand_over(held_.front())) {
        const std::uint64_t n = held_.front();
        held_.pop_front();
        const auto now = client::clock::now();
        std::string body = make_body(index_, n, shard_.opt().body_bytes);
        if (role_ == agent_role::client && n == 0 && !seeded_) {
            core_.start_inquiry(msg_id(n), peer_->user_id(), std::move(body), false, now);
        } else {
            core_.send_message(msg_id(n), conversation_of(ledger_.at(n).conversation),
                               std::move(body), now);
        }
    }
}

// As fast as the server acks (--rate 0): the window full, and no message waiting behind it.
void agent::fill_window() {
    if (shard_.opt().rate > 0 || state_ != state::live) {
        return;
    }
    const auto window = shard_.opt().window;
    while (pending_sends() < window && can_generate() &&
           !(role_ == agent_role::client && conversation_id_.empty() && ledger_.size() > 0)) {
        generate(shard_.now_us());
        hand_over();
    }
}

const std::string& agent::conversation_of(std::uint32_t key) const {
    if (role_ == agent_role::client) {
        return conversation_id_;
    }
    return conversations_.at(key);
}

void agent::on_send_update(const client::send_update& u) {
    // Lean, the core reports own messages only when they fail; on_stored tells the rest.
    const auto n = message_number(u.client_msg_id);
    if (u.state != client::send_state::failed || !n || !ledger_.contains(*n)) {
        return;
    }
    shard_.note("send refused: " +
                (u.err ? std::string(client::to_string(u.err->code)) + " " + u.err->message
                       : std::string()));
    ledger_.on_failed(*n);
    counters::add(shard_.c().failed_messages);
}

}  // namespace confide::loadgen
