#pragma once
// One thread of the load generator: an io_context, the agents that live on it (both parties of
// each of their conversations) and their counters. The controller (main thread) steers shards
// with the post_* calls and watches the gauges.

#include "agent.hpp"
#include "confide/ws/connection.hpp"
#include "histogram.hpp"
#include "options.hpp"
#include "stats.hpp"

#include "confide/v1/confide.pb.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace confide::loadgen {

/// The run's clock: microseconds since the run started, from steady_clock.
class run_clock {
public:
    run_clock() : start_(std::chrono::steady_clock::now()) {}
    std::int64_t now_us() const noexcept {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - start_)
            .count();
    }

private:
    std::chrono::steady_clock::time_point start_;
};

/// Gauges a shard publishes every 100 ms. Thread safety: atomics, read from any thread.
struct shard_gauges {
    std::atomic<std::uint64_t> started{0};        ///< agents started
    std::atomic<std::uint64_t> live{0};           ///< agents authenticated and synced now
    std::atomic<std::uint64_t> opening{0};        ///< agents connecting, authenticating or syncing
    std::atomic<std::uint64_t> done{0};           ///< agents closed for good or failed
    std::atomic<std::uint64_t> offline{0};        ///< backlog: specialists offline
    std::atomic<std::uint64_t> unsettled{0};      ///< messages not yet acked and delivered
    std::atomic<std::uint64_t> pending_sends{0};  ///< in outboxes or in flight
    std::atomic<std::uint64_t> sending_complete{0};  ///< agents with nothing more to send
    std::atomic<std::int64_t> last_delivery_us{0};   ///< run time of the last first delivery
    std::atomic<bool> sending_stopped{false};  ///< post_stop_sending applied, gauges include it
};

/// Thread safety: the post_* functions, gauges(), stats() and take_interval() may be called from
/// any thread; run() on the shard's own thread; the rest (add_agent, results) before run() or
/// after it returned.
class shard {
public:
    shard(unsigned index, const options& opt, const run_clock& clock,
          const ws::connect_options& target, std::vector<boost::asio::ip::address> sources);
    ~shard();
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

    /// Creates an agent (before run()).
    agent& add_agent(std::uint32_t index, agent_role role, std::string user_id, std::string token);
    std::size_t size() const noexcept { return agents_.size(); }

    /// Runs the io_context until finish() (or stop()).
    void run();

    /// Starts the agents of the given roles over `ramp` (specialists first).
    void post_start(bool specialists, bool clients, std::chrono::milliseconds ramp);
    void post_stop_sending();
    /// Backlog mode: reconnects the offline specialists.
    void post_go_online();
    void post_close_all();
    /// Lets run() return once the agents are done.
    void post_finish();
    /// Makes run() return now (last resort).
    void stop();

    const shard_gauges& gauges() const noexcept { return gauges_; }
    const counters& stats() const noexcept { return counters_; }
    /// The latencies recorded since the previous call (at 100 ms granularity).
    void take_interval(histogram& ack, histogram& delivery);

    // Results, after run() returned.
    const histogram& ack_latency() const noexcept { return ack_hist_; }
    const histogram& delivery_latency() const noexcept { return delivery_hist_; }
    ledger_tally tally() const;
    std::uint64_t seq_holes() const;
    /// Agents that never established a connection, or gave up.
    std::uint64_t failed_agents() const;
    /// The first texts of error replies and failures, by kind, with counts.
    const std::map<std::string, std::uint64_t>& notes() const noexcept { return notes_; }

    // For agents (shard thread).
    boost::asio::io_context& ioc() noexcept { return ioc_; }
    const options& opt() const noexcept { return opt_; }
    std::int64_t now_us() const noexcept { return clock_.now_us(); }
    counters& c() noexcept { return counters_; }
    const ws::connect_options& target() const noexcept { return target_; }
    std::optional<boost::asio::ip::address> source_for(std::uint32_t index) const;
    std::mt19937_64& rng() noexcept { return rng_; }
    agent* find_user(std::string_view user_id) const;
    agent& at(std::uint32_t local) { return *agents_[local]; }
    bool sending_enabled() const noexcept { return sending_enabled_; }
    bool churn_enabled() const noexcept { return churn_enabled_; }
    bool closing() const noexcept { return closing_; }
    /// Backlog mode, first phase: specialists go offline after their first sync.
    bool backlog_offline_phase() const noexcept { return opt_.backlog && !backlog_online_; }
    /// Message-sending agents in the whole run (for pacing).
    std::uint64_t senders() const noexcept;
    void record_ack(std::int64_t us);
    void record_delivery(std::int64_t us);
    void note_delivery(std::int64_t now_us);
    void note(const std::string& what);
    void note_limits(const v1::Limits& limits);
    /// The frames every core of this shard parses into and builds in (one thread, one set).
    const std::shared_ptr<client::detail::frame_buffers>& frames() const noexcept {
        return frames_;
    }

private:
    void housekeeping();
    void ramp_tick();

    unsigned index_;
    const options& opt_;
    const run_clock& clock_;
    const ws::connect_options& target_;
    std::vector<boost::asio::ip::address> sources_;

    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    boost::asio::steady_timer housekeeping_timer_;
    boost::asio::steady_timer ramp_timer_;
    std::mt19937_64 rng_;

    std::vector<std::unique_ptr<agent>> agents_;
    std::unordered_map<std::string_view, agent*> users_;

    // Ramp: agents still to start, in order, and the schedule.
    std::vector<agent*> to_start_;
    std::size_t started_ = 0;
    std::int64_t ramp_start_us_ = 0;
    std::int64_t ramp_us_ = 0;

    bool sending_enabled_ = true;
    bool churn_enabled_ = true;
    bool closing_ = false;
    bool backlog_online_ = false;
    bool finishing_ = false;
    bool limits_noted_ = false;

    counters counters_;
    shard_gauges gauges_;
    histogram ack_hist_;
    histogram delivery_hist_;
    histogram ack_interval_;       // shard thread only
    histogram delivery_interval_;  // shard thread only
    std::mutex interval_mutex_;
    histogram ack_shared_;       // guarded by interval_mutex_
    histogram delivery_shared_;  // guarded by interval_mutex_
    std::map<std::string, std::uint64_t> notes_;
    std::shared_ptr<client::detail::frame_buffers> frames_ = client::detail::make_frame_buffers();
};

}  // namespace confide::loadgen
