#include "store/redis/cluster.hpp"

#include "common/check.hpp"
#include "common/log.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/reconnecting_context.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace confide::store::redis {
namespace {

using steady = std::chrono::steady_clock;
using boost::system::error_code;
using exec_done = detail::completion_ptr<error_code, reply>;

void finish(exec_done& done, error_code ec, reply r) {
    if (done) {
        done.release()->complete(ec, std::move(r));
    }
}

}  // namespace

struct cluster::impl {
    struct node {
        node_address address;
        std::string name;  ///< address.to_string()
        std::shared_ptr<connection> conn;
        unsigned in_flight = 0;  ///< commands sent and not answered yet
        bool connected_once = false;
        bool retired = false;  ///< no longer a master: closed once in_flight is zero
    };

    /// One async_exec, from the call to its completion, through its retries.
    struct op {
        std::uint16_t slot = 0;
        std::vector<std::string> args;
        exec_done done;
        steady::time_point deadline;
        unsigned redirects = 0;
        unsigned waits = 0;
        std::shared_ptr<node> ask;  ///< the target of an ASK, for the next attempt only
        std::optional<asio::steady_timer> timer;
        error_code last_ec = errc::not_connected;  ///< reported when the deadline passes
        reply last_reply;
    };
    using op_ptr = std::shared_ptr<op>;

    impl(executor base, executor strand, const cluster_config& cfg)
        : base_(std::move(base)),
          strand_(std::move(strand)),
          cfg_(cfg),
          refresh_timer_(strand_),
          rng_(std::random_device{}()) {}

    // --- commands ---------------------------------------------------------------------------

    void exec(op_ptr o) {
        o->deadline = steady::now() + cfg_.node.command_timeout;
        attempt(std::move(o));
    }

    void attempt(op_ptr o) {
        if (stopped_) {
            finish(o->done, errc::stopped, {});
            return;
        }
        if (o->ask && o->ask->retired) {
            o->ask.reset();
        }
        auto n = o->ask ? o->ask : route(o->slot);
        if (!n || !n->conn->is_connected()) {
            // No owner: a map is needed (unless one is on its way). A node that was up and is
            // not any more may have failed over, and one that does not come up may have been
            // listed by a stale map: ask for the map.
            if (n ? n->connected_once || o->waits >= 3 : !refreshing_) {
                request_refresh();
            }
            o->last_ec = errc::not_connected;
            o->last_reply = {};
            wait(std::move(o));
            return;
        }
        const bool asking = std::exchange(o->ask, nullptr) != nullptr;
        ++n->in_flight;
        auto args = o->args;  // a copy: the command may have to be sent again
        auto handler = asio::bind_executor(
            strand_, [owner = owner_, this, o, n](error_code ec, reply r) mutable {
                if (auto keep = owner.lock()) {
                    on_reply(std::move(o), n, ec, std::move(r));
                } else {
                    finish(o->done, errc::stopped, {});
                }
            });
        if (asking) {
            n->conn->async_exec_asking(std::move(args), std::move(handler));
        } else {
            n->conn->async_exec(std::move(args), std::move(handler));
        }
    }

    void on_reply(op_ptr o, const std::shared_ptr<node>& n, error_code ec, reply r) {
        if (--n->in_flight == 0 && n->retired) {
            close(n);
        }
        if (ec == errc::server_error) {
            if (auto rd = parse_redirect(r.str, n->address.host)) {
                if (++o->redirects > cfg_.max_redirects) {
                    finish(o->done, ec, std::move(r));
                    return;
                }
                if (rd->type == redirect::kind::moved) {
                    learn_owner(rd->slot, rd->target);
                    request_refresh();
                } else {
                    o->ask = node_for(rd->target);
                }
                attempt(std::move(o));
                return;
            }
            if (is_retryable_cluster_error(r.str)) {
                o->last_ec = ec;
                o->last_reply = std::move(r);
                wait(std::move(o));
                return;
            }
        } else if (ec == errc::not_connected) {
            // Refused before it was sent (the connection dropped meanwhile): surely not run.
            request_refresh();
            o->last_ec = ec;
            o->last_reply = {};
            wait(std::move(o));
            return;
        } else if (ec == errc::disconnected || ec == errc::timeout) {
            request_refresh();  // the master may be gone; the caller decides about a retry
        } else if (ec == errc::stopped && !stopped_) {
            ec = errc::disconnected;  // only a node's connection was closed, not the cluster
        }
        finish(o->done, ec, std::move(r));
    }

    // Waits for a pause (cluster_config::retry_min, doubling), or less when the map changes or a
    // connection comes up (wake_waiting()), then sends again; fails at the deadline.
    void wait(op_ptr o) {
        const auto now = steady::now();
        if (stopped_ || now >= o->deadline) {
            finish(o->done, stopped_ ? errc::stopped : o->last_ec, std::move(o->last_reply));
            return;
        }
        if (!o->timer) {
            o->timer.emplace(strand_);
        }
        const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
        const auto pause = detail::backoff_delay(cfg_.retry_min, cfg_.retry_max, o->waits++, unit);
        o->timer->expires_at(std::min(o->deadline, now + pause));
        waiting_.insert(o);
        auto& timer = *o->timer;
        timer.async_wait([owner = owner_, this, o = std::move(o)](const error_code&) {
            auto keep = owner.lock();
            if (!keep) {
                finish(o->done, errc::stopped, {});
                return;
            }
            waiting_.erase(o);
            if (steady::now() >= o->deadline || stopped_) {
                finish(o->done, stopped_ ? errc::stopped : o->last_ec, std::move(o->last_reply));
                return;
            }
            attempt(o);
        });
    }

    void wake_waiting() {
        for (const auto& o : waiting_) {
            o->timer->cancel();
        }
    }

    std::shared_ptr<node> route(std::uint16_t slot) const {
        if (!map_) {
            return nullptr;
        }
        const auto i = map_->owner[slot];
        return i == slot_map::no_owner ? nullptr : master_nodes_[i];
    }

    // --- nodes ------------------------------------------------------------------------------

    std::shared_ptr<node> node_for(const node_address& address) {
        auto name = address.to_string();
        if (auto it = nodes_.find(name); it != nodes_.end()) {
            it->second->retired = false;
            return it->second;
        }
        auto n = std::make_shared<node>();
        n->address = address;
        n->name = name;
        auto node_cfg = cfg_.node;
        node_cfg.host = address.host;
        node_cfg.port = address.port;
        node_cfg.unix_socket.clear();
        n->conn = connection::create(base_, std::move(node_cfg));
        n->conn->on_connected([owner = owner_, this, strand = strand_, name] {
            asio::post(strand, [owner, this, name] {
                if (auto keep = owner.lock()) {
                    on_node_connected(name);
                }
            });
        });
        n->conn->start();
        nodes_.emplace(std::move(name), n);
        publish_connections();
        return n;
    }

    void on_node_connected(const std::string& name) {
        auto it = nodes_.find(name);
        if (stopped_ || it == nodes_.end()) {
            return;
        }
        it->second->connected_once = true;
        if (want_source_) {
            want_source_ = false;
            request_refresh();
        }
        wake_waiting();
    }

    void retire(const std::shared_ptr<node>& n) {
        n->retired = true;
        if (n->in_flight == 0) {
            close(n);
        }
    }

    void close(const std::shared_ptr<node>& n) {
        n->conn->stop();
        nodes_.erase(n->name);
        publish_connections();
    }

    void publish_connections() {
        std::vector<node_address> out;
        out.reserve(nodes_.size());
        for (const auto& [name, n] : nodes_) {
            out.push_back(n->address);
        }
        std::lock_guard lock(map_mutex_);
        connections_ = std::move(out);
    }

    // --- the slot map -----------------------------------------------------------------------

    void request_refresh() {
        if (stopped_) {
            return;
        }
        if (refreshing_) {
            refresh_again_ = true;
            return;
        }
        schedule_refresh(std::max(steady::now(), last_refresh_ + cfg_.refresh_min_interval));
    }

    void schedule_refresh(steady::time_point at) {
        if (refresh_armed_ && refresh_at_ <= at) {
            return;
        }
        refresh_armed_ = true;
        refresh_at_ = at;
        refresh_timer_.expires_at(at);
        refresh_timer_.async_wait([owner = owner_, this, at](const error_code& ec) {
            auto keep = owner.lock();
            if (!keep || ec || refresh_at_ != at) {
                return;  // re-armed for another time, or stopped
            }
            refresh_armed_ = false;
            run_refresh();
        });
    }

    void run_refresh() {
        if (stopped_ || refreshing_) {
            return;
        }
        auto source = pick_source();
        if (!source) {
            // Nobody to ask: connect to every address known (seeds, replicas, masters); the
            // first connection up asks again.
            want_source_ = true;
            for (const auto& a : known_addresses()) {
                node_for(a);
            }
            return;
        }
        refreshing_ = true;
        last_refresh_ = steady::now();
        std::vector<std::string> args{"CLUSTER", "SLOTS"};
        auto on_reply = [owner = owner_, this, source](error_code ec, const reply& r) {
            if (auto keep = owner.lock()) {
                on_slots(*source, ec, r);
            }
        };
        source->conn->async_exec(std::move(args),
                                 asio::bind_executor(strand_, std::move(on_reply)));
    }

    // A connected node, the masters of the current map first, in turn: a node with a stale
    // view does not answer every refresh.
    std::shared_ptr<node> pick_source() {
        std::vector<std::shared_ptr<node>> up;
        for (const auto& n : master_nodes_) {
            if (n->conn->is_connected()) {
                up.push_back(n);
            }
        }
        if (up.empty()) {
            for (const auto& [name, n] : nodes_) {
                if (n->conn->is_connected()) {
                    up.push_back(n);
                }
            }
        }
        if (up.empty()) {
            return nullptr;
        }
        return up[next_source_++ % up.size()];
    }

    std::vector<node_address> known_addresses() const {
        std::vector<node_address> out = cfg_.seeds;
        if (map_) {
            out.insert(out.end(), map_->masters.begin(), map_->masters.end());
            out.insert(out.end(), map_->replicas.begin(), map_->replicas.end());
        }
        return out;
    }

    void on_slots(const node& source, error_code ec, const reply& r) {
        refreshing_ = false;
        if (stopped_) {
            return;
        }
        std::optional<slot_map> map;
        if (!ec) {
            map = parse_cluster_slots(r, source.address.host);
        }
        if (map && !map->masters.empty()) {
            apply(std::move(*map));
        } else {
            log::warn("redis cluster: no slot map from {}: {}", source.name,
                      ec ? ec.message() : "unexpected reply to CLUSTER SLOTS");
            refresh_again_ = true;
        }
        if (std::exchange(refresh_again_, false)) {
            request_refresh();
        } else if (cfg_.refresh_interval.count() > 0) {
            schedule_refresh(steady::now() + cfg_.refresh_interval);
        }
    }

    void apply(slot_map map) {
        const bool changed = !map_ || map_->masters != map.masters || map_->owner != map.owner;
        std::vector<std::shared_ptr<node>> masters;
        masters.reserve(map.masters.size());
        for (const auto& a : map.masters) {
            masters.push_back(node_for(a));
        }
        std::vector<std::shared_ptr<node>> gone;
        for (const auto& [name, n] : nodes_) {
            if (std::find(masters.begin(), masters.end(), n) == masters.end()) {
                gone.push_back(n);
            }
        }
        for (const auto& n : gone) {
            retire(n);
        }
        master_nodes_ = std::move(masters);
        publish(std::make_shared<const slot_map>(std::move(map)));
        if (changed) {
            log::info("redis cluster: slot map with {} masters", master_nodes_.size());
            notify();
        }
    }

    // A MOVED: the slot is served by `owner` from now on (the refresh that follows confirms it).
    void learn_owner(std::uint16_t slot, const node_address& owner) {
        auto map = map_ ? std::make_shared<slot_map>(*map_) : std::make_shared<slot_map>();
        const auto index = map->add_master(owner);
        map->owner[slot] = index;
        if (index == master_nodes_.size()) {
            master_nodes_.push_back(node_for(owner));
        }
        publish(std::move(map));
        notify();
    }

    void publish(std::shared_ptr<const slot_map> map) {
        std::lock_guard lock(map_mutex_);
        map_ = std::move(map);
    }

    std::shared_ptr<const slot_map> topology() const {
        std::lock_guard lock(map_mutex_);
        return map_;
    }

    void notify() {
        wake_waiting();
        for (const auto& listener : listeners_) {
            try {
                listener();
            } catch (const std::exception& e) {
                log::error("redis cluster: topology listener failed: {}", e.what());
            }
        }
    }

    // --- life cycle -------------------------------------------------------------------------

    void start() {
        if (started_ || stopped_) {
            return;
        }
        started_ = true;
        request_refresh();
    }

    void stop() {
        if (stopped_) {
            return;
        }
        stopped_ = true;
        refresh_timer_.cancel();
        for (const auto& o : waiting_) {
            o->timer->cancel();
            finish(o->done, errc::stopped, {});
        }
        waiting_.clear();
        for (const auto& [name, n] : nodes_) {
            n->conn->stop();  // commands in flight complete with errc::stopped
        }
        nodes_.clear();
        master_nodes_.clear();
        publish_connections();
    }

    executor base_;
    executor strand_;
    const cluster_config& cfg_;
    std::weak_ptr<cluster> owner_;
    std::unordered_map<std::string, std::shared_ptr<node>> nodes_;  ///< by name
    std::vector<std::shared_ptr<node>> master_nodes_;               ///< parallel to map_->masters
    std::shared_ptr<const slot_map> map_;    ///< written on the strand, under map_mutex_
    std::vector<node_address> connections_;  ///< under map_mutex_
    mutable std::mutex map_mutex_;
    std::unordered_set<op_ptr> waiting_;
    std::vector<std::function<void()>> listeners_;
    asio::steady_timer refresh_timer_;
    steady::time_point refresh_at_;
    steady::time_point last_refresh_;
    std::size_t next_source_ = 0;
    std::minstd_rand rng_;
    bool refresh_armed_ = false;
    bool refreshing_ = false;
    bool refresh_again_ = false;
    bool want_source_ = false;
    bool started_ = false;
    bool stopped_ = false;
};

std::shared_ptr<cluster> cluster::create(executor ex, cluster_config cfg) {
    std::shared_ptr<cluster> c(new cluster(std::move(ex), std::move(cfg)));
    c->impl_->owner_ = c;
    return c;
}

cluster::cluster(executor ex, cluster_config cfg)
    : cfg_(std::move(cfg)),
      executor_(asio::make_strand(ex)),
      impl_(std::make_unique<impl>(std::move(ex), executor_, cfg_)) {}

// As connection::~connection: no handler runs any more (they lock the owner), stop here. Stopping
// posts the completion of every command in flight; if that cannot allocate, terminating beats
// callers that would wait forever.
cluster::~cluster() {  // NOLINT(bugprone-exception-escape)
    impl_->stop();
}

void cluster::start() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->start(); });
}

void cluster::stop() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->stop(); });
}

std::shared_ptr<const slot_map> cluster::topology() const {
    return impl_->topology();
}

std::vector<node_address> cluster::connections() const {
    std::lock_guard lock(impl_->map_mutex_);
    return impl_->connections_;
}

void cluster::refresh() {
    asio::post(executor_, [self = shared_from_this()] { self->impl_->request_refresh(); });
}

void cluster::on_topology_change(std::function<void()> listener) {
    asio::post(executor_, [self = shared_from_this(), l = std::move(listener)]() mutable {
        self->impl_->listeners_.push_back(std::move(l));
    });
}

void cluster::submit(std::uint16_t slot, std::vector<std::string> args,
                     detail::completion_ptr<error_code, reply> done) {
    CONFIDE_CHECK(!args.empty());
    CONFIDE_CHECK(slot < slot_count);
    auto o = std::make_shared<impl::op>();
    o->slot = slot;
    o->args = std::move(args);
    o->done = std::move(done);
    asio::dispatch(executor_, [self = shared_from_this(), o = std::move(o)]() mutable {
        self->impl_->exec(std::move(o));
    });
}

}  // namespace confide::store::redis
