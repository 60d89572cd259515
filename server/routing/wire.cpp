#include "routing/wire.hpp"

#include "protocol/codec.hpp"

namespace confide::routing {
namespace {

template <class... Fs>
struct overloaded : Fs... {
    using Fs::operator()...;
};
// clang 14 has no class template argument deduction for aggregates (clang 17 has).
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

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
            // Never sent as a frame: the session closes the connection (session::on_notice).
            [&](const account_erased&) {},
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
        case conversation_state::expired:
            return v1::EXPIRED;
        case conversation_state::erased:
            return v1::ERASED;
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

v1::DeclineReason to_wire(decline_reason r) noexcept {
    switch (r) {
        case decline_reason::no_capacity:
            return v1::NO_CAPACITY;
        case decline_reason::outside_expertise:
            return v1::OUTSIDE_EXPERTISE;
        case decline_reason::schedule_mismatch:
            return v1::SCHEDULE_MISMATCH;
        case decline_reason::language_mismatch:
            return v1::LANGUAGE_MISMATCH;
        case decline_reason::other_care_needed:
            return v1::OTHER_CARE_NEEDED;
        case decline_reason::other:
            return v1::OTHER_REASON;
        case decline_reason::unspecified:
            break;
    }
    return v1::DECLINE_REASON_UNSPECIFIED;
}

decline_reason from_wire(v1::DeclineReason r) noexcept {
    switch (r) {
        case v1::DECLINE_REASON_UNSPECIFIED:
            return decline_reason::unspecified;
        case v1::NO_CAPACITY:
            return decline_reason::no_capacity;
        case v1::OUTSIDE_EXPERTISE:
            return decline_reason::outside_expertise;
        case v1::SCHEDULE_MISMATCH:
            return decline_reason::schedule_mismatch;
        case v1::LANGUAGE_MISMATCH:
            return decline_reason::language_mismatch;
        case v1::OTHER_CARE_NEEDED:
            return decline_reason::other_care_needed;
        default:
            return decline_reason::other;
    }
}

time_range from_wire(const v1::TimeRange& r) noexcept {
    return time_range{r.start_ms(), r.end_ms()};
}

void to_wire(const time_range& in, v1::TimeRange& out) {
    out.set_start_ms(in.start_ms);
    out.set_end_ms(in.end_ms);
}

void to_wire(const availability& in, v1::Availability& out) {
    out.set_has_office_hours(in.has_office_hours);
    out.set_within_office_hours(in.within_office_hours);
    out.set_changes_at_ms(in.changes_at_ms);
    for (const auto& r : in.upcoming_office_hours) {
        to_wire(r, *out.add_upcoming_office_hours());
    }
    out.set_expected_reply_minutes(in.expected_reply_minutes);
    out.set_median_first_reply_ms(in.median_first_reply_ms);
    out.set_first_reply_samples(in.first_reply_samples);
    out.set_server_time_ms(in.server_time_ms);
}

void to_wire(const specialist_listing& in, v1::Specialist& out) {
    const auto& p = in.profile;
    out.set_id(p.id);
    out.set_display_name(p.display_name);
    for (const auto& s : p.specialties) {
        out.add_specialties(s);
    }
    for (const auto& l : p.languages) {
        out.add_languages(l);
    }
    out.set_bio(p.bio);
    out.set_time_zone(p.time_zone);
    for (const auto& h : p.office_hours) {
        auto* w = out.add_office_hours();
        w->set_day(static_cast<v1::Weekday>(h.day));
        w->set_start_minute(static_cast<std::uint32_t>(h.start_minute));
        w->set_end_minute(static_cast<std::uint32_t>(h.end_minute));
    }
    out.set_accepting_new_clients(p.accepting_new_clients);
    out.set_free_consultation_minutes(p.free_consultation_minutes);
    to_wire(in.presence, *out.mutable_presence());
    to_wire(in.availability, *out.mutable_presence()->mutable_availability());
}

void to_wire(const safety_notice& in, v1::SafetyNotice& out) {
    out.set_text(in.text);
    out.set_crisis_line(in.crisis_line);
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
        if (in.specialist_availability) {
            to_wire(*in.specialist_availability,
                    *out.mutable_other_presence()->mutable_availability());
        }
    }
    out.set_topic(in.topic);
    for (const auto& r : in.preferred_times) {
        to_wire(r, *out.add_preferred_times());
    }
    out.set_expires_at_ms(in.expires_at_ms);
    out.set_decline_reason(to_wire(in.declined_because));
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
