#pragma once

#include "common/asio_types.hpp"
#include "net/options.hpp"

#include <chrono>
#include <cstddef>
#include <memory>

namespace confide::routing {
class connection_handler_factory;
}

namespace confide::net {

/// Accepts TCP connections and runs each one (HTTP upgrade, then WebSocket) on a strand of its
/// own, with at most `max_connections` at once. Owns the registry of live connections, through
/// which shutdown() drains them.
///
/// Thread safety: start(), shutdown() and abort_connections() may be called from any thread;
/// the object must outlive the calls.
class listener {
public:
    /// Opens, binds and listens on `options.listen` (port 0: a free port). `ex` is the
    /// io_context's executor (not a strand): the acceptor and each connection get strands of
    /// their own from it. Throws boost::system::system_error when the address cannot be used
    /// (malformed, in use, not permitted); the message names the address.
    listener(executor ex, listener_options options, session_options session,
             std::shared_ptr<routing::connection_handler_factory> factory);

    /// Closes the acceptor. Connections still open stay open: shutdown() first.
    ~listener();

    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;

    /// The bound address (with the actual port when 0 was asked for).
    endpoint local_endpoint() const;

    /// Starts accepting. Call once.
    void start();

    /// Graceful shutdown: closes the acceptor, tells every connection to go away (WebSocket
    /// close 1001 "server shutting down", after its queued frames), and completes once all are
    /// gone (true) or when `timeout` has passed (false: abort_connections() ends the rest).
    /// Cancellation: none (bounded by `timeout`).
    awaitable<bool> shutdown(std::chrono::milliseconds timeout);

    /// Closes the socket of every connection still open.
    void abort_connections();

    /// Connections held now (HTTP and WebSocket phases).
    std::size_t connection_count() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace confide::net
