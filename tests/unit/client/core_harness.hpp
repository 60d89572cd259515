#pragma once
// The client core's test harness: frames a fake server sends, and a fixture that executes the
// core's actions like the real runner would, with fake time. No sockets.

#include "core.hpp"

#include "confide/v1/confide.pb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace confide::client::test {

namespace cc = confide::client;
namespace d = confide::client::detail;
namespace v1 = confide::v1;
using namespace std::chrono_literals;
using cc::clock;

// ---- frames the fake server sends ----

inline v1::Frame authenticated(std::uint64_t rid, const std::string& user,
                               std::uint32_t heartbeat_ms, std::uint32_t max_body = 8192) {
    v1::Frame f;
    f.set_request_id(rid);
    auto* a = f.mutable_authenticated();
    a->set_user_id(user);
    a->set_role(v1::CLIENT);
    a->mutable_limits()->set_heartbeat_interval_ms(heartbeat_ms);
    a->mutable_limits()->set_max_body_bytes(max_body);
    return f;
}

inline v1::Frame synced(std::uint64_t rid, const std::string& from, bool reset = false) {
    v1::Frame f;
    f.set_request_id(rid);
    f.mutable_synced()->set_from_cursor(from);
    f.mutable_synced()->set_reset(reset);
    return f;
}

inline v1::Frame error_reply(std::uint64_t rid, v1::ErrorCode code, bool retryable,
                             std::uint32_t retry_after_ms = 0) {
    v1::Frame f;
    f.set_request_id(rid);
    f.mutable_error()->set_code(code);
    f.mutable_error()->set_message("nope");
    f.mutable_error()->set_retryable(retryable);
    f.mutable_error()->set_retry_after_ms(retry_after_ms);
    return f;
}

inline v1::Frame sent_reply(const v1::Frame& request, const std::string& conversation,
                            std::uint64_t seq, bool duplicate = false) {
    v1::Frame f;
    f.set_request_id(request.request_id());
    auto* s = f.mutable_sent();
    s->set_conversation_id(conversation);
    s->set_seq(seq);
    s->set_server_time_ms(1000 + static_cast<std::int64_t>(seq));
    s->set_client_msg_id(request.has_send_message() ? request.send_message().client_msg_id()
                                                    : request.start_inquiry().client_msg_id());
    s->set_duplicate(duplicate);
    return f;
}

inline v1::Frame message_event(const std::string& cursor, const std::string& conversation,
                               std::uint64_t seq, const std::string& sender,
                               const std::string& client_msg_id = "x") {
    v1::Frame f;
    auto* e = f.mutable_event();
    e->set_cursor(cursor);
    auto* m = e->mutable_message();
    m->set_conversation_id(conversation);
    m->set_seq(seq);
    m->set_sender_id(sender);
    m->set_client_msg_id(client_msg_id);
    m->set_body("body " + std::to_string(seq));
    return f;
}

inline v1::Frame receipt_push(const std::string& conversation, const std::string& user,
                              v1::ReceiptKind kind, std::uint64_t seq) {
    v1::Frame f;
    auto* r = f.mutable_receipt();
    r->set_conversation_id(conversation);
    r->set_user_id(user);
    r->set_kind(kind);
    r->set_up_to_seq(seq);
    return f;
}

inline v1::Frame go_away(std::uint32_t code) {
    v1::Frame f;
    f.mutable_go_away()->set_close_code(code);
    f.mutable_go_away()->set_reason("bye");
    return f;
}

inline v1::Frame ok_reply(std::uint64_t rid) {
    v1::Frame f;
    f.set_request_id(rid);
    f.mutable_ok();
    return f;
}

// ---- the harness ----

class core_test : public ::testing::Test {
protected:
    cc::options default_options() {
        cc::options o;
        o.url = "ws://server/";
        o.device_id = "dev1";
        o.token_provider = [this] { return "tok" + std::to_string(++tokens_issued); };
        o.heartbeat_timeout = 15s;
        o.reconnect_min = 500ms;
        o.reconnect_max = 30s;
        o.connect_timeout = 10s;
        o.request_timeout = 10s;
        o.ack_delay = 100ms;
        return o;
    }

    void make(cc::options o, d::tuning t = {}) { core.emplace(std::move(o), 42, std::move(t)); }
    void make() { make(default_options()); }

    // Executes the core's actions like the real runtime would.
    void pump() {
        for (auto& a : core->take_actions()) {
            if (auto* o = std::get_if<d::open_connection>(&a)) {
                opened.push_back(o->id);
            } else if (auto* s = std::get_if<d::send_frame>(&a)) {
                v1::Frame f;
                ASSERT_TRUE(f.ParseFromString(s->bytes));
                sent.emplace_back(s->id, std::move(f));
            } else if (auto* c = std::get_if<d::close_connection>(&a)) {
                closes.push_back(*c);
            } else if (auto* cb = std::get_if<d::run_callback>(&a)) {
                cb->fn();
            } else if (auto* n = std::get_if<d::notify>(&a)) {
                record(n->what);
            }
        }
    }

    void record(const d::notification& n) {
        if (auto* s = std::get_if<cc::state_change>(&n)) {
            states.push_back(*s);
        } else if (auto* m = std::get_if<cc::message>(&n)) {
            messages.push_back(*m);
        } else if (auto* u = std::get_if<cc::send_update>(&n)) {
            updates.push_back(*u);
        } else if (auto* r = std::get_if<cc::receipt>(&n)) {
            receipts.push_back(*r);
        } else if (std::holds_alternative<d::reset_notice>(n)) {
            ++resets;
        } else if (auto* c = std::get_if<d::cursor_saved>(&n)) {
            saved_cursors.push_back(c->cursor);
        } else if (auto* conv = std::get_if<cc::conversation>(&n)) {
            conversations.push_back(*conv);
        } else if (auto* sy = std::get_if<d::synced_notice>(&n)) {
            synced_notices.push_back(*sy);
        }
    }

    // Moves time forward by `by`, firing every wake-up on the way.
    void advance(clock::duration by) {
        const auto end = now + by;
        for (int i = 0;; ++i) {
            ASSERT_LT(i, 100000) << "the core keeps waking up without progress";
            auto at = core->next_wakeup();
            if (!at || *at > end) {
                break;
            }
            now = std::max(now, *at);
            core->on_tick(now);
            pump();
        }
        now = end;
    }

    void server_sends(d::conn_id id, const v1::Frame& f) {
        core->on_frame(id, f.SerializeAsString(), now);
        pump();
    }

    // Pops the oldest frame sent whose kind is `kind`, failing the test if there is none.
    v1::Frame take(v1::Frame::KindCase kind) {
        auto it = std::find_if(sent.begin(), sent.end(),
                               [&](const auto& s) { return s.second.kind_case() == kind; });
        if (it == sent.end()) {
            ADD_FAILURE() << "no frame of kind " << kind << " was sent";
            return {};
        }
        auto f = std::move(it->second);
        sent.erase(it);
        return f;
    }

    std::size_t count(v1::Frame::KindCase kind) const {
        return static_cast<std::size_t>(std::count_if(
            sent.begin(), sent.end(), [&](const auto& s) { return s.second.kind_case() == kind; }));
    }

    // Starts the core and opens its first connection: the authenticate frame it sends first.
    v1::Frame start_until_authenticate() {
        core->start(now);
        pump();
        core->on_open(opened.back(), now);
        pump();
        return take(v1::Frame::kAuthenticate);
    }

    // Completes the attempt in progress (an open_connection must have been issued): opens,
    // answers authenticate and sync. Returns the connection id.
    d::conn_id establish(const std::string& from_cursor = "c0", std::uint32_t heartbeat_ms = 30000,
                         std::uint32_t max_body = 8192) {
        EXPECT_FALSE(opened.empty());
        const auto id = opened.back();
        // Frames of earlier connections are history.
        std::erase_if(sent, [&](const auto& s) { return s.first != id; });
        core->on_open(id, now);
        pump();
        auto auth = take(v1::Frame::kAuthenticate);
        last_auth = auth.authenticate();
        server_sends(id, authenticated(auth.request_id(), "alice", heartbeat_ms, max_body));
        auto sync = take(v1::Frame::kSync);
        last_sync = sync.sync();
        server_sends(id, synced(sync.request_id(), from_cursor));
        return id;
    }

    // Starts the core and completes its first connection (see establish()).
    d::conn_id start_and_establish(const std::string& from_cursor = "c0",
                                   std::uint32_t heartbeat_ms = 30000) {
        core->start(now);
        pump();
        return establish(from_cursor, heartbeat_ms);
    }

    // Waits out the reconnect delay (at most reconnect_max) until a new connection is opened.
    void wait_for_attempt() {
        const auto before = opened.size();
        for (int i = 0; i < 3100 && opened.size() == before; ++i) {
            advance(10ms);
        }
        ASSERT_GT(opened.size(), before) << "no reconnect attempt";
    }

    void lose(d::conn_id id, std::uint16_t code = 0) {
        core->on_close(id, d::close_info{code, "gone"}, now);
        pump();
    }

    const cc::state_change& last_state() const { return states.back(); }

    std::vector<cc::send_update> updates_for(const std::string& id) const {
        std::vector<cc::send_update> out;
        std::copy_if(updates.begin(), updates.end(), std::back_inserter(out),
                     [&](const auto& u) { return u.client_msg_id == id; });
        return out;
    }

    clock::time_point now = clock::time_point{} + 24h;
    int tokens_issued = 0;
    std::optional<d::core> core;
    std::vector<d::conn_id> opened;
    std::deque<std::pair<d::conn_id, v1::Frame>> sent;
    std::vector<d::close_connection> closes;
    std::vector<cc::state_change> states;
    std::vector<cc::message> messages;
    std::vector<cc::send_update> updates;
    std::vector<cc::receipt> receipts;
    std::vector<cc::conversation> conversations;
    std::vector<std::string> saved_cursors;
    std::vector<d::synced_notice> synced_notices;
    int resets = 0;
    v1::AuthenticateRequest last_auth;
    v1::SyncRequest last_sync;
};

}  // namespace confide::client::test
