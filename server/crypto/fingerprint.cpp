#include "crypto/fingerprint.hpp"

#include "crypto/detail/format.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <atomic>
#include <memory>
#include <stdexcept>

namespace confide::crypto {
namespace {

// Fetched once (see aead.cpp); never freed.
EVP_MAC* hmac() noexcept {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

struct mac_ctx_deleter {
    void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};

// This thread's copies of fingerprinters' keyed contexts, by serial: a server has one
// fingerprinter (two for a start-up check), so a few slots are plenty; a slot taken over by
// another fingerprinter is copied afresh.
struct thread_copy {
    std::uint64_t serial = 0;
    std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter> ctx;
};

std::atomic<std::uint64_t> next_serial{1};

}  // namespace

fingerprinter::fingerprinter(const secret_key& key)
    : keyed_(nullptr), serial_(next_serial.fetch_add(1, std::memory_order_relaxed)) {
    EVP_MAC* mac = hmac();
    std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter> ctx(mac ? EVP_MAC_CTX_new(mac) : nullptr);
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) {
        throw std::runtime_error("OpenSSL cannot compute HMAC-SHA-256");
    }
    keyed_ = ctx.release();
}

fingerprinter::~fingerprinter() {
    EVP_MAC_CTX_free(keyed_);
}

result<std::string> fingerprinter::operator()(std::initializer_list<std::string_view> parts) const {
    thread_local std::array<thread_copy, 4> copies;
    thread_copy& copy = copies[serial_ % copies.size()];
    if (copy.serial == serial_ && copy.ctx) {
        // Used before on this thread: back to the state right after keying.
        if (EVP_MAC_init(copy.ctx.get(), nullptr, 0, nullptr) != 1) {
            copy.ctx.reset();
            return errc::openssl;
        }
    } else {
        copy.ctx.reset(EVP_MAC_CTX_dup(keyed_));
        copy.serial = serial_;
        if (!copy.ctx) {
            return errc::openssl;
        }
    }
    EVP_MAC_CTX* ctx = copy.ctx.get();
    std::string length;  // 8 bytes: within the string's own buffer, no allocation
    for (const auto part : parts) {
        length.clear();
        detail::put_be(length, part.size(), 8);
        if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(length.data()),
                           length.size()) != 1 ||
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) !=
                1) {
            copy.ctx.reset();
            return errc::openssl;
        }
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t out_len = 0;
    if (EVP_MAC_final(ctx, out, &out_len, sizeof out) != 1 || out_len < 16) {
        copy.ctx.reset();
        return errc::openssl;
    }
    return to_hex(std::string_view(reinterpret_cast<const char*>(out), 16));
}

}  // namespace confide::crypto
