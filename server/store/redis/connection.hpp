#pragma once

#include "common/asio_types.hpp"
#include "store/redis/config.hpp"
#include "store/redis/errc.hpp"
#include "store/redis/reply.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace confide::store::redis {

namespace detail {

/// The completion of one command, type-erased in a single allocation (the handler's associated
/// allocator, Asio's recycling allocator by default). Ended by exactly one of complete() and
/// destroy().
class exec_op {
public:
    exec_op(const exec_op&) = delete;
    exec_op& operator=(const exec_op&) = delete;

    /// Frees the op and posts the handler, with `ec` and `r`, to its associated executor.
    void complete(boost::system::error_code ec, reply r) {
        vtable_->complete(this, ec, std::move(r));
    }

    /// Frees the op without calling the handler (its owner is being destroyed).
    void destroy() noexcept { vtable_->destroy(this); }

protected:
    struct vtable {
        void (*complete)(exec_op*, boost::system::error_code, reply&&);
        void (*destroy)(exec_op*) noexcept;
    };
    explicit exec_op(const vtable* vt) noexcept : vtable_(vt) {}
    ~exec_op() = default;

private:
    const vtable* vtable_;
};

struct exec_op_deleter {
    void operator()(exec_op* op) const noexcept { op->destroy(); }
};

/// Owns an exec_op until it is completed: destroying it drops the handler without calling it.
using exec_op_ptr = std::unique_ptr<exec_op, exec_op_deleter>;

template <class Handler, class WorkExecutor>
class exec_op_impl final : public exec_op {
    using allocator_type = typename std::allocator_traits<asio::associated_allocator_t<
        Handler, asio::recycling_allocator<void>>>::template rebind_alloc<exec_op_impl>;

public:
    static exec_op_ptr create(Handler handler, WorkExecutor work) {
        allocator_type alloc(
            asio::get_associated_allocator(handler, asio::recycling_allocator<void>()));
        exec_op_impl* mem = std::allocator_traits<allocator_type>::allocate(alloc, 1);
        try {
            return exec_op_ptr(new (mem) exec_op_impl(std::move(handler), std::move(work)));
        } catch (...) {
            std::allocator_traits<allocator_type>::deallocate(alloc, mem, 1);
            throw;
        }
    }

private:
    exec_op_impl(Handler handler, WorkExecutor work)
        : exec_op(&table), handler_(std::move(handler)), work_(std::move(work)) {}

    allocator_type allocator() const noexcept {
        return allocator_type(
            asio::get_associated_allocator(handler_, asio::recycling_allocator<void>()));
    }

    static void free(exec_op_impl* self, allocator_type alloc) noexcept {
        self->~exec_op_impl();
        std::allocator_traits<allocator_type>::deallocate(alloc, self, 1);
    }

    static void do_complete(exec_op* base, boost::system::error_code ec, reply&& r) {
        auto* self = static_cast<exec_op_impl*>(base);
        allocator_type alloc = self->allocator();  // before the handler is moved from
        Handler handler(std::move(self->handler_));
        WorkExecutor work(std::move(self->work_));
        free(self, alloc);
        // Posted to the handler's own executor (kept busy by `work` until now): the handler
        // never runs inside hiredis, nor inline in the caller of async_exec.
        asio::post(asio::bind_executor(std::move(work),
                                       asio::append(std::move(handler), ec, std::move(r))));
    }

    static void do_destroy(exec_op* base) noexcept {
        auto* self = static_cast<exec_op_impl*>(base);
        free(self, self->allocator());
    }

    static constexpr vtable table{&do_complete, &do_destroy};

    Handler handler_;
    WorkExecutor work_;
};

template <class Handler>
exec_op_ptr make_exec_op(Handler handler, const executor& default_executor) {
    auto work = asio::prefer(asio::get_associated_executor(handler, default_executor),
                             asio::execution::outstanding_work.tracked);
    return exec_op_impl<Handler, decltype(work)>::create(std::move(handler), std::move(work));
}

}  // namespace detail

/// One multiplexed, pipelined connection to Redis through hiredis's async API, on its own strand.
/// Commands from any thread are written back to back (hiredis pipelines them) and their replies
/// complete in order. The connection reconnects by itself with jittered exponential backoff.
///
/// A connection is ready once connected, authenticated (AUTH, when config::password is set) and
/// answering PING (so not while Redis is still loading its data set).
///
/// Lifetime: stop() ends it; destroying the last reference also stops it (pending commands then
/// complete with errc::stopped). Pending operations do not keep the connection alive.
///
/// Thread safety: every public member may be called from any thread.
class connection : public std::enable_shared_from_this<connection> {
public:
    /// `ex` is any executor; the connection makes its own strand on it.
    static std::shared_ptr<connection> create(executor ex, config cfg);
    ~connection();

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Starts connecting (and reconnecting whenever the connection drops) until stop().
    /// Has no effect after stop().
    void start();

    /// Fails pending and future commands with errc::stopped and closes the connection; it does
    /// not reconnect any more. Returns at once (the work is done on the strand).
    void stop();

    /// Whether the connection is up now (a hint: it may drop at any moment).
    bool is_connected() const noexcept;

    /// Called on the connection's strand after every successful (re)connection, before any
    /// command queued afterwards is sent. Set before start().
    void on_connected(std::function<void()> callback);

    /// Runs one command, given as its arguments (binary safe: never a format string). `args`
    /// must not be empty nor a pub/sub or MONITOR command (use subscriber): a broken precondition
    /// aborts.
    ///
    /// Completion signature: void(error_code, reply). An error reply from Redis completes with
    /// errc::server_error and the reply (its `str` holds Redis's message). Fails at once with
    /// errc::not_connected while disconnected, with errc::timeout past config::command_timeout
    /// (which also fails the connection: the other pending commands complete with
    /// errc::disconnected), with errc::stopped after stop().
    /// The completion runs on the handler's associated executor (by default the connection's
    /// strand), never inside hiredis and never inline in this call. Not cancellable: a command
    /// sent cannot be taken back, it completes by its deadline at the latest.
    template <class CompletionToken>
    auto async_exec(std::vector<std::string> args, CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(boost::system::error_code, reply)>(
            [self = shared_from_this()](auto handler, std::vector<std::string> argv) {
                auto op = detail::make_exec_op(std::move(handler), self->executor_);
                self->submit(std::move(argv), std::move(op));
            },
            token, std::move(args));
    }

private:
    struct impl;
    connection(executor ex, config cfg);
    void submit(std::vector<std::string> args, detail::exec_op_ptr op);

    executor executor_;  ///< the connection's strand
    std::unique_ptr<impl> impl_;
};

}  // namespace confide::store::redis
