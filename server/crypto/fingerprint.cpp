#include "crypto/fingerprint.hpp"

#include "crypto/detail/format.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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

}  // namespace

fingerprinter::fingerprinter(const secret_key& key) : keyed_(nullptr) {
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
    const std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter> ctx(EVP_MAC_CTX_dup(keyed_));
    if (!ctx) {
        return errc::openssl;
    }
    std::string length;
    for (const auto part : parts) {
        length.clear();
        detail::put_be(length, part.size(), 8);
        if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(length.data()),
                           length.size()) != 1 ||
            EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()),
                           part.size()) != 1) {
            return errc::openssl;
        }
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t out_len = 0;
    if (EVP_MAC_final(ctx.get(), out, &out_len, sizeof out) != 1 || out_len < 16) {
        return errc::openssl;
    }
    return to_hex(std::string_view(reinterpret_cast<const char*>(out), 16));
}

}  // namespace confide::crypto
