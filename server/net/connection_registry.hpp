#pragma once

#include "common/asio_types.hpp"

#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace confide::net {

/// A live connection as the registry sees it: something that can be told to end.
class drainable {
public:
    virtual ~drainable() = default;

    /// Asks the connection to end gracefully: a WebSocket is closed with 1001 after its queued
    /// frames; a connection still in its HTTP phase is closed. Thread safety: any thread (the
    /// work is posted to the connection's strand).
    virtual void go_away() = 0;

    /// Ends the connection now by closing its socket. Thread safety: any thread.
    virtual void abort() = 0;
};

/// Counts the node's connections (the limit on total connections) and knows how to reach each
/// one, so that shutdown can tell them all to go away and wait until they are gone.
///
/// Must be owned by a std::shared_ptr (slots keep it alive).
/// Thread safety: every member may be called from any thread.
class connection_registry : public std::enable_shared_from_this<connection_registry> {
public:
    /// One connection's place in the registry, held by the connection for its whole life (it
    /// moves from the HTTP session to the WebSocket session). Releasing it (destruction)
    /// frees the place.
    class slot {
    public:
        slot() = default;
        slot(slot&& other) noexcept;
        slot& operator=(slot&& other) noexcept;
        slot(const slot&) = delete;
        slot& operator=(const slot&) = delete;
        ~slot();

        /// Whether this slot holds a place (try_acquire succeeded).
        explicit operator bool() const noexcept { return registry_ != nullptr; }

        /// Names the object that go_away()/abort() reach for this connection from now on. If
        /// the registry is already shutting down, `target` is told to go away at once.
        void attach(std::weak_ptr<drainable> target);

    private:
        friend class connection_registry;
        slot(std::shared_ptr<connection_registry> registry, std::uint64_t id) noexcept
            : registry_(std::move(registry)), id_(id) {}
        void release() noexcept;

        std::shared_ptr<connection_registry> registry_;
        std::uint64_t id_ = 0;
    };

    /// `ex` runs the registry's own bookkeeping (it is wrapped in a strand).
    connection_registry(const executor& ex, std::size_t max_connections);

    /// A place for a new connection, or an empty slot when `max_connections` are held or the
    /// registry is shutting down.
    slot try_acquire();

    /// Connections held now.
    std::size_t size() const;

    /// Whether shutdown() was called.
    bool shutting_down() const;

    /// Refuses new connections from now on and tells every connection to go away.
    void shutdown();

    /// Closes the socket of every connection (after a drain past its deadline).
    void abort_all();

    /// Completes with true once no connection is held, or with false when `timeout` passes
    /// first. Any number of waiters. Cancellation: none (bounded by `timeout`).
    awaitable<bool> wait_empty(std::chrono::milliseconds timeout);

private:
    struct waiter;
    static awaitable<bool> wait_on_strand(std::shared_ptr<connection_registry> self,
                                          std::chrono::steady_clock::time_point deadline);
    void release(std::uint64_t id) noexcept;
    void attach(std::uint64_t id, std::weak_ptr<drainable> target);
    void wake_waiters();

    asio::strand<executor> strand_;
    const std::size_t max_connections_;

    mutable std::mutex mutex_;
    std::unordered_map<std::uint64_t, std::weak_ptr<drainable>> live_;  // guarded by mutex_
    std::uint64_t next_id_ = 1;                                         // guarded by mutex_
    bool shutting_down_ = false;                                        // guarded by mutex_
    std::size_t waiter_count_ = 0;                                      // guarded by mutex_

    std::list<waiter*> waiters_;  // on strand_ only
};

}  // namespace confide::net
