#pragma once
// The dedupe fingerprint of a request with a client_msg_id: an HMAC with a key only the servers
// hold, so that a stored fingerprint says nothing about a short message body (a plain hash of
// "yes" or "I want to die" is found by hashing guesses).

#include "crypto/errc.hpp"
#include "crypto/secret_key.hpp"

#include <openssl/types.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace confide::crypto {

/// HMAC-SHA-256 under the fingerprint key (kek_ring::fingerprint_key()).
///
/// Thread safety: const; safe concurrently (each call works on its own copy of a context keyed
/// once at construction).
class fingerprinter {
public:
    /// Throws std::runtime_error if OpenSSL cannot set up HMAC-SHA-256 (start-up only).
    explicit fingerprinter(const secret_key& key);
    ~fingerprinter();
    fingerprinter(const fingerprinter&) = delete;
    fingerprinter& operator=(const fingerprinter&) = delete;

    /// HMAC-SHA-256 of `parts`, each preceded by its length (8 bytes, big-endian) so that no two
    /// lists collide, as 32 lowercase hex digits: its first 128 bits (RFC 2104 §5 allows the
    /// truncation; 128 bits is plenty to tell a retry from another message). errc::openssl.
    result<std::string> operator()(std::initializer_list<std::string_view> parts) const;

private:
    // An HMAC context holding the key's inner and outer pads. Each thread works on its own copy
    // of it (EVP_MAC_CTX_dup only reads its source: HMAC_CTX_copy, EVP_MD_CTX_copy_ex, the
    // digest's reference count is atomic), made at the thread's first call and re-initialised
    // from its own pads for every later one (EVP_MAC_init without a key): cheaper than a copy per
    // call, which allocates and copies both digest states.
    EVP_MAC_CTX* keyed_;
    // Names this fingerprinter in a thread's copies (never reused, unlike an address).
    std::uint64_t serial_;
};

}  // namespace confide::crypto
