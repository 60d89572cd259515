#include "protocol/validate.hpp"

#include "common/text.hpp"
#include "protocol/cursor.hpp"
#include "protocol/utf8.hpp"

#include <string>

namespace confide::protocol {
namespace {

outcome<void> invalid(std::string message) {
    return fail(errc::invalid_argument, std::move(message));
}

outcome<void> check_id(std::string_view value, std::string_view field, const limits& l) {
    if (value.empty()) {
        return invalid(std::string(field) + " is required");
    }
    if (!is_valid_id(value, l.max_id_bytes)) {
        return invalid(std::string(field) + " must be 1.." + std::to_string(l.max_id_bytes) +
                       " characters of A-Z a-z 0-9 . _ : -");
    }
    return {};
}

outcome<void> check_body(std::string_view body, const limits& l) {
    if (body.empty()) {
        return invalid("body is required");
    }
    if (body.size() > l.max_body_bytes) {
        return fail(errc::too_large,
                    "body is over the limit of " + std::to_string(l.max_body_bytes) + " bytes");
    }
    if (!is_valid_utf8(body)) {
        return invalid("body must be valid UTF-8");
    }
    return {};
}

outcome<void> check_page(std::uint32_t limit, const limits& l) {
    if (limit > l.max_page) {
        return invalid("limit must be at most " + std::to_string(l.max_page));
    }
    return {};
}

}  // namespace

bool is_valid_cursor(std::string_view cursor, const limits& l) noexcept {
    return cursor.size() <= l.max_cursor_bytes && parse_cursor(cursor).has_value();
}

outcome<void> validate_request(const v1::Frame& frame, const limits& l) {
    using K = v1::Frame::KindCase;
    if (frame.kind_case() == K::KIND_NOT_SET) {
        return invalid("the frame carries no request");
    }
    if (frame.kind_case() >= K::kError) {
        return invalid("clients may only send requests");
    }
    if (frame.request_id() == 0 || frame.request_id() > 0x7fffffffffffffffULL) {
        return invalid("request_id must be between 1 and 2^63-1");
    }
    switch (frame.kind_case()) {
        case K::kAuthenticate: {
            const auto& r = frame.authenticate();
            if (r.token().size() > l.max_token_bytes) {
                return fail(errc::too_large, "token is too long");
            }
            return check_id(r.device_id(), "device_id", l);
        }
        case K::kPing:
        case K::kSignOut:
            return {};
        case K::kSync: {
            const auto& c = frame.sync().after_cursor();
            if (!c.empty() && !is_valid_cursor(c, l)) {
                return invalid("after_cursor is not a cursor this server handed out");
            }
            return {};
        }
        case K::kAck:
            if (!is_valid_cursor(frame.ack().cursor(), l)) {
                return invalid("cursor is not a cursor this server handed out");
            }
            return {};
        case K::kStartInquiry: {
            const auto& r = frame.start_inquiry();
            if (auto ok = check_id(r.specialist_id(), "specialist_id", l); !ok) {
                return ok;
            }
            if (auto ok = check_id(r.client_msg_id(), "client_msg_id", l); !ok) {
                return ok;
            }
            return check_body(r.body(), l);
        }
        case K::kSendMessage: {
            const auto& r = frame.send_message();
            if (auto ok = check_id(r.conversation_id(), "conversation_id", l); !ok) {
                return ok;
            }
            if (auto ok = check_id(r.client_msg_id(), "client_msg_id", l); !ok) {
                return ok;
            }
            return check_body(r.body(), l);
        }
        case K::kMarkRead: {
            const auto& r = frame.mark_read();
            if (auto ok = check_id(r.conversation_id(), "conversation_id", l); !ok) {
                return ok;
            }
            if (r.up_to_seq() == 0) {
                return invalid("up_to_seq must be at least 1");
            }
            return {};
        }
        case K::kTyping:
            return check_id(frame.typing().conversation_id(), "conversation_id", l);
        case K::kSetPresence: {
            const auto s = frame.set_presence().state();
            if (s != v1::ONLINE && s != v1::AWAY) {
                return invalid("state must be ONLINE or AWAY");
            }
            return {};
        }
        case K::kListConversations:
            return check_page(frame.list_conversations().limit(), l);
        case K::kGetHistory: {
            const auto& r = frame.get_history();
            if (auto ok = check_id(r.conversation_id(), "conversation_id", l); !ok) {
                return ok;
            }
            return check_page(r.limit(), l);
        }
        case K::kUpdateConversation: {
            const auto& r = frame.update_conversation();
            if (auto ok = check_id(r.conversation_id(), "conversation_id", l); !ok) {
                return ok;
            }
            const auto a = r.action();
            if (a != v1::ACCEPT && a != v1::DECLINE && a != v1::CLOSE) {
                return invalid("action must be ACCEPT, DECLINE or CLOSE");
            }
            return {};
        }
        default:
            return invalid("unknown request kind");
    }
}

}  // namespace confide::protocol
