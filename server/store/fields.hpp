#pragma once
// Reading the values the Lua scripts store: numbers and state names, in one place.

#include "routing/domain.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

/// The number of a stream id of our layout, "0-<n>" (a user's event n, a message's seq);
/// nullopt for anything else.
std::optional<std::uint64_t> number_of_id(std::string_view id) noexcept;

/// "online" / "away"; anything else (absent, "offline") is offline.
routing::presence_state parse_presence(std::string_view s) noexcept;

/// "inquiry", "active", "declined", "closed"; unknown for anything else.
routing::conversation_state parse_state(std::string_view s) noexcept;

/// The name the scripts use for `a`: "accept", "decline", "close".
const char* action_name(routing::conversation_action a) noexcept;

/// The stored name of a decline reason ("" for unspecified), and back (unknown: unspecified).
const char* decline_reason_name(routing::decline_reason r) noexcept;
routing::decline_reason parse_decline_reason(std::string_view s) noexcept;

/// Time ranges as stored: "<start>-<end>,<start>-<end>" (ms); malformed items are skipped.
std::string format_time_ranges(const std::vector<routing::time_range>& ranges);
std::vector<routing::time_range> parse_time_ranges(std::string_view s);

/// A directory entry as the field/value list of its hash (keys::profile), and back. Lists are
/// comma-separated; office hours "<day>:<start>-<end>" in minutes, comma-separated. parse_profile
/// gives nullopt when the hash is empty (not listed).
std::vector<std::string> profile_fields(const routing::specialist_profile& p);
std::optional<routing::specialist_profile> parse_profile(std::string_view id,
                                                         std::span<const std::string_view> flat);

}  // namespace confide::store
