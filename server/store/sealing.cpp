#include "store/sealing.hpp"

#include "crypto/record.hpp"

namespace confide::store {
namespace {

// Bounds the cache of open data keys; when full it starts over (a key is read and unwrapped
// again for 1 us and one HGET).
constexpr std::size_t max_cached_keys = 200'000;

// The id of every conversation's data key: one key per conversation for its whole life (an
// erasure destroys it; a rotation rewraps it, it is never replaced).
constexpr std::string_view data_key_id = "1";

// Plaintext storage's fingerprint key: public on purpose. It only keeps one code path; the
// bodies it fingerprints are stored in the clear next to it.
crypto::secret_key public_fingerprint_key() {
    return *crypto::secret_key::from_bytes("confide plaintext storage, v1...");
}

}  // namespace

sealer::sealer(std::optional<crypto::kek_ring> ring)
    : ring_(std::move(ring)),
      fingerprinter_(std::make_unique<crypto::fingerprinter>(ring_ ? ring_->fingerprint_key()
                                                                   : public_fingerprint_key())) {}

std::string sealer::fingerprint(std::initializer_list<std::string_view> parts) const {
    auto fp = (*fingerprinter_)(parts);
    // Only without memory: a fingerprint nobody can match refuses the retry, it never merges two
    // messages.
    return fp ? std::move(*fp) : std::string("unavailable");
}

crypto::result<sealer::new_key> sealer::create_key(std::string_view conversation_id) {
    if (!ring_) {
        return new_key{};
    }
    auto key = crypto::generate_data_key(data_key_id);
    if (!key) {
        return key.error();
    }
    auto wrapped = crypto::wrap_data_key(*ring_, *key, conversation_id);
    if (!wrapped) {
        return wrapped.error();
    }
    auto shared = std::make_shared<const crypto::data_key>(std::move(*key));
    std::lock_guard lock(mutex_);
    if (keys_.size() >= max_cached_keys) {
        keys_.clear();
    }
    keys_.insert_or_assign(std::string(conversation_id), shared);
    return new_key{std::move(shared), std::move(*wrapped)};
}

std::shared_ptr<const crypto::data_key> sealer::find(std::string_view conversation_id) const {
    if (!ring_) {
        return nullptr;
    }
    std::lock_guard lock(mutex_);
    const auto it = keys_.find(std::string(conversation_id));
    return it == keys_.end() ? nullptr : it->second;
}

crypto::result<std::shared_ptr<const crypto::data_key>> sealer::open_key(
    std::string_view conversation_id, std::string_view wrapped) {
    if (!ring_) {
        return std::shared_ptr<const crypto::data_key>();
    }
    if (auto cached = find(conversation_id)) {
        return cached;
    }
    auto key = crypto::unwrap_data_key(*ring_, wrapped, conversation_id);
    if (!key) {
        return key.error();
    }
    auto shared = std::make_shared<const crypto::data_key>(std::move(*key));
    std::lock_guard lock(mutex_);
    if (keys_.size() >= max_cached_keys) {
        keys_.clear();
    }
    keys_.insert_or_assign(std::string(conversation_id), shared);
    return shared;
}

crypto::result<std::string> sealer::seal(const crypto::data_key* key, const sealed_place& place,
                                         std::string_view text) const {
    if (!ring_) {
        return std::string(text);
    }
    if (key == nullptr) {
        return crypto::errc::unknown_key;
    }
    return crypto::seal_record(*key, {place.conversation_id, place.seq, place.sender_or_field},
                               text);
}

crypto::result<std::string> sealer::open(const crypto::data_key* key, const sealed_place& place,
                                         std::string_view stored) const {
    if (!ring_) {
        return std::string(stored);
    }
    if (key == nullptr) {
        return crypto::errc::unknown_key;
    }
    return crypto::open_record(*key, {place.conversation_id, place.seq, place.sender_or_field},
                               stored);
}

bool open_conversation_fields(const sealer& s, const crypto::data_key* key,
                              std::string_view conversation_id, std::span<std::string_view> flat,
                              std::array<std::string, 2>& opened) {
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
        for (std::size_t f = 0; f < sealed_conversation_fields.size(); ++f) {
            if (flat[i] != sealed_conversation_fields[f] || flat[i + 1].empty()) {
                continue;
            }
            auto text = s.open(key, {conversation_id, 0, flat[i]}, flat[i + 1]);
            if (!text) {
                return false;
            }
            opened[f] = std::move(*text);
            flat[i + 1] = opened[f];
        }
    }
    return true;
}

}  // namespace confide::store
