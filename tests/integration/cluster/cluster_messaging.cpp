#include "cluster_messaging.hpp"

#include <chrono>

namespace confide::test {

using namespace std::chrono_literals;

std::unique_ptr<redis_cluster> cluster_messaging::cluster_;

v1::SendReply must_send(ws_client& c, v1::Frame req) {
    auto r = c.request(std::move(req), 10s);
    if (!r || !r->has_sent()) {
        ADD_FAILURE() << "send failed: " << (r ? r->error().message() : "no reply");
        return {};
    }
    return r->sent();
}

void must_fail(ws_client& c, v1::Frame req, v1::ErrorCode code) {
    auto r = c.request(std::move(req), 10s);
    if (!r || !r->has_error()) {
        ADD_FAILURE() << "not refused: " << (r ? r->DebugString() : "no reply");
        return;
    }
    EXPECT_EQ(r->error().code(), code) << r->error().message();
}

std::function<bool(const v1::Frame&)> is_state(v1::ConversationState s, const std::string& cid) {
    return [s, cid](const v1::Frame& f) {
        return f.has_event() && f.event().has_conversation() &&
               f.event().conversation().state() == s && f.event().conversation().id() == cid;
    };
}

opened open_conversation(ws_client& client, ws_client& specialist, const std::string& specialist_id,
                         const std::string& msg_id, const std::string& first) {
    opened out;
    out.cid = must_send(client, start_inquiry(specialist_id, msg_id, first)).conversation_id();
    auto accepted = specialist.request(update(out.cid, v1::ACCEPT), 10s);
    if (!accepted || !accepted->has_conversation()) {
        ADD_FAILURE() << "accept failed: " << (accepted ? accepted->DebugString() : "no reply");
        return out;
    }
    const auto is_active = is_state(v1::ACTIVE, out.cid);
    for (ws_client* c : {&client, &specialist}) {
        // Everything before it is consumed too (wait_for would leave it for the test).
        auto active = c->next(10s);
        while (active && !is_active(*active)) {
            active = c->next(10s);
        }
        if (!active) {
            ADD_FAILURE() << "the accept's event never came";
            return out;
        }
        c->send(ack(active->event().cursor()));
    }
    return out;
}

}  // namespace confide::test
