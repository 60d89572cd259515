#include "auth/signature.hpp"

#include "auth/detail/openssl.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>

namespace confide::auth {
namespace {

// ES256 signatures are R||S, each a 32-byte big-endian integer (RFC 7518 §3.4).
constexpr std::size_t es256_part_bytes = 32;

const EVP_MD* digest_of(algorithm alg) noexcept {
    switch (alg) {
        case algorithm::hs384:
            return EVP_sha384();
        case algorithm::hs512:
            return EVP_sha512();
        default:
            return EVP_sha256();
    }
}

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

bool hmac_verify(const key_set::key& k, std::string_view data, std::string_view signature) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    const auto secret = k.secret();
    if (HMAC(digest_of(k.alg()), secret.data(), static_cast<int>(secret.size()), bytes(data),
             data.size(), mac.data(), &mac_len) == nullptr) {
        return false;
    }
    // The length of a MAC is public; only its bytes must be compared in constant time.
    return signature.size() == mac_len && CRYPTO_memcmp(mac.data(), signature.data(), mac_len) == 0;
}

// JWS carries ECDSA signatures as raw R||S; OpenSSL verifies the DER encoding of that pair.
bool es256_to_der(std::string_view raw, std::array<unsigned char, 80>& der, std::size_t& der_len) {
    if (raw.size() != 2 * es256_part_bytes) {
        return false;
    }
    detail::openssl_ptr<BIGNUM> r(BN_bin2bn(bytes(raw), es256_part_bytes, nullptr));
    detail::openssl_ptr<BIGNUM> s(
        BN_bin2bn(bytes(raw.substr(es256_part_bytes)), es256_part_bytes, nullptr));
    detail::openssl_ptr<ECDSA_SIG> sig(ECDSA_SIG_new());
    if (!r || !s || !sig) {
        return false;
    }
    // set0 takes ownership and fails only on null arguments, excluded above.
    if (ECDSA_SIG_set0(sig.get(), r.release(), s.release()) != 1) {
        return false;
    }
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0 || static_cast<std::size_t>(len) > der.size()) {
        return false;
    }
    unsigned char* out = der.data();
    if (i2d_ECDSA_SIG(sig.get(), &out) != len) {
        return false;
    }
    der_len = static_cast<std::size_t>(len);
    return true;
}

bool digest_verify(const key_set::key& k, std::string_view data, const unsigned char* sig,
                   std::size_t sig_len) {
    detail::openssl_ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr,
                                        k.public_key(), nullptr) != 1) {
        return false;
    }
    if (k.alg() == algorithm::rs256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        return false;
    }
    return EVP_DigestVerify(ctx.get(), sig, sig_len, bytes(data), data.size()) == 1;
}

}  // namespace

std::string hmac_sign(algorithm alg, std::string_view secret, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    detail::openssl_error_scope errors;
    if (HMAC(digest_of(alg), secret.data(), static_cast<int>(secret.size()), bytes(data),
             data.size(), mac.data(), &mac_len) == nullptr) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(mac.data()), mac_len);
}

bool verify_signature(const key_set::key& k, std::string_view data,
                      std::string_view signature) noexcept {
    detail::openssl_error_scope errors;
    switch (k.alg()) {
        case algorithm::hs256:
        case algorithm::hs384:
        case algorithm::hs512:
            return hmac_verify(k, data, signature);
        case algorithm::rs256:
            // OpenSSL checks this too; saying it here keeps the contract visible.
            if (k.public_key() == nullptr ||
                signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(k.public_key()))) {
                return false;
            }
            return digest_verify(k, data, bytes(signature), signature.size());
        case algorithm::es256: {
            std::array<unsigned char, 80> der{};
            std::size_t der_len = 0;
            if (k.public_key() == nullptr || !es256_to_der(signature, der, der_len)) {
                return false;
            }
            return digest_verify(k, data, der.data(), der_len);
        }
    }
    return false;
}

}  // namespace confide::auth
