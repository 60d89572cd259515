#include "store/fields.hpp"

namespace confide::store {

v1::PresenceState parse_presence(std::string_view s) noexcept {
    if (s == "online") {
        return v1::ONLINE;
    }
    if (s == "away") {
        return v1::AWAY;
    }
    return v1::OFFLINE;
}

v1::ConversationState parse_state(std::string_view s) noexcept {
    if (s == "inquiry") {
        return v1::INQUIRY;
    }
    if (s == "active") {
        return v1::ACTIVE;
    }
    if (s == "declined") {
        return v1::DECLINED;
    }
    if (s == "closed") {
        return v1::CLOSED;
    }
    return v1::CONVERSATION_STATE_UNSPECIFIED;
}

}  // namespace confide::store
