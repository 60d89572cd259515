#include "fuzz_keys.hpp"

#include "auth/base64.hpp"

#include <openssl/evp.h>

namespace confide::fuzz {

std::string sign_hs256(std::string_view header_json, std::string_view payload_json) {
    const std::string input =
        auth::base64url_encode(header_json) + "." + auth::base64url_encode(payload_json);
    unsigned char mac[32];
    std::size_t len = 0;
    char digest[] = "SHA256";
    EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, hs256_secret.data(), hs256_secret.size(),
              reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac,
              &len);
    return input + "." +
           auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

}  // namespace confide::fuzz
