#include "store/notice_codec.hpp"

#include "common/log.hpp"
#include "store/conversation_view.hpp"
#include "store/fields.hpp"

#include <array>

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

// A notice of event `id` ("0-<n>", n > 0) with nothing in it yet, or null for another id.
std::shared_ptr<routing::notice> notice_at(std::string_view id) {
    const auto n = number_of_id(id);
    if (!n || *n == 0) {
        return nullptr;
    }
    auto out = std::make_shared<routing::notice>();
    out->n = *n;
    out->cursor = id;
    return out;
}

// The notice of event `id` without its content: the reader takes it from storage.
std::shared_ptr<const routing::notice> position_only(std::string_view id) {
    auto out = notice_at(id);
    if (out) {
        out->content_elsewhere = true;
    }
    return out;
}

// 'M' + conversation, sender, client_msg_id, time, body (sealed), then "<log id> <event id>".
std::shared_ptr<const routing::notice> decode_message(std::string_view in, const sealer& keys) {
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
    const std::string_view event_id = in.substr(space + 1);
    const auto key = keys.find(cid);
    if (keys.seals() && !key) {
        return position_only(event_id);
    }
    auto text = keys.open(key.get(), {cid, *seq, sender}, body);
    if (!text) {
        log::error("conversation={}: the notice of message {} refused: {}", cid, *seq,
                   text.error().message());
        return position_only(event_id);
    }
    m.conversation_id = cid;
    m.seq = *seq;
    m.sender_id = sender;
    m.client_msg_id = msgid;
    m.body = std::move(*text);
    return message_notice(event_id, std::move(m));
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
    auto out = notice_at(id);
    if (out) {
        out->what = std::move(m);
    }
    return out;
}

std::shared_ptr<const routing::notice> conversation_notice(
    std::string_view user_id, std::string_view id, std::span<const std::string_view> fields) {
    // k, c, c, <id>, then the conversation's own fields.
    if (fields.size() < 4 || fields[0] != "k" || fields[1] != "c" || fields[2] != "c" ||
        fields[3].empty()) {
        return nullptr;
    }
    const auto meta = parse_conversation_meta(fields.subspan(4));
    auto out = meta.exists() ? notice_at(id) : nullptr;
    if (out) {
        out->what = view_of(fields[3], meta, user_id);
    }
    return out;
}

std::shared_ptr<const routing::notice> decode_notice(std::string_view user_id,
                                                     std::string_view payload, const sealer& keys) {
    if (payload.empty()) {
        return nullptr;
    }
    if (payload[0] == 'M') {
        return decode_message(payload.substr(1), keys);
    }
    std::vector<std::string_view> f;
    if (!split_fields(payload.substr(1), f)) {
        return nullptr;
    }
    switch (payload[0]) {
        case 'E': {
            // The event id, then k, c, c, <conversation id>, the conversation's fields.
            if (f.size() < 5) {
                return nullptr;
            }
            const auto key = keys.find(f[4]);
            std::array<std::string, 2> opened;
            if ((keys.seals() && !key) ||
                !open_conversation_fields(keys, key.get(), f[4],
                                          std::span<std::string_view>(f).subspan(1), opened)) {
                return position_only(f[0]);
            }
            return conversation_notice(user_id, f[0],
                                       std::span<const std::string_view>(f).subspan(1));
        }
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
        case 'X':
            // The user's account was erased (store/erasure.cpp): their connections close.
            return live_notice(routing::account_erased{});
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
