#pragma once

#include "app/config.hpp"
#include "common/asio_types.hpp"

#include <memory>

namespace confide::routing {
class connection_handler_factory;
}

namespace confide::app {

/// The chat domain of this node and the storage under it: the Redis connections, the stores, the
/// notice bus, the presence tracker, the token verifier, and the factory that gives every new
/// connection its routing::session.
///
/// Thread safety: start(), check_storage() and stop() are called by app::server, in that order.
class chat_node {
public:
    /// Builds every component (nothing connects yet). Throws std::invalid_argument for bad token
    /// keys.
    chat_node(executor ex, const config& cfg);
    ~chat_node();

    chat_node(const chat_node&) = delete;
    chat_node& operator=(const chat_node&) = delete;

    /// Starts connecting to Redis (and reconnecting whenever needed).
    void start();

    /// Waits (up to the start-up timeout) until Redis answers, then checks that it keeps what we
    /// ack (Redis 7+, appendonly yes, maxmemory-policy noeviction). Throws std::runtime_error
    /// with the reason when it does not (unless cfg.allow_unsafe_redis, which logs it instead).
    /// Then starts the presence tracker.
    awaitable<void> check_storage();

    /// Stops the tracker, the bus and the Redis connection. Call after every connection ended.
    void stop();

    std::shared_ptr<routing::connection_handler_factory> factory() const;

private:
    struct parts;
    std::unique_ptr<parts> parts_;
};

}  // namespace confide::app
