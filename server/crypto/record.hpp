#pragma once
// Sealed records: what is stored instead of a message body (or any other text a person wrote).
// AES-256-GCM under the conversation's data key, with the record's identity as associated data,
// so that a ciphertext copied to another record (another conversation, seq or sender) is refused.

#include "crypto/data_key.hpp"
#include "crypto/errc.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace confide::crypto {

/// The identity of a record: bound to its ciphertext as associated data.
struct record_context {
    std::string_view conversation_id;
    std::uint64_t seq = 0;
    std::string_view sender_id;
};

/// Bytes a sealed record adds to its plaintext: 30 plus the data key id's length.
constexpr std::size_t record_overhead(std::size_t data_key_id_bytes) noexcept {
    return 1 + 1 + data_key_id_bytes + 12 + 16;
}

/// `plaintext` sealed under `key` for the record `ctx`, in format v1:
///
///     0x01 | data key id length | data key id | nonce (12) | ciphertext | tag (16)
///
/// with "confide.record.v1" || the header above (version, id length, id) || conversation id's
/// length (4 bytes, big-endian) || conversation id || seq (8 bytes, big-endian) || sender id's
/// length (4) || sender id as associated data. Every byte of the record and of its identity is
/// thus authenticated: a change to any is refused by open_record().
/// errc::bad_id, errc::too_large, errc::openssl. Thread safety: safe.
result<std::string> seal_record(const data_key& key, const record_context& ctx,
                                std::string_view plaintext);

/// The plaintext of `record`, if it is a record of `ctx` sealed with `key`. errc::malformed,
/// errc::unsupported_version, errc::wrong_key (it names another data key id), errc::refused
/// (altered, another record's, or another key under the same id). Nothing of an unauthenticated
/// plaintext is returned. Thread safety: safe.
result<std::string> open_record(const data_key& key, const record_context& ctx,
                                std::string_view record);

/// The id of the data key that sealed `record` (to look it up before open_record()); a view into
/// `record`. errc::malformed, errc::unsupported_version. Thread safety: pure.
result<std::string_view> record_key_id(std::string_view record) noexcept;

}  // namespace confide::crypto
