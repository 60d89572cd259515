#pragma once
// Encryption at rest as the store uses it (docs/privacy.md): what a person wrote is sealed
// (server/crypto) before it reaches Redis, under its conversation's data key, with the record's
// identity as associated data; the data keys are stored only wrapped by a key-encryption key.
// Without a key ring (--allow-plaintext-storage, development only) the same calls store text as
// it is, so there is one code path for both.

#include "crypto/data_key.hpp"
#include "crypto/fingerprint.hpp"
#include "crypto/key_ring.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace confide::store {

/// Which stored text a sealed value is: a message (its seq, its sender) or a field of the
/// conversation (seq 0, which no message has, and the field's name in the sender's place), so
/// that no ciphertext opens in another place.
struct sealed_place {
    std::string_view conversation_id;
    std::uint64_t seq = 0;
    std::string_view sender_or_field;
};

/// The node's keys and its cache of open data keys, shared by every shard.
///
/// Thread safety: safe (the cache is under a mutex; the ring and the fingerprinter are const).
class sealer {
public:
    /// Seals with `ring`'s keys, or, without one, stores text as it is (plaintext storage).
    explicit sealer(std::optional<crypto::kek_ring> ring);

    /// Whether text is sealed (a key ring was given).
    bool seals() const noexcept { return ring_.has_value(); }

    /// The key ring; precondition: seals().
    const crypto::kek_ring& ring() const noexcept { return *ring_; }

    /// The dedupe fingerprint of `parts`: HMAC-SHA-256 under the key file's fingerprint key (in
    /// plaintext storage under a fixed, public key: the text is in the clear anyway).
    std::string fingerprint(std::initializer_list<std::string_view> parts) const;

    /// A fresh data key for a new conversation and its wrapped form (to store with it); both
    /// empty in plaintext storage. The key is cached.
    struct new_key {
        std::shared_ptr<const crypto::data_key> key;
        std::string wrapped;
    };
    crypto::result<new_key> create_key(std::string_view conversation_id);

    /// The cached data key of a conversation, or null (also in plaintext storage).
    std::shared_ptr<const crypto::data_key> find(std::string_view conversation_id) const;

    /// The data key of a conversation from its stored wrapped form (unwrapped once, then
    /// cached). errc::unknown_key (its KEK is not in the key file), refused, malformed.
    crypto::result<std::shared_ptr<const crypto::data_key>> open_key(
        std::string_view conversation_id, std::string_view wrapped);

    /// `text` sealed for `place` under `key` (as it is in plaintext storage).
    crypto::result<std::string> seal(const crypto::data_key* key, const sealed_place& place,
                                     std::string_view text) const;

    /// The text of `stored` if it was sealed for `place` with `key` (as it is in plaintext
    /// storage). Never returns text that failed its check.
    crypto::result<std::string> open(const crypto::data_key* key, const sealed_place& place,
                                     std::string_view stored) const;

private:
    std::optional<crypto::kek_ring> ring_;
    std::unique_ptr<crypto::fingerprinter> fingerprinter_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<const crypto::data_key>> keys_;
};

/// The fields of a conversation hash that hold what a person wrote, sealed (with the field's
/// name as the place's `sender_or_field`): the inquiry's topic and preferred times. An empty
/// value (none given) is stored as it is.
inline constexpr std::array<std::string_view, 2> sealed_conversation_fields{"topic", "pref"};

/// Opens the sealed fields of a conversation's flat field/value list in place (their values
/// then point into `opened`). False when one fails its check. Thread safety: as sealer::open.
bool open_conversation_fields(const sealer& s, const crypto::data_key* key,
                              std::string_view conversation_id, std::span<std::string_view> flat,
                              std::array<std::string, 2>& opened);

}  // namespace confide::store
