#pragma once
// One simulated device: connects, authenticates, syncs, sends its messages (an outbox that
// survives reconnections, retried with the same client_msg_id) and checks every message pushed
// to it against the senders' ledgers.

#include "confide/ws/connection.hpp"
#include "verifier.hpp"

#include "confide/v1/confide.pb.h"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace confide::loadgen {

class shard;
namespace v1 = ::confide::v1;

enum class agent_role { client, specialist };

/// Thread safety: none; everything runs on its shard's thread. The parties of every
/// conversation live on the same shard, so an agent reads its peers' ledgers directly.
class agent final : public ws::events {
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
    /// Specialists: a client writing to this specialist.
    void add_client(agent* client) { clients_.push_back(client); }

    /// Opens the first connection.
    void start();
    /// No new messages from now on; those already generated are still sent.
    void stop_sending();
    /// Backlog mode: reconnects an offline specialist (resuming from its cursor).
    void go_online();
    /// Acks what it has, closes gracefully and does not reconnect. Ends in done().
    void close();
    /// Whether the outbox, the messages in flight and the generation target are all empty:
    /// nothing more will be sent (acks of messages in flight included).
    bool sending_complete() const noexcept;

    bool done() const noexcept { return state_ == state::done || state_ == state::failed; }
    bool failed() const noexcept { return state_ == state::failed; }
    bool live() const noexcept { return state_ == state::live; }
    bool opening() const noexcept;
    bool offline() const noexcept { return state_ == state::offline; }
    bool established_once() const noexcept { return established_once_; }
    std::size_t pending_sends() const noexcept { return outbox_.size() + inflight_.size(); }
    const message_ledger& ledger() const noexcept { return ledger_; }
    /// Seqs this device skipped and never received.
    std::uint64_t seq_holes() const noexcept;

    const std::string& user_id() const noexcept { return user_id_; }
    agent_role role() const noexcept { return role_; }
    std::uint32_t local() const noexcept { return local_; }

    void on_open(std::uint64_t link) override;
    void on_message(std::uint64_t link, std::string_view bytes, bool binary) override;
    void on_close(std::uint64_t link, const ws::close_info& info) override;

private:
    enum class state {
        idle,
        connecting,
        authenticating,
        syncing,
        live,
        waiting,        // for a reconnection
        going_offline,  // backlog: closing after the first sync
        offline,
        closing,
        done,
        failed,
    };
    enum class aux_purpose { none, open_deadline, reconnect, resume_sending };

    struct in_flight {
        std::uint64_t request_id;
        std::uint64_t n;
    };

    void connect();
    void schedule_reconnect(std::int64_t delay_ms);
    void give_up(const std::string& why);
    void arm_aux(aux_purpose purpose, std::int64_t delay_ms);
    void on_aux();

    void on_authenticated(const v1::AuthenticateReply& r);
    void on_synced(const v1::SyncReply& r);
    void on_sent(std::uint64_t rid, const v1::SendReply& r);
    void on_error(std::uint64_t rid, const v1::ErrorReply& e);
    void on_event(const v1::EventPush& e);
    void check_message(const v1::Message& m);
    void learn_conversation(const std::string& conversation_id, agent* client);

    // Sending.
    void start_pacing();
    void on_pace();
    bool can_generate() const noexcept;
    void generate(std::int64_t due_us);
    bool can_send(std::uint64_t n) const noexcept;
    void pump_sends();
    void send_one(std::uint64_t n);
    void requeue(std::uint64_t n);
    const std::string& conversation_of(std::uint32_t key) const;

    void schedule_ack();
    void send_ack();
    void schedule_ping();
    void schedule_churn();
    void write(const v1::Frame& f);
    std::uint64_t next_rid() noexcept { return ++rid_; }

    shard& shard_;
    std::uint32_t local_;
    std::uint32_t index_;
    agent_role role_;
    std::string user_id_;
    std::string device_id_;
    std::string token_;

    agent* peer_ = nullptr;        // clients: their specialist
    std::vector<agent*> clients_;  // specialists: their clients
    std::string conversation_id_;  // clients: their conversation
    // Specialists: the conversations they know, by client (the conversation key), and the
    // order in which they write to them.
    std::unordered_map<std::uint32_t, std::string> conversations_;
    std::vector<std::uint32_t> rotation_;
    std::size_t next_in_rotation_ = 0;

    state state_ = state::idle;
    std::shared_ptr<ws::connection> link_;
    std::uint64_t link_id_ = 0;
    std::uint64_t rid_ = 0;
    std::uint64_t auth_rid_ = 0;
    std::uint64_t sync_rid_ = 0;
    std::uint64_t ack_rid_ = 0;
    bool established_once_ = false;
    bool offline_once_ = false;
    bool dropping_ = false;
    bool sending_stopped_ = false;
    std::uint32_t failures_in_row_ = 0;
    std::int64_t heartbeat_ms_ = 15'000;
    std::int64_t last_sent_us_ = 0;

    // The event stream: the last cursor processed and the last one acked.
    std::string cursor_;
    std::string acked_cursor_;
    bool ack_armed_ = false;
    std::unordered_map<std::string, seq_tracker> trackers_;

    message_ledger ledger_;
    std::deque<std::uint64_t> outbox_;  // ascending message numbers, not yet sent
    std::vector<in_flight> inflight_;
    std::int64_t paused_until_us_ = 0;
    std::int64_t next_due_us_ = 0;
    std::int64_t pace_interval_us_ = 0;
    bool pacing_ = false;

    boost::asio::steady_timer pace_timer_;
    boost::asio::steady_timer ack_timer_;
    boost::asio::steady_timer ping_timer_;
    boost::asio::steady_timer churn_timer_;
    boost::asio::steady_timer aux_timer_;
    aux_purpose aux_ = aux_purpose::none;
};

}  // namespace confide::loadgen
