#include "store/fields.hpp"

#include "protocol/cursor.hpp"

namespace confide::store {

using routing::conversation_state;
using routing::presence_state;

std::optional<std::uint64_t> number_of_id(std::string_view id) noexcept {
    const auto pos = protocol::parse_cursor(id);
    if (!pos || pos->ms != 0) {
        return std::nullopt;
    }
    return pos->seq;
}

presence_state parse_presence(std::string_view s) noexcept {
    if (s == "online") {
        return presence_state::online;
    }
    if (s == "away") {
        return presence_state::away;
    }
    return presence_state::offline;
}

conversation_state parse_state(std::string_view s) noexcept {
    if (s == "inquiry") {
        return conversation_state::inquiry;
    }
    if (s == "active") {
        return conversation_state::active;
    }
    if (s == "declined") {
        return conversation_state::declined;
    }
    if (s == "closed") {
        return conversation_state::closed;
    }
    if (s == "expired") {
        return conversation_state::expired;
    }
    if (s == "erased") {
        return conversation_state::erased;
    }
    return conversation_state::unknown;
}

const char* action_name(routing::conversation_action a) noexcept {
    switch (a) {
        case routing::conversation_action::accept:
            return "accept";
        case routing::conversation_action::decline:
            return "decline";
        case routing::conversation_action::close:
            break;
    }
    return "close";
}

namespace {

constexpr std::pair<routing::decline_reason, const char*> reason_names[] = {
    {routing::decline_reason::no_capacity, "no_capacity"},
    {routing::decline_reason::outside_expertise, "outside_expertise"},
    {routing::decline_reason::schedule_mismatch, "schedule_mismatch"},
    {routing::decline_reason::language_mismatch, "language_mismatch"},
    {routing::decline_reason::other_care_needed, "other_care_needed"},
    {routing::decline_reason::other, "other"},
};

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        const auto at = s.find(sep);
        if (at != 0) {
            out.push_back(s.substr(0, at));
        }
        if (at == std::string_view::npos) {
            break;
        }
        s.remove_prefix(at + 1);
    }
    return out;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) {
            out += ',';
        }
        out += i;
    }
    return out;
}

}  // namespace

const char* decline_reason_name(routing::decline_reason r) noexcept {
    for (const auto& [reason, name] : reason_names) {
        if (reason == r) {
            return name;
        }
    }
    return "";
}

routing::decline_reason parse_decline_reason(std::string_view s) noexcept {
    for (const auto& [reason, name] : reason_names) {
        if (s == name) {
            return reason;
        }
    }
    return routing::decline_reason::unspecified;
}

std::string format_time_ranges(const std::vector<routing::time_range>& ranges) {
    std::string out;
    for (const auto& r : ranges) {
        if (!out.empty()) {
            out += ',';
        }
        out += std::to_string(r.start_ms) + '-' + std::to_string(r.end_ms);
    }
    return out;
}

std::vector<routing::time_range> parse_time_ranges(std::string_view s) {
    std::vector<routing::time_range> out;
    for (auto item : split(s, ',')) {
        const auto dash = item.find('-');
        routing::time_range r;
        if (dash != std::string_view::npos && parse_int(item.substr(0, dash), r.start_ms) &&
            parse_int(item.substr(dash + 1), r.end_ms)) {
            out.push_back(r);
        }
    }
    return out;
}

std::vector<std::string> profile_fields(const routing::specialist_profile& p) {
    std::string hours;
    for (const auto& h : p.office_hours) {
        if (!hours.empty()) {
            hours += ',';
        }
        hours += std::to_string(h.day) + ':' + std::to_string(h.start_minute) + '-' +
                 std::to_string(h.end_minute);
    }
    return {"name",        p.display_name,
            "specialties", join(p.specialties),
            "languages",   join(p.languages),
            "bio",         p.bio,
            "tz",          p.time_zone,
            "hours",       hours,
            "reply_min",   std::to_string(p.expected_reply_minutes),
            "accepting",   p.accepting_new_clients ? "1" : "0",
            "free_min",    std::to_string(p.free_consultation_minutes),
            "updated",     std::to_string(p.updated_ms)};
}

std::optional<routing::specialist_profile> parse_profile(std::string_view id,
                                                         std::span<const std::string_view> flat) {
    if (flat.empty()) {
        return std::nullopt;
    }
    routing::specialist_profile p;
    p.id = id;
    p.display_name = id;
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
        const std::string_view k = flat[i];
        const std::string_view v = flat[i + 1];
        if (k == "name") {
            p.display_name = v;
        } else if (k == "specialties") {
            for (auto s : split(v, ',')) {
                p.specialties.emplace_back(s);
            }
        } else if (k == "languages") {
            for (auto l : split(v, ',')) {
                p.languages.emplace_back(l);
            }
        } else if (k == "bio") {
            p.bio = v;
        } else if (k == "tz") {
            p.time_zone = v.empty() ? std::string_view("UTC") : v;
        } else if (k == "hours") {
            for (auto item : split(v, ',')) {
                const auto colon = item.find(':');
                const auto dash = item.find('-');
                routing::weekly_hours h;
                if (colon != std::string_view::npos && dash != std::string_view::npos &&
                    dash > colon && parse_int(item.substr(0, colon), h.day) &&
                    parse_int(item.substr(colon + 1, dash - colon - 1), h.start_minute) &&
                    parse_int(item.substr(dash + 1), h.end_minute)) {
                    p.office_hours.push_back(h);
                }
            }
        } else if (k == "reply_min") {
            p.expected_reply_minutes = int_or_zero<std::uint32_t>(v);
        } else if (k == "accepting") {
            p.accepting_new_clients = v == "1";
        } else if (k == "free_min") {
            p.free_consultation_minutes = int_or_zero<std::uint32_t>(v);
        } else if (k == "updated") {
            p.updated_ms = int_or_zero<std::int64_t>(v);
        }
    }
    return p;
}

}  // namespace confide::store
