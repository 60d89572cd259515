#pragma once
// Minting of HS* tokens, for the development CLI (`confide-cli token`), the load generator and
// tests. Production tokens come from the platform; the server itself never mints.

#include "auth/identity.hpp"
#include "auth/key_set.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confide::auth {

/// The claims of a minted token. Times are seconds since the Unix epoch (JWT NumericDate).
struct token_claims {
    std::string sub;                  ///< the user id
    role user_role = role::client;    ///< written as `role`
    std::int64_t exp = 0;             ///< expiry
    std::int64_t iat = 0;             ///< issued at
    std::optional<std::int64_t> nbf;  ///< not before, written when set
    std::string iss;                  ///< issuer, written when non-empty
    std::string aud;                  ///< audience (a single string), written when non-empty
};

/// A compact JWS signed with the HMAC key `k` (HS256/HS384/HS512, the key's own algorithm), with
/// header {"alg","typ":"JWT","kid"}. The claims are not validated: tests mint tokens the verifier
/// must refuse. Throws std::invalid_argument when `k` is not an HMAC key.
/// Thread safety: safe.
std::string mint_token(const key_set::key& k, const token_claims& claims);

/// Same, from a kid (omitted from the header when empty), a raw secret and an algorithm name
/// ("HS256", "HS384" or "HS512"). Throws std::invalid_argument for another algorithm or a secret
/// shorter than the hash output (32, 48, 64 bytes). Thread safety: safe.
std::string mint_token(std::string_view kid, std::string_view secret, std::string_view alg,
                       const token_claims& claims);

}  // namespace confide::auth
