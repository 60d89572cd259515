#pragma once
// One outgoing WebSocket connection, as the load generator's agents see it: open, binary frames
// in and out, close. Beast lives in ws_link.cpp only.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace confide::loadgen {

/// How a link ended.
struct link_close {
    bool opened = false;     ///< the WebSocket handshake had completed
    std::uint16_t code = 0;  ///< the peer's close code, 0 when there was no close frame
    std::string reason;      ///< the close reason, or what failed
};

/// What a link reports, on its io_context's thread. `link` is the id given to ws_link::open.
class link_events {
public:
    virtual void on_open(std::uint64_t link) = 0;
    virtual void on_frame(std::uint64_t link, std::string_view bytes) = 0;
    /// Exactly once per link, also when it never opened.
    virtual void on_close(std::uint64_t link, const link_close& info) = 0;

protected:
    ~link_events() = default;
};

/// Where links go.
struct link_target {
    boost::asio::ip::tcp::endpoint server;
    std::string host;                                ///< the Host header, e.g. "127.0.0.1:8080"
    std::string target;                              ///< the request target, e.g. "/"
    std::chrono::milliseconds open_timeout{10'000};  ///< TCP connect + WebSocket handshake
    std::chrono::milliseconds close_timeout{2'000};  ///< graceful close, then dropped
};

/// A client WebSocket connection. Thread safety: none; use it on the io_context's (single)
/// thread. `target` and `events` must stay valid until on_close has been called or the
/// io_context is destroyed.
class ws_link {
public:
    /// Starts connecting (from `source` when given: bound with IP_BIND_ADDRESS_NO_PORT, so that
    /// the port is chosen per destination and one source address serves more connections than
    /// it has ephemeral ports). Reports on_open or on_close later, never from inside open().
    static std::shared_ptr<ws_link> open(boost::asio::io_context& ioc, const link_target& target,
                                         std::optional<boost::asio::ip::address> source,
                                         link_events& events, std::uint64_t id);

    virtual ~ws_link() = default;

    /// Queues one binary message. Ignored once the link is closing or closed.
    virtual void send(std::string bytes) = 0;
    /// graceful: send what is queued, then a close frame (1000), bounded by close_timeout;
    /// otherwise drop the TCP connection now. on_close follows in both cases.
    virtual void close(bool graceful) = 0;
    /// Bytes queued and not yet handed to the socket.
    virtual std::size_t queued_bytes() const noexcept = 0;
};

}  // namespace confide::loadgen
