#pragma once

#include <string_view>

namespace confide::protocol {

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace confide::protocol
