#pragma once
// The client's I/O: WebSocket connections over TCP, driven by the core's actions. Beast lives
// in transport.cpp only.

#include "core.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace confide::client::detail {

class ws_connection;

/// Where to connect, from a ws:// URL.
struct endpoint {
    std::string scheme;  ///< "ws" (wss later)
    std::string host;    ///< without IPv6 brackets
    std::string port;
    std::string target;  ///< path and query, at least "/"
};

/// Parses "ws://host[:port][/path]" (port 80 by default; "[::1]" for IPv6 literals). Throws
/// std::invalid_argument for anything else, including wss:// (not supported yet).
endpoint parse_url(std::string_view url);

/// What a transport reports, on the io_context's thread. Ids are the core's.
class transport_events {
public:
    virtual void on_open(conn_id id) = 0;
    virtual void on_frame(conn_id id, std::string_view bytes) = 0;
    /// Also for a connection that never opened. Not necessarily reported after close().
    virtual void on_close(conn_id id, const close_info& info) = 0;

protected:
    ~transport_events() = default;
};

/// Any number of WebSocket client connections to one endpoint (usually one; briefly two while
/// an old one closes). Binary messages only; text messages from the server are ignored.
///
/// Thread safety: none; call it and run `ioc` on one thread. `events` must outlive every
/// connection (until `ioc` has no more work).
class ws_transport {
public:
    /// `close_timeout` bounds a graceful close; the socket is dropped after it.
    ws_transport(boost::asio::io_context& ioc, endpoint ep, transport_events& events,
                 std::chrono::milliseconds close_timeout);
    ~ws_transport();
    ws_transport(const ws_transport&) = delete;
    ws_transport& operator=(const ws_transport&) = delete;

    /// Resolves, connects and does the WebSocket handshake; then on_open, frames, on_close.
    void open(conn_id id);
    /// Queues one binary message. Ignored for an unknown or closing connection.
    void send(conn_id id, std::string bytes);
    /// graceful: flush the queue, send a close frame with `code`, wait for the server's (at most
    /// close_timeout); otherwise drop the socket now.
    void close(conn_id id, std::uint16_t code, bool graceful);
    /// close(id, 1000, true) for every connection.
    void close_all();

private:
    friend class ws_connection;
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace confide::client::detail
