#include "net/connection_registry.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <utility>
#include <vector>

namespace confide::net {

// ---- slot --------------------------------------------------------------------------------------

connection_registry::slot::slot(slot&& other) noexcept
    : registry_(std::move(other.registry_)), id_(std::exchange(other.id_, 0)) {}

connection_registry::slot& connection_registry::slot::operator=(slot&& other) noexcept {
    if (this != &other) {
        release();
        registry_ = std::move(other.registry_);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

connection_registry::slot::~slot() {
    release();
}

void connection_registry::slot::release() noexcept {
    if (registry_) {
        registry_->release(id_);
        registry_.reset();
    }
}

void connection_registry::slot::attach(std::weak_ptr<drainable> target) {
    if (registry_) {
        registry_->attach(id_, std::move(target));
    }
}

// ---- registry ----------------------------------------------------------------------------------

struct connection_registry::waiter {
    asio::steady_timer timer;
};

connection_registry::connection_registry(const executor& ex, std::size_t max_connections)
    : strand_(asio::make_strand(ex)), max_connections_(max_connections) {}

connection_registry::slot connection_registry::try_acquire() {
    std::lock_guard lock(mutex_);
    if (shutting_down_ || live_.size() >= max_connections_) {
        return {};
    }
    const auto id = next_id_++;
    live_.emplace(id, std::weak_ptr<drainable>{});
    return slot{shared_from_this(), id};
}

std::size_t connection_registry::size() const {
    std::lock_guard lock(mutex_);
    return live_.size();
}

bool connection_registry::shutting_down() const {
    std::lock_guard lock(mutex_);
    return shutting_down_;
}

void connection_registry::attach(std::uint64_t id, std::weak_ptr<drainable> target) {
    std::shared_ptr<drainable> tell;
    {
        std::lock_guard lock(mutex_);
        auto it = live_.find(id);
        if (it == live_.end()) {
            return;
        }
        if (shutting_down_) {
            tell = target.lock();
        }
        it->second = std::move(target);
    }
    // A connection that moves from its HTTP phase to its WebSocket phase during a drain must
    // hear about it too, or the drain would wait for it until the deadline.
    if (tell) {
        tell->go_away();
    }
}

void connection_registry::release(std::uint64_t id) noexcept {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        live_.erase(id);
        wake = live_.empty() && waiter_count_ > 0;
    }
    if (wake) {
        try {
            wake_waiters();
        } catch (...) {
            // Only when post() cannot allocate. The waiters then see the registry empty when
            // their deadline passes: a slower drain, not a lost one.
        }
    }
}

void connection_registry::wake_waiters() {
    asio::post(strand_, [self = shared_from_this()] {
        for (auto* w : self->waiters_) {
            w->timer.cancel();
        }
    });
}

void connection_registry::shutdown() {
    std::vector<std::shared_ptr<drainable>> targets;
    {
        std::lock_guard lock(mutex_);
        shutting_down_ = true;
        targets.reserve(live_.size());
        for (auto& [id, weak] : live_) {
            if (auto t = weak.lock()) {
                targets.push_back(std::move(t));
            }
        }
    }
    // Outside the lock: go_away() only posts, but a connection that ends meanwhile releases its
    // slot, which takes the lock.
    for (auto& t : targets) {
        t->go_away();
    }
}

void connection_registry::abort_all() {
    std::vector<std::shared_ptr<drainable>> targets;
    {
        std::lock_guard lock(mutex_);
        targets.reserve(live_.size());
        for (auto& [id, weak] : live_) {
            if (auto t = weak.lock()) {
                targets.push_back(std::move(t));
            }
        }
    }
    for (auto& t : targets) {
        t->abort();
    }
}

awaitable<bool> connection_registry::wait_empty(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // The waiters' timers live on the registry's strand, whichever executor the caller runs on.
    co_return co_await asio::co_spawn(strand_, wait_on_strand(shared_from_this(), deadline),
                                      asio::use_awaitable);
}

awaitable<bool> connection_registry::wait_on_strand(
    std::shared_ptr<connection_registry> self, std::chrono::steady_clock::time_point deadline) {
    waiter w{asio::steady_timer(self->strand_)};
    {
        std::lock_guard lock(self->mutex_);
        ++self->waiter_count_;
    }
    self->waiters_.push_back(&w);
    struct unregister {
        connection_registry& r;
        waiter* w;
        ~unregister() {
            r.waiters_.remove(w);
            std::lock_guard lock(r.mutex_);
            --r.waiter_count_;
        }
    } guard{*self, &w};

    for (;;) {
        if (self->size() == 0) {
            co_return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            co_return false;
        }
        w.timer.expires_at(deadline);
        co_await w.timer.async_wait(use_nothrow);
    }
}

}  // namespace confide::net
