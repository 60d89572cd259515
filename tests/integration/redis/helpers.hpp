#pragma once
// Shared by the integration tests of store/redis: an io_context on threads, a real
// redis-server per test, and waits bounded by timeouts (futures, condition variables).

#include "store/redis/config.hpp"
#include "store/redis/connection.hpp"
#include "support/redis_server.hpp"
#include "support/tcp_proxy.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace confide::store::redis::test_helpers {

using namespace std::chrono_literals;
using result = std::tuple<boost::system::error_code, reply>;

/// An io_context run by `n` threads for the duration of a test.
class io_threads {
public:
    explicit io_threads(int n = 2) : work_(asio::make_work_guard(ioc_)) {
        for (int i = 0; i < n; ++i) {
            threads_.emplace_back([this] { ioc_.run(); });
        }
    }
    ~io_threads() {
        // Let what the test's objects posted as they went (a connection's stop, the completions
        // it posts) run before the io_context shuts down: a handler destroyed unrun by the
        // shutdown can drop the last reference to a connection, whose destructor then starts
        // work the dead io_context never frees (LeakSanitizer saw it after a cluster test, 1
        // run in 7). run() returns once nothing is left; bounded, should a timer stay armed.
        work_.reset();
        const auto until = std::chrono::steady_clock::now() + 5s;
        while (!ioc_.stopped() && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(5ms);
        }
        ioc_.stop();
        for (auto& t : threads_) {
            t.join();
        }
    }
    io_threads(const io_threads&) = delete;
    io_threads& operator=(const io_threads&) = delete;

    executor get() { return ioc_.get_executor(); }

private:
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
};

/// Counts events from any thread; waits for a count with a timeout.
class counter {
public:
    void bump() {
        {
            std::lock_guard lock(mutex_);
            ++n_;
        }
        cv_.notify_all();
    }
    bool wait_for(int at_least, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return n_ >= at_least; });
    }
    int value() const {
        std::lock_guard lock(mutex_);
        return n_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    int n_ = 0;
};

/// A MONITOR connection: sees every command Redis runs from its construction on.
class command_monitor {
public:
    explicit command_monitor(const test::redis_server& server) {
        const timeval timeout{5, 0};
        ctx_ = redisConnectWithTimeout(server.host().c_str(), server.port(), timeout);
        if (ctx_ == nullptr || ctx_->err != 0) {
            ADD_FAILURE() << "cannot connect the monitor";
            return;
        }
        auto* r = static_cast<redisReply*>(redisCommand(ctx_, "MONITOR"));
        EXPECT_TRUE(r != nullptr && r->type == REDIS_REPLY_STATUS) << "MONITOR refused";
        freeReplyObject(r);
    }
    ~command_monitor() { redisFree(ctx_); }
    command_monitor(const command_monitor&) = delete;
    command_monitor& operator=(const command_monitor&) = delete;

    /// Waits until Redis has run `n` commands named `name` (spelt as the client sent it, e.g.
    /// "PING"); false when `timeout` passes first.
    bool wait_for(const std::string& name, int n, std::chrono::milliseconds timeout) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        const std::string needle = "] \"" + name + "\"";
        int seen = 0;
        std::string line;
        while (seen < n && next_line(until, line)) {
            if (line.find(needle) != std::string::npos) {
                ++seen;
            }
        }
        return seen >= n;
    }

    /// Waits until a client's command named names[0] is followed, as the next command Redis ran
    /// for that same client, by one named names[1]; false when `timeout` passes first, or when
    /// that client's next command had another name.
    bool wait_for_sequence(const std::array<std::string, 2>& names,
                           std::chrono::milliseconds timeout) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        std::string after;  // the client whose next command must be names[1]
        std::string line;
        while (next_line(until, line)) {
            const auto open = line.find(" [");
            const auto close = line.find("] \"", open);
            if (open == std::string::npos || close == std::string::npos) {
                continue;
            }
            const auto client = line.substr(open + 2, close - open - 2);
            const auto name_end = line.find('"', close + 3);
            const auto name = line.substr(close + 3, name_end - close - 3);
            if (!after.empty() && client == after) {
                return name == names[1];
            }
            if (after.empty() && name == names[0]) {
                after = client;
            }
        }
        return false;
    }

private:
    bool next_line(std::chrono::steady_clock::time_point until, std::string& line) {
        if (ctx_ == nullptr || ctx_->err != 0) {
            return false;
        }
        const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        redisSetTimeout(ctx_, timeval{static_cast<time_t>(left.count() / 1000000),
                                      static_cast<suseconds_t>(left.count() % 1000000)});
        void* raw = nullptr;
        if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
            return false;
        }
        auto* r = static_cast<redisReply*>(raw);
        line.assign(r->str != nullptr ? r->str : "", r->len);
        freeReplyObject(r);
        return true;
    }

    redisContext* ctx_ = nullptr;
};

/// Short delays so that the tests spend their time testing.
inline config test_config(const test::redis_server& server) {
    config cfg;
    cfg.host = server.host();
    cfg.port = server.port();
    cfg.connect_timeout = 1000ms;
    cfg.command_timeout = 3000ms;
    cfg.reconnect_min = 20ms;
    cfg.reconnect_max = 200ms;
    return cfg;
}

/// For the tests of the health check: through `proxy` (whose accepted connections show the
/// reconnection attempts while Redis is frozen), with a short health interval and deadlines.
inline config health_test_config(const test::redis_server& server, const test::tcp_proxy& proxy) {
    config cfg = test_config(server);
    cfg.port = proxy.port();
    cfg.health_interval = 200ms;
    cfg.command_timeout = 500ms;
    cfg.connect_timeout = 500ms;
    return cfg;
}

/// Starts a connection that bumps `connected` after every (re)connection.
inline std::shared_ptr<connection> start_connection(const executor& ex, config cfg,
                                                    const std::shared_ptr<counter>& connected) {
    auto conn = connection::create(ex, std::move(cfg));
    if (connected) {
        conn->on_connected([connected] { connected->bump(); });
    }
    conn->start();
    return conn;
}

/// Starts one command; its result is the future's.
inline std::future<result> exec_async(connection& conn, std::vector<std::string> args) {
    auto p = std::make_shared<std::promise<result>>();
    auto f = p->get_future();
    conn.async_exec(std::move(args), [p](boost::system::error_code ec, reply r) {
        p->set_value(result(ec, std::move(r)));
    });
    return f;
}

/// Waits for a command started with exec_async (a failed test after `timeout`).
inline result get(std::future<result>& f, std::chrono::milliseconds timeout = 10s) {
    if (f.wait_for(timeout) != std::future_status::ready) {
        ADD_FAILURE() << "the command did not complete within " << timeout.count() << " ms";
        return {make_error_code(errc::timeout), reply{}};
    }
    return f.get();
}

/// Runs one command and waits for its result.
inline result exec(connection& conn, std::vector<std::string> args,
                   std::chrono::milliseconds timeout = 10s) {
    auto f = exec_async(conn, std::move(args));
    return get(f, timeout);
}

}  // namespace confide::store::redis::test_helpers
