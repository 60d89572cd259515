#include "crypto/detail/aead.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>

namespace confide::crypto::detail {
namespace {

// Fetched once: an implicit fetch inside every EVP_*Init costs a lookup per message. Never
// freed: OpenSSL's own exit handler may run before static destructors would.
const EVP_CIPHER* aes_256_gcm() noexcept {
    static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher;
}

struct ctx_deleter {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};

// Cipher contexts that already hold a key's schedule, per thread: a conversation's messages
// reuse the context of its data key, and only the nonce is set per operation (a full
// initialisation costs more than sealing a short message: OpenSSL 3 looks up parameters by
// name and wipes the old schedule each time). Direct-mapped by the key's first byte (keys are
// random), 64 slots, one context per direction; a slot holds a copy of its key and is used only
// for that exact key (compared in full), so a context never serves another key.
class keyed_contexts {
public:
    keyed_contexts() = default;
    keyed_contexts(const keyed_contexts&) = delete;
    keyed_contexts& operator=(const keyed_contexts&) = delete;
    ~keyed_contexts() {
        for (auto& s : slots_) {
            OPENSSL_cleanse(s.key.data(), s.key.size());
        }
    }

    // A context of `key` for `encrypt`ing or decrypting, ready for its nonce; null on failure.
    EVP_CIPHER_CTX* get(const secret_key& key, bool encrypt) noexcept {
        slot& s = slot_of(key);
        if (!s.used || CRYPTO_memcmp(s.key.data(), key.data(), s.key.size()) != 0) {
            std::copy_n(key.data(), s.key.size(), s.key.data());
            s.used = true;
            s.ready = {false, false};
        }
        const std::size_t d = encrypt ? 0 : 1;
        auto& ctx = s.ctx[d];
        if (!ctx) {
            ctx.reset(EVP_CIPHER_CTX_new());
            if (!ctx) {
                return nullptr;
            }
        }
        if (!s.ready[d]) {
            const int ok =
                encrypt
                    ? EVP_EncryptInit_ex2(ctx.get(), aes_256_gcm(), key.data(), nullptr, nullptr)
                    : EVP_DecryptInit_ex2(ctx.get(), aes_256_gcm(), key.data(), nullptr, nullptr);
            if (ok != 1) {
                return nullptr;
            }
            s.ready[d] = true;
        }
        return ctx.get();
    }

    // After a failed operation the context's state is not trusted: initialised afresh next time.
    void forget(const secret_key& key) noexcept { slot_of(key).ready = {false, false}; }

private:
    struct slot {
        std::array<unsigned char, secret_key::size()> key{};
        bool used = false;
        std::array<bool, 2> ready{false, false};
        std::array<std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>, 2> ctx;
    };
    std::array<slot, 64> slots_;

    slot& slot_of(const secret_key& key) noexcept { return slots_[key.data()[0] % slots_.size()]; }
};

keyed_contexts& thread_contexts() noexcept {
    thread_local keyed_contexts contexts;
    return contexts;
}

// Nonces are random (96 bits from OpenSSL's DRBG, as before), fetched for 64 seals at a time:
// one RAND_bytes call costs about as much as the rest of a seal of a short body. Per thread, so
// no lock; the server never forks, so no two processes share a buffer.
bool random_nonce(unsigned char* out) noexcept {
    constexpr std::size_t per_fill = 64;
    struct pool {
        std::array<unsigned char, per_fill * nonce_bytes> bytes{};
        std::size_t used = per_fill * nonce_bytes;  // empty
        ~pool() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
    };
    thread_local pool p;
    if (p.used == p.bytes.size()) {
        if (RAND_bytes(p.bytes.data(), static_cast<int>(p.bytes.size())) != 1) {
            return false;
        }
        p.used = 0;
    }
    std::copy_n(p.bytes.data() + p.used, nonce_bytes, out);
    // A nonce handed out is wiped from the pool: it is never handed out twice.
    OPENSSL_cleanse(p.bytes.data() + p.used, nonce_bytes);
    p.used += nonce_bytes;
    return true;
}

unsigned char* bytes(std::string& s, std::size_t at) noexcept {
    return reinterpret_cast<unsigned char*>(s.data() + at);
}

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// This thread's context of `key`, once the sizes fit OpenSSL's int lengths.
result<EVP_CIPHER_CTX*> context_for(const secret_key& key, bool encrypt, std::size_t data_bytes,
                                    std::size_t ad_bytes) noexcept {
    constexpr auto max = static_cast<std::size_t>(INT_MAX);
    if (data_bytes > max - overhead_bytes || ad_bytes > max) {
        return errc::too_large;
    }
    if (aes_256_gcm() == nullptr) {
        return errc::openssl;
    }
    EVP_CIPHER_CTX* ctx = thread_contexts().get(key, encrypt);
    if (ctx == nullptr) {
        return errc::openssl;
    }
    return ctx;
}

}  // namespace

result<void> seal(const secret_key& key, std::string_view ad, std::string_view plaintext,
                  std::string& out) {
    auto ready = context_for(key, true, plaintext.size(), ad.size());
    if (!ready) {
        return ready.error();
    }
    EVP_CIPHER_CTX* ctx = *ready;
    const std::size_t start = out.size();
    out.resize(start + overhead_bytes + plaintext.size());
    unsigned char* nonce = bytes(out, start);
    unsigned char* ciphertext = nonce + nonce_bytes;
    unsigned char* tag = ciphertext + plaintext.size();
    int len = 0;
    int final_len = 0;
    const bool ok =
        random_nonce(nonce) && EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &len, bytes(ad), static_cast<int>(ad.size())) == 1 &&
        EVP_EncryptUpdate(ctx, ciphertext, &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx, ciphertext + len, &final_len) == 1 &&
        static_cast<std::size_t>(len) + static_cast<std::size_t>(final_len) == plaintext.size() &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_bytes), tag) == 1;
    if (!ok) {
        thread_contexts().forget(key);
        out.resize(start);
        return errc::openssl;
    }
    return {};
}

result<void> open(const secret_key& key, std::string_view ad, std::string_view sealed,
                  std::string& out) {
    if (sealed.size() < overhead_bytes) {
        return errc::malformed;
    }
    auto ready = context_for(key, false, sealed.size() - overhead_bytes, ad.size());
    if (!ready) {
        return ready.error();
    }
    EVP_CIPHER_CTX* ctx = *ready;
    const std::size_t n = sealed.size() - overhead_bytes;
    const unsigned char* nonce = bytes(sealed);
    const unsigned char* ciphertext = nonce + nonce_bytes;
    // EVP_CTRL_AEAD_SET_TAG takes a non-const pointer; OpenSSL only copies from it.
    unsigned char tag[tag_bytes];
    std::copy(ciphertext + n, ciphertext + n + tag_bytes, tag);
    const std::size_t start = out.size();
    out.resize(start + n);
    int len = 0;
    int final_len = 0;
    const bool set_up =
        EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce, nullptr) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &len, bytes(ad), static_cast<int>(ad.size())) == 1 &&
        EVP_DecryptUpdate(ctx, bytes(out, start), &len, ciphertext, static_cast<int>(n)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_bytes), tag) == 1;
    if (!set_up) {
        thread_contexts().forget(key);
        OPENSSL_cleanse(bytes(out, start), n);
        out.resize(start);
        return errc::openssl;
    }
    if (EVP_DecryptFinal_ex(ctx, bytes(out, start) + len, &final_len) != 1) {
        // The plaintext was decrypted before the tag was checked: wipe it.
        thread_contexts().forget(key);
        OPENSSL_cleanse(bytes(out, start), n);
        out.resize(start);
        return errc::refused;
    }
    return {};
}

}  // namespace confide::crypto::detail
