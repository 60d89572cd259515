#pragma once
// Echo suppression where the event's notice reaches the sender's node before the send's reply
// (a cluster, --ack-after-replicas): the check the cluster test files share.

#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace confide::test {

/// Starts `c`'s stream (already authenticated) asking for skip_own_echo.
inline void sync_skipping_own_echo(ws_client& c) {
    v1::Frame s;
    s.mutable_sync()->set_skip_own_echo(true);
    auto r = c.request(std::move(s), std::chrono::seconds(10));
    ASSERT_TRUE(r && r->has_synced()) << (r ? r->DebugString() : "no reply");
}

/// A message event of expect_own_echo_suppressed's.
inline bool is_echo(const v1::Frame& f) {
    return f.has_event() && f.event().has_message() &&
           f.event().message().body().starts_with("echo ");
}

/// The bodies of the first `count` message events of expect_own_echo_suppressed's that `c`
/// receives, in order, and their cursors in `cursors` if given.
inline std::vector<std::string> echoes_received(ws_client& c, std::size_t count,
                                                std::vector<std::string>* cursors = nullptr) {
    std::vector<std::string> out;
    while (out.size() < count) {
        auto f = c.next(std::chrono::seconds(10));
        if (!f) {
            ADD_FAILURE() << "got " << out.size() << " of " << count << " messages";
            break;
        }
        if (is_echo(*f)) {
            out.push_back(f->event().message().body());
            if (cursors != nullptr) {
                cursors->push_back(f->event().cursor());
            }
        }
    }
    return out;
}

/// `phone`, a device of the sender synced with skip_own_echo and in step with its stream, sends
/// `count` messages in `cid`, each acked before the next; then `other`, the other party,
/// answers. Each SendReply carries its event's cursor, the very event `laptop` (another device
/// of the sender) gets pushed, in order; `other` gets every message in order; and up to the
/// answer, the phone got no EventPush of its own messages.
inline void expect_own_echo_suppressed(ws_client& phone, ws_client& laptop, ws_client& other,
                                       const std::string& cid, int count) {
    constexpr auto timeout = std::chrono::seconds(10);
    std::vector<std::string> bodies;
    std::vector<std::string> cursors;
    for (int i = 1; i <= count; ++i) {
        bodies.push_back("echo " + std::to_string(i));
        auto r =
            phone.request(send_message(cid, "echo-" + std::to_string(i), bodies.back()), timeout);
        ASSERT_TRUE(r && r->has_sent()) << (r ? r->DebugString() : "no reply");
        EXPECT_FALSE(r->sent().duplicate());
        EXPECT_FALSE(r->sent().cursor().empty()) << "the reply to " << bodies.back();
        cursors.push_back(r->sent().cursor());
    }
    std::vector<std::string> laptop_cursors;
    EXPECT_EQ(echoes_received(laptop, bodies.size(), &laptop_cursors), bodies);
    EXPECT_EQ(laptop_cursors, cursors) << "the replies stand for the events of the stream";
    EXPECT_EQ(echoes_received(other, bodies.size()), bodies);

    auto answer = other.request(send_message(cid, "echo-answer", "echo answer"), timeout);
    ASSERT_TRUE(answer && answer->has_sent()) << (answer ? answer->DebugString() : "no reply");
    int echoes = 0;
    for (;;) {
        auto f = phone.next(timeout);
        ASSERT_TRUE(f) << "the answer never reached the phone";
        if (f->has_event() && f->event().has_message()) {
            if (f->event().message().body() == "echo answer") {
                break;
            }
            echoes += is_echo(*f) ? 1 : 0;
        }
    }
    EXPECT_EQ(echoes, 0) << "own messages pushed back to the phone";
}

}  // namespace confide::test
