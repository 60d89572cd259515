// Fuzzes the token parser and verifier (auth::token_verifier) and the strict base64 decoders,
// with a verifier that trusts an HS256 key ("hs"), an RS256 key ("rs") and an ES256 key ("es")
// and requires an issuer and an audience. The first input byte picks what the rest is:
//   0: a token, verified as it is (structure, header, key choice, signature checks);
//   1: a header and a payload (JSON) separated by a zero byte, signed with the HS256 key, then
//      verified: what the claims parser does with well-signed but hostile claims;
//   2: text for base64url_decode and base64_decode: what decodes encodes back to the same text
//      (one text per byte string, as auth/base64.hpp promises).
// Besides the sanitizers' findings, it checks that an accepted token names a valid user id and
// a role, and that a refusal is UNAUTHENTICATED with a message that never quotes the token.

#include "auth/base64.hpp"
#include "auth/key_set.hpp"
#include "auth/token_verifier.hpp"
#include "common/text.hpp"
#include "fuzz_keys.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

using namespace confide;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "token_fuzz: %s\n", what);
        std::abort();
    }
}

std::string public_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pem;
}

const auth::token_verifier& verifier() {
    static const auth::token_verifier v = [] {
        auth::verifier_config c;
        c.keys.add_hmac("hs", auth::algorithm::hs256, fuzz::hs256_secret);
        EVP_PKEY* rsa = EVP_RSA_gen(2048);
        EVP_PKEY* ec = EVP_EC_gen("P-256");
        check(rsa != nullptr && ec != nullptr, "cannot generate keys");
        c.keys.add_public_key("rs", auth::algorithm::rs256, public_pem(rsa));
        c.keys.add_public_key("es", auth::algorithm::es256, public_pem(ec));
        EVP_PKEY_free(rsa);
        EVP_PKEY_free(ec);
        c.issuer = fuzz::issuer;
        c.audience = fuzz::audience;
        return auth::token_verifier(std::move(c));
    }();
    return v;
}

void verify(std::string_view token) {
    auto id = verifier().verify(token, fuzz::now_ms);
    if (id) {
        check(is_valid_id(id->user_id), "accepted a token with an invalid subject");
        check(id->user_role == auth::role::client || id->user_role == auth::role::specialist,
              "accepted a token without a role");
        return;
    }
    check(id.error().code == errc::unauthenticated, "refused with another code");
    check(!id.error().message.empty(), "refused without a message");
    // The message may name a short, plain key id, never a longer piece of the token.
    if (token.size() >= 70) {
        check(id.error().message.find(token.substr(0, 70)) == std::string::npos,
              "the refusal quotes the token");
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)verifier();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0:
            verify(rest);
            break;
        case 1: {
            const auto zero = rest.find('\0');
            const auto header = rest.substr(0, zero);
            const auto payload =
                zero == std::string_view::npos ? std::string_view() : rest.substr(zero + 1);
            verify(fuzz::sign_hs256(header, payload));
            break;
        }
        default: {
            if (auto bytes = auth::base64url_decode(rest)) {
                check(auth::base64url_encode(*bytes) == rest, "base64url is not one-to-one");
            }
            if (auto bytes = auth::base64_decode(rest)) {
                // Standard base64 is base64url with two other characters, padding optional.
                std::string text = auth::base64url_encode(*bytes);
                std::replace(text.begin(), text.end(), '-', '+');
                std::replace(text.begin(), text.end(), '_', '/');
                std::string_view unpadded = rest;
                while (!unpadded.empty() && unpadded.back() == '=') {
                    unpadded.remove_suffix(1);
                }
                check(text == unpadded, "base64 is not one-to-one");
            }
            break;
        }
    }
    return 0;
}
