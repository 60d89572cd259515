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

// One context per thread, re-initialised (key and nonce) for each operation: saves an allocation
// per message, and a context is never shared between threads.
EVP_CIPHER_CTX* thread_ctx() noexcept {
    thread_local const std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter> ctx(EVP_CIPHER_CTX_new());
    return ctx.get();
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

// This thread's context once the sizes fit OpenSSL's int lengths.
result<EVP_CIPHER_CTX*> context_for(std::size_t data_bytes, std::size_t ad_bytes) noexcept {
    constexpr auto max = static_cast<std::size_t>(INT_MAX);
    if (data_bytes > max - overhead_bytes || ad_bytes > max) {
        return errc::too_large;
    }
    EVP_CIPHER_CTX* ctx = thread_ctx();
    if (ctx == nullptr || aes_256_gcm() == nullptr) {
        return errc::openssl;
    }
    return ctx;
}

}  // namespace

result<void> seal(const secret_key& key, std::string_view ad, std::string_view plaintext,
                  std::string& out) {
    auto ready = context_for(plaintext.size(), ad.size());
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
        random_nonce(nonce) &&
        EVP_EncryptInit_ex2(ctx, aes_256_gcm(), key.data(), nonce, nullptr) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &len, bytes(ad), static_cast<int>(ad.size())) == 1 &&
        EVP_EncryptUpdate(ctx, ciphertext, &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx, ciphertext + len, &final_len) == 1 &&
        static_cast<std::size_t>(len) + static_cast<std::size_t>(final_len) == plaintext.size() &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_bytes), tag) == 1;
    if (!ok) {
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
    auto ready = context_for(sealed.size() - overhead_bytes, ad.size());
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
        EVP_DecryptInit_ex2(ctx, aes_256_gcm(), key.data(), nonce, nullptr) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &len, bytes(ad), static_cast<int>(ad.size())) == 1 &&
        EVP_DecryptUpdate(ctx, bytes(out, start), &len, ciphertext, static_cast<int>(n)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_bytes), tag) == 1;
    if (!set_up) {
        OPENSSL_cleanse(bytes(out, start), n);
        out.resize(start);
        return errc::openssl;
    }
    if (EVP_DecryptFinal_ex(ctx, bytes(out, start) + len, &final_len) != 1) {
        // The plaintext was decrypted before the tag was checked: wipe it.
        OPENSSL_cleanse(bytes(out, start), n);
        out.resize(start);
        return errc::refused;
    }
    return {};
}

}  // namespace confide::crypto::detail
