#include "token_fixtures.hpp"

#include "auth/base64.hpp"

#include <algorithm>

namespace confide::auth::test {

namespace json = boost::json;

const shared_keys& keys() {
    static const shared_keys k;
    return k;
}

std::vector<std::string> all_specs() {
    return {"hs256:HS256:text:" + secret256, "hs384:HS384:text:" + secret384,
            "hs512:HS512:text:" + secret512, "rsa:RS256:file:" + keys().rsa_path,
            "ec:ES256:file:" + keys().ec_path};
}

token_verifier make_verifier(const std::vector<std::string>& specs, std::string issuer,
                             std::string audience) {
    verifier_config c;
    c.keys = key_set::from_specs(specs);
    c.issuer = std::move(issuer);
    c.audience = std::move(audience);
    return token_verifier(std::move(c));
}

const token_verifier& verifier() {
    static const token_verifier v = make_verifier(all_specs());
    return v;
}

json::object claims() {
    return {
        {"sub", "alice"}, {"role", "client"}, {"exp", fixed_now_s + 3600}, {"iat", fixed_now_s}};
}

json::object header(std::string_view alg, std::string_view kid) {
    json::object h{{"alg", alg}, {"typ", "JWT"}};
    if (!kid.empty()) {
        h["kid"] = kid;
    }
    return h;
}

signer hs(algorithm alg, std::string secret) {
    return [alg, secret = std::move(secret)](std::string_view in) { return hmac(alg, secret, in); };
}
signer rs(EVP_PKEY* key) {
    return [key](std::string_view in) { return sign_rs256(key, in); };
}
signer es() {
    return [](std::string_view in) { return sign_es256(keys().ec.get(), in); };
}
signer raw(std::string sig) {
    return [sig = std::move(sig)](std::string_view) { return sig; };
}

std::string jws(const json::value& h, const json::value& p, const signer& s) {
    return make_jws(json::serialize(h), json::serialize(p), s);
}

std::string hs256_token(const json::object& p, std::string_view kid) {
    return jws(header("HS256", kid), p, hs(algorithm::hs256, secret256));
}

::testing::AssertionResult refused(const outcome<identity>& r, std::string_view why,
                                   std::string_view token) {
    if (r) {
        return ::testing::AssertionFailure() << "accepted, sub=" << r->user_id;
    }
    const auto& msg = r.error().message;
    if (r.error().code != errc::unauthenticated) {
        return ::testing::AssertionFailure() << "wrong code " << static_cast<int>(r.error().code);
    }
    if (msg.find(why) == std::string::npos) {
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << why << "\"";
    }
    std::size_t start = 0;
    while (start <= token.size()) {
        const auto end = std::min(token.find('.', start), token.size());
        const auto part = token.substr(start, end - start);
        if (part.size() >= 8 && msg.find(part) != std::string::npos) {
            return ::testing::AssertionFailure() << "message \"" << msg << "\" quotes the token";
        }
        start = end + 1;
    }
    return ::testing::AssertionSuccess() << msg;
}

::testing::AssertionResult refused(const std::string& token, std::string_view why,
                                   const token_verifier& v, std::int64_t at) {
    return refused(v.verify(token, at), why, token);
}

std::string flip_signature_bit(const std::string& token, std::size_t byte, unsigned char mask) {
    const auto dot = token.rfind('.');
    auto sig = *base64url_decode(std::string_view(token).substr(dot + 1));
    sig[byte % sig.size()] = static_cast<char>(sig[byte % sig.size()] ^ mask);
    return token.substr(0, dot + 1) + base64url_encode(sig);
}

std::string truncate_signature(const std::string& token, std::size_t drop) {
    const auto dot = token.rfind('.');
    auto sig = *base64url_decode(std::string_view(token).substr(dot + 1));
    sig.resize(sig.size() - drop);
    return token.substr(0, dot + 1) + base64url_encode(sig);
}

}  // namespace confide::auth::test
