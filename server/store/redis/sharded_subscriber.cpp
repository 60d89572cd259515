#include "store/redis/sharded_subscriber.hpp"

#include "common/log.hpp"
#include "store/redis/pubsub_link.hpp"
#include "store/redis/reconnecting_context.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <deque>
#include <exception>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace confide::store::redis {
namespace {

using steady = std::chrono::steady_clock;
using boost::system::error_code;
using done_ptr = detail::completion_ptr<error_code>;

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

void complete(done_ptr& done, error_code ec) {
    if (done) {
        done.release()->complete(ec);
    }
}

}  // namespace

// Each channel is assigned to the link (connection) of the master that owns its slot, as far as
// this subscriber knows: from the cluster's map, or from a MOVED answered to an SSUBSCRIBE.
// A channel's state on its link: not sent, sent (SSUBSCRIBE unconfirmed) or confirmed. `gap`
// marks a channel that was confirmed once and lost since: on_reset follows its next
// confirmation.
struct sharded_subscriber::impl final : detail::pubsub_link_events {
    struct waiter {
        done_ptr done;
        steady::time_point deadline;
    };
    struct channel_state {
        std::uint16_t slot = 0;
        std::shared_ptr<detail::pubsub_link> link;
        bool sent = false;
        bool confirmed = false;
        bool gap = false;
        unsigned redirects = 0;
        std::vector<waiter> waiters;
    };
    using link_ptr = std::shared_ptr<detail::pubsub_link>;

    impl(executor strand, std::shared_ptr<cluster> topology, message_callback on_message,
         reset_callback on_reset)
        : strand_(std::move(strand)),
          cluster_(std::move(topology)),
          node_cfg_(cluster_->settings().node),
          on_message_(std::move(on_message)),
          on_reset_(std::move(on_reset)),
          deadline_timer_(strand_),
          retry_timer_(strand_),
          rng_(std::random_device{}()) {}

    // Runs `f` only while the owner is alive (and keeps it alive meanwhile).
    template <class F>
    auto guarded(F f) const {
        return [owner = owner_, f = std::move(f)](auto&&... args) mutable {
            if (auto keep = owner.lock()) {
                f(std::forward<decltype(args)>(args)...);
            }
        };
    }

    // --- requests ---------------------------------------------------------------------------

    void start() {
        if (started_ || stopped_) {
            return;
        }
        started_ = true;
        cluster_->on_topology_change([owner = owner_, this, strand = strand_] {
            asio::post(strand, [owner, this] {
                if (auto keep = owner.lock()) {
                    on_topology();
                }
            });
        });
        on_topology();
    }

    void stop() {
        if (stopped_) {
            return;
        }
        stopped_ = true;
        deadline_timer_.cancel();
        retry_timer_.cancel();
        for (auto& [name, st] : channels_) {
            fail_waiters(st, errc::stopped);
        }
        channels_.clear();
        for (auto& [name, link] : links_) {
            link->stop();
        }
        links_.clear();
    }

    void subscribe(std::string channel, done_ptr done) {
        if (stopped_) {
            complete(done, errc::stopped);
            return;
        }
        auto [it, inserted] = channels_.try_emplace(std::move(channel));
        auto& st = it->second;
        if (inserted) {
            st.slot = key_slot(it->first);
        }
        if (st.confirmed && st.link->is_ready()) {
            complete(done, {});
            return;
        }
        const auto deadline = steady::now() + node_cfg_.command_timeout;
        st.waiters.push_back({std::move(done), deadline});
        deadlines_.emplace_back(deadline, it->first);
        arm_deadline();
        if (!started_) {
            return;  // routed by start()
        }
        if (!st.link) {
            route(it->first, st);
        } else if (!st.sent && !st.confirmed && st.link->is_ready()) {
            st.sent = st.link->subscribe(it->first);
        }
    }

    void unsubscribe(const std::string& channel) {
        auto it = channels_.find(channel);
        if (it == channels_.end()) {
            return;
        }
        auto& st = it->second;
        fail_waiters(st, errc::not_connected);
        // An SSUBSCRIBE in flight is undone when its confirmation arrives (on_subscribed).
        if (st.confirmed) {
            st.link->unsubscribe(channel);
        }
        channels_.erase(it);
    }

    // --- routing ----------------------------------------------------------------------------

    void route(const std::string& name, channel_state& st) {
        const auto map = cluster_->topology();
        const auto* owner = map ? map->owner_of(st.slot) : nullptr;
        if (owner == nullptr) {
            st.link.reset();
            st.sent = st.confirmed = false;
            schedule_retry();
            return;
        }
        assign(name, st, link_for(*owner));
    }

    void assign(const std::string& name, channel_state& st, link_ptr link) {
        st.link = std::move(link);
        st.confirmed = false;
        st.sent = st.link->subscribe(name);  // else on_link_ready sends it
    }

    link_ptr link_for(const node_address& address) {
        auto name = address.to_string();
        if (auto it = links_.find(name); it != links_.end()) {
            return it->second;
        }
        auto cfg = node_cfg_;
        cfg.host = address.host;
        cfg.port = address.port;
        cfg.unix_socket.clear();
        auto link = std::make_shared<detail::pubsub_link>(strand_, std::move(cfg), *this, owner_);
        links_.emplace(std::move(name), link);
        link->start();
        return link;
    }

    // The map changed: every channel goes where its slot is served now. A channel that was
    // confirmed elsewhere may have missed what was published on the new owner before it
    // subscribes there: a gap.
    void on_topology() {
        const auto map = cluster_->topology();
        if (stopped_ || !started_ || !map) {
            return;
        }
        std::vector<std::string> owners;
        owners.reserve(map->masters.size());
        for (const auto& m : map->masters) {
            owners.push_back(m.to_string());
        }
        for (auto& [name, st] : channels_) {
            const auto i = map->owner[st.slot];
            if (i == slot_map::no_owner) {
                continue;
            }
            if (st.link && st.link->name() == owners[i]) {
                if (!st.sent && !st.confirmed) {
                    st.sent = st.link->subscribe(name);
                }
                continue;
            }
            if (st.link && st.confirmed) {
                st.link->unsubscribe(name);
                st.gap = true;
            }
            assign(name, st, link_for(map->masters[i]));
        }
        close_unused_links();
    }

    void close_unused_links() {
        std::unordered_set<const detail::pubsub_link*> used;
        for (const auto& [name, st] : channels_) {
            used.insert(st.link.get());
        }
        for (auto it = links_.begin(); it != links_.end();) {
            if (!used.contains(it->second.get())) {
                it->second->stop();
                it = links_.erase(it);
            } else {
                ++it;
            }
        }
    }

    // Channels without a master (none in the map, or refused) are routed again after a pause.
    void schedule_retry() {
        if (retry_armed_ || stopped_) {
            return;
        }
        retry_armed_ = true;
        const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
        retry_timer_.expires_after(detail::backoff_delay(
            cluster_->settings().retry_min, node_cfg_.reconnect_max, retry_attempt_, unit));
        if (retry_attempt_ < 64) {
            ++retry_attempt_;
        }
        retry_timer_.async_wait(guarded([this](const error_code& ec) {
            retry_armed_ = false;
            if (ec || stopped_) {
                return;
            }
            for (auto& [name, st] : channels_) {
                if (!st.link) {
                    st.redirects = 0;
                    route(name, st);
                }
            }
        }));
    }

    // --- events of the links ----------------------------------------------------------------

    void on_link_ready(detail::pubsub_link& link) override {
        for (auto& [name, st] : channels_) {
            if (st.link.get() == &link && !st.sent && !st.confirmed) {
                st.sent = link.subscribe(name);
            }
        }
    }

    void on_link_down(detail::pubsub_link& link, errc why) override {
        for (auto& [name, st] : channels_) {
            if (st.link.get() != &link) {
                continue;
            }
            const errc lost = !st.sent               ? errc::not_connected
                              : why == errc::timeout ? errc::timeout
                                                     : errc::disconnected;
            fail_waiters(st, lost);
            st.gap = st.gap || st.confirmed;
            st.sent = st.confirmed = false;
        }
        // The master may have failed: once the map says who serves its slots now, on_topology()
        // moves the channels there; meanwhile the link reconnects.
        cluster_->refresh();
    }

    void on_subscribed(detail::pubsub_link& link, std::string_view channel) override {
        auto it = channels_.find(channel);
        if (it == channels_.end() || it->second.link.get() != &link) {
            link.unsubscribe(channel);  // unsubscribed or moved while it was in flight
            return;
        }
        auto& st = it->second;
        st.sent = false;
        st.confirmed = true;
        st.redirects = 0;
        retry_attempt_ = 0;
        for (auto& w : st.waiters) {
            complete(w.done, {});
        }
        st.waiters.clear();
        if (std::exchange(st.gap, false)) {
            queue_reset(it->first);
        }
    }

    void on_unsubscribed(detail::pubsub_link& link, std::string_view channel, bool asked) override {
        auto it = channels_.find(channel);
        if (asked || it == channels_.end() || it->second.link.get() != &link ||
            !it->second.confirmed) {
            return;
        }
        // Redis dropped it: its slot now belongs to another master. The map may not say so yet:
        // the SSUBSCRIBE sent by route() then gets a MOVED to the new owner.
        auto& st = it->second;
        st.gap = true;
        st.confirmed = false;
        cluster_->refresh();
        route(it->first, st);
    }

    void on_refused(detail::pubsub_link& link, std::string_view channel,
                    std::string_view error) override {
        auto it = channels_.find(channel);
        if (it == channels_.end() || it->second.link.get() != &link) {
            return;
        }
        auto& st = it->second;
        st.sent = false;
        cluster_->refresh();
        const auto rd = parse_redirect(error, link.host());
        if (rd && rd->type == redirect::kind::moved &&
            ++st.redirects <= cluster_->settings().max_redirects) {
            assign(it->first, st, link_for(rd->target));
            return;
        }
        // ASK (a migrating master keeps serving SSUBSCRIBE, so not expected), TRYAGAIN,
        // CLUSTERDOWN, too many redirections: later, from the map.
        log::debug("redis sharded subscriber: SSUBSCRIBE refused by {}: {}", link.name(), error);
        st.link.reset();
        schedule_retry();
    }

    // Inline in the link's read handler, so that the payload is not copied: the callback runs on
    // the strand, and nothing it can call runs inline (public members post).
    void on_message(std::string_view channel, std::string_view payload) override {
        if (!channels_.contains(channel)) {
            return;
        }
        try {
            on_message_(channel, payload);
        } catch (const std::exception& e) {
            log::error("redis sharded subscriber: on_message failed: {}", e.what());
        }
    }

    // --- completions ------------------------------------------------------------------------

    void fail_waiters(channel_state& st, errc why) {
        for (auto& w : st.waiters) {
            complete(w.done, why);
        }
        st.waiters.clear();
    }

    // Deadlines are "now + command_timeout": in the order of the calls, so the oldest is first.
    void arm_deadline() {
        if (deadline_armed_ || deadlines_.empty()) {
            return;
        }
        deadline_armed_ = true;
        deadline_timer_.expires_at(deadlines_.front().first);
        deadline_timer_.async_wait(guarded([this](const error_code& ec) {
            deadline_armed_ = false;
            if (ec || stopped_) {
                return;
            }
            const auto now = steady::now();
            while (!deadlines_.empty() && deadlines_.front().first <= now) {
                auto it = channels_.find(deadlines_.front().second);
                deadlines_.pop_front();
                if (it == channels_.end()) {
                    continue;
                }
                auto& waiters = it->second.waiters;
                for (auto& w : waiters) {
                    if (w.deadline <= now) {
                        complete(w.done, errc::timeout);
                    }
                }
                std::erase_if(waiters, [](const waiter& w) { return !w.done; });
            }
            arm_deadline();
        }));
    }

    void queue_reset(const std::string& channel) {
        resets_.push_back(channel);
        if (std::exchange(reset_posted_, true)) {
            return;
        }
        asio::post(strand_, guarded([this] {
                       reset_posted_ = false;
                       const auto channels = std::exchange(resets_, {});
                       if (!on_reset_ || stopped_) {
                           return;
                       }
                       try {
                           on_reset_(channels);
                       } catch (const std::exception& e) {
                           log::error("redis sharded subscriber: on_reset failed: {}", e.what());
                       }
                   }));
    }

    executor strand_;
    std::shared_ptr<cluster> cluster_;
    config node_cfg_;
    message_callback on_message_;
    reset_callback on_reset_;
    std::weak_ptr<void> owner_;
    std::unordered_map<std::string, channel_state, string_hash, std::equal_to<>> channels_;
    std::unordered_map<std::string, link_ptr> links_;                   ///< by "host:port"
    std::deque<std::pair<steady::time_point, std::string>> deadlines_;  ///< of waiters
    asio::steady_timer deadline_timer_;
    asio::steady_timer retry_timer_;
    std::vector<std::string> resets_;
    std::minstd_rand rng_;
    unsigned retry_attempt_ = 0;
    bool deadline_armed_ = false;
    bool retry_armed_ = false;
    bool reset_posted_ = false;
    bool started_ = false;
    bool stopped_ = false;
};

std::shared_ptr<sharded_subscriber> sharded_subscriber::create(const executor& ex,
                                                               std::shared_ptr<cluster> topology,
                                                               message_callback on_message,
                                                               reset_callback on_reset) {
    std::shared_ptr<sharded_subscriber> sub(new sharded_subscriber(
        ex, std::move(topology), std::move(on_message), std::move(on_reset)));
    sub->impl_->owner_ = sub;
    return sub;
}

sharded_subscriber::sharded_subscriber(const executor& ex, std::shared_ptr<cluster> topology,
                                       message_callback on_message, reset_callback on_reset)
    : executor_(asio::make_strand(ex)),
      impl_(std::make_shared<impl>(executor_, std::move(topology), std::move(on_message),
                                   std::move(on_reset))) {}

// As connection::~connection: no handler can run any more, stop synchronously. As in
// ~cluster, terminating when a completion cannot be posted beats callers waiting forever.
sharded_subscriber::~sharded_subscriber() {  // NOLINT(bugprone-exception-escape)
    impl_->stop();
}

void sharded_subscriber::start() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->start(); });
}

void sharded_subscriber::stop() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->stop(); });
}

void sharded_subscriber::submit(std::string channel, done_ptr done) {
    asio::post(executor_, [self = shared_from_this(), channel = std::move(channel),
                           done = std::move(done)]() mutable {
        self->impl_->subscribe(std::move(channel), std::move(done));
    });
}

void sharded_subscriber::unsubscribe(std::string channel) {
    asio::post(executor_, [self = shared_from_this(), channel = std::move(channel)] {
        self->impl_->unsubscribe(channel);
    });
}

}  // namespace confide::store::redis
