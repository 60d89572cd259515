#include "store/conversation_view.hpp"

#include "store/fields.hpp"

namespace confide::store {
conversation_meta parse_conversation_meta(std::span<const std::string_view> flat) {
    conversation_meta m;
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
        const std::string_view k = flat[i];
        const std::string_view v = flat[i + 1];
        if (k == "client") {
            m.client = v;
        } else if (k == "specialist") {
            m.specialist = v;
        } else if (k == "state") {
            m.state = parse_state(v);
        } else if (k == "free") {
            m.free_consultation = v == "1";
        } else if (k == "created") {
            m.created_ms = int_or_zero<std::int64_t>(v);
        } else if (k == "updated") {
            m.updated_ms = int_or_zero<std::int64_t>(v);
        } else if (k == "last") {
            m.seq = number_of_id(v).value_or(0);
        } else if (k == "read_c") {
            m.read_c = int_or_zero<std::uint64_t>(v);
        } else if (k == "read_s") {
            m.read_s = int_or_zero<std::uint64_t>(v);
        } else if (k == "dlv_c") {
            m.dlv_c = int_or_zero<std::uint64_t>(v);
        } else if (k == "dlv_s") {
            m.dlv_s = int_or_zero<std::uint64_t>(v);
        } else if (k == "unread_c") {
            m.unread_c = int_or_zero<std::uint64_t>(v);
        } else if (k == "unread_s") {
            m.unread_s = int_or_zero<std::uint64_t>(v);
        } else if (k == "topic") {
            m.topic = v;
        } else if (k == "pref") {
            m.preferred_times = parse_time_ranges(v);
        } else if (k == "expires") {
            m.expires_ms = int_or_zero<std::int64_t>(v);
        } else if (k == "decline") {
            m.decline = parse_decline_reason(v);
        }
    }
    return m;
}

routing::conversation view_of(std::string_view id, const conversation_meta& m,
                              std::string_view viewer) {
    const bool is_client = viewer == m.client;
    routing::conversation c;
    c.id = id;
    c.client_id = m.client;
    c.specialist_id = m.specialist;
    c.state = m.state;
    c.free_consultation = m.free_consultation;
    c.created_ms = m.created_ms;
    c.updated_ms = m.updated_ms;
    c.last_seq = m.seq;
    c.unread_count = is_client ? m.unread_c : m.unread_s;
    c.read_seq = is_client ? m.read_c : m.read_s;
    c.other_read_seq = is_client ? m.read_s : m.read_c;
    c.other_delivered_seq = is_client ? m.dlv_s : m.dlv_c;
    c.topic = m.topic;
    c.preferred_times = m.preferred_times;
    c.expires_at_ms = m.expires_ms;
    c.declined_because = m.decline;
    return c;
}

std::optional<routing::message> parse_log_entry(const redis::reply& e, std::string_view cid) {
    if (!e.is_array() || e.elements.size() != 2 || !e.elements[1].is_array()) {
        return std::nullopt;
    }
    const auto seq = number_of_id(e.elements[0].str);
    if (!seq) {
        return std::nullopt;
    }
    routing::message m;
    m.conversation_id = cid;
    m.seq = *seq;
    const auto& f = e.elements[1].elements;
    for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
        const std::string& k = f[i].str;
        if (k == "s") {
            m.sender_id = f[i + 1].str;
        } else if (k == "i") {
            m.client_msg_id = f[i + 1].str;
        } else if (k == "t") {
            m.server_time_ms = int_or_zero<std::int64_t>(f[i + 1].str);
        } else if (k == "b") {
            m.body = f[i + 1].str;
        }
    }
    return m;
}

}  // namespace confide::store
