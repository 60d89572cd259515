#pragma once

#include "common/asio_types.hpp"
#include "store/redis/config.hpp"
#include "store/redis/errc.hpp"
#include "store/redis/reply.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace confide::store::redis {

/// One multiplexed, pipelined connection to Redis through hiredis's async API, on its own strand.
/// Commands from any thread are written back to back (hiredis pipelines them) and their replies
/// complete in order. The connection reconnects by itself with jittered exponential backoff.
///
/// Thread safety: every public member may be called from any thread.
class connection : public std::enable_shared_from_this<connection> {
public:
    using handler_type = std::function<void(boost::system::error_code, reply)>;

    /// `ex` is any executor; the connection makes its own strand on it.
    static std::shared_ptr<connection> create(executor ex, config cfg);
    ~connection();

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Starts connecting (and reconnecting whenever the connection drops) until stop().
    void start();

    /// Fails pending and future commands with errc::stopped and closes the connection.
    void stop();

    /// Whether the connection is up now (a hint: it may drop at any moment).
    bool is_connected() const noexcept;

    /// Called on the connection's strand after every successful (re)connection, before any
    /// command queued afterwards is sent. Set before start().
    void on_connected(std::function<void()> callback);

    /// Runs one command, given as its arguments (binary safe: never a format string).
    /// Completion signature: void(error_code, reply). An error reply from Redis completes with
    /// errc::server_error and the reply (its `str` holds Redis's message). Fails at once with
    /// errc::not_connected while disconnected, with errc::timeout past the command deadline.
    /// The completion runs on the initiator's associated executor, never inside hiredis.
    template <class CompletionToken>
    auto async_exec(std::vector<std::string> args, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code, reply)>(
            [self = shared_from_this()](auto handler, std::vector<std::string> argv) {
                auto ex = boost::asio::get_associated_executor(handler, self->executor_);
                self->submit(
                    std::move(argv), [h = std::make_shared<decltype(handler)>(std::move(handler)),
                                      ex](boost::system::error_code ec, reply r) mutable {
                        boost::asio::post(
                            ex, [h, ec, r = std::move(r)]() mutable { (*h)(ec, std::move(r)); });
                    });
            },
            token, std::move(args));
    }

private:
    struct impl;
    connection(executor ex, config cfg);
    void submit(std::vector<std::string> args, handler_type handler);

    executor executor_;
    std::unique_ptr<impl> impl_;
};

}  // namespace confide::store::redis
