#include "routing/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace confide::routing {
namespace {

using namespace std::chrono_literals;
const steady_time t0{};

TEST(TokenBucket, AllowsTheBurstThenRefillsAtTheRate) {
    token_bucket b(2.0, 3.0, t0);  // 2 per second, burst 3
    EXPECT_EQ(b.take(t0), 0ms);
    EXPECT_EQ(b.take(t0), 0ms);
    EXPECT_EQ(b.take(t0), 0ms);
    const auto wait = b.take(t0);
    EXPECT_EQ(wait, 500ms);  // one token takes 1/rate
    EXPECT_GT(b.take(t0 + 499ms), 0ms);
    EXPECT_EQ(b.take(t0 + 500ms), 0ms);
    // Idle time refills up to the burst, never beyond it.
    EXPECT_TRUE(b.full(t0 + 10s));
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(b.take(t0 + 10s), 0ms);
    }
    EXPECT_GT(b.take(t0 + 10s), 0ms);
}

TEST(TokenBucket, ARefusedRequestDoesNotConsume) {
    token_bucket b(1.0, 1.0, t0);
    EXPECT_EQ(b.take(t0), 0ms);
    for (int i = 0; i < 10; ++i) {
        EXPECT_GT(b.take(t0 + 100ms), 0ms);
    }
    EXPECT_EQ(b.take(t0 + 1s), 0ms);
}

TEST(TokenBucket, ClockGoingBackwardsDoesNotMintTokens) {
    token_bucket b(1.0, 1.0, t0 + 10s);
    EXPECT_EQ(b.take(t0 + 10s), 0ms);
    EXPECT_GT(b.take(t0 + 5s), 0ms);
    EXPECT_GT(b.take(t0 + 10s), 0ms);
}

TEST(TokenBucket, ZeroRateNeverRefills) {
    token_bucket b(0.0, 1.0, t0);
    EXPECT_EQ(b.take(t0), 0ms);
    EXPECT_GE(b.take(t0 + 1h), 1h);
}

TEST(UserRateLimits, OneBucketPerUser) {
    user_rate_limits l(1.0, 2.0);
    const auto now = std::chrono::steady_clock::now();
    EXPECT_EQ(l.take("alice", now), 0ms);
    EXPECT_EQ(l.take("alice", now), 0ms);
    EXPECT_GT(l.take("alice", now), 0ms);
    EXPECT_EQ(l.take("bob", now), 0ms);  // bob has his own
    EXPECT_EQ(l.tracked_users(), 2u);
}

TEST(UserRateLimits, IdleUsersAreForgottenUnderPressure) {
    user_rate_limits l(1000.0, 1.0);
    const auto now = std::chrono::steady_clock::now();
    for (int i = 0; i < 10'000; ++i) {
        l.take("u" + std::to_string(i), now);
    }
    // Everyone's bucket has refilled a second later: the next insertion prunes them.
    l.take("late", now + 1s);
    EXPECT_LT(l.tracked_users(), 100u);
}

TEST(UserRateLimits, SafeFromManyThreads) {
    user_rate_limits l(0.0, 1000.0);
    const auto now = std::chrono::steady_clock::now();
    std::atomic<int> granted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                if (l.take("shared", now).count() == 0) {
                    ++granted;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(granted.load(), 1000);  // exactly the burst, never more
}

}  // namespace
}  // namespace confide::routing
