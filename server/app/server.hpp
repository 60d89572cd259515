#pragma once

#include "app/chat_node.hpp"
#include "app/config.hpp"
#include "common/asio_types.hpp"
#include "metrics/metrics.hpp"
#include "net/listener.hpp"
#include "net/tls.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace confide::app {

/// The composition root: owns the io_context and wires the components together: the chat node
/// (routing + store) and the listener that hands it connections.
///
/// Shutdown (SIGINT/SIGTERM or request_stop()): GET /readyz answers 503 at once; after
/// cfg.drain_delay, close the acceptor, tell every connection to go away (GoAwayPush, 1001),
/// wait for them up to cfg.drain_timeout, cut the rest, stop the remaining components, and let
/// run() return. A second signal skips the delay and cuts the connections at once.
///
/// SIGHUP re-reads the TLS certificate and key (when TLS is on); connections open keep theirs.
class server {
public:
    /// Builds every component and binds the listening socket. Throws on failure (e.g.
    /// boost::system::system_error naming the address when it cannot be bound).
    explicit server(config cfg);
    ~server();

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// The address accepted on (the actual port when 0 was configured).
    net::endpoint local_endpoint() const;

    /// Accepts connections, prints "listening on <ip>:<port>" to stdout, and runs the
    /// io_context on cfg.io_threads threads (this one included) until shutdown is complete.
    /// Call once.
    void run();

    /// Starts the graceful shutdown, as SIGTERM does. Thread safety: any thread.
    void request_stop();

private:
    void on_signal(const boost::system::error_code& ec, int signal);
    void wait_for_io_threads();
    void begin_shutdown();
    awaitable<void> shut_down();
    void reload_tls();
    net::readiness readiness() const;
    void add_metrics();

    config cfg_;
    // One io_context per thread: a connection's socket, timers and session stay on one thread.
    // The first also runs the listener, Redis, the presence tracker and the control strand.
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::atomic<std::size_t> next_context_{0};
    asio::io_context& main_context() { return *contexts_.front(); }
    asio::strand<asio::io_context::executor_type> control_;  // signals and shutdown
    asio::signal_set signals_;
    asio::steady_timer drain_delay_;  // on control_
    std::shared_ptr<net::tls_context> tls_;
    std::unique_ptr<chat_node> node_;
    std::unique_ptr<net::listener> listener_;
    std::vector<metrics::callback_handle> gauges_;  // before members they read are destroyed
    bool stopping_ = false;                         // on control_
    std::atomic<bool> draining_{false};
    // The shutdown's hard bound, kept by run()'s own thread: the drain's timers run on an I/O
    // thread, behind every handler queued there, and with thousands of connections closing at
    // once they fired seconds late (bench storm: 15 s to exit with a 10 s drain timeout).
    std::mutex exit_mutex_;
    std::condition_variable exit_changed_;
    std::size_t io_threads_running_ = 0;                                  // under exit_mutex_
    std::optional<std::chrono::steady_clock::time_point> exit_deadline_;  // under exit_mutex_
};

}  // namespace confide::app
