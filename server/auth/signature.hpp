#pragma once
// The JWS signature primitives, all OpenSSL 3 EVP: HMAC for HS*, EVP_DigestVerify for RS256
// (RSASSA-PKCS1-v1_5 with SHA-256) and ES256 (ECDSA P-256 with SHA-256).

#include "auth/algorithm.hpp"
#include "auth/key_set.hpp"

#include <string>
#include <string_view>

namespace confide::auth {

/// The HMAC of `data` under `secret` for `alg`, or an empty string if OpenSSL fails (which only
/// an exhausted memory or a broken installation does). Precondition: is_hmac(alg).
/// Thread safety: safe.
std::string hmac_sign(algorithm alg, std::string_view secret, std::string_view data);

/// Whether `signature` (the decoded bytes of a JWS signature: the MAC, the RSA signature, or the
/// raw 64-byte R||S of ES256) is valid for `data` under `k` with k.alg(). Comparisons of MACs are
/// constant-time. Leaves no entry in OpenSSL's error queue. Thread safety: safe.
bool verify_signature(const key_set::key& k, std::string_view data,
                      std::string_view signature) noexcept;

}  // namespace confide::auth
