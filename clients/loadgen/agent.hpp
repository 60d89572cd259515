#pragma once
// One simulated device: the client library's core (outbox, retries, sync, acks, heartbeats,
// reconnects) run over a WebSocket connection, fed with generated messages; every frame the
// core receives is checked against the senders' ledgers.

#include "verifier.hpp"

#include "core.hpp"
#include "runner.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace confide::v1 {
class Message;
class SendReply;
}  // namespace confide::v1

namespace confide::loadgen {

class shard;

enum class agent_role { client, specialist };

/// Thread safety: none; everything runs on its shard's thread. The parties of every
/// conversation live on the same shard, so an agent reads its peers' ledgers directly.
class agent final : private client::detail::runner_owner, private client::detail::observer {
public:
    /// `local` is the agent's index in its shard, `index` its number among every connection of
    /// the run (the sender number in bodies).
    agent(shard& owner, std::uint32_t local, std::uint32_t index, agent_role role,
          std::string user_id, std::string token);
    ~agent();
    agent(const agent&) = delete;
    agent& operator=(const agent&) = delete;

    /// Clients: the specialist this client writes to (same shard).
    void set_peer(agent* specialist) { peer_ = specialist; }
    /// Clients: the conversation with the peer exists already (--conversation-prefix): every
    /// message is a send to it, none starts an inquiry.
    void join_conversation(std::string conversation_id) {
        conversation_id_ = std::move(conversation_id);
        seeded_ = true;
    }
    /// Specialists: a client writing to this specialist.
    void add_client(agent* client) { clients_.push_back(client); }

    /// Starts connecting.
    void start();
    /// No new messages from now on; those already generated are still sent.
    void stop_sending();
    /// Backlog mode: reconnects an offline specialist (resuming from its cursor).
    void go_online();
    /// Acks what it has, closes gracefully and does not reconnect. Ends in done().
    void close();
    /// Whether nothing more will be sent: no message generated and not acked yet, none still
    /// to generate.
    bool sending_complete() const noexcept;

    bool done() const noexcept { return state_ == state::done || state_ == state::failed; }
    bool failed() const noexcept { return state_ == state::failed; }
    bool live() const noexcept { return state_ == state::live; }
    /// Connecting, authenticating or syncing (not waiting to reconnect).
    bool opening() const noexcept;
    bool offline() const noexcept { return state_ == state::offline; }
    bool established_once() const noexcept { return established_once_; }
    /// Messages generated and not acked (or failed) yet.
    std::size_t pending_sends() const noexcept { return held_.size() + core_.outbox_size(); }
    const message_ledger& ledger() const noexcept { return ledger_; }
    /// Seqs this device skipped and never received.
    std::uint64_t seq_holes() const noexcept;

    const std::string& user_id() const noexcept { return user_id_; }
    agent_role role() const noexcept { return role_; }
    std::uint32_t local() const noexcept { return local_; }

private:
    enum class state {
        idle,
        connecting,     // the core is connecting, authenticating or syncing, or waits to retry
        live,           // synced
        going_offline,  // backlog: stopped after the first sync, the connection still closing
        offline,
        closing,
        done,
        failed,
    };

    // Runs the core with input `f(now)`, then what follows.
    template <class F>
    void input(F f) {
        f(client::clock::now());
        runner_.drain();
    }
    void give_up(const std::string& why);
    // Something arrived other than it was sent: counted and noted.
    void corrupted(const char* what);

    // runner_owner
    void on_notify(client::detail::notification& n) override;
    void on_callback(std::function<void()>& /*fn*/) override {}
    void on_drained() override;
    void on_connection_closed(const ws::close_info& info) override;
    void on_state(const client::state_change& s);
    void on_synced(const client::detail::synced_notice& s);
    void on_send_update(const client::send_update& u);

    // observer: the verification (agent_checks.cpp)
    void on_sending(const v1::Frame& frame) override;
    void on_received(const v1::Frame& frame) override;
    void on_malformed() override;
    void on_stored(const client::detail::outbox_item& item, const std::string& conversation_id,
                   std::uint64_t seq, const v1::SendReply* reply) override;
    // The order of `seq` in this device's view of `conversation_id`, counted when wrong.
    seq_tracker::verdict check_order(const std::string& conversation_id, std::uint64_t seq);
    void check_message(const v1::Message& m);
    // A SendReply with a cursor: the push of our own message, which the server skipped.
    void check_own_event(const v1::SendReply& r);
    // Message `n` of `sender` reached this device as `seq` of `conversation_id`.
    void check_delivery(agent& sender, std::uint64_t n, const std::string& conversation_id,
                        std::uint64_t seq, seq_tracker::verdict order);
    void learn_conversation(const std::string& conversation_id, agent* client);

    // Generating and handing messages to the core.
    void start_pacing();
    void on_pace();
    bool can_generate() const noexcept;
    void generate(std::int64_t due_us);
    bool can_hand_over(std::uint64_t n) const noexcept;
    void hand_over();
    void fill_window();
    const std::string& conversation_of(std::uint32_t key) const;
    std::optional<std::uint64_t> message_number(std::string_view client_msg_id) const;

    void schedule_churn();

    shard& shard_;
    std::uint32_t local_;
    std::uint32_t index_;
    agent_role role_;
    std::string user_id_;
    std::string token_;

    agent* peer_ = nullptr;        // clients: their specialist
    std::vector<agent*> clients_;  // specialists: their clients
    std::string conversation_id_;  // clients: their conversation
    bool seeded_ = false;          // clients: conversation_id_ given, not opened by an inquiry
    // Specialists: the conversations they know, by client (the conversation key), and the
    // order in which they write to them.
    std::unordered_map<std::uint32_t, std::string> conversations_;
    std::vector<std::uint32_t> rotation_;
    std::size_t next_in_rotation_ = 0;

    state state_ = state::idle;
    bool established_once_ = false;
    bool offline_once_ = false;
    bool dropping_ = false;  // a churn drop: the lost connection is no failure
    bool sending_stopped_ = false;
    std::uint32_t failures_in_row_ = 0;

    std::unordered_map<std::string, seq_tracker> trackers_;
    message_ledger ledger_;
    // Generated, not yet handed to the core: a client's messages before its conversation
    // exists (and its inquiry before the specialist listens).
    std::deque<std::uint64_t> held_;
    std::int64_t next_due_us_ = 0;
    std::int64_t pace_interval_us_ = 0;
    bool pacing_ = false;

    client::detail::core core_;
    client::detail::runner runner_;
    boost::asio::steady_timer pace_timer_;
    boost::asio::steady_timer churn_timer_;
};

}  // namespace confide::loadgen
