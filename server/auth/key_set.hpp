#pragma once
// The keys tokens are verified with, parsed from configuration. A key is bound to exactly one
// algorithm: that binding is what keeps an RS256 public key from ever being used as an HMAC secret.

#include "auth/algorithm.hpp"

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace confide::auth {

/// A set of verification keys, each named by a key id (`kid`) unique in the set.
///
/// Key specs, one key per spec: `<kid>:<alg>:<material>`, where
/// - `kid` is 1..128 printable ASCII characters other than `:` and space;
/// - `alg` is HS256, HS384, HS512, RS256 or ES256 (exactly, case-sensitive);
/// - for HS*, `material` is `base64:<standard base64>`, `text:<secret>` or `file:<path>` (the
///   file's bytes, minus one trailing "\n" or "\r\n"); the secret must be at least as long as the
///   hash output (32, 48, 64 bytes), as RFC 7518 §3.2 requires;
/// - for RS256 and ES256, `material` is `file:<path>` of a PEM public key
///   (`-----BEGIN PUBLIC KEY-----`): RSA of at least 2048 bits, or EC on P-256 respectively.
///
/// Copying a key_set is cheap: keys are immutable and shared.
/// Thread safety: const members are safe concurrently; a mutation must not overlap anything else.
class key_set {
public:
    /// One verification key. Immutable; owned through the key_set(s) holding it.
    class key {
    public:
        ~key();
        key(const key&) = delete;
        key& operator=(const key&) = delete;

        /// The key id tokens name this key by.
        const std::string& kid() const noexcept { return kid_; }

        /// The one algorithm this key may be used with.
        algorithm alg() const noexcept { return alg_; }

        /// The HMAC secret (HS* keys), also what dev tokens (clients/dev_token) are signed with;
        /// empty for RS256/ES256. Never log it.
        std::string_view secret() const noexcept { return secret_; }

        /// The public key (RS256/ES256), owned by this key; null for HS* keys. Thread safety:
        /// OpenSSL 3 allows concurrent verifications with one EVP_PKEY.
        EVP_PKEY* public_key() const noexcept { return public_key_; }

    private:
        friend class key_set;
        key(std::string kid, algorithm alg, std::string secret, EVP_PKEY* public_key) noexcept;

        std::string kid_;
        algorithm alg_;
        std::string secret_;
        EVP_PKEY* public_key_;
    };

    key_set() = default;

    /// A set holding the key of every spec, in order. Throws std::invalid_argument on the first
    /// invalid spec (see add()).
    static key_set from_specs(const std::vector<std::string>& specs);

    /// Parses one `<kid>:<alg>:<material>` spec (see the class comment) and adds its key, reading
    /// any `file:` material now. Throws std::invalid_argument, with a message naming the kid and
    /// the problem but never the secret, when the spec is malformed, the algorithm unknown, the
    /// kid already present, the file unreadable, the secret too short, the PEM not a public key,
    /// the RSA key under 2048 bits or the EC key not on P-256. The set is unchanged on throw.
    void add(std::string_view spec);

    /// Adds an HMAC key for `alg` (an HS* algorithm) with the raw `secret`. Throws
    /// std::invalid_argument like add().
    void add_hmac(std::string_view kid, algorithm alg, std::string_view secret);

    /// Adds an RS256 or ES256 key from a PEM public key. Throws std::invalid_argument like add().
    void add_public_key(std::string_view kid, algorithm alg, std::string_view pem);

    /// Removes the key named `kid`; whether there was one.
    bool remove(std::string_view kid) noexcept;

    /// The key named `kid`, or null. The pointer lives as long as this set keeps the key.
    const key* find(std::string_view kid) const noexcept;

    /// The only key when the set holds exactly one, else null: what a token without a kid uses.
    const key* sole_key() const noexcept;

    /// Every key, in the order added (for start-up logs: kid() and alg(), never secret()).
    std::vector<const key*> keys() const;

    std::size_t size() const noexcept { return keys_.size(); }
    bool empty() const noexcept { return keys_.empty(); }

private:
    void insert(std::shared_ptr<const key> k);

    // A handful of keys at most: a vector searched linearly beats a map and keeps config order.
    std::vector<std::shared_ptr<const key>> keys_;
};

}  // namespace confide::auth
