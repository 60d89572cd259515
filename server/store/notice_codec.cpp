#include "store/notice_codec.hpp"

#include "store/conversation_view.hpp"
#include "store/fields.hpp"

namespace confide::store {
namespace {

std::string_view field(std::span<const std::string_view> flat, std::string_view name) {
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
        if (flat[i] == name) {
            return flat[i + 1];
        }
    }
    return {};
}

std::shared_ptr<routing::notice> live_notice(routing::notice::payload what) {
    auto n = std::make_shared<routing::notice>();
    n->what = std::move(what);
    return n;
}

}  // namespace

bool split_fields(std::string_view in, std::vector<std::string_view>& out) {
    out.clear();
    while (!in.empty()) {
        const auto colon = in.find(':');
        std::size_t len = 0;
        if (colon == std::string_view::npos || !parse_int(in.substr(0, colon), len) ||
            in.size() - colon - 1 < len) {
            return false;
        }
        out.push_back(in.substr(colon + 1, len));
        in.remove_prefix(colon + 1 + len);
    }
    return true;
}

void append_field(std::string& out, std::string_view value) {
    out.append(std::to_string(value.size())).push_back(':');
    out.append(value);
}

std::shared_ptr<const routing::notice> event_notice(std::string_view user_id, std::string_view id,
                                                    std::span<const std::string_view> fields) {
    auto n = std::make_shared<routing::notice>();
    n->cursor = id;
    if (!parse_int(field(fields, "n"), n->n)) {
        return nullptr;
    }
    const std::string_view kind = field(fields, "k");
    if (kind == "m") {
        routing::message m;
        m.conversation_id = field(fields, "c");
        m.sender_id = field(fields, "s");
        if (!parse_int(field(fields, "q"), m.seq) ||
            !parse_int(field(fields, "t"), m.server_time_ms) || m.conversation_id.empty()) {
            return nullptr;
        }
        m.client_msg_id = field(fields, "i");
        m.body = field(fields, "b");
        n->what = std::move(m);
    } else if (kind == "c") {
        const std::string_view cid = field(fields, "c");
        // The conversation's own fields follow k, n and c.
        const auto meta = parse_conversation_meta(
            fields.size() > 6 ? fields.subspan(6) : std::span<const std::string_view>{});
        if (cid.empty() || !meta.exists()) {
            return nullptr;
        }
        n->what = view_of(cid, meta, user_id);
    } else {
        return nullptr;
    }
    return n;
}

std::shared_ptr<const routing::notice> decode_notice(std::string_view user_id,
                                                     std::string_view payload) {
    if (payload.empty()) {
        return nullptr;
    }
    std::vector<std::string_view> f;
    if (!split_fields(payload.substr(1), f)) {
        return nullptr;
    }
    switch (payload[0]) {
        case 'E':
            if (f.size() < 3) {
                return nullptr;
            }
            return event_notice(user_id, f[0], std::span<const std::string_view>(f).subspan(1));
        case 'R': {
            routing::receipt r;
            if (f.size() != 4 || !parse_int(f[3], r.up_to_seq)) {
                return nullptr;
            }
            r.conversation_id = f[0];
            r.user_id = f[1];
            r.kind = f[2] == "r" ? routing::receipt_kind::read : routing::receipt_kind::delivered;
            return live_notice(std::move(r));
        }
        case 'P': {
            routing::presence p;
            if (f.size() != 4 || !parse_int(f[2], p.last_seen_ms)) {
                return nullptr;
            }
            p.user_id = f[0];
            p.state = parse_presence(f[1]);
            p.connection_lost = f[3] == "1";
            return live_notice(std::move(p));
        }
        case 'T': {
            if (f.size() != 3) {
                return nullptr;
            }
            return live_notice(routing::typing{std::string(f[0]), std::string(f[1]), f[2] == "1"});
        }
        default:
            return nullptr;
    }
}

std::string typing_payload(std::string_view conversation_id, std::string_view from, bool typing) {
    std::string out("T");
    append_field(out, conversation_id);
    append_field(out, from);
    append_field(out, typing ? "1" : "0");
    return out;
}

}  // namespace confide::store
