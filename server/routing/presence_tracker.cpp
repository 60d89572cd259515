#include "routing/presence_tracker.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "routing/routing_metrics.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>

namespace confide::routing {

std::shared_ptr<presence_tracker> presence_tracker::create(const executor& ex,
                                                           presence_store& store, options opts) {
    return std::shared_ptr<presence_tracker>(new presence_tracker(ex, store, opts));
}

presence_tracker::presence_tracker(const executor& ex, presence_store& store, options opts)
    : strand_(asio::make_strand(ex)),
      store_(store),
      opts_(opts),
      refresh_timer_(strand_),
      sweep_timer_(strand_) {}

void presence_tracker::start() {
    asio::co_spawn(
        strand_, [self = shared_from_this()] { return self->refresh_loop(); },
        log_exception{"presence refresh"});
    asio::co_spawn(
        strand_, [self = shared_from_this()] { return self->sweep_loop(); },
        log_exception{"presence sweep"});
}

void presence_tracker::stop() {
    asio::dispatch(strand_, [self = shared_from_this()] {
        self->stopped_ = true;
        self->refresh_timer_.cancel();
        self->sweep_timer_.cancel();
        for (auto& [user, st] : self->users_) {
            if (st.grace) {
                st.grace->cancel();
            }
        }
    });
}

void presence_tracker::connection_opened(const std::string& user_id,
                                         const std::string& connection_id) {
    asio::dispatch(strand_, [self = shared_from_this(), user_id, connection_id] {
        auto& st = self->users_[user_id];
        st.connections.insert(connection_id);
        if (st.grace) {
            st.grace->cancel();
            st.grace.reset();
        }
    });
}

void presence_tracker::connection_closed(const std::string& user_id,
                                         const std::string& connection_id, bool signed_out) {
    asio::dispatch(strand_, [self = shared_from_this(), user_id, connection_id, signed_out] {
        auto it = self->users_.find(user_id);
        if (it == self->users_.end()) {
            return;
        }
        auto& st = it->second;
        st.connections.erase(connection_id);
        if (!st.connections.empty() || self->stopped_) {
            return;
        }
        if (signed_out) {
            if (!st.grace) {
                self->users_.erase(it);
            }
            return;
        }
        self->start_grace(user_id, st);
    });
}

void presence_tracker::start_grace(const std::string& user_id, user_state& st) {
    if (st.grace) {
        st.grace->cancel();
    }
    st.grace = std::make_shared<asio::steady_timer>(strand_, opts_.grace);
    st.grace->async_wait(
        [self = shared_from_this(), user_id, timer = st.grace](boost::system::error_code ec) {
            if (ec || self->stopped_) {
                return;
            }
            auto it = self->users_.find(user_id);
            if (it != self->users_.end() && it->second.grace == timer) {
                self->users_.erase(it);
            }
            asio::co_spawn(
                self->strand_,
                [self, user_id]() -> awaitable<void> {
                    // Redis knows the user's connections on every node: if they came back
                    // elsewhere, nothing happens.
                    auto r = co_await self->store_.confirm_lost(user_id, now_ms());
                    if (!r) {
                        // The sweeper will find the user's expired entry and finish the job.
                        log::warn("user={} presence: could not confirm lost connection: {}",
                                  user_id, r.error().message);
                    }
                },
                log_exception{"presence grace"});
        });
}

awaitable<void> presence_tracker::refresh_loop() {
    while (!stopped_) {
        refresh_timer_.expires_after(opts_.ttl / 3);
        auto [ec] = co_await refresh_timer_.async_wait(use_nothrow);
        if (ec || stopped_) {
            co_return;
        }
        std::vector<std::pair<std::string, std::string>> live;
        for (const auto& [user, st] : users_) {
            for (const auto& c : st.connections) {
                live.emplace_back(user, c);
            }
        }
        if (live.empty()) {
            continue;
        }
        auto r = co_await store_.refresh(std::move(live), now_ms());
        if (!r) {
            log::warn("presence refresh failed: {}", r.error().message);
        }
    }
}

awaitable<void> presence_tracker::sweep_loop() {
    while (!stopped_) {
        sweep_timer_.expires_after(opts_.sweep_interval);
        auto [ec] = co_await sweep_timer_.async_wait(use_nothrow);
        if (ec || stopped_) {
            co_return;
        }
        auto r = co_await store_.sweep(now_ms());
        stats::presence_sweeps.inc();
        if (!r) {
            stats::presence_sweep_failures.inc();
            log::debug("presence sweep failed: {}", r.error().message);
        }
    }
}

}  // namespace confide::routing
