#pragma once

#include "common/asio_types.hpp"
#include "store/redis/completion.hpp"
#include "store/redis/config.hpp"
#include "store/redis/errc.hpp"
#include "store/redis/reply.hpp"

#include <boost/system/error_code.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace confide::store::redis {

namespace detail {

/// The completion of one command.
using exec_completion = completion<boost::system::error_code, reply>;
using exec_completion_ptr = completion_ptr<boost::system::error_code, reply>;

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
    template <class CompletionToken>
    auto initiate_exec(std::vector<std::string> args, CompletionToken&& token, bool asking) {
        return detail::async_submit<boost::system::error_code, reply>(
            token, executor_,
            [self = shared_from_this(), asking](detail::exec_completion_ptr op,
                                                std::vector<std::string> argv) {
                self->submit(std::move(argv), std::move(op), asking);
            },
            std::move(args));
    }

public:
    /// `ex` is any executor; the connection makes its own strand on it.
    static std::shared_ptr<connection> create(const executor& ex, config cfg);
    ~connection();

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Starts connecting (and reconnecting whenever the connection drops) until stop().
    /// Has no effect after stop().
    void start();

    /// Fails pending and future commands with errc::stopped and closes the connection; it does
    /// not reconnect any more. Returns at once (the work is done on the strand).
    void stop();

    /// The connection's strand: where its completions run unless a handler has an executor of
    /// its own.
    const executor& get_executor() const noexcept { return executor_; }

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
        return initiate_exec(std::move(args), std::forward<CompletionToken>(token), false);
    }

    /// As async_exec, but sends `ASKING` right before the command, with nothing in between (a
    /// Redis Cluster's ASK redirection: the node serves the command although it does not own the
    /// slot yet). The completion gets the command's reply; ASKING's own reply is not reported.
    template <class CompletionToken>
    auto async_exec_asking(std::vector<std::string> args, CompletionToken&& token) {
        return initiate_exec(std::move(args), std::forward<CompletionToken>(token), true);
    }

private:
    struct impl;
    connection(const executor& ex, config cfg);
    void submit(std::vector<std::string> args, detail::exec_completion_ptr op, bool asking);

    executor executor_;  ///< the connection's strand
    std::unique_ptr<impl> impl_;
};

}  // namespace confide::store::redis
