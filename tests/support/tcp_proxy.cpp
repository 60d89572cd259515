#include "support/tcp_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace confide::test {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t buffer_bytes = 64 * 1024;

// One proxied connection: the accepted socket and the one to the target.
struct link {
    explicit link(asio::io_context& ioc) : client(ioc), server(ioc) {}

    void close() {
        if (closed) {
            return;
        }
        closed = true;
        boost::system::error_code ignored;
        client.close(ignored);
        server.close(ignored);
    }

    tcp::socket client;
    tcp::socket server;
    bool closed = false;
};

// A coroutine that fails is a bug in this file; say so loudly rather than hang a test.
void check_done(const std::exception_ptr& e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        std::fprintf(stderr, "tcp_proxy: coroutine failed: %s\n", x.what());
    } catch (...) {
        std::fprintf(stderr, "tcp_proxy: coroutine failed\n");
    }
    std::abort();
}

}  // namespace

struct tcp_proxy::impl {
    impl(std::uint16_t target_port, std::string target_host)
        : acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          gate(ioc, asio::steady_timer::time_point::max()),
          host(std::move(target_host)),
          target(target_port),
          port(acceptor.local_endpoint().port()) {}

    // Runs `f` on the proxy's thread and waits for it, so that its effect holds on return.
    void run_here(std::function<void()> f) {
        std::promise<void> done;
        auto future = done.get_future();
        asio::post(ioc, [&f, &done] {
            f();
            done.set_value();
        });
        future.wait();
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto l = std::make_shared<link>(ioc);
            auto [ec] = co_await acceptor.async_accept(l->client, use_nothrow);
            if (stopping) {
                co_return;
            }
            if (ec) {
                continue;
            }
            links.insert(l);
            {
                std::lock_guard lock(mutex);
                ++accepted;
                ++open;
            }
            cv.notify_all();
            asio::co_spawn(ioc, serve(l, target), check_done);
        }
    }

    asio::awaitable<void> serve(std::shared_ptr<link> l, std::uint16_t to) {
        boost::system::error_code ignored;
        l->client.set_option(tcp::no_delay(true), ignored);
        auto [ec] = co_await l->server.async_connect(
            tcp::endpoint(asio::ip::make_address(host), to), use_nothrow);
        if (!ec && !l->closed) {
            l->server.set_option(tcp::no_delay(true), ignored);
            co_await (pump(l, true) && pump(l, false));
        }
        l->close();
        links.erase(l);
        {
            std::lock_guard lock(mutex);
            --open;
        }
        cv.notify_all();
    }

    // One direction. Half-closes are passed on (the WebSocket close handshake needs them);
    // anything else that ends a direction ends the connection.
    asio::awaitable<void> pump(std::shared_ptr<link> l, bool upstream) {
        tcp::socket& from = upstream ? l->client : l->server;
        tcp::socket& to = upstream ? l->server : l->client;
        std::vector<char> buffer(buffer_bytes);
        for (;;) {
            co_await pass(l);
            if (l->closed) {
                co_return;
            }
            auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), use_nothrow);
            // What a read pending when the black hole began brings in waits for restore().
            co_await pass(l);
            if (l->closed) {
                co_return;
            }
            if (n > 0) {
                auto [wec, written] =
                    co_await asio::async_write(to, asio::buffer(buffer.data(), n), use_nothrow);
                if (wec) {
                    l->close();
                    co_return;
                }
            }
            if (ec == asio::error::eof) {
                boost::system::error_code ignored;
                to.shutdown(tcp::socket::shutdown_send, ignored);
                co_return;
            }
            if (ec) {
                l->close();
                co_return;
            }
        }
    }

    // Returns once the proxy forwards (or the link is closed).
    asio::awaitable<void> pass(std::shared_ptr<link> l) {
        while (black_holed && !l->closed) {
            co_await gate.async_wait(use_nothrow);
        }
    }

    void close_links() {
        auto all = links;
        for (const auto& l : all) {
            l->close();
        }
        // Wakes the pumps held by the black hole, so that they see their link closed.
        gate.cancel();
    }

    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    tcp::acceptor acceptor;
    asio::steady_timer gate;  // waited on while black-holed; cancelled to let the waiters check

    // Used on the proxy's thread only.
    std::string host;
    std::uint16_t target;
    bool black_holed = false;
    bool stopping = false;
    std::set<std::shared_ptr<link>> links;

    const std::uint16_t port;

    mutable std::mutex mutex;
    mutable std::condition_variable cv;
    std::size_t accepted = 0;
    std::size_t open = 0;

    std::thread thread;
};

tcp_proxy::tcp_proxy(std::uint16_t target_port, std::string target_host)
    : impl_(std::make_unique<impl>(target_port, std::move(target_host))) {
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), check_done);
    impl_->thread = std::thread([i = impl_.get()] { i->ioc.run(); });
}

tcp_proxy::~tcp_proxy() {
    impl_->run_here([i = impl_.get()] {
        i->stopping = true;
        boost::system::error_code ignored;
        i->acceptor.close(ignored);
        i->close_links();
    });
    impl_->work.reset();
    impl_->thread.join();
}

std::uint16_t tcp_proxy::port() const noexcept {
    return impl_->port;
}

std::string tcp_proxy::url() const {
    return "ws://127.0.0.1:" + std::to_string(impl_->port) + "/";
}

void tcp_proxy::set_target(std::uint16_t target_port) {
    impl_->run_here([i = impl_.get(), target_port] { i->target = target_port; });
}

void tcp_proxy::black_hole() {
    impl_->run_here([i = impl_.get()] { i->black_holed = true; });
}

void tcp_proxy::restore() {
    impl_->run_here([i = impl_.get()] {
        i->black_holed = false;
        i->gate.cancel();
    });
}

void tcp_proxy::drop_all() {
    impl_->run_here([i = impl_.get()] { i->close_links(); });
}

std::size_t tcp_proxy::accepted() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->accepted;
}

bool tcp_proxy::wait_accepted(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->cv.wait_for(lock, timeout, [&] { return impl_->accepted >= n; });
}

std::size_t tcp_proxy::open_connections() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->open;
}

}  // namespace confide::test
