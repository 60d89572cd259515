#include "helpers.hpp"

#include "store/redis/subscriber.hpp"

#include <gtest/gtest.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace confide::store::redis {
namespace {

using namespace test_helpers;
using boost::system::error_code;
using message = std::pair<std::string, std::string>;

/// Messages received, in order; waits for a count.
class inbox {
public:
    void add(std::string_view channel, std::string_view payload) {
        {
            std::lock_guard lock(mutex_);
            messages_.emplace_back(channel, payload);
        }
        count_.bump();
    }
    bool wait_for(int n, std::chrono::milliseconds timeout) { return count_.wait_for(n, timeout); }
    std::vector<message> messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<message> messages_;
    counter count_;
};

class subscriber_test : public ::testing::Test {
protected:
    io_threads io_{2};
    test::redis_server redis_;
    std::shared_ptr<inbox> inbox_ = std::make_shared<inbox>();
    std::shared_ptr<counter> resets_ = std::make_shared<counter>();

    std::shared_ptr<subscriber> make(config cfg) {
        auto sub = subscriber::create(
            io_.get(), std::move(cfg),
            [box = inbox_](std::string_view channel, std::string_view payload) {
                box->add(channel, payload);
            },
            [resets = resets_] { resets->bump(); });
        sub->start();
        return sub;
    }
    std::shared_ptr<subscriber> make() { return make(test_config(redis_)); }

    std::future<error_code> subscribe_async(subscriber& sub, std::string channel) {
        auto p = std::make_shared<std::promise<error_code>>();
        auto f = p->get_future();
        sub.async_subscribe(std::move(channel), [p](error_code ec) { p->set_value(ec); });
        return f;
    }

    error_code subscribe(subscriber& sub, std::string channel) {
        auto f = subscribe_async(sub, std::move(channel));
        return wait(f);
    }

    static error_code wait(std::future<error_code>& f) {
        if (f.wait_for(10s) != std::future_status::ready) {
            ADD_FAILURE() << "async_subscribe did not complete";
            return errc::timeout;
        }
        return f.get();
    }

    std::string publish(const std::string& channel, const std::string& payload) {
        return redis_.command({"PUBLISH", channel, payload});
    }
};

TEST_F(subscriber_test, receives_messages_once_subscribed) {
    auto sub = make();
    // Right after start(): waits for the connection, then for Redis's confirmation.
    ASSERT_FALSE(subscribe(*sub, "ch1"));
    EXPECT_TRUE(sub->is_connected());
    EXPECT_EQ(publish("ch1", "hello"), "1");
    const std::string binary("a\0b\r\n", 5);
    EXPECT_EQ(publish("ch1", binary), "1");
    EXPECT_EQ(publish("other", "ignored"), "0");
    ASSERT_TRUE(inbox_->wait_for(2, 10s));
    const auto got = inbox_->messages();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], message("ch1", "hello"));
    EXPECT_EQ(got[1], message("ch1", binary));
    EXPECT_EQ(resets_->value(), 0);
}

TEST_F(subscriber_test, takes_a_completion_token) {
    auto sub = make();
    auto body = [](std::shared_ptr<subscriber> s) -> awaitable<error_code> {
        auto [ec] = co_await s->async_subscribe("co", use_nothrow);
        co_return ec;
    };
    auto subscribed = asio::co_spawn(io_.get(), body(sub), asio::use_future);
    ASSERT_EQ(subscribed.wait_for(10s), std::future_status::ready);
    EXPECT_FALSE(subscribed.get());
    EXPECT_EQ(publish("co", "routine"), "1");
    ASSERT_TRUE(inbox_->wait_for(1, 10s));
    EXPECT_EQ(inbox_->messages().front(), message("co", "routine"));

    // The completion runs on the handler's executor.
    auto strand = asio::make_strand(io_.get());
    auto on_strand = std::make_shared<std::promise<bool>>();
    auto f = on_strand->get_future();
    sub->async_subscribe("bound", asio::bind_executor(strand, [strand, on_strand](error_code) {
                             on_strand->set_value(strand.running_in_this_thread());
                         }));
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(f.get());
}

TEST_F(subscriber_test, subscribing_twice_is_harmless) {
    auto sub = make();
    auto a = subscribe_async(*sub, "ch");
    auto b = subscribe_async(*sub, "ch");
    EXPECT_FALSE(wait(a));
    EXPECT_FALSE(wait(b));
    EXPECT_FALSE(subscribe(*sub, "ch"));  // confirmed already: completes at once
    EXPECT_EQ(publish("ch", "once"), "1");
    ASSERT_TRUE(inbox_->wait_for(1, 10s));
    // A later confirmed subscription orders this check after the message's delivery.
    ASSERT_FALSE(subscribe(*sub, "barrier"));
    EXPECT_EQ(publish("barrier", "x"), "1");
    ASSERT_TRUE(inbox_->wait_for(2, 10s));
    const auto got = inbox_->messages();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], message("ch", "once"));
}

TEST_F(subscriber_test, unsubscribe_stops_delivery_and_subscribing_again_works) {
    auto sub = make();
    ASSERT_FALSE(subscribe(*sub, "ch1"));
    ASSERT_FALSE(subscribe(*sub, "ch2"));

    sub->unsubscribe("ch1");
    // Redis runs commands in order: once ch3 is confirmed, the UNSUBSCRIBE was applied.
    ASSERT_FALSE(subscribe(*sub, "ch3"));
    EXPECT_EQ(publish("ch1", "lost"), "0");
    EXPECT_EQ(publish("ch2", "kept"), "1");
    ASSERT_TRUE(inbox_->wait_for(1, 10s));

    ASSERT_FALSE(subscribe(*sub, "ch1"));
    EXPECT_EQ(publish("ch1", "back"), "1");
    ASSERT_TRUE(inbox_->wait_for(2, 10s));

    // Unsubscribe and subscribe again back to back, before any confirmation: hiredis keeps one
    // callback per channel and counts the pending subscriptions.
    auto first = subscribe_async(*sub, "ch4");
    sub->unsubscribe("ch4");
    auto second = subscribe_async(*sub, "ch4");
    sub->unsubscribe("ch2");
    sub->unsubscribe("ch3");
    auto third = subscribe_async(*sub, "ch2");
    EXPECT_FALSE(wait(first));
    EXPECT_FALSE(wait(second));
    EXPECT_FALSE(wait(third));
    EXPECT_EQ(publish("ch4", "four"), "1");
    EXPECT_EQ(publish("ch2", "two"), "1");
    EXPECT_EQ(publish("ch3", "three"), "0");
    ASSERT_TRUE(inbox_->wait_for(4, 10s));
    ASSERT_FALSE(subscribe(*sub, "barrier"));
    EXPECT_EQ(publish("barrier", "end"), "1");
    ASSERT_TRUE(inbox_->wait_for(5, 10s));

    const std::vector<message> expected = {
        {"ch2", "kept"}, {"ch1", "back"}, {"ch4", "four"}, {"ch2", "two"}, {"barrier", "end"}};
    EXPECT_EQ(inbox_->messages(), expected);
    EXPECT_EQ(resets_->value(), 0);
}

TEST_F(subscriber_test, resubscribes_after_a_restart_and_calls_on_reset) {
    auto sub = make();
    ASSERT_FALSE(subscribe(*sub, "ch1"));
    EXPECT_EQ(resets_->value(), 0);

    redis_.kill();
    // While Redis is down (noticed already or not yet): fails, but the channel stays in the set.
    const auto ec = subscribe(*sub, "ch2");
    EXPECT_TRUE(ec == errc::not_connected || ec == errc::disconnected) << ec.message();

    redis_.start();
    ASSERT_TRUE(resets_->wait_for(1, 10s)) << "on_reset not called";
    EXPECT_TRUE(sub->is_connected());
    EXPECT_EQ(publish("ch1", "a"), "1");
    EXPECT_EQ(publish("ch2", "b"), "1");
    ASSERT_TRUE(inbox_->wait_for(2, 10s));
    const std::vector<message> expected = {{"ch1", "a"}, {"ch2", "b"}};
    EXPECT_EQ(inbox_->messages(), expected);

    // A second restart: a second reset.
    redis_.stop();
    redis_.start();
    ASSERT_TRUE(resets_->wait_for(2, 10s));
    EXPECT_EQ(publish("ch1", "c"), "1");
}

TEST_F(subscriber_test, unconfirmed_subscription_times_out_when_redis_is_paused) {
    auto cfg = test_config(redis_);
    cfg.command_timeout = 500ms;
    cfg.connect_timeout = 500ms;
    auto sub = make(cfg);
    ASSERT_FALSE(subscribe(*sub, "ch1"));

    redis_.pause();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(subscribe(*sub, "ch2"), errc::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);

    redis_.resume();
    ASSERT_TRUE(resets_->wait_for(1, 10s));
    EXPECT_EQ(publish("ch2", "x"), "1");
    ASSERT_TRUE(inbox_->wait_for(1, 10s));
}

TEST_F(subscriber_test, an_idle_subscriber_checks_that_redis_answers_and_stays_up) {
    auto cfg = test_config(redis_);
    cfg.health_interval = 50ms;
    auto sub = make(cfg);
    ASSERT_FALSE(subscribe(*sub, "ch1"));
    command_monitor monitor(redis_);
    EXPECT_TRUE(monitor.wait_for("SUBSCRIBE", 3, 10s)) << "no health check";
    EXPECT_TRUE(sub->is_connected());
    EXPECT_EQ(publish("ch1", "still here"), "1");
    ASSERT_TRUE(inbox_->wait_for(1, 10s));
    EXPECT_EQ(resets_->value(), 0);
}

TEST_F(subscriber_test, an_idle_subscriber_notices_a_frozen_redis_and_resubscribes_after_it) {
    test::tcp_proxy proxy(redis_.port());
    auto sub = make(health_test_config(redis_, proxy));
    ASSERT_FALSE(subscribe(*sub, "ch1"));
    EXPECT_EQ(proxy.accepted(), 1u);

    redis_.pause();
    ASSERT_TRUE(proxy.wait_accepted(2, 10s)) << "the idle subscriber did not notice";
    EXPECT_FALSE(sub->is_connected());

    redis_.resume();
    ASSERT_TRUE(resets_->wait_for(1, 10s)) << "did not resubscribe";
    EXPECT_EQ(publish("ch1", "after"), "1");
    ASSERT_TRUE(inbox_->wait_for(1, 10s));
    EXPECT_EQ(inbox_->messages().front(), message("ch1", "after"));
}

TEST_F(subscriber_test, stop_fails_later_subscriptions) {
    auto sub = make();
    ASSERT_FALSE(subscribe(*sub, "ch1"));
    sub->stop();
    EXPECT_EQ(subscribe(*sub, "ch2"), errc::stopped);
    EXPECT_FALSE(sub->is_connected());
}

TEST_F(subscriber_test, not_connected_before_start_and_destroyed_while_connecting) {
    auto sub = subscriber::create(
        io_.get(), test_config(redis_), [](std::string_view, std::string_view) {}, [] {});
    EXPECT_EQ(subscribe(*sub, "ch"), errc::not_connected);
    sub->start();
    auto pending = subscribe_async(*sub, "ch");
    sub.reset();  // stops it: the pending subscription completes either way
    const auto ec = wait(pending);
    EXPECT_TRUE(!ec || ec == errc::stopped) << ec.message();
}

}  // namespace
}  // namespace confide::store::redis
