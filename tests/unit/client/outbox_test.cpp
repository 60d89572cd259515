// The outbox's bookkeeping: queues, lookups by id (searched while small, indexed while large),
// requests in flight.

#include "outbox.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

namespace d = confide::client::detail;
using confide::client::clock;

d::outbox_item item(const std::string& id, const std::string& conversation) {
    d::outbox_item i;
    i.client_msg_id = id;
    i.target = conversation;
    i.body = "x";
    return i;
}

// Pushes `n` items, alternating between two conversations; the ids are "m0".."m<n-1>".
void fill(d::outbox& box, int n) {
    for (int i = 0; i < n; ++i) {
        auto it = item("m" + std::to_string(i), i % 2 == 0 ? "A" : "B");
        ASSERT_NE(box.push(it), nullptr) << i;
    }
}

TEST(outbox, finds_refuses_and_erases_by_id_small_and_large) {
    for (const int n : {5, 200}) {
        d::outbox box(1, 0);
        fill(box, n);
        EXPECT_EQ(box.size(), static_cast<std::size_t>(n));
        auto again = item("m3", "A");
        EXPECT_EQ(box.push(again), nullptr) << "a queued id is refused";
        EXPECT_EQ(again.client_msg_id, "m3") << "and left as it was";
        ASSERT_NE(box.find("m3"), nullptr);
        EXPECT_EQ(box.find("m3")->target, "B");
        EXPECT_EQ(box.find("m" + std::to_string(n)), nullptr);
        // Erase down to below the index's lower bound and up again: lookups stay right.
        for (int i = 0; i < n - 3; ++i) {
            box.erase("m" + std::to_string(i));
            ASSERT_EQ(box.find("m" + std::to_string(i)), nullptr) << i;
        }
        EXPECT_EQ(box.size(), 3U);
        EXPECT_NE(box.find("m" + std::to_string(n - 1)), nullptr);
        auto back = item("m0", "C");
        EXPECT_NE(box.push(back), nullptr) << "an erased id may come again";
        EXPECT_EQ(box.size(), 4U);
    }
}

TEST(outbox, only_the_first_of_each_queue_go_and_replies_find_their_item) {
    d::outbox box(2, 3);
    fill(box, 8);  // A: m0 m2 m4 m6, B: m1 m3 m5 m7
    const auto now = clock::time_point{} + std::chrono::hours(1);
    std::vector<std::string> sent;
    std::uint64_t next_id = 0;
    const auto send = [&](d::outbox_item& i) {
        sent.push_back(i.client_msg_id);
        return std::pair(++next_id, now + std::chrono::seconds(10));
    };
    box.for_each_ready(now, send);
    EXPECT_EQ(sent, (std::vector<std::string>{"m0", "m2", "m1"}));  // two of A, the window's third
    EXPECT_TRUE(box.window_full());
    auto* replied = box.take_request(2);
    ASSERT_NE(replied, nullptr);
    EXPECT_EQ(replied->client_msg_id, "m2");
    EXPECT_EQ(box.take_request(2), nullptr) << "once";
    box.erase("m2");
    sent.clear();
    box.for_each_ready(now, send);
    EXPECT_EQ(sent, (std::vector<std::string>{"m4"}));
    EXPECT_EQ(box.next_due(now), now + std::chrono::seconds(10));
    box.expire(now + std::chrono::seconds(10));
    EXPECT_FALSE(box.window_full()) << "expired requests are no longer in flight";
}

}  // namespace
