#include "confide/dev_token.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <stdexcept>

namespace confide::dev_token {
namespace {

namespace json = boost::json;

struct hmac_algorithm {
    std::string_view name;
    const EVP_MD* (*digest)();
    // RFC 7518 §3.2: a key of at least the hash output's size is a MUST.
    std::size_t min_secret_bytes;
};

constexpr std::array<hmac_algorithm, 3> algorithms{{
    {"HS256", EVP_sha256, 32},
    {"HS384", EVP_sha384, 48},
    {"HS512", EVP_sha512, 64},
}};

// RFC 7515 §2: base64url without padding.
std::string base64url(std::string_view bytes) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const auto v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                       (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) {
            out.push_back(alphabet[(v >> shift) & 0x3F]);
        }
    }
    if (const auto rest = bytes.size() - i; rest > 0) {
        auto v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
        if (rest == 2) {
            v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
        }
        for (int shift = 18; shift >= 18 - 6 * static_cast<int>(rest); shift -= 6) {
            out.push_back(alphabet[(v >> shift) & 0x3F]);
        }
    }
    return out;
}

}  // namespace

std::string mint(std::string_view kid, std::string_view secret, std::string_view alg,
                 const claims& c) {
    const hmac_algorithm* a = nullptr;
    for (const auto& candidate : algorithms) {
        if (candidate.name == alg) {
            a = &candidate;
        }
    }
    if (a == nullptr) {
        throw std::invalid_argument("mint: the algorithm must be HS256, HS384 or HS512");
    }
    if (secret.size() < a->min_secret_bytes) {
        throw std::invalid_argument("mint: a " + std::string(a->name) + " secret needs at least " +
                                    std::to_string(a->min_secret_bytes) + " bytes");
    }
    json::object header;
    header["alg"] = a->name;
    header["typ"] = "JWT";
    if (!kid.empty()) {
        header["kid"] = kid;
    }
    json::object payload;
    payload["sub"] = c.sub;
    payload["role"] = c.role;
    payload["exp"] = c.exp;
    payload["iat"] = c.iat;
    if (c.nbf) {
        payload["nbf"] = *c.nbf;
    }
    if (!c.iss.empty()) {
        payload["iss"] = c.iss;
    }
    if (!c.aud.empty()) {
        payload["aud"] = c.aud;
    }
    std::string token = base64url(json::serialize(header));
    token += '.';
    token += base64url(json::serialize(payload));
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_len = 0;
    if (HMAC(a->digest(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac.data(),
             &mac_len) == nullptr) {
        throw std::runtime_error("mint: HMAC failed");
    }
    token += '.';
    token += base64url(std::string_view(reinterpret_cast<const char*>(mac.data()), mac_len));
    return token;
}

}  // namespace confide::dev_token
