#include "protocol/validate.hpp"

#include "common/text.hpp"
#include "protocol/cursor.hpp"
#include "protocol/utf8.hpp"

#include <algorithm>
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

// A short one-line text: UTF-8, no control characters.
outcome<void> check_line(std::string_view value, std::string_view field, std::size_t max_bytes) {
    if (value.size() > max_bytes) {
        return fail(errc::too_large, std::string(field) + " is over the limit of " +
                                         std::to_string(max_bytes) + " bytes");
    }
    if (!is_valid_utf8(value)) {
        return invalid(std::string(field) + " must be valid UTF-8");
    }
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            return invalid(std::string(field) + " must be one line without control characters");
        }
    }
    return {};
}

// A directory filter: a specialty or language tag.
outcome<void> check_tag(std::string_view value, std::string_view field) {
    if (value.size() > 40 || !std::all_of(value.begin(), value.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-';
        })) {
        return invalid(std::string(field) + " must be at most 40 characters of A-Z a-z 0-9 -");
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
            if (auto ok = check_line(r.topic(), "topic", l.max_topic_bytes); !ok) {
                return ok;
            }
            if (static_cast<std::size_t>(r.preferred_times_size()) > l.max_preferred_times) {
                return invalid("at most " + std::to_string(l.max_preferred_times) +
                               " preferred_times");
            }
            for (const auto& t : r.preferred_times()) {
                if (t.start_ms() <= 0 || t.end_ms() <= t.start_ms() ||
                    t.end_ms() - t.start_ms() > l.max_preferred_time_ms) {
                    return invalid(
                        "each of preferred_times must start before it ends and last "
                        "at most 24 hours");
                }
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
            if (r.decline_reason() != v1::DECLINE_REASON_UNSPECIFIED) {
                if (a != v1::DECLINE) {
                    return invalid("decline_reason goes with DECLINE only");
                }
                if (!v1::DeclineReason_IsValid(r.decline_reason())) {
                    return invalid("decline_reason is not one of the listed reasons");
                }
            }
            return {};
        }
        case K::kListSpecialists: {
            const auto& r = frame.list_specialists();
            if (auto ok = check_tag(r.specialty(), "specialty"); !ok) {
                return ok;
            }
            if (auto ok = check_tag(r.language(), "language"); !ok) {
                return ok;
            }
            if (r.page_token().size() > 512) {
                return invalid("page_token is not one this server handed out");
            }
            return check_page(r.limit(), l);
        }
        case K::kGetSpecialist:
            return check_id(frame.get_specialist().specialist_id(), "specialist_id", l);
        default:
            return invalid("unknown request kind");
    }
}

}  // namespace confide::protocol
