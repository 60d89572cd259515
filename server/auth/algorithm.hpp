#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace confide::auth {

/// The JWS algorithms Confide accepts (RFC 7518 §3.1). Anything else, `none` included, is refused
/// before a key is even looked up.
enum class algorithm { hs256, hs384, hs512, rs256, es256 };

/// The JWS name: "HS256", "HS384", "HS512", "RS256", "ES256".
std::string_view to_string(algorithm a) noexcept;

/// The algorithm whose JWS name is exactly `name` (case-sensitive, as RFC 7515 requires), or
/// nullopt for anything else, including "none".
std::optional<algorithm> parse_algorithm(std::string_view name) noexcept;

/// Whether `a` is one of the HMAC algorithms (a shared secret rather than a public key).
constexpr bool is_hmac(algorithm a) noexcept {
    return a == algorithm::hs256 || a == algorithm::hs384 || a == algorithm::hs512;
}

/// The shortest HMAC secret accepted for `a`: the size of the hash output, which RFC 7518 §3.2
/// makes a MUST (32, 48 and 64 bytes). Precondition: is_hmac(a).
constexpr std::size_t min_hmac_secret_bytes(algorithm a) noexcept {
    switch (a) {
        case algorithm::hs384:
            return 48;
        case algorithm::hs512:
            return 64;
        default:
            return 32;
    }
}

}  // namespace confide::auth
