#include "app/server.hpp"

#include "app/build_info.hpp"
#include "app/chat_node.hpp"
#include "common/log.hpp"
#include "metrics/process_metrics.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

namespace confide::app {
namespace {

// After the connections were cut (drain deadline passed), how long their handlers get to finish.
constexpr auto abort_grace = std::chrono::milliseconds(2000);
// Beyond the drain delay, the drain timeout and the abort grace: then the I/O threads are
// stopped wherever they are (see server::exit_deadline_).
constexpr auto exit_margin = std::chrono::milliseconds(1000);

// A certificate this close to its end is worth a warning at every (re)load.
constexpr std::int64_t expiry_warning_s = 14 * 24 * 3600;

void log_certificate(const net::certificate_info& info, std::string_view what) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const auto days_left = (info.not_after - now) / (24 * 3600);
    if (info.not_after <= now) {
        log::error("TLS certificate {}: {} EXPIRED {} day(s) ago", what, info.subject, -days_left);
    } else if (info.not_after - now < expiry_warning_s) {
        log::warn("TLS certificate {}: {} expires in {} day(s)", what, info.subject, days_left);
    } else {
        log::info("TLS certificate {}: {}, valid for {} more days", what, info.subject, days_left);
    }
}

net::session_options session_options_of(const config& cfg) {
    net::session_options s;
    s.max_frame_bytes = cfg.max_frame_bytes;
    s.max_outbound_bytes = cfg.max_outbound_bytes;
    s.handshake_timeout = cfg.handshake_timeout;
    s.allowed_origins = cfg.allowed_origins;
    if (!cfg.web_root.empty()) {
        s.web_files = net::static_files::load(cfg.web_root);
        log::info("serving the web client from {} ({} files)", cfg.web_root, s.web_files->size());
    }
    return s;
}

std::vector<std::unique_ptr<asio::io_context>> make_contexts(unsigned n) {
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (unsigned i = 0; i < std::max(n, 1U); ++i) {
        // Concurrency hint 1: each context is run by exactly one thread, so Asio can skip locks.
        v.push_back(std::make_unique<asio::io_context>(1));
    }
    return v;
}

void run_io(asio::io_context& ioc) {
    // A handler that throws is a bug, but one bug must not take the node down with every
    // connection on it: log, and go on running.
    for (;;) {
        try {
            ioc.run();
            return;
        } catch (const std::exception& e) {
            log::error("uncaught exception in the event loop: {}", e.what());
        }
    }
}

}  // namespace

server::server(config cfg)
    : cfg_(std::move(cfg)),
      contexts_(make_contexts(cfg_.io_threads)),
      control_(asio::make_strand(main_context())),
      signals_(control_, SIGINT, SIGTERM),
      drain_delay_(control_) {
    signals_.add(SIGHUP);
    // ---- composition: the one place that knows every component ----
    for (auto& c : contexts_) {
        // Until shutdown is complete: a context with no connection must not stop running.
        work_.push_back(asio::make_work_guard(*c));
    }
    std::vector<executor> shard_executors;
    for (auto& c : contexts_) {
        shard_executors.emplace_back(c->get_executor());
    }
    node_ = std::make_unique<chat_node>(shard_executors, cfg_);
    if (!cfg_.tls_cert.empty()) {
        tls_ = net::tls_context::load(cfg_.tls_cert, cfg_.tls_key);
        log_certificate(tls_->info(), "loaded");
    }
    auto session = session_options_of(cfg_);
    session.tls = tls_;
    session.metrics_text = [] { return metrics::registry::global().render(); };
    session.ready = [this] { return readiness(); };
    net::listener_options lo;
    lo.listen = net::endpoint{cfg_.listen_address, cfg_.listen_port};
    lo.max_connections = cfg_.max_connections;
    lo.connection_executor = [this]() -> executor {
        const auto i = next_context_.fetch_add(1, std::memory_order_relaxed) % contexts_.size();
        return contexts_[i]->get_executor();
    };
    lo.connection_executor_is_one_thread = true;  // run(): one thread per context
    listener_ = std::make_unique<net::listener>(main_context().get_executor(), std::move(lo),
                                                std::move(session), node_->factory());
    add_metrics();
}

void server::add_metrics() {
    auto& r = metrics::registry::global();
    gauges_ = metrics::add_process_metrics(r);
    gauges_.push_back(r.add_callback(
        "confide_build_info", "The version and commit of this server (always 1)",
        metrics::kind::gauge, {{"version", build_version()}, {"commit", build_commit()}},
        [] { return 1.0; }));
    gauges_.push_back(r.add_callback(
        "confide_ready",
        "1 when GET /readyz answers 200 (Redis answers, scripts loaded, not draining), else 0",
        metrics::kind::gauge, {}, [this] { return readiness().ready ? 1.0 : 0.0; }));
    gauges_.push_back(r.add_callback(
        "confide_connections_limit", "--max-connections: connections beyond it are refused",
        metrics::kind::gauge, {}, [n = static_cast<double>(cfg_.max_connections)] { return n; }));
    gauges_.push_back(
        r.add_callback("confide_draining", "1 from SIGTERM on (the node is shutting down)",
                       metrics::kind::gauge, {}, [this] { return draining_.load() ? 1.0 : 0.0; }));
    if (tls_) {
        gauges_.push_back(
            r.add_callback("confide_tls_certificate_expiry_timestamp_seconds",
                           "When the TLS certificate in use expires (seconds since the epoch)",
                           metrics::kind::gauge, {},
                           [tls = tls_] { return static_cast<double>(tls->info().not_after); }));
    }
}

net::readiness server::readiness() const {
    if (draining_.load()) {
        return {false, "draining"};
    }
    auto why = node_->not_ready_reason();
    return {why.empty(), std::move(why)};
}

void server::reload_tls() {
    static const auto ok = metrics::registry::global().add_counter(
        "confide_tls_reloads_total", "TLS certificate reloads (SIGHUP), by result",
        {{"result", "ok"}});
    static const auto failed = metrics::registry::global().add_counter(
        "confide_tls_reloads_total", "TLS certificate reloads (SIGHUP), by result",
        {{"result", "error"}});
    if (!tls_) {
        log::info("SIGHUP: no TLS configured, nothing to reload");
        return;
    }
    if (auto error = tls_->reload()) {
        failed.inc();
        log::error("SIGHUP: TLS certificate not reloaded, the previous one stays in use: {}",
                   *error);
        return;
    }
    ok.inc();
    log_certificate(tls_->info(), "reloaded");
}

server::~server() = default;

net::endpoint server::local_endpoint() const {
    return listener_->local_endpoint();
}

void server::run() {
    std::vector<std::thread> threads;
    threads.reserve(contexts_.size());
    io_threads_running_ = contexts_.size();
    for (auto& c : contexts_) {
        threads.emplace_back([this, &ctx = *c] {
            run_io(ctx);
            {
                std::lock_guard lock(exit_mutex_);
                --io_threads_running_;
            }
            exit_changed_.notify_all();
        });
    }
    auto stop_threads = [&] {
        for (auto& c : contexts_) {
            c->stop();
        }
        for (auto& t : threads) {
            t.join();
        }
    };

    // No connection is accepted before Redis is known to keep what we ack.
    node_->start();
    try {
        asio::co_spawn(main_context(), node_->check_storage(), asio::use_future).get();
    } catch (...) {
        node_->stop();
        stop_threads();
        throw;
    }

    listener_->start();
    signals_.async_wait(
        [this](const boost::system::error_code& ec, int signal) { on_signal(ec, signal); });

    // Tests and scripts wait for this exact line; stdout carries nothing else.
    std::printf("listening on %s\n", local_endpoint().to_string().c_str());
    std::fflush(stdout);
    log::info("listening on {} with {} io thread(s), node {}", local_endpoint().to_string(),
              cfg_.io_threads, cfg_.node_id);

    wait_for_io_threads();
    for (auto& t : threads) {
        t.join();
    }
    log::info("stopped");
}

void server::wait_for_io_threads() {
    std::unique_lock lock(exit_mutex_);
    exit_changed_.wait(lock, [this] { return io_threads_running_ == 0 || exit_deadline_; });
    if (io_threads_running_ == 0) {
        return;
    }
    const auto deadline = *exit_deadline_;
    if (exit_changed_.wait_until(lock, deadline, [this] { return io_threads_running_ == 0; })) {
        return;
    }
    lock.unlock();
    log::error("shutdown not done {} ms after it began (the I/O threads are behind): stopping now",
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   cfg_.drain_delay + cfg_.drain_timeout + abort_grace + exit_margin)
                   .count());
    for (auto& c : contexts_) {
        c->stop();
    }
}

void server::request_stop() {
    asio::post(control_, [this] { begin_shutdown(); });
}

void server::on_signal(const boost::system::error_code& ec, int signal) {
    if (ec) {
        return;  // cancelled: shutdown is complete
    }
    if (signal == SIGHUP) {
        reload_tls();
    } else if (stopping_) {
        log::warn("signal {} during shutdown: closing every connection now", signal);
        drain_delay_.cancel();
        listener_->abort_connections();
    } else {
        log::info("signal {}: shutting down", signal);
        begin_shutdown();
    }
    signals_.async_wait([this](const boost::system::error_code& e, int s) { on_signal(e, s); });
}

void server::begin_shutdown() {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    {
        std::lock_guard lock(exit_mutex_);
        exit_deadline_ = std::chrono::steady_clock::now() + cfg_.drain_delay + cfg_.drain_timeout +
                         abort_grace + exit_margin;
    }
    exit_changed_.notify_all();
    asio::co_spawn(
        control_, [this] { return shut_down(); }, log_exception{"shutdown"});
}

awaitable<void> server::shut_down() {
    draining_ = true;
    if (cfg_.drain_delay.count() > 0) {
        // Load balancers see /readyz fail and stop sending new connections; the ones open go
        // on as before until the delay is over.
        log::info("draining: /readyz answers 503; connections are told to go away in {} ms",
                  cfg_.drain_delay.count());
        drain_delay_.expires_after(cfg_.drain_delay);
        co_await drain_delay_.async_wait(use_nothrow);
    }
    log::info("draining {} connection(s), up to {} ms", listener_->connection_count(),
              cfg_.drain_timeout.count());
    if (!co_await listener_->shutdown(cfg_.drain_timeout)) {
        log::warn("{} connection(s) still open after {} ms: closing them",
                  listener_->connection_count(), cfg_.drain_timeout.count());
        listener_->abort_connections();
        if (!co_await listener_->shutdown(abort_grace)) {
            log::error("{} connection(s) did not end; exiting anyway",
                       listener_->connection_count());
            for (auto& c : contexts_) {
                c->stop();
            }
            co_return;
        }
    }

    // The chat domain and storage, after the connections (they use them).
    node_->stop();

    boost::system::error_code ignored;
    signals_.cancel(ignored);
    // Nothing is left to wait for: each context's run() returns once its last work is done.
    for (auto& w : work_) {
        w.reset();
    }
    log::info("all connections closed");
}

}  // namespace confide::app
