#include "store/notice_codec.hpp"

#include "protocol/codec.hpp"
#include "store/conversation_view.hpp"
#include "store/fields.hpp"

namespace confide::store {
namespace {

namespace v1 = ::confide::v1;

std::string_view field(std::span<const std::string_view> flat, std::string_view name) {
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
        if (flat[i] == name) {
            return flat[i + 1];
        }
    }
    return {};
}

std::shared_ptr<const routing::notice> finish(routing::notice n, const v1::Frame& frame) {
    n.frame = protocol::encode(frame);
    return std::make_shared<const routing::notice>(std::move(n));
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
    routing::notice n;
    n.type = routing::notice::kind::event;
    n.cursor = id;
    if (!parse_int(field(fields, "n"), n.n)) {
        return nullptr;
    }
    v1::Frame frame;
    auto* ev = frame.mutable_event();
    ev->set_cursor(n.cursor);
    const std::string_view kind = field(fields, "k");
    if (kind == "m") {
        auto* m = ev->mutable_message();
        n.conversation_id = field(fields, "c");
        n.sender_id = field(fields, "s");
        std::int64_t ts = 0;
        if (!parse_int(field(fields, "q"), n.seq) || !parse_int(field(fields, "t"), ts) ||
            n.conversation_id.empty()) {
            return nullptr;
        }
        m->set_conversation_id(n.conversation_id);
        m->set_seq(n.seq);
        m->set_sender_id(n.sender_id);
        m->set_client_msg_id(std::string(field(fields, "i")));
        m->set_body(std::string(field(fields, "b")));
        m->set_server_time_ms(ts);
    } else if (kind == "c") {
        const std::string_view cid = field(fields, "c");
        // The conversation's own fields follow k, n and c.
        const auto meta = parse_conversation_meta(
            fields.size() > 6 ? fields.subspan(6) : std::span<const std::string_view>{});
        if (cid.empty() || !meta.exists()) {
            return nullptr;
        }
        fill_conversation(*ev->mutable_conversation(), cid, meta, user_id);
    } else {
        return nullptr;
    }
    return finish(std::move(n), frame);
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
    v1::Frame frame;
    routing::notice n;
    switch (payload[0]) {
        case 'E':
            if (f.size() < 3) {
                return nullptr;
            }
            return event_notice(user_id, f[0], std::span<const std::string_view>(f).subspan(1));
        case 'R': {
            std::uint64_t seq = 0;
            if (f.size() != 4 || !parse_int(f[3], seq)) {
                return nullptr;
            }
            n.type = routing::notice::kind::receipt;
            auto* r = frame.mutable_receipt();
            r->set_conversation_id(std::string(f[0]));
            r->set_user_id(std::string(f[1]));
            r->set_kind(f[2] == "r" ? v1::READ : v1::DELIVERED);
            r->set_up_to_seq(seq);
            return finish(std::move(n), frame);
        }
        case 'P': {
            std::int64_t last_seen = 0;
            if (f.size() != 4 || !parse_int(f[2], last_seen)) {
                return nullptr;
            }
            n.type = routing::notice::kind::presence;
            auto* p = frame.mutable_presence()->mutable_presence();
            p->set_user_id(std::string(f[0]));
            p->set_state(parse_presence(f[1]));
            p->set_last_seen_ms(last_seen);
            p->set_connection_lost(f[3] == "1");
            return finish(std::move(n), frame);
        }
        case 'T': {
            if (f.size() != 3) {
                return nullptr;
            }
            n.type = routing::notice::kind::typing;
            auto* t = frame.mutable_typing_push();
            t->set_conversation_id(std::string(f[0]));
            t->set_user_id(std::string(f[1]));
            t->set_typing(f[2] == "1");
            return finish(std::move(n), frame);
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
