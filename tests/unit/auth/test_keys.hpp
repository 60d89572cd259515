#pragma once
// Test-only key material and token assembly, done with OpenSSL directly rather than through
// confide_auth, so the tests do not check the library against itself.

#include "auth/algorithm.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace confide::auth::test {

struct pkey_deleter {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

/// A fresh RSA key pair of `bits` bits.
pkey_ptr generate_rsa(unsigned bits);

/// A fresh EC key pair on `curve` ("P-256", "P-384", ...).
pkey_ptr generate_ec(const char* curve);

/// A fresh Ed25519 key pair (a key type no JWS algorithm here accepts).
pkey_ptr generate_ed25519();

/// `-----BEGIN PUBLIC KEY-----` PEM of `key`.
std::string public_pem(EVP_PKEY* key);

/// Unencrypted PKCS#8 `-----BEGIN PRIVATE KEY-----` PEM of `key`.
std::string private_pem(EVP_PKEY* key);

/// The HMAC of `data` under `secret` with SHA-256/384/512 for HS256/384/512, via EVP_Q_mac.
std::string hmac(algorithm alg, std::string_view secret, std::string_view data);

/// The RS256 signature (RSASSA-PKCS1-v1_5, SHA-256) of `data`.
std::string sign_rs256(EVP_PKEY* key, std::string_view data);

/// The ES256 signature of `data` in JWS form: raw R||S, 64 bytes.
std::string sign_es256(EVP_PKEY* key, std::string_view data);

/// Computes a signature over the JWS signing input "<header>.<payload>".
using signer = std::function<std::string(std::string_view signing_input)>;

/// base64url(header) "." base64url(payload) "." base64url(sign(signing input)).
std::string make_jws(std::string_view header_json, std::string_view payload_json,
                     const signer& sign);

/// A private temporary directory, removed with everything in it on destruction.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

    /// Writes `content` to `name` in the directory; its full path.
    std::string write(const std::string& name, std::string_view content) const;

private:
    std::filesystem::path path_;
};

}  // namespace confide::auth::test
