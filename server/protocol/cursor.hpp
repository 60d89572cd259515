#pragma once
// Cursors: positions in a user's event stream, as the server hands them out. They are Redis
// stream ids "<ms>-<seq>", ordered as Redis orders them; clients treat them as opaque.

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

namespace confide::protocol {

struct cursor_position {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;
    // clang-tidy 14 sees a literal 0 in the defaulted comparison (fixed in later versions).
    auto operator<=>(const cursor_position&) const = default;  // NOLINT(modernize-use-nullptr)
};

/// Parses "<ms>-<seq>" (each part at most 20 digits); nullopt if malformed.
std::optional<cursor_position> parse_cursor(std::string_view s) noexcept;

}  // namespace confide::protocol
