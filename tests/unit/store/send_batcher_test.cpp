// Group commit (store::send_batcher) with a fake submit function: what goes in each call, in
// which order, what each send is answered, and where it resumes.

#include "store/send_batcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace confide::store {
namespace {

using namespace std::chrono_literals;

// Each call's sends (by their first argument), and a gate the test opens to complete a call.
struct fake_redis {
    std::vector<std::vector<std::string>> calls;
    bool hold = false;  // calls wait for the gate
    std::shared_ptr<asio::steady_timer> gate;
    bool fail = false;  // calls throw
};

send_call call_of(const std::string& id) {
    send_call c{std::vector<std::string>(send_batcher::keys_per_send, "k"),
                std::vector<std::string>(send_batcher::args_per_send, "a")};
    c.args[0] = id;
    return c;
}

// Answers each send with its id, or {'err', 'FORBIDDEN', id} for ids starting with '!'.
awaitable<std::vector<outcome<redis::reply>>> fake_submit(std::shared_ptr<fake_redis> redis,
                                                          std::vector<send_call> calls) {
    std::vector<std::string> ids;
    for (const auto& c : calls) {
        ids.push_back(c.args[0]);
    }
    redis->calls.push_back(ids);
    if (redis->hold) {
        const auto ex = co_await asio::this_coro::executor;
        redis->gate =
            std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
        auto gate = redis->gate;
        co_await gate->async_wait(use_nothrow);
    }
    if (redis->fail) {
        throw std::runtime_error("broken");
    }
    std::vector<outcome<redis::reply>> out;
    for (const auto& id : ids) {
        if (id.starts_with("!")) {
            out.emplace_back(fail(errc::forbidden, id));
        } else {
            redis::reply r;
            r.type = redis::reply::kind::string;
            r.str = id;
            out.emplace_back(std::move(r));
        }
    }
    co_return out;
}

std::shared_ptr<send_batcher> make_batcher(asio::io_context& io,
                                           const std::shared_ptr<fake_redis>& redis) {
    return send_batcher::create(io.get_executor(), [redis](std::vector<send_call> c) {
        return fake_submit(redis, std::move(c));
    });
}

std::string error_text(errc e) {
    return "error:" + std::to_string(static_cast<int>(e));
}

// What each send was answered: its reply's string, or "error:<code>".
struct answers {
    std::vector<std::string> got;
};

awaitable<void> send_one(std::shared_ptr<send_batcher> b, std::string id,
                         std::shared_ptr<answers> out) {
    auto r = co_await b->async_send(call_of(id), asio::use_awaitable);
    out->got.push_back(r ? r->str : error_text(r.error().code));
}

void spawn_send(asio::io_context& io, const std::shared_ptr<send_batcher>& b, std::string id,
                const std::shared_ptr<answers>& out) {
    asio::co_spawn(io, send_one(b, std::move(id), out), log_exception{"test send"});
}

// Runs every handler that is ready, until none is: what can happen without the gate has.
void settle(asio::io_context& io) {
    io.restart();
    while (io.poll() > 0) {
        io.restart();
    }
}

// Runs until `done` holds, for at most 5 s.
template <class Pred>
bool run_until(asio::io_context& io, Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_for(10ms);
        io.restart();
    }
    return done();
}

// A batcher over a fake Redis on one context, and what its sends were answered.
class send_batcher_calls : public ::testing::Test {
protected:
    void send(std::string id) { spawn_send(io_, batcher_, std::move(id), out_); }

    // Sends `id`, whose call then waits at the fake's gate until the test opens it.
    void hold_first_call(std::string id) {
        redis_->hold = true;
        send(std::move(id));
        ASSERT_TRUE(run_until(io_, [&] { return redis_->gate != nullptr; }));
    }

    asio::io_context io_;
    std::shared_ptr<fake_redis> redis_ = std::make_shared<fake_redis>();
    std::shared_ptr<send_batcher> batcher_ = make_batcher(io_, redis_);
    std::shared_ptr<answers> out_ = std::make_shared<answers>();
};

TEST_F(send_batcher_calls, ALoneSendGoesOutAtOnceInACallOfItsOwn) {
    send("m1");
    ASSERT_TRUE(run_until(io_, [&] { return out_->got.size() == 1; }));
    EXPECT_EQ(out_->got, std::vector<std::string>{"m1"});
    ASSERT_EQ(redis_->calls.size(), 1U);
    EXPECT_EQ(redis_->calls[0], std::vector<std::string>{"m1"});
}

TEST_F(send_batcher_calls, SendsThatQueueDuringACallGoTogetherInOrderWhenItCompletes) {
    hold_first_call("m1");
    // Only one call in flight: these wait for it, whatever their number.
    for (const char* id : {"m2", "!m3", "m4"}) {
        send(id);
    }
    settle(io_);
    ASSERT_EQ(redis_->calls.size(), 1U);
    EXPECT_TRUE(out_->got.empty());

    redis_->hold = false;
    redis_->gate->cancel();
    ASSERT_TRUE(run_until(io_, [&] { return out_->got.size() == 4; }));
    ASSERT_EQ(redis_->calls.size(), 2U);
    EXPECT_EQ(redis_->calls[1], (std::vector<std::string>{"m2", "!m3", "m4"}));
    // Each its own answer, an 'err' one included.
    EXPECT_EQ(out_->got, (std::vector<std::string>{"m1", "m2", error_text(errc::forbidden), "m4"}));
}

TEST_F(send_batcher_calls, ACallCarriesAtMostMaxBatchSends) {
    hold_first_call("first");
    const std::size_t queued = send_batcher::max_batch + 10;
    for (std::size_t i = 0; i < queued; ++i) {
        send("m" + std::to_string(i));
    }
    settle(io_);
    redis_->hold = false;
    redis_->gate->cancel();
    ASSERT_TRUE(run_until(io_, [&] { return out_->got.size() == queued + 1; }));
    ASSERT_EQ(redis_->calls.size(), 3U);
    EXPECT_EQ(redis_->calls[1].size(), send_batcher::max_batch);
    EXPECT_EQ(redis_->calls[2].size(), 10U);
    EXPECT_EQ(redis_->calls[1].front(), "m0");
    EXPECT_EQ(redis_->calls[2].back(), "m" + std::to_string(queued - 1));
    // Answered in the order sent.
    for (std::size_t i = 0; i < queued; ++i) {
        EXPECT_EQ(out_->got[i + 1], "m" + std::to_string(i));
    }
}

TEST_F(send_batcher_calls, AFailedCallFailsEverySendOfItAndTheNextCallGoesOn) {
    hold_first_call("m1");
    const auto first = redis_->gate;
    send("m2");
    send("m3");
    settle(io_);
    // The first call succeeds; the batch after it fails as a whole.
    first->cancel();
    ASSERT_TRUE(run_until(io_, [&] { return redis_->calls.size() == 2 && redis_->gate != first; }));
    redis_->fail = true;
    redis_->gate->cancel();
    ASSERT_TRUE(run_until(io_, [&] { return out_->got.size() == 3; }));
    const auto unavailable = error_text(errc::unavailable);
    EXPECT_EQ(out_->got, (std::vector<std::string>{"m1", unavailable, unavailable}));

    redis_->fail = false;
    redis_->hold = false;
    send("m4");
    ASSERT_TRUE(run_until(io_, [&] { return out_->got.size() == 4; }));
    EXPECT_EQ(out_->got.back(), "m4");
    EXPECT_EQ(redis_->calls.size(), 3U);
}

// Counts the sends answered with their own id on their own executor; `all` is set once
// `expected` have completed.
struct tally {
    int expected = 0;
    std::atomic<int> ok{0};
    std::atomic<int> done{0};
    std::promise<void> all;
};

awaitable<void> send_from(std::shared_ptr<send_batcher> b, std::string id,
                          asio::io_context::executor_type home, std::shared_ptr<tally> t) {
    auto r = co_await b->async_send(call_of(id), asio::use_awaitable);
    if (r && r->str == id && home.running_in_this_thread()) {
        ++t->ok;
    }
    if (++t->done == t->expected) {
        t->all.set_value();
    }
}

TEST(send_batcher, SendsFromSeveralThreadsResumeOnTheirOwnExecutors) {
    // The batcher's calls on one context (as on its Redis connection's strand), the senders on
    // two others, each run by its own thread.
    asio::io_context redis_io;
    asio::io_context io1;
    asio::io_context io2;
    auto redis = std::make_shared<fake_redis>();
    auto b = make_batcher(redis_io, redis);
    constexpr int per_thread = 200;
    auto t = std::make_shared<tally>();
    t->expected = 2 * per_thread;
    auto finished = t->all.get_future();
    auto guard1 = asio::make_work_guard(io1);
    auto guard2 = asio::make_work_guard(io2);
    auto guard3 = asio::make_work_guard(redis_io);
    std::thread t1([&] { io1.run_for(10s); });
    std::thread t2([&] { io2.run_for(10s); });
    std::thread t3([&] { redis_io.run_for(10s); });
    for (int i = 0; i < per_thread; ++i) {
        for (auto* io : {&io1, &io2}) {
            asio::co_spawn(
                *io,
                send_from(b, (io == &io1 ? "a" : "b") + std::to_string(i), io->get_executor(), t),
                log_exception{"test send"});
        }
    }
    const bool all_done = finished.wait_for(5s) == std::future_status::ready;
    for (auto* io : {&io1, &io2, &redis_io}) {
        io->stop();
    }
    t1.join();
    t2.join();
    t3.join();
    ASSERT_TRUE(all_done) << t->done << " of " << t->expected << " sends completed";
    EXPECT_EQ(t->ok, 2 * per_thread);
    // Every send in exactly one call, each thread's in the order it sent them.
    std::vector<std::string> a_order;
    std::size_t total = 0;
    for (const auto& c : redis->calls) {
        total += c.size();
        EXPECT_LE(c.size(), send_batcher::max_batch);
        for (const auto& id : c) {
            if (id.starts_with("a")) {
                a_order.push_back(id);
            }
        }
    }
    EXPECT_EQ(total, 2U * per_thread);
    ASSERT_EQ(a_order.size(), static_cast<std::size_t>(per_thread));
    for (int i = 0; i < per_thread; ++i) {
        EXPECT_EQ(a_order[static_cast<std::size_t>(i)], "a" + std::to_string(i));
    }
}

}  // namespace
}  // namespace confide::store
