#include "routing/wire.hpp"

#include "protocol/codec.hpp"

namespace confide::routing {
namespace {

template <class... Fs>
struct overloaded : Fs... {
    using Fs::operator()...;
};

v1::Frame notice_frame(const notice& n) {
    v1::Frame f;
    std::visit(
        overloaded{
            [&](const message& m) {
                auto* e = f.mutable_event();
                e->set_cursor(n.cursor);
                to_wire(m, *e->mutable_message());
            },
            [&](const conversation& c) {
                auto* e = f.mutable_event();
                e->set_cursor(n.cursor);
                to_wire(c, *e->mutable_conversation());
            },
            [&](const receipt& r) {
                auto* out = f.mutable_receipt();
                out->set_conversation_id(r.conversation_id);
                out->set_user_id(r.user_id);
                out->set_kind(to_wire(r.kind));
                out->set_up_to_seq(r.up_to_seq);
            },
            [&](const presence& p) { to_wire(p, *f.mutable_presence()->mutable_presence()); },
            [&](const typing& t) {
                auto* out = f.mutable_typing_push();
                out->set_conversation_id(t.conversation_id);
                out->set_user_id(t.user_id);
                out->set_typing(t.active);
            },
        },
        n.what);
    return f;
}

}  // namespace

v1::Role to_wire(auth::role r) noexcept {
    return r == auth::role::client ? v1::CLIENT : v1::SPECIALIST;
}

v1::ConversationState to_wire(conversation_state s) noexcept {
    switch (s) {
        case conversation_state::inquiry:
            return v1::INQUIRY;
        case conversation_state::active:
            return v1::ACTIVE;
        case conversation_state::declined:
            return v1::DECLINED;
        case conversation_state::closed:
            return v1::CLOSED;
        case conversation_state::unknown:
            break;
    }
    return v1::CONVERSATION_STATE_UNSPECIFIED;
}

v1::PresenceState to_wire(presence_state s) noexcept {
    switch (s) {
        case presence_state::online:
            return v1::ONLINE;
        case presence_state::away:
            return v1::AWAY;
        case presence_state::offline:
            break;
    }
    return v1::OFFLINE;
}

v1::ReceiptKind to_wire(receipt_kind k) noexcept {
    return k == receipt_kind::read ? v1::READ : v1::DELIVERED;
}

void to_wire(const message& in, v1::Message& out) {
    out.set_conversation_id(in.conversation_id);
    out.set_seq(in.seq);
    out.set_sender_id(in.sender_id);
    out.set_client_msg_id(in.client_msg_id);
    out.set_body(in.body);
    out.set_server_time_ms(in.server_time_ms);
}

void to_wire(const presence& in, v1::Presence& out) {
    out.set_user_id(in.user_id);
    out.set_state(to_wire(in.state));
    out.set_last_seen_ms(in.last_seen_ms);
    out.set_connection_lost(in.connection_lost);
}

void to_wire(const conversation& in, v1::Conversation& out) {
    out.set_id(in.id);
    out.set_client_id(in.client_id);
    out.set_specialist_id(in.specialist_id);
    out.set_state(to_wire(in.state));
    out.set_free_consultation(in.free_consultation);
    out.set_created_ms(in.created_ms);
    out.set_updated_ms(in.updated_ms);
    out.set_last_seq(in.last_seq);
    if (in.last_message) {
        to_wire(*in.last_message, *out.mutable_last_message());
    }
    out.set_unread_count(in.unread_count);
    out.set_read_seq(in.read_seq);
    out.set_other_read_seq(in.other_read_seq);
    out.set_other_delivered_seq(in.other_delivered_seq);
    if (in.other_presence) {
        to_wire(*in.other_presence, *out.mutable_other_presence());
    }
}

conversation_action from_wire(v1::ConversationAction a) noexcept {
    switch (a) {
        case v1::ACCEPT:
            return conversation_action::accept;
        case v1::DECLINE:
            return conversation_action::decline;
        default:
            return conversation_action::close;
    }
}

presence_state from_wire(v1::PresenceState s) noexcept {
    return s == v1::AWAY ? presence_state::away : presence_state::online;
}

const std::shared_ptr<const std::string>& frame_of(const notice& n) {
    return n.frame.get([&n] { return protocol::encode(notice_frame(n)); });
}

}  // namespace confide::routing
