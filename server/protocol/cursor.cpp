#include "protocol/cursor.hpp"

#include <charconv>

namespace confide::protocol {

std::optional<cursor_position> parse_cursor(std::string_view s) noexcept {
    const auto dash = s.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size() || dash > 20 ||
        s.size() - dash - 1 > 20) {
        return std::nullopt;
    }
    cursor_position c;
    auto [p1, e1] = std::from_chars(s.data(), s.data() + dash, c.ms);
    auto [p2, e2] = std::from_chars(s.data() + dash + 1, s.data() + s.size(), c.seq);
    if (e1 != std::errc{} || p1 != s.data() + dash || e2 != std::errc{} ||
        p2 != s.data() + s.size()) {
        return std::nullopt;
    }
    return c;
}

}  // namespace confide::protocol
