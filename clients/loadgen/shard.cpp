#include "shard.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstdio>

namespace confide::loadgen {
namespace {

constexpr std::chrono::milliseconds housekeeping_period{100};
constexpr std::chrono::milliseconds ramp_period{10};
// Connections being opened at once per shard, at most: more only fills the server's accept
// queue and turns into SYN retries.
constexpr std::size_t max_opening = 256;
// Distinct notes kept (the rest are counted under one key).
constexpr std::size_t max_notes = 64;

}  // namespace

shard::shard(unsigned index, const options& opt, const run_clock& clock,
             const ws::connect_options& target, std::vector<boost::asio::ip::address> sources)
    : index_(index),
      opt_(opt),
      clock_(clock),
      target_(target),
      sources_(std::move(sources)),
      ioc_(1),
      work_(ioc_.get_executor()),
      housekeeping_timer_(ioc_),
      ramp_timer_(ioc_),
      rng_(0x9e3779b97f4a7c15ULL ^ (std::uint64_t{index} * 7919U) ^
           std::hash<std::string>{}(opt.run_id)) {}

shard::~shard() = default;

agent& shard::add_agent(std::uint32_t index, agent_role role, std::string user_id,
                        std::string token) {
    const auto local = static_cast<std::uint32_t>(agents_.size());
    agents_.push_back(
        std::make_unique<agent>(*this, local, index, role, std::move(user_id), std::move(token)));
    agent& a = *agents_.back();
    users_.emplace(a.user_id(), &a);
    return a;
}

void shard::run() {
    housekeeping();
    ioc_.run();
}

void shard::stop() {
    ioc_.stop();
}

std::optional<boost::asio::ip::address> shard::source_for(std::uint32_t index) const {
    if (sources_.empty()) {
        return std::nullopt;
    }
    return sources_[index % sources_.size()];
}

agent* shard::find_user(std::string_view user_id) const {
    auto it = users_.find(user_id);
    return it == users_.end() ? nullptr : it->second;
}

std::uint64_t shard::senders() const noexcept {
    return opt_.backlog ? opt_.clients : opt_.connections();
}

void shard::post_start(bool specialists, bool clients, std::chrono::milliseconds ramp) {
    boost::asio::post(ioc_, [this, specialists, clients, ramp] {
        to_start_.clear();
        started_ = 0;
        for (const auto role : {agent_role::specialist, agent_role::client}) {
            if ((role == agent_role::specialist && !specialists) ||
                (role == agent_role::client && !clients)) {
                continue;
            }
            for (auto& a : agents_) {
                if (a->role() == role) {
                    to_start_.push_back(a.get());
                }
            }
        }
        ramp_start_us_ = now_us();
        ramp_us_ = std::chrono::duration_cast<std::chrono::microseconds>(ramp).count();
        ramp_tick();
    });
}

void shard::ramp_tick() {
    if (closing_) {
        return;
    }
    const std::int64_t elapsed = now_us() - ramp_start_us_;
    const std::size_t total = to_start_.size();
    std::size_t due = total;
    if (ramp_us_ > 0 && elapsed < ramp_us_) {
        due = static_cast<std::size_t>(static_cast<double>(total) * static_cast<double>(elapsed) /
                                       static_cast<double>(ramp_us_)) +
              1;
        due = std::min(due, total);
    }
    std::size_t opening = 0;
    for (std::size_t i = 0; i < started_; ++i) {
        opening += to_start_[i]->opening() ? 1U : 0U;
    }
    while (started_ < due && opening < max_opening) {
        to_start_[started_++]->start();
        ++opening;
        gauges_.started.fetch_add(1, std::memory_order_relaxed);
    }
    if (started_ < total) {
        ramp_timer_.expires_after(ramp_period);
        ramp_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) {
                ramp_tick();
            }
        });
    }
}

void shard::post_stop_sending() {
    boost::asio::post(ioc_, [this] {
        sending_enabled_ = false;
        churn_enabled_ = false;
        for (auto& a : agents_) {
            a->stop_sending();
        }
        // Publish gauges that include the stop at once: the drain must not end on a reading
        // taken before it, when a message generated since then was not counted yet.
        housekeeping_timer_.cancel();
        housekeeping();
        gauges_.sending_stopped.store(true, std::memory_order_release);
    });
}

void shard::post_go_online() {
    boost::asio::post(ioc_, [this] {
        backlog_online_ = true;
        for (auto& a : agents_) {
            a->go_online();
        }
    });
}

void shard::post_close_all() {
    boost::asio::post(ioc_, [this] {
        closing_ = true;
        sending_enabled_ = false;
        churn_enabled_ = false;
        ramp_timer_.cancel();
        for (auto& a : agents_) {
            a->close();
        }
        housekeeping_timer_.cancel();
        housekeeping();
    });
}

void shard::post_finish() {
    boost::asio::post(ioc_, [this] {
        finishing_ = true;
        housekeeping_timer_.cancel();
        ramp_timer_.cancel();
        work_.reset();
    });
}

void shard::housekeeping() {
    std::uint64_t live = 0;
    std::uint64_t opening = 0;
    std::uint64_t done = 0;
    std::uint64_t offline = 0;
    std::uint64_t unsettled = 0;
    std::uint64_t pending = 0;
    std::uint64_t complete = 0;
    for (const auto& a : agents_) {
        live += a->live() ? 1U : 0U;
        opening += a->opening() ? 1U : 0U;
        done += a->done() ? 1U : 0U;
        offline += a->offline() ? 1U : 0U;
        unsettled += a->ledger().unsettled();
        pending += a->pending_sends();
        complete += a->sending_complete() ? 1U : 0U;
    }
    gauges_.live.store(live, std::memory_order_relaxed);
    gauges_.opening.store(opening, std::memory_order_relaxed);
    gauges_.done.store(done, std::memory_order_relaxed);
    gauges_.offline.store(offline, std::memory_order_relaxed);
    gauges_.unsettled.store(unsettled, std::memory_order_relaxed);
    gauges_.pending_sends.store(pending, std::memory_order_relaxed);
    gauges_.sending_complete.store(complete, std::memory_order_relaxed);
    {
        std::lock_guard lock(interval_mutex_);
        ack_shared_.merge(ack_interval_);
        delivery_shared_.merge(delivery_interval_);
    }
    ack_interval_.reset();
    delivery_interval_.reset();
    if (finishing_) {
        return;
    }
    housekeeping_timer_.expires_after(housekeeping_period);
    housekeeping_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            housekeeping();
        }
    });
}

void shard::take_interval(histogram& ack, histogram& delivery) {
    std::lock_guard lock(interval_mutex_);
    ack.merge(ack_shared_);
    delivery.merge(delivery_shared_);
    ack_shared_.reset();
    delivery_shared_.reset();
}

void shard::record_ack(std::int64_t us) {
    const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0));
    ack_hist_.record(v);
    ack_interval_.record(v);
}

void shard::record_delivery(std::int64_t us) {
    const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0));
    delivery_hist_.record(v);
    delivery_interval_.record(v);
}

void shard::note_delivery(std::int64_t now) {
    gauges_.last_delivery_us.store(now, std::memory_order_relaxed);
}

void shard::note(const std::string& what) {
    if (notes_.size() < max_notes || notes_.count(what) != 0) {
        ++notes_[what];
    } else {
        ++notes_["(other notes)"];
    }
}

void shard::note_limits(const v1::Limits& limits) {
    if (limits_noted_ || opt_.rate <= 0 || index_ != 0) {
        return;
    }
    limits_noted_ = true;
    // Every connection is one user and sends its equal share of the aggregate rate.
    const double needed = opt_.rate / static_cast<double>(senders());
    if (limits.send_rate_per_second() > 0 &&
        needed > static_cast<double>(limits.send_rate_per_second())) {
        std::fprintf(stderr,
                     "confide-loadgen: warning: the server allows %u messages/s per user, this "
                     "run needs %.1f: start the server with a higher --send-rate (and "
                     "--send-burst)\n",
                     limits.send_rate_per_second(), needed);
    }
}

ledger_tally shard::tally() const {
    ledger_tally t;
    for (const auto& a : agents_) {
        t += a->ledger().tally();
    }
    return t;
}

std::uint64_t shard::failed_agents() const {
    std::uint64_t n = 0;
    for (const auto& a : agents_) {
        n += (a->failed() || !a->established_once()) ? 1U : 0U;
    }
    return n;
}

std::uint64_t shard::seq_holes() const {
    std::uint64_t n = 0;
    for (const auto& a : agents_) {
        n += a->seq_holes();
    }
    return n;
}

}  // namespace confide::loadgen
