#pragma once
// A listener on 127.0.0.1:0 with a scripted fake connection_handler, run on two threads for the
// length of one test. The handler obeys commands sent as binary frames:
//   "echo:<x>"                       send <x> back
//   "flood:<count>:<size>"           send <count> frames of <size> bytes at once
//   "sendclose:<count>:<code>:<why>" send "f0".."f<count-1>", then close(<code>, <why>)
//   "stall"                          do not return from on_frame until release_stall()
//   "queued"                         send "q1", "q22", then reply with queued_bytes() as text

#include "common/log.hpp"
#include "confide/v1/confide.pb.h"
#include "net/listener.hpp"
#include "routing/connection_handler.hpp"
#include "routing/outbound.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace confide::net::test {

using namespace std::chrono_literals;

/// What the fake handlers saw, shared with the test thread.
struct recorder {
    std::mutex mutex;
    std::condition_variable changed;
    int created = 0;
    int closed = 0;
    int text_frames = 0;
    int written = 0;
    std::vector<std::string> frames;
    std::vector<routing::connection_info> infos;
    // The stalled handler's timer and strand, to release it from the test thread.
    asio::steady_timer* stall = nullptr;
    executor stall_strand;
    bool stalled = false;

    /// Waits until `pred` (called under the lock) holds, woken by every update().
    template <class Pred>
    bool wait(Pred pred, std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, timeout, [&] { return pred(); });
    }

    template <class F>
    void update(F f) {
        {
            std::lock_guard lock(mutex);
            f();
        }
        changed.notify_all();
    }

    void release_stall() {
        std::lock_guard lock(mutex);
        if (stall != nullptr) {
            auto* timer = stall;
            asio::post(stall_strand, [timer] { timer->cancel(); });
        }
    }
};

/// Polls `pred` until it holds or `timeout` passes: for state no recorder update announces
/// (e.g. the listener's connection count).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

/// The close code of a GoAwayPush in `bytes`; 0 when they are not one.
inline std::uint32_t go_away_code(const std::string& bytes) {
    ::confide::v1::Frame f;
    if (!f.ParseFromString(bytes) || !f.has_go_away()) {
        return 0;
    }
    return f.go_away().close_code();
}

class fake_handler final : public routing::connection_handler {
public:
    fake_handler(executor strand, routing::outbound& out, std::shared_ptr<recorder> rec)
        : strand_(std::move(strand)), out_(out), rec_(std::move(rec)), timer_(strand_) {}

    awaitable<void> on_frame(std::string_view frame) override {
        std::string f(frame);
        rec_->update([&] { rec_->frames.push_back(f); });
        if (f.starts_with("echo:")) {
            out_.send(std::make_shared<const std::string>(f.substr(5)));
        } else if (f.starts_with("flood:")) {
            auto rest = f.substr(6);
            auto colon = rest.find(':');
            int count = std::stoi(rest.substr(0, colon));
            std::size_t size = std::stoul(rest.substr(colon + 1));
            auto payload = std::make_shared<const std::string>(size, 'x');
            for (int i = 0; i < count; ++i) {
                out_.send(payload);
            }
        } else if (f.starts_with("sendclose:")) {
            auto rest = f.substr(10);
            auto c1 = rest.find(':');
            auto c2 = rest.find(':', c1 + 1);
            int count = std::stoi(rest.substr(0, c1));
            auto code = static_cast<std::uint16_t>(std::stoi(rest.substr(c1 + 1, c2 - c1 - 1)));
            for (int i = 0; i < count; ++i) {
                out_.send(std::make_shared<const std::string>("f" + std::to_string(i)));
            }
            out_.close(code, rest.substr(c2 + 1));
            out_.send(std::make_shared<const std::string>("after close"));  // ignored
        } else if (f == "stall") {
            rec_->update([&] {
                rec_->stall = &timer_;
                rec_->stall_strand = strand_;
                rec_->stalled = true;
            });
            timer_.expires_after(60s);
            co_await timer_.async_wait(use_nothrow);
            rec_->update([&] { rec_->stall = nullptr; });
        } else if (f == "queued") {
            out_.send(std::make_shared<const std::string>("q1"));
            out_.send(std::make_shared<const std::string>("q22"));
            out_.send(std::make_shared<const std::string>(std::to_string(out_.queued_bytes())));
        }
        co_return;
    }

    void on_text_frame() override {
        rec_->update([&] { ++rec_->text_frames; });
    }

    void on_written() override {
        rec_->update([&] { ++rec_->written; });
    }

    awaitable<void> on_closed() override {
        rec_->update([&] { ++rec_->closed; });
        co_return;
    }

private:
    executor strand_;
    routing::outbound& out_;
    std::shared_ptr<recorder> rec_;
    asio::steady_timer timer_;
};

class fake_factory final : public routing::connection_handler_factory {
public:
    explicit fake_factory(std::shared_ptr<recorder> rec) : rec_(std::move(rec)) {}

    std::shared_ptr<routing::connection_handler> create(executor strand, routing::outbound& out,
                                                        routing::connection_info info) override {
        rec_->update([&] {
            ++rec_->created;
            rec_->infos.push_back(info);
        });
        return std::make_shared<fake_handler>(std::move(strand), out, rec_);
    }

private:
    std::shared_ptr<recorder> rec_;
};

/// Options with short deadlines, so that the tests that wait for one are quick.
inline session_options test_session_options() {
    session_options o;
    o.handshake_timeout = 2s;
    o.idle_timeout = 10s;
    o.close_timeout = 1s;
    o.max_frame_bytes = 64 * 1024;
    o.max_outbound_bytes = 256 * 1024;
    return o;
}

class net_test : public ::testing::Test {
protected:
    net_test() {
        // CONFIDE_TEST_LOG_LEVEL=debug shows the server's log lines.
        if (const char* level = std::getenv("CONFIDE_TEST_LOG_LEVEL")) {
            spdlog::set_level(spdlog::level::from_str(level));
        }
    }

    void start(session_options session = test_session_options(),
               std::size_t max_connections = 100) {
        listener_options lo;
        lo.listen = endpoint{"127.0.0.1", 0};
        lo.max_connections = max_connections;
        listener_ = std::make_unique<listener>(ioc_.get_executor(), lo, std::move(session),
                                               std::make_shared<fake_factory>(rec_));
        listener_->start();
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { ioc_.run_for(120s); });
        }
    }

    endpoint server() const { return listener_->local_endpoint(); }

    /// listener::shutdown() from a coroutine on the server's io_context; nullopt if it did not
    /// complete within `timeout` + 5 s.
    std::optional<bool> shutdown(std::chrono::milliseconds timeout) {
        std::promise<bool> done;
        auto result = done.get_future();
        asio::co_spawn(ioc_, listener_->shutdown(timeout),
                       [&done](const std::exception_ptr& e, bool drained) {
                           if (e) {
                               done.set_exception(e);
                           } else {
                               done.set_value(drained);
                           }
                       });
        if (result.wait_for(timeout + 5s) != std::future_status::ready) {
            return std::nullopt;
        }
        return result.get();
    }

    void TearDown() override {
        if (listener_) {
            rec_->release_stall();
            EXPECT_EQ(shutdown(2s), std::optional<bool>(true));
            listener_.reset();
        }
        work_.reset();
        for (auto& t : threads_) {
            t.join();
        }
        // Every handler that was created heard on_closed() exactly once.
        std::lock_guard lock(rec_->mutex);
        EXPECT_EQ(rec_->closed, rec_->created);
    }

    asio::io_context ioc_{2};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
        ioc_.get_executor()};
    std::vector<std::thread> threads_;
    std::shared_ptr<recorder> rec_ = std::make_shared<recorder>();
    std::unique_ptr<listener> listener_;
};

}  // namespace confide::net::test
