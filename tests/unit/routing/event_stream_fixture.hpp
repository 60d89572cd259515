#pragma once
// The event stream's test fixture: hand-made notices and batches, and a stream driven as
// routing::stream_runner drives it (its actions executed, pushed frames filling the queue), on
// fake time. Shared by event_stream_test.cpp (the states and their inputs) and
// event_stream_echo_test.cpp (the sender's own event: replies that stand for it, held notices).

#include "routing/event_stream.hpp"

#include "confide/v1/confide.pb.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace confide::test {

using state = routing::event_stream::state;
using notice_ptr = std::shared_ptr<const routing::notice>;

inline constexpr const char* me = "alice";

inline notice_ptr message_notice(std::uint64_t n, const std::string& conversation,
                                 std::uint64_t seq, const std::string& sender = "bob") {
    auto out = std::make_shared<routing::notice>();
    out->n = n;
    out->cursor = "1-" + std::to_string(n);
    routing::message m;
    m.conversation_id = conversation;
    m.seq = seq;
    m.sender_id = sender;
    m.client_msg_id = "c" + std::to_string(seq);
    m.body = "body " + std::to_string(seq);
    out->what = std::move(m);
    return out;
}

inline notice_ptr conversation_notice(std::uint64_t n, const std::string& conversation) {
    auto out = std::make_shared<routing::notice>();
    out->n = n;
    out->cursor = "1-" + std::to_string(n);
    routing::conversation c;
    c.id = conversation;
    c.state = routing::conversation_state::active;
    out->what = std::move(c);
    return out;
}

inline notice_ptr receipt_notice(std::uint64_t up_to) {
    auto out = std::make_shared<routing::notice>();
    out->what = routing::receipt{"c1", "bob", routing::receipt_kind::read, up_to};
    return out;
}

inline routing::event_batch batch_of(std::vector<notice_ptr> events, bool reset = false) {
    routing::event_batch b;
    b.events = std::move(events);
    b.reset = reset;
    return b;
}

inline confide::protocol::cursor_position at(std::uint64_t n) {
    return {1, n};
}

class event_stream_test : public ::testing::Test {
protected:
    static routing::event_stream::options options() {
        using namespace std::chrono_literals;
        routing::event_stream::options o;
        o.batch = 3;
        o.max_outbound_bytes = 4000;  // reading pauses above 1000 bytes, resumes at 500
        o.stalled_reader_timeout = 30s;
        o.storage_retry = 1s;
        o.max_unacked = 4;
        return o;
    }

    const std::string user = me;
    const routing::event_stream::options opts = options();
    routing::event_stream::options opts_held = options();
    routing::event_stream stream{user, opts};
    routing::event_stream::time_point now =
        routing::event_stream::time_point{} + std::chrono::hours(1);
    std::size_t queued = 0;

    std::vector<v1::Frame> pushed;
    std::vector<routing::event_stream::read> reads;
    int too_slow = 0;

    // Executes the actions as the runner does; pushed frames fill the queue.
    void execute() {
        for (const auto& a : stream.actions()) {
            if (const auto* p = std::get_if<routing::event_stream::push>(&a)) {
                v1::Frame f;
                ASSERT_TRUE(f.ParseFromString(*p->frame));
                pushed.push_back(std::move(f));
                queued += p->frame->size();
            } else if (const auto* r = std::get_if<routing::event_stream::read>(&a)) {
                reads.push_back(*r);
            } else {
                ++too_slow;
            }
        }
        stream.clear_actions();
    }

    void notice(const notice_ptr& n) {
        stream.on_notice(n, queued, now);
        execute();
    }
    // `n` 0 here: unknown (the tests of a known position before the first event call synced()).
    void sync(std::string cursor, std::uint64_t n, std::vector<notice_ptr> first) {
        stream.sync_started();
        stream.synced(std::move(cursor), n == 0 ? std::nullopt : std::optional<std::uint64_t>(n),
                      batch_of(std::move(first)), queued, now);
        execute();
    }
    void read_done(std::vector<notice_ptr> events) {
        ASSERT_FALSE(reads.empty());
        stream.on_read(reads.back().id, batch_of(std::move(events)), queued, now);
        execute();
    }
    void read_failed() {
        ASSERT_FALSE(reads.empty());
        stream.on_read(reads.back().id, confide::fail(confide::errc::unavailable, "down"), queued,
                       now);
        execute();
    }
    void written(std::size_t left) {
        queued = left;
        stream.on_written(queued);
        execute();
    }
    void tick() {
        stream.on_tick(queued, now);
        execute();
    }
    // The send's reply decides (as the runner does: the events it pushes precede the reply).
    bool own(const std::string& cursor, std::uint64_t n) {
        const bool mine = stream.own_event(cursor, n, queued, now);
        execute();
        return mine;
    }
    void send_ended() {
        stream.send_ended(queued, now);
        execute();
    }
    // A live stream at "1-2" (n = 2) whose sync asked for skip_own_echo, nothing pushed.
    void go_live_skipping_own_echo() {
        stream.sync_started(true);
        stream.synced("1-2", 2, batch_of({}), queued, now);
        execute();
        ASSERT_EQ(stream.current(), state::live);
    }
    // A live stream at "1-2" (n = 2), nothing pushed.
    void go_live() {
        sync("1-2", 2, {});
        ASSERT_EQ(stream.current(), state::live);
    }
    // The cursors of the event frames pushed so far.
    std::vector<std::string> pushed_cursors() const {
        std::vector<std::string> out;
        for (const auto& f : pushed) {
            if (f.has_event()) {
                out.push_back(f.event().cursor());
            }
        }
        return out;
    }
};

using strings = std::vector<std::string>;

}  // namespace confide::test
