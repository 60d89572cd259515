#pragma once
// Small text rules shared by several layers, written once.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace confide {

/// The longest id the protocol accepts (protocol::limits::max_id_bytes defaults to it).
inline constexpr std::size_t max_id_bytes = 128;

/// Whether `c` may appear in an id (user, device, conversation, client message, key id):
/// A-Z a-z 0-9 . _ : -. Such an id is safe in a Redis key, a log line and a URL.
/// Thread safety: pure.
constexpr bool is_id_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

/// Whether `s` is an id: 1..`max_bytes` characters, each of them is_id_char().
/// Thread safety: pure.
constexpr bool is_valid_id(std::string_view s, std::size_t max_bytes = max_id_bytes) noexcept {
    return !s.empty() && s.size() <= max_bytes && std::all_of(s.begin(), s.end(), is_id_char);
}

/// Whether `a` and `b` are equal ignoring ASCII case (whatever the locale).
/// Thread safety: pure.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    constexpr auto lower = [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

/// `s` without the blanks (spaces and tabs) at either end.
/// Thread safety: pure.
constexpr std::string_view trim_blanks(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace confide
