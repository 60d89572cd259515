#pragma once
// Base64 as JWS and our key configuration use it. Decoding is strict on purpose: one text per
// byte string, so nothing else can be smuggled through a token or a configuration value.

#include <optional>
#include <string>
#include <string_view>

namespace confide::auth {

/// `bytes` in base64url without padding (RFC 7515 §2). Thread safety: safe.
std::string base64url_encode(std::string_view bytes);

/// The bytes of a base64url text without padding (RFC 7515 §2), or nullopt when `text` has a
/// character outside [A-Za-z0-9_-] (padding and whitespace included), an impossible length, or
/// non-zero unused bits in its last character. Thread safety: safe.
std::optional<std::string> base64url_decode(std::string_view text);

/// The bytes of a standard base64 text (RFC 4648 §4), padding optional but correct when present,
/// or nullopt under the same strict rules as base64url_decode. Thread safety: safe.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace confide::auth
