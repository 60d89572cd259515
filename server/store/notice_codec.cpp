#include "store/notice_codec.hpp"

#include "store/conversation_view.hpp"
#include "store/fields.hpp"

namespace confide::store {
namespace {

std::shared_ptr<routing::notice> live_notice(routing::notice::payload what) {
    auto n = std::make_shared<routing::notice>();
    n->what = std::move(what);
    return n;
}

// Takes one "<len>:<bytes>" field off the front of `in`.
bool take_field(std::string_view& in, std::string_view& out) {
    const auto colon = in.find(':');
    std::size_t len = 0;
    if (colon == std::string_view::npos || !parse_int(in.substr(0, colon), len) ||
        in.size() - colon - 1 < len) {
        return false;
    }
    out = in.substr(colon + 1, len);
    in.remove_prefix(colon + 1 + len);
    return true;
}

// 'M' + conversation, sender, client_msg_id, time, body, then "<log id> <event id>".
std::shared_ptr<const routing::notice> decode_message(std::string_view in) {
    std::string_view cid, sender, msgid, time, body;
    if (!take_field(in, cid) || !take_field(in, sender) || !take_field(in, msgid) ||
        !take_field(in, time) || !take_field(in, body)) {
        return nullptr;
    }
    const auto space = in.find(' ');
    if (space == std::string_view::npos) {
        return nullptr;
    }
    routing::message m;
    const auto seq = number_of_id(in.substr(0, space));
    if (!seq || !parse_int(time, m.server_time_ms) || cid.empty()) {
        return nullptr;
    }
    m.conversation_id = cid;
    m.seq = *seq;
    m.sender_id = sender;
    m.client_msg_id = msgid;
    m.body = body;
    return message_notice(in.substr(space + 1), std::move(m));
}

}  // namespace

bool split_fields(std::string_view in, std::vector<std::string_view>& out) {
    out.clear();
    std::string_view f;
    while (!in.empty()) {
        if (!take_field(in, f)) {
            return false;
        }
        out.push_back(f);
    }
    return true;
}

void append_field(std::string& out, std::string_view value) {
    out.append(std::to_string(value.size())).push_back(':');
    out.append(value);
}

std::string message_notice_prefix(std::string_view conversation_id, std::string_view sender,
                                  std::string_view client_msg_id, std::string_view time_ms,
                                  std::string_view body) {
    std::string out;
    out.reserve(40 + conversation_id.size() + sender.size() + client_msg_id.size() +
                time_ms.size() + body.size());
    out.push_back('M');
    append_field(out, conversation_id);
    append_field(out, sender);
    append_field(out, client_msg_id);
    append_field(out, time_ms);
    append_field(out, body);
    return out;
}

std::shared_ptr<const routing::notice> message_notice(std::string_view id, routing::message m) {
    const auto n = number_of_id(id);
    if (!n || *n == 0) {
        return nullptr;
    }
    auto out = std::make_shared<routing::notice>();
    out->n = *n;
    out->cursor = id;
    out->what = std::move(m);
    return out;
}

std::shared_ptr<const routing::notice> conversation_notice(
    std::string_view user_id, std::string_view id, std::span<const std::string_view> fields) {
    const auto n = number_of_id(id);
    // k, c, c, <id>, then the conversation's own fields.
    if (!n || *n == 0 || fields.size() < 4 || fields[0] != "k" || fields[1] != "c" ||
        fields[2] != "c" || fields[3].empty()) {
        return nullptr;
    }
    const auto meta = parse_conversation_meta(fields.subspan(4));
    if (!meta.exists()) {
        return nullptr;
    }
    auto out = std::make_shared<routing::notice>();
    out->n = *n;
    out->cursor = id;
    out->what = view_of(fields[3], meta, user_id);
    return out;
}

std::shared_ptr<const routing::notice> decode_notice(std::string_view user_id,
                                                     std::string_view payload) {
    if (payload.empty()) {
        return nullptr;
    }
    if (payload[0] == 'M') {
        return decode_message(payload.substr(1));
    }
    std::vector<std::string_view> f;
    if (!split_fields(payload.substr(1), f)) {
        return nullptr;
    }
    switch (payload[0]) {
        case 'E':
            if (f.empty()) {
                return nullptr;
            }
            return conversation_notice(user_id, f[0],
                                       std::span<const std::string_view>(f).subspan(1));
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

std::string delivered_payload(std::string_view conversation_id, std::string_view user_id,
                              std::uint64_t seq) {
    std::string out("R");
    append_field(out, conversation_id);
    append_field(out, user_id);
    append_field(out, "d");
    append_field(out, std::to_string(seq));
    return out;
}

}  // namespace confide::store
