#pragma once
// A TCP proxy for tests: sits between a client and a server on the loopback interface and can
// make the network misbehave on request (a black hole that keeps both connections open, a drop,
// a server that moved to another port).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace confide::test {

/// Listens on 127.0.0.1 on a free port and forwards every accepted connection, both ways, to
/// `target_host:target_port` (the target current when the connection is accepted). Runs on its
/// own thread.
///
/// Every member function takes effect before it returns: after black_hole(), no byte is
/// forwarded any more; after set_target(), the next accepted connection goes to the new port.
///
/// Thread safety: every member may be called from any thread but the proxy's own.
class tcp_proxy {
public:
    /// Starts listening. Throws std::system_error when it cannot.
    explicit tcp_proxy(std::uint16_t target_port, std::string target_host = "127.0.0.1");
    /// Closes the listener and every connection, and joins the thread.
    ~tcp_proxy();

    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    /// The port the proxy listens on.
    std::uint16_t port() const noexcept;
    /// "ws://127.0.0.1:<port>/".
    std::string url() const;

    /// Connections accepted from now on go to `target_port`. Current ones are left alone.
    void set_target(std::uint16_t target_port);

    /// Stops forwarding in both directions, on current and new connections, without closing
    /// anything: like a network that silently loses every packet. Bytes that arrive meanwhile
    /// stay in the proxy (and in the kernel's buffers) and are forwarded after restore(), in
    /// order; a connection one side closed meanwhile is closed on the other side then too.
    void black_hole();
    /// Forwards again.
    void restore();

    /// Closes every current connection, on both sides (the listener stays).
    void drop_all();

    /// Connections accepted so far.
    std::size_t accepted() const;
    /// Waits until at least `n` connections were accepted; false after `timeout`.
    bool wait_accepted(std::size_t n, std::chrono::milliseconds timeout) const;
    /// Connections currently open (accepted and not yet closed on both sides).
    std::size_t open_connections() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace confide::test
