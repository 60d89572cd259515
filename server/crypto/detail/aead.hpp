#pragma once
// Internal to confide_crypto: AES-256-GCM through OpenSSL's EVP API, with a fresh random nonce
// per seal. The formats (record.hpp, data_key.hpp) put their headers around what this produces.

#include "crypto/errc.hpp"
#include "crypto/secret_key.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace confide::crypto::detail {

inline constexpr std::size_t nonce_bytes = 12;  // GCM's native IV size: no GHASH of the IV
inline constexpr std::size_t tag_bytes = 16;    // the full tag: never truncated
inline constexpr std::size_t overhead_bytes = nonce_bytes + tag_bytes;

/// Appends nonce || ciphertext || tag to `out`: `plaintext` sealed under `key` with `ad` as
/// associated data and a nonce from RAND_bytes. Random nonces are safe for 2^32 seals per key
/// (NIST SP 800-38D §8.3); a data key seals one conversation's messages, a key-encryption key
/// wraps data keys. `out` is unchanged on failure.
///
/// Thread safety: safe (each thread has its own cipher contexts, one per recently used key).
result<void> seal(const secret_key& key, std::string_view ad, std::string_view plaintext,
                  std::string& out);

/// Appends the plaintext of `sealed` (nonce || ciphertext || tag) to `out` if the tag
/// authenticates it and `ad` under `key`; otherwise errc::refused (errc::malformed when too short
/// to hold a nonce and a tag) and `out` is unchanged: nothing of an unauthenticated plaintext is
/// ever handed out. Thread safety: safe.
result<void> open(const secret_key& key, std::string_view ad, std::string_view sealed,
                  std::string& out);

}  // namespace confide::crypto::detail
