#include "store/fields.hpp"

namespace confide::store {

using routing::conversation_state;
using routing::presence_state;

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

}  // namespace confide::store
