#include "test_keys.hpp"

#include "auth/base64.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace confide::auth::test {
namespace {

[[noreturn]] void openssl_failed(const char* what) {
    ERR_print_errors_fp(stderr);
    throw std::runtime_error(std::string("test_keys: OpenSSL failed in ") + what);
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string digest_sign(EVP_PKEY* key, std::string_view data, bool rsa) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    if (!ctx ||
        EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, key, nullptr) != 1) {
        openssl_failed("EVP_DigestSignInit_ex");
    }
    if (rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
        openssl_failed("EVP_PKEY_CTX_set_rsa_padding");
    }
    std::size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, bytes(data), data.size()) != 1) {
        openssl_failed("EVP_DigestSign (size)");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(data),
                       data.size()) != 1) {
        openssl_failed("EVP_DigestSign");
    }
    sig.resize(len);
    return sig;
}

}  // namespace

pkey_ptr generate_rsa(unsigned bits) {
    pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
    if (!key) {
        openssl_failed("RSA keygen");
    }
    return key;
}

pkey_ptr generate_ec(const char* curve) {
    pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
    if (!key) {
        openssl_failed("EC keygen");
    }
    return key;
}

pkey_ptr generate_ed25519() {
    pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) {
        openssl_failed("Ed25519 keygen");
    }
    return key;
}

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
        openssl_failed("PEM_write_bio_PUBKEY");
    }
    return bio_contents(bio.get());
}

std::string private_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        openssl_failed("PEM_write_bio_PrivateKey");
    }
    return bio_contents(bio.get());
}

std::string hmac(algorithm alg, std::string_view secret, std::string_view data) {
    const char* digest = alg == algorithm::hs384   ? "SHA384"
                         : alg == algorithm::hs512 ? "SHA512"
                                                   : "SHA256";
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, secret.data(), secret.size(),
                  bytes(data), data.size(), out, sizeof out, &len) == nullptr) {
        openssl_failed("EVP_Q_mac");
    }
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sign_rs256(EVP_PKEY* key, std::string_view data) {
    return digest_sign(key, data, true);
}

std::string sign_es256(EVP_PKEY* key, std::string_view data) {
    const std::string der = digest_sign(key, data, false);
    const unsigned char* p = bytes(der);
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), &ECDSA_SIG_free);
    if (!sig) {
        openssl_failed("d2i_ECDSA_SIG");
    }
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32) != 32) {
        openssl_failed("BN_bn2binpad");
    }
    return raw;
}

std::string make_jws(std::string_view header_json, std::string_view payload_json,
                     const signer& sign) {
    std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
    const std::string sig = sign(input);
    return input + "." + base64url_encode(sig);
}

temp_dir::temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "confide-auth-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
        throw std::runtime_error("temp_dir: mkdtemp failed");
    }
    path_ = buf.data();
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::write(const std::string& name, std::string_view content) const {
    const auto p = path_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) {
        throw std::runtime_error("temp_dir: cannot write " + p.string());
    }
    return p.string();
}

}  // namespace confide::auth::test
