#pragma once
// One client WebSocket connection: connect, handshake, messages both ways, close. The one
// WebSocket client of the repository: the client library, the load generator and the tests all
// speak through it. Beast and OpenSSL live in its .cpp files only.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confide::ws {

class tls_context;

/// A request header of the handshake, e.g. {"Authorization", "Bearer ..."}.
using header = std::pair<std::string, std::string>;

/// Where connections go and how. A connection keeps a reference to it (it must outlive the
/// connection), so that thousands of connections share one.
struct connect_options {
    /// The server, resolved at every open unless `address` is set.
    std::string host;
    std::string port = "80";
    /// The server's address: no resolving (the load generator resolves once for all).
    std::optional<boost::asio::ip::tcp::endpoint> address;
    /// Path and query of the request.
    std::string target = "/";
    /// wss:// when set (make_tls_context, in tls.hpp): the server's certificate must chain to
    /// the context's CAs and name `host` (sent as SNI unless it is an IP address).
    std::shared_ptr<tls_context> tls;
    /// The Host header; empty: host_header(host, port, tls != nullptr).
    std::string host_header;
    /// Added to the request (User-Agent, Authorization, Origin, ...).
    std::vector<header> headers;
    /// SO_RCVBUF when non-zero (tests: a slow reader).
    int receive_buffer_bytes = 0;
    /// Bounds TCP connect and WebSocket handshake together; then the connection is dropped.
    std::chrono::milliseconds open_timeout{10'000};
    /// Bounds a graceful close (queued messages, close frame, the peer's answer).
    std::chrono::milliseconds close_timeout{2'000};
    /// Bigger messages fail the connection.
    std::size_t read_message_max = 4 * 1024 * 1024;
    /// false: nothing is read until resume_reading() (tests: a peer that does not read).
    bool read_on_open = true;
};

/// How a connection ended.
struct close_info {
    bool opened = false;     ///< the handshake had completed
    std::uint16_t code = 0;  ///< the peer's close code; 0 when no close frame came
    std::string reason;      ///< the peer's close reason, or what failed ("connect: ...")
    int http_status = 0;     ///< a refused handshake: the server's HTTP status (e.g. 403)
    std::string http_body;   ///< and its body
    /// The server's certificate was refused (untrusted CA, wrong name, expired): a
    /// configuration error, `reason` says "TLS certificate not trusted: ...".
    bool certificate_refused = false;
};

/// What a connection reports, always from a completion handler on its executor (never from
/// inside a call to the connection). `id` is the one given to connection::open.
class events {
public:
    virtual void on_open(std::uint64_t id) = 0;
    virtual void on_message(std::uint64_t id, std::string_view bytes, bool binary) = 0;
    /// Exactly once per connection, also when it never opened; nothing follows it.
    virtual void on_close(std::uint64_t id, const close_info& info) = 0;

protected:
    ~events() = default;
};

/// A client WebSocket connection.
///
/// Thread safety: none; use it on its executor, which must not run handlers concurrently (an
/// io_context run by one thread, or a strand). `options` and `events` must stay valid until
/// on_close has been reported or the executor's context is destroyed.
class connection {
public:
    /// Starts resolving (unless options.address), connecting (bound to `source` when given, with
    /// IP_BIND_ADDRESS_NO_PORT, so the port is picked per destination and one source address
    /// serves more connections than it has ephemeral ports) and the handshake. Reports on_open
    /// or on_close.
    static std::shared_ptr<connection> open(const boost::asio::any_io_executor& executor,
                                            const connect_options& options, events& events,
                                            std::uint64_t id,
                                            std::optional<boost::asio::ip::address> source = {});

    virtual ~connection() = default;

    /// Queues one message (sent once open, in order). Ignored once closing or closed.
    virtual void send(std::string bytes, bool binary = true) = 0;
    /// graceful: send what is queued, then a close frame with `code`, and wait for the peer's
    /// (all within close_timeout); otherwise, or when not open yet, drop the TCP connection now.
    /// on_close follows in both cases.
    virtual void close(std::uint16_t code = 1000, bool graceful = true) = 0;
    /// Starts reading, for options.read_on_open == false.
    virtual void resume_reading() = 0;
    /// Bytes queued by send() and not yet written to the socket.
    virtual std::size_t queued_bytes() const noexcept = 0;
};

}  // namespace confide::ws
