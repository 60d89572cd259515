#include "auth/token_minter.hpp"

#include "auth/base64.hpp"
#include "auth/signature.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace confide::auth {
namespace {

namespace json = boost::json;

std::string sign(std::string_view kid, std::string_view secret, algorithm alg,
                 const token_claims& c) {
    json::object header;
    header["alg"] = to_string(alg);
    header["typ"] = "JWT";
    if (!kid.empty()) {
        header["kid"] = kid;
    }
    json::object payload;
    payload["sub"] = c.sub;
    payload["role"] = to_string(c.user_role);
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
    std::string token = base64url_encode(json::serialize(header));
    token += '.';
    token += base64url_encode(json::serialize(payload));
    const std::string mac = hmac_sign(alg, secret, token);
    if (mac.empty()) {
        throw std::runtime_error("mint_token: HMAC failed");
    }
    token += '.';
    token += base64url_encode(mac);
    return token;
}

}  // namespace

std::string mint_token(const key_set::key& k, const token_claims& claims) {
    if (!is_hmac(k.alg())) {
        throw std::invalid_argument("mint_token: key '" + k.kid() +
                                    "' is not an HMAC key; only HS256/HS384/HS512 can mint");
    }
    return sign(k.kid(), k.secret(), k.alg(), claims);
}

std::string mint_token(std::string_view kid, std::string_view secret, std::string_view alg,
                       const token_claims& claims) {
    const auto a = parse_algorithm(alg);
    if (!a || !is_hmac(*a)) {
        throw std::invalid_argument("mint_token: the algorithm must be HS256, HS384 or HS512");
    }
    if (secret.size() < min_hmac_secret_bytes(*a)) {
        throw std::invalid_argument("mint_token: a " + std::string(to_string(*a)) +
                                    " secret needs at least " +
                                    std::to_string(min_hmac_secret_bytes(*a)) + " bytes");
    }
    return sign(kid, secret, *a, claims);
}

}  // namespace confide::auth
