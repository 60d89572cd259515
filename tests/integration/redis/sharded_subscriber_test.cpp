#include "cluster_helpers.hpp"

#include "store/redis/sharded_subscriber.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace confide::store::redis {
namespace {

using namespace test_helpers;
using boost::system::error_code;
using message = std::pair<std::string, std::string>;

/// What the subscriber reported, in order; waits for a message or a reset.
class events {
public:
    void message_arrived(std::string_view channel, std::string_view payload) {
        {
            std::lock_guard lock(mutex_);
            messages_.emplace_back(channel, payload);
        }
        count_.bump();
    }
    void reset(const std::vector<std::string>& channels) {
        {
            std::lock_guard lock(mutex_);
            resets_.insert(resets_.end(), channels.begin(), channels.end());
        }
        count_.bump();
    }
    bool wait_for_message(const message& m, std::chrono::milliseconds timeout = 10s) {
        return wait(
            [&] { return std::find(messages_.begin(), messages_.end(), m) != messages_.end(); },
            timeout);
    }
    bool wait_for_reset(const std::string& channel, std::chrono::milliseconds timeout = 20s) {
        return wait(
            [&] { return std::find(resets_.begin(), resets_.end(), channel) != resets_.end(); },
            timeout);
    }
    std::vector<message> messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    std::vector<std::string> resets() const {
        std::lock_guard lock(mutex_);
        return resets_;
    }

private:
    template <class Pred>
    bool wait(Pred pred, std::chrono::milliseconds timeout) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const int seen = count_.value();
            {
                std::lock_guard lock(mutex_);
                if (pred()) {
                    return true;
                }
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !count_.wait_for(seen + 1, left)) {
                return false;
            }
        }
    }

    mutable std::mutex mutex_;
    std::vector<message> messages_;
    std::vector<std::string> resets_;
    counter count_;
};

class sharded_subscriber_test : public ::testing::Test {
protected:
    io_threads io_{2};
    test::redis_cluster& nodes_ = shared_cluster();
    std::shared_ptr<cluster> client_ = start_cluster(io_.get(), cluster_test_config(nodes_));
    std::shared_ptr<events> events_ = std::make_shared<events>();

    std::shared_ptr<sharded_subscriber> make() {
        auto sub = sharded_subscriber::create(
            io_.get(), client_,
            [e = events_](std::string_view channel, std::string_view payload) {
                e->message_arrived(channel, payload);
            },
            [e = events_](const std::vector<std::string>& channels) { e->reset(channels); });
        sub->start();
        return sub;
    }

    static error_code subscribe(sharded_subscriber& sub, std::string channel) {
        auto p = std::make_shared<std::promise<error_code>>();
        auto f = p->get_future();
        sub.async_subscribe(std::move(channel), [p](error_code ec) { p->set_value(ec); });
        if (f.wait_for(10s) != std::future_status::ready) {
            ADD_FAILURE() << "async_subscribe did not complete";
            return errc::timeout;
        }
        return f.get();
    }

    // SPUBLISH through the cluster client; the number of subscribers that got it.
    long publish(const std::string& channel, const std::string& payload) {
        auto [ec, r] = exec(*client_, key_slot(channel), {"SPUBLISH", channel, payload});
        EXPECT_FALSE(ec) << ec.message() << " " << r.str;
        return r.integer;
    }

    // A channel in a slot served by node `m`.
    std::string channel_on(std::size_t m, const std::string& name) {
        return "cf:n:" + tag_for_slot(nodes_.slot_of(m)) + ":" + name;
    }

    std::size_t master_with_replica() {
        for (const auto m : nodes_.masters()) {
            if (nodes_.replica_of(m)) {
                return m;
            }
        }
        ADD_FAILURE() << "no master has a replica left";
        return nodes_.masters().front();
    }
};

TEST_F(sharded_subscriber_test, receives_messages_of_channels_on_every_master) {
    auto sub = make();
    std::vector<std::string> channels;
    for (const auto m : nodes_.masters()) {
        channels.push_back(channel_on(m, "every"));
        ASSERT_FALSE(subscribe(*sub, channels.back()));
        // Subscribed on the master that owns the channel's slot.
        EXPECT_EQ(nodes_.command(m, {"PUBSUB", "SHARDNUMSUB", channels.back()}),
                  "[" + channels.back() + ", 1]");
    }
    ASSERT_EQ(channels.size(), 3u);
    const std::string binary("a\0b\r\n", 5);
    for (const auto& ch : channels) {
        EXPECT_EQ(publish(ch, "hello " + ch), 1);
        EXPECT_EQ(publish(ch, binary), 1);
    }
    EXPECT_EQ(publish(channel_on(nodes_.masters()[0], "nobody"), "ignored"), 0);
    for (const auto& ch : channels) {
        EXPECT_TRUE(events_->wait_for_message({ch, "hello " + ch}));
        EXPECT_TRUE(events_->wait_for_message({ch, binary}));
    }
    // In order per channel.
    const auto got = events_->messages();
    for (const auto& ch : channels) {
        std::vector<std::string> payloads;
        for (const auto& [c, p] : got) {
            if (c == ch) {
                payloads.push_back(p);
            }
        }
        EXPECT_EQ(payloads, (std::vector<std::string>{"hello " + ch, binary}));
    }
    EXPECT_TRUE(events_->resets().empty());
    EXPECT_FALSE(subscribe(*sub, channels.front()));  // confirmed already: at once
}

TEST_F(sharded_subscriber_test, unsubscribe_stops_delivery) {
    auto sub = make();
    const auto m = nodes_.masters()[1];
    const auto gone = channel_on(m, "gone");
    const auto kept = channel_on(m, "kept");
    ASSERT_FALSE(subscribe(*sub, gone));
    ASSERT_FALSE(subscribe(*sub, kept));
    sub->unsubscribe(gone);
    // A later confirmed subscription on the same connection orders this after the unsubscribe.
    ASSERT_FALSE(subscribe(*sub, channel_on(m, "barrier")));
    EXPECT_EQ(nodes_.command(m, {"PUBSUB", "SHARDNUMSUB", gone}), "[" + gone + ", 0]");
    EXPECT_EQ(publish(gone, "lost"), 0);
    EXPECT_EQ(publish(kept, "here"), 1);
    EXPECT_TRUE(events_->wait_for_message({kept, "here"}));
    for (const auto& [c, p] : events_->messages()) {
        EXPECT_NE(c, gone);
    }
}

TEST_F(sharded_subscriber_test, subscribes_again_after_its_connection_drops_and_resets) {
    auto sub = make();
    const auto m = nodes_.masters()[0];
    const auto dropped = channel_on(m, "dropped");
    ASSERT_FALSE(subscribe(*sub, dropped));
    EXPECT_EQ(nodes_.command(m, {"CLIENT", "KILL", "TYPE", "pubsub"}), "1");
    ASSERT_TRUE(events_->wait_for_reset(dropped));
    EXPECT_EQ(publish(dropped, "again"), 1);
    EXPECT_TRUE(events_->wait_for_message({dropped, "again"}));
}

TEST_F(sharded_subscriber_test, subscribes_again_where_a_migrated_slot_went_and_resets) {
    auto sub = make();
    const auto masters = nodes_.masters();
    const auto from = masters[2];
    const auto to = masters[0];
    const auto moving = channel_on(from, "moving");
    const auto staying = channel_on(to, "staying");
    ASSERT_FALSE(subscribe(*sub, moving));
    ASSERT_FALSE(subscribe(*sub, staying));
    EXPECT_EQ(publish(moving, "before"), 1);
    ASSERT_TRUE(events_->wait_for_message({moving, "before"}));

    // Redis drops the subscription (`sunsubscribe`) when the slot leaves `from`.
    nodes_.migrate_slot(key_slot(moving), to);
    ASSERT_TRUE(events_->wait_for_reset(moving));
    EXPECT_EQ(nodes_.command(to, {"PUBSUB", "SHARDNUMSUB", moving}), "[" + moving + ", 1]");
    EXPECT_EQ(publish(moving, "after"), 1);
    EXPECT_TRUE(events_->wait_for_message({moving, "after"}));
    // The other channel was not affected.
    EXPECT_EQ(publish(staying, "still"), 1);
    EXPECT_TRUE(events_->wait_for_message({staying, "still"}));
    const auto resets = events_->resets();
    EXPECT_EQ(std::count(resets.begin(), resets.end(), staying), 0);
}

TEST_F(sharded_subscriber_test, subscribes_again_after_a_failover_and_resets) {
    auto sub = make();
    const auto m = master_with_replica();
    const auto lost = channel_on(m, "failover");
    std::string elsewhere;
    for (const auto other : nodes_.masters()) {
        if (other != m) {
            elsewhere = channel_on(other, "elsewhere");
        }
    }
    ASSERT_FALSE(subscribe(*sub, lost));
    ASSERT_FALSE(subscribe(*sub, elsewhere));

    const auto promoted = nodes_.fail_over(m);
    ASSERT_TRUE(events_->wait_for_reset(lost));
    EXPECT_EQ(nodes_.command(promoted, {"PUBSUB", "SHARDNUMSUB", lost}), "[" + lost + ", 1]");
    EXPECT_EQ(publish(lost, "on the new master"), 1);
    EXPECT_TRUE(events_->wait_for_message({lost, "on the new master"}));
    EXPECT_EQ(publish(elsewhere, "unaffected"), 1);
    EXPECT_TRUE(events_->wait_for_message({elsewhere, "unaffected"}));
    const auto resets = events_->resets();
    EXPECT_EQ(std::count(resets.begin(), resets.end(), elsewhere), 0);
}

}  // namespace
}  // namespace confide::store::redis
