#pragma once
// Plain settings of the network layer (no Asio, no Beast): app/ fills them from its config.

#include "common/asio_types.hpp"
#include "net/static_files.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace confide::net {

class tls_context;

/// What GET /readyz answers: ready (200) or not, and why not (503).
struct readiness {
    bool ready = true;
    std::string reason;  ///< why not ready, e.g. "draining"; shown in the 503 body
};

/// An IP address and a port, e.g. the address the listener is bound to.
struct endpoint {
    std::string address;     ///< "127.0.0.1", "::1"
    std::uint16_t port = 0;  ///< 0 in listener_options: any free port

    /// "127.0.0.1:8080", or "[::1]:8080" for IPv6.
    std::string to_string() const;
};

/// Where to listen and how many connections to hold at most.
struct listener_options {
    endpoint listen{"127.0.0.1", 8080};
    /// Connections (in their HTTP or WebSocket phase) held at once; beyond it a new connection is
    /// closed right after accept.
    std::size_t max_connections = 20000;
    /// The executor each new connection runs on (its strand is made on it), e.g. the next
    /// io_context of a pool, one per thread. Empty: the listener's own executor.
    std::function<executor()> connection_executor;
    /// Every executor connection_executor hands out is run by exactly one thread (an io_context
    /// per thread): it already runs a connection's handlers one at a time, so a connection uses
    /// it as it is instead of a strand on it, whose queue, lock and extra dispatch every
    /// completion pays (docs/benchmarks.md, "Server CPU per message").
    bool connection_executor_is_one_thread = false;
};

/// Limits and deadlines of one client connection.
struct session_options {
    /// Largest WebSocket message accepted; a bigger one closes the connection with 1009.
    std::size_t max_frame_bytes = 64 * 1024;
    /// Bytes queued for sending before the connection is closed with 4003 (too slow).
    std::size_t max_outbound_bytes = 4 * 1024 * 1024;
    /// Largest HTTP request head (request line + headers) of the upgrade. Must leave room for an
    /// `Authorization: Bearer` token of up to protocol::limits::max_token_bytes (8 KiB).
    std::size_t max_header_bytes = 16 * 1024;
    /// From accept to a completed WebSocket handshake.
    std::chrono::milliseconds handshake_timeout{10000};
    /// With nothing received for half of it the server pings; with nothing received for all of
    /// it the connection is dropped (detects half-open connections).
    std::chrono::milliseconds idle_timeout{30000};
    /// From close() to the end of the closing handshake (queued frames included); past it the
    /// socket is closed.
    std::chrono::milliseconds close_timeout{5000};
    /// Origins allowed to open a WebSocket (exact match, case-insensitive). Empty: any origin,
    /// unless web_files is set. A request without an Origin header (not a browser) is always
    /// allowed.
    std::vector<std::string> allowed_origins;
    /// The web client, served to plain GET/HEAD requests; null: none (GET / answers 400). When
    /// set, the origin it is served from (the Origin whose host equals the request's Host) may
    /// open a WebSocket, and other origins only if allowed_origins lists them.
    std::shared_ptr<const static_files> web_files;
    /// The Server header of HTTP responses and of the WebSocket handshake.
    std::string server_name = "confide";
    /// TLS for every connection (`wss://`, `https://`); null: plain TCP (TLS terminated in
    /// front of the server, or none).
    std::shared_ptr<tls_context> tls;
    /// The body of GET /metrics (the Prometheus text format); empty: /metrics answers 404.
    /// Called on a connection's strand, from any thread.
    std::function<std::string()> metrics_text;
    /// The answer of GET /readyz; empty: always ready. Called from any thread.
    std::function<readiness()> ready;
};

}  // namespace confide::net
