#pragma once
// Rotating the key-encryption keys (docs/privacy.md, "Key rotation"): what `confide-admin keys
// rotate` does. Every conversation's data key is rewrapped under the key file's current KEK; the
// data keys themselves, and so every sealed record, stay as they are.

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "crypto/key_ring.hpp"
#include "store/db.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace confide::store {

/// What a rotation found and did.
struct rotation_report {
    std::uint64_t conversations = 0;  ///< conversation hashes seen
    std::uint64_t rewrapped = 0;      ///< data keys now wrapped under the current KEK
    std::uint64_t current = 0;        ///< already under it (e.g. created during the rotation)
    std::uint64_t without_key = 0;    ///< no data key (erased, or plaintext storage)
    std::uint64_t changed = 0;        ///< changed between the read and the write (erased): left
    /// Conversations whose data key could not be rewrapped (a KEK missing from the key file,
    /// or a wrapped key that fails its check), with the reason: still under an old KEK.
    std::vector<std::string> failures;
};

/// Rewraps every conversation's data key under `ring`'s current KEK: SCAN in batches of
/// `batch` keys, each data key unwrapped with the KEK it names and written back with a
/// compare-and-set (store/scripts/rewrap.lua), so that a conversation created meanwhile (wrapped
/// under the current KEK already) or erased meanwhile (its key destroyed) is never overwritten.
/// Safe while servers run and send. On a Redis Cluster it walks every master (each conversation's
/// rewrap is in its own slot). Fails with unavailable when Redis cannot be asked.
awaitable<outcome<rotation_report>> rotate_data_keys(db conn, const crypto::kek_ring& ring,
                                                     std::uint32_t batch = 500);

/// After a rotation that left no data key under another KEK: removes every KEK but `ring`'s
/// current one from `cf:keys` (store::check_keys), so that a server started with a key file
/// holding only old keys is refused at start instead of refusing every record. Returns the ids
/// removed. A node started later with the old key still in its file records it again
/// (harmlessly). Fails with unavailable when Redis cannot be asked.
awaitable<outcome<std::vector<std::string>>> forget_other_keys(db conn,
                                                               const crypto::kek_ring& ring);

}  // namespace confide::store
