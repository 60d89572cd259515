#pragma once
// Verification of the JWTs the platform issues: compact JWS, a fixed allow-list of algorithms,
// a key chosen by kid and bound to one algorithm, the signature checked before any claim is read.

#include "auth/identity.hpp"
#include "auth/key_set.hpp"
#include "common/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace confide::auth {

/// What token_verifier accepts.
struct verifier_config {
    key_set keys;                        ///< at least one key
    std::string issuer;                  ///< when non-empty, `iss` must equal it
    std::string audience;                ///< when non-empty, `aud` (string or array) must hold it
    std::chrono::seconds leeway{30};     ///< clock skew tolerated on exp, nbf and iat; 0..1 h
    std::size_t max_token_bytes = 8192;  ///< longer tokens are refused unread
};

/// Turns a token into the identity it proves.
///
/// Rules: a compact JWS of exactly three unpadded base64url parts; a header that is a JSON object
/// with `alg` one of HS256, HS384, HS512, RS256, ES256 (so never `none`), `typ` absent or "JWT",
/// no `crit`; the key named by `kid` (or the sole key when the header has none and exactly one is
/// configured) whose algorithm equals `alg`; a valid signature; then a payload that is a JSON
/// object with `sub` of 1..128 [A-Za-z0-9._:-], `role` "client" or "specialist", a numeric `exp`
/// with now <= exp + leeway, an optional numeric `nbf` with now + leeway >= nbf, an optional
/// numeric `iat` with iat <= now + leeway, and `iss` / `aud` as configured. Header parameters
/// that name keys (`jwk`, `jku`, `x5u`, `x5c`) are ignored: keys come from configuration only.
/// Duplicate JSON member names resolve to the last one, as RFC 7515 §4 permits.
///
/// Thread safety: verify() is const and safe to call concurrently.
class token_verifier {
public:
    /// Throws std::invalid_argument when `config` has no key, a leeway outside 0..1 h or a zero
    /// max_token_bytes.
    explicit token_verifier(verifier_config config);

    /// The identity `token` proves at `now_ms` (milliseconds since the Unix epoch), or a failure
    /// with errc::unauthenticated and a message that says why (expired, bad signature, unknown key
    /// id, ...) without quoting the token. Thread safety: safe.
    outcome<identity> verify(std::string_view token, std::int64_t now_ms) const;

    const verifier_config& config() const noexcept { return config_; }

private:
    verifier_config config_;
    std::int64_t leeway_ms_;
};

}  // namespace confide::auth
