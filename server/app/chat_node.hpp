#pragma once

#include "app/config.hpp"
#include "common/asio_types.hpp"

#include <memory>
#include <vector>

namespace confide::routing {
class connection_handler_factory;
}

namespace confide::app {

/// The chat domain of this node and the storage under it: the Redis connections, the stores, the
/// notice buses, the presence tracker, the token verifier, and the factory that gives every new
/// connection its routing::session.
///
/// One shard per I/O thread: its own Redis command connection, notice bus and chat store on that
/// thread's executor; a connection uses the shard of the thread it runs on. The presence tracker,
/// the presence store, the send limits and the verifier are shared (the first shard's
/// connection serves the presence store and the start-up checks).
///
/// Thread safety: start(), check_storage() and stop() are called by app::server, in that order.
class chat_node {
public:
    /// Builds every component, one shard per executor (each of its own io_context; the first is
    /// the main one). Nothing connects yet. Throws std::invalid_argument for bad token keys.
    chat_node(const std::vector<executor>& executors, const config& cfg);
    ~chat_node();

    chat_node(const chat_node&) = delete;
    chat_node& operator=(const chat_node&) = delete;

    /// Starts connecting to Redis (and reconnecting whenever needed).
    void start();

    /// Waits (up to the start-up timeout) until Redis answers, then checks that it keeps what we
    /// ack (Redis 7+, appendonly yes, maxmemory-policy noeviction). Throws std::runtime_error
    /// with the reason when it does not (unless cfg.allow_unsafe_redis, which logs it instead).
    /// Then checks the key layout (store::check_layout: recorded on a Redis without Confide
    /// data; data of another layout throws, whatever the flags). Then starts the presence
    /// tracker.
    awaitable<void> check_storage();

    /// Stops the tracker, the buses and the Redis connections. Call after every connection ended.
    void stop();

    /// Why this node cannot serve now, or empty when it can: storage checked at start-up, and
    /// for every I/O thread its Redis command connection up with the scripts loaded and its
    /// pub/sub connection up. Thread safety: any thread.
    std::string not_ready_reason() const;

    std::shared_ptr<routing::connection_handler_factory> factory() const;

private:
    struct parts;
    std::unique_ptr<parts> parts_;
};

}  // namespace confide::app
