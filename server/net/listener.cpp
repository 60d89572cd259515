#include "net/listener.hpp"

#include "common/log.hpp"
#include "common/random_id.hpp"
#include "net/connection_registry.hpp"
#include "net/http_session.hpp"
#include "net/net_metrics.hpp"
#include "net/session_context.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/system_error.hpp>

#include <utility>

namespace confide::net {
namespace {

using asio::ip::tcp;
using std::chrono::steady_clock;

// Refusals are logged at most this often (a connection flood must not become a log flood).
constexpr auto refusal_log_interval = std::chrono::seconds(10);
// After a failed accept (e.g. out of file descriptors) retrying at once would spin.
constexpr auto accept_retry_delay = std::chrono::milliseconds(50);

}  // namespace

struct listener::impl : std::enable_shared_from_this<listener::impl> {
    impl(executor ex, listener_options options, std::shared_ptr<const session_context> context)
        : io(std::move(ex)),
          strand(asio::make_strand(io)),
          acceptor(strand),
          opts(std::move(options)),
          ctx(std::move(context)) {}

    void open();
    awaitable<void> accept_loop();
    void refuse(tcp::socket& socket);

    executor io;
    asio::strand<executor> strand;
    tcp::acceptor acceptor;  // on `strand` once accepting
    listener_options opts;
    std::shared_ptr<const session_context> ctx;
    endpoint bound;
    metrics::callback_handle open_connections;

    // On `strand`.
    steady_clock::time_point last_refusal_log{};
    std::size_t refused_since_log = 0;
};

void listener::impl::open() {
    const auto where = opts.listen.to_string();
    auto fail = [&](const boost::system::error_code& ec) {
        throw boost::system::system_error(ec, "cannot listen on " + where);
    };
    boost::system::error_code ec;
    auto address = asio::ip::make_address(opts.listen.address, ec);
    if (ec) {
        fail(ec);
    }
    tcp::endpoint ep(address, opts.listen.port);
    acceptor.open(ep.protocol(), ec);
    if (ec) {
        fail(ec);
    }
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) {
        fail(ec);
    }
    acceptor.bind(ep, ec);
    if (ec) {
        fail(ec);
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        fail(ec);
    }
    auto local = acceptor.local_endpoint();
    bound = endpoint{local.address().to_string(), local.port()};
}

awaitable<void> listener::impl::accept_loop() {
    asio::steady_timer retry(strand);
    for (;;) {
        // A connection's coroutines never run concurrently: its executor is a strand of its
        // own, or an executor that only one thread runs.
        const executor home = opts.connection_executor ? opts.connection_executor() : io;
        const bool serial = opts.connection_executor && opts.connection_executor_is_one_thread;
        // Chosen before the co_await: g++ 12 destroys a conditional expression's temporary
        // twice around one (here a strand's shared executor: a use after free under ASan).
        const executor connection = serial ? home : executor(asio::make_strand(home));
        auto [ec, socket] = co_await acceptor.async_accept(connection, use_nothrow);
        if (!acceptor.is_open() || ec == asio::error::operation_aborted) {
            co_return;
        }
        if (ec) {
            log::warn("accept failed: {}", ec.message());
            retry.expires_after(accept_retry_delay);
            co_await retry.async_wait(use_nothrow);
            continue;
        }
        // Chat frames are small and latency matters: no Nagle delay behind a delayed ACK.
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        stats::connections_accepted.inc();
        auto slot = ctx->registry->try_acquire();
        if (!slot) {
            refuse(socket);
            continue;
        }
        start_http_session(std::move(socket), random_hex_id(8), std::move(slot), ctx);
    }
}

void listener::impl::refuse(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.close(ignored);
    if (ctx->registry->shutting_down()) {
        return;
    }
    stats::connections_refused.inc();
    ++refused_since_log;
    const auto now = steady_clock::now();
    if (now - last_refusal_log >= refusal_log_interval) {
        log::warn("refused {} connection(s): {} connections held, the limit is {}",
                  refused_since_log, ctx->registry->size(), opts.max_connections);
        refused_since_log = 0;
        last_refusal_log = now;
    }
}

listener::listener(executor ex, listener_options options, session_options session,
                   std::shared_ptr<routing::connection_handler_factory> factory) {
    auto registry = std::make_shared<connection_registry>(ex, options.max_connections);
    auto ctx = std::make_shared<session_context>(
        session_context{std::move(session), std::move(factory), std::move(registry)});
    impl_ = std::make_shared<impl>(std::move(ex), std::move(options), std::move(ctx));
    impl_->open();
    impl_->open_connections = metrics::registry::global().add_callback(
        "confide_connections", "Connections held now (HTTP and WebSocket phases)",
        metrics::kind::gauge, {},
        [registry = std::weak_ptr<connection_registry>(impl_->ctx->registry)] {
            auto r = registry.lock();
            return r ? static_cast<double>(r->size()) : 0.0;
        });
}

listener::~listener() {
    try {
        asio::post(impl_->strand, [i = impl_] {
            boost::system::error_code ignored;
            i->acceptor.close(ignored);
        });
    } catch (...) {
        // Only when post() cannot allocate: the acceptor then closes with its io_context.
    }
}

endpoint listener::local_endpoint() const {
    return impl_->bound;
}

void listener::start() {
    asio::co_spawn(
        impl_->strand, [i = impl_] { return i->accept_loop(); }, log_exception{"accept_loop"});
}

awaitable<bool> listener::shutdown(std::chrono::milliseconds timeout) {
    asio::post(impl_->strand, [i = impl_] {
        boost::system::error_code ignored;
        i->acceptor.close(ignored);
    });
    auto registry = impl_->ctx->registry;
    registry->shutdown();
    co_return co_await registry->wait_empty(timeout);
}

void listener::abort_connections() {
    impl_->ctx->registry->abort_all();
}

std::size_t listener::connection_count() const {
    return impl_->ctx->registry->size();
}

}  // namespace confide::net
