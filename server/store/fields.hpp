#pragma once
// Reading the values the Lua scripts store: numbers and state names, in one place.

#include "routing/domain.hpp"

#include <charconv>
#include <string_view>

namespace confide::store {

/// Parses a whole decimal number; false (and `out` untouched) if `s` is anything else.
template <class Int>
bool parse_int(std::string_view s, Int& out) noexcept {
    Int v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) {
        return false;
    }
    out = v;
    return true;
}

/// A number stored by our own scripts, 0 when absent or malformed.
template <class Int>
Int int_or_zero(std::string_view s) noexcept {
    Int v{};
    parse_int(s, v);
    return v;
}

/// "online" / "away"; anything else (absent, "offline") is offline.
routing::presence_state parse_presence(std::string_view s) noexcept;

/// "inquiry", "active", "declined", "closed"; unknown for anything else.
routing::conversation_state parse_state(std::string_view s) noexcept;

/// The name the scripts use for `a`: "accept", "decline", "close".
const char* action_name(routing::conversation_action a) noexcept;

}  // namespace confide::store
