#pragma once
// Development tokens: HS256/HS384/HS512 JWTs for confide-cli `token`, the load generator and
// tests. Production tokens come from the platform; the server only verifies (server/auth).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confide::dev_token {

/// The claims of a minted token. Times are seconds since the Unix epoch (JWT NumericDate).
struct claims {
    std::string sub;                  ///< the user id
    std::string role = "client";      ///< "client" or "specialist" (not checked: see mint)
    std::int64_t exp = 0;             ///< expiry
    std::int64_t iat = 0;             ///< issued at
    std::optional<std::int64_t> nbf;  ///< not before, written when set
    std::string iss;                  ///< issuer, written when non-empty
    std::string aud;                  ///< audience (a single string), written when non-empty
};

/// A compact JWS with header {"alg","typ":"JWT","kid"} (kid omitted when empty), signed with
/// the HMAC `secret` under `alg` ("HS256", "HS384" or "HS512"). The claims are not validated:
/// tests mint tokens the server must refuse. Throws std::invalid_argument for another algorithm
/// or a secret shorter than the hash output (32, 48, 64 bytes).
/// Thread safety: safe.
std::string mint(std::string_view kid, std::string_view secret, std::string_view alg,
                 const claims& c);

}  // namespace confide::dev_token
