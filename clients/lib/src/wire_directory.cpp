#include "wire_directory.hpp"

#include "confide/v1/confide.pb.h"

namespace confide::client::detail {

availability from_proto(const v1::Availability& a) {
    availability out;
    out.has_office_hours = a.has_office_hours();
    out.within_office_hours = a.within_office_hours();
    out.changes_at_ms = a.changes_at_ms();
    out.upcoming_office_hours = from_proto(a.upcoming_office_hours());
    out.expected_reply_minutes = a.expected_reply_minutes();
    out.median_first_reply_ms = a.median_first_reply_ms();
    out.first_reply_samples = a.first_reply_samples();
    out.server_time_ms = a.server_time_ms();
    return out;
}

presence from_proto(const v1::Presence& p) {
    presence out;
    out.user_id = p.user_id();
    switch (p.state()) {
        case v1::ONLINE:
            out.state = presence_state::online;
            break;
        case v1::AWAY:
            out.state = presence_state::away;
            break;
        case v1::OFFLINE:
            out.state = presence_state::offline;
            break;
        default:
            out.state = presence_state::unknown;
            break;
    }
    out.last_seen_ms = p.last_seen_ms();
    out.connection_lost = p.connection_lost();
    if (p.has_availability()) {
        out.availability = from_proto(p.availability());
    }
    return out;
}

specialist from_proto(const v1::Specialist& s) {
    specialist out;
    out.id = s.id();
    out.display_name = s.display_name();
    out.specialties.assign(s.specialties().begin(), s.specialties().end());
    out.languages.assign(s.languages().begin(), s.languages().end());
    out.bio = s.bio();
    out.time_zone = s.time_zone();
    for (const auto& h : s.office_hours()) {
        out.office_hours.push_back(
            weekly_hours{static_cast<unsigned>(h.day()), h.start_minute(), h.end_minute()});
    }
    out.accepting_new_clients = s.accepting_new_clients();
    out.free_consultation_minutes = s.free_consultation_minutes();
    out.presence = from_proto(s.presence());
    if (out.presence.user_id.empty()) {
        out.presence.user_id = out.id;
    }
    return out;
}

safety_notice from_proto(const v1::SafetyNotice& n) {
    return safety_notice{n.text(), n.crisis_line()};
}

std::vector<time_range> from_proto(const google::protobuf::RepeatedPtrField<v1::TimeRange>& r) {
    std::vector<time_range> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (const auto& t : r) {
        out.push_back(time_range{t.start_ms(), t.end_ms()});
    }
    return out;
}

// decline_reason's enumerators are in confide.v1.DeclineReason's order, from 0.
static_assert(static_cast<int>(decline_reason::no_capacity) == v1::NO_CAPACITY);
static_assert(static_cast<int>(decline_reason::other_care_needed) == v1::OTHER_CARE_NEEDED);
static_assert(static_cast<int>(decline_reason::other) == v1::OTHER_REASON &&
              v1::DeclineReason_MAX == v1::OTHER_REASON);

decline_reason decline_reason_from_proto(int r) {
    return r > 0 && r <= static_cast<int>(decline_reason::other) ? static_cast<decline_reason>(r)
                                                                 : decline_reason::unspecified;
}

int to_proto(decline_reason r) {
    return static_cast<int>(r);
}

void to_proto(const std::vector<time_range>& ranges,
              google::protobuf::RepeatedPtrField<v1::TimeRange>& out) {
    for (const auto& r : ranges) {
        auto* t = out.Add();
        t->set_start_ms(r.start_ms);
        t->set_end_ms(r.end_ms);
    }
}

}  // namespace confide::client::detail
