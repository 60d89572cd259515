#include "auth/token_verifier.hpp"

#include "auth/base64.hpp"
#include "test_keys.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <boost/json.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace confide::auth {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::int64_t fixed_now_s = 1'700'000'000;
constexpr std::int64_t fixed_now_ms = fixed_now_s * 1000;

const std::string secret256(32, 'a');
const std::string secret384(48, 'b');
const std::string secret512(64, 'c');

// Key pairs are slow to generate: one set for the whole suite.
struct shared_keys {
    test::temp_dir dir;
    test::pkey_ptr rsa = test::generate_rsa(2048);
    test::pkey_ptr rsa_new = test::generate_rsa(2048);
    test::pkey_ptr ec = test::generate_ec("P-256");
    std::string rsa_pem = test::public_pem(rsa.get());
    std::string rsa_path = dir.write("rsa.pem", rsa_pem);
    std::string rsa_new_path = dir.write("rsa-new.pem", test::public_pem(rsa_new.get()));
    std::string ec_path = dir.write("ec.pem", test::public_pem(ec.get()));
};

const shared_keys& keys() {
    static const shared_keys k;
    return k;
}

// One key of each algorithm, each under its own kid.
std::vector<std::string> all_specs() {
    return {"hs256:HS256:text:" + secret256, "hs384:HS384:text:" + secret384,
            "hs512:HS512:text:" + secret512, "rsa:RS256:file:" + keys().rsa_path,
            "ec:ES256:file:" + keys().ec_path};
}

token_verifier make_verifier(const std::vector<std::string>& specs, std::string issuer = {},
                             std::string audience = {}) {
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

test::signer hs(algorithm alg, std::string secret) {
    return [alg, secret = std::move(secret)](std::string_view in) {
        return test::hmac(alg, secret, in);
    };
}
test::signer rs(EVP_PKEY* key = keys().rsa.get()) {
    return [key](std::string_view in) { return test::sign_rs256(key, in); };
}
test::signer es() {
    return [](std::string_view in) { return test::sign_es256(keys().ec.get(), in); };
}
test::signer raw(std::string sig) {
    return [sig = std::move(sig)](std::string_view) { return sig; };
}

std::string jws(const json::value& h, const json::value& p, const test::signer& s) {
    return test::make_jws(json::serialize(h), json::serialize(p), s);
}

std::string hs256_token(const json::object& p, std::string_view kid = "hs256") {
    return jws(header("HS256", kid), p, hs(algorithm::hs256, secret256));
}

// Refused with errc::unauthenticated, for the reason `why`, and without quoting the token.
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
                                   const token_verifier& v = verifier(),
                                   std::int64_t at = fixed_now_ms) {
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

// --- valid tokens, every algorithm ------------------------------------------------------------

TEST(TokenVerifier, AcceptsHs256) {
    const auto r = verifier().verify(hs256_token(claims()), fixed_now_ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->user_id, "alice");
    EXPECT_EQ(r->user_role, role::client);
    EXPECT_EQ(r->expires_at_ms, (fixed_now_s + 3600) * 1000);
}

TEST(TokenVerifier, AcceptsHs384) {
    const auto r = verifier().verify(
        jws(header("HS384", "hs384"), claims(), hs(algorithm::hs384, secret384)), fixed_now_ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->user_id, "alice");
}

TEST(TokenVerifier, AcceptsHs512) {
    const auto r = verifier().verify(
        jws(header("HS512", "hs512"), claims(), hs(algorithm::hs512, secret512)), fixed_now_ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->user_id, "alice");
}

TEST(TokenVerifier, AcceptsRs256) {
    const auto r = verifier().verify(jws(header("RS256", "rsa"), claims(), rs()), fixed_now_ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->user_id, "alice");
}

TEST(TokenVerifier, AcceptsEs256) {
    for (int i = 0; i < 20; ++i) {  // ECDSA is randomized: R and S of every length class
        const auto r = verifier().verify(jws(header("ES256", "ec"), claims(), es()), fixed_now_ms);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->user_id, "alice");
    }
}

TEST(TokenVerifier, AcceptsSpecialistAndFullIdAlphabet) {
    auto p = claims();
    p["role"] = "specialist";
    p["sub"] = "Spec_1.team:a-Z9";
    const auto r = verifier().verify(hs256_token(p), fixed_now_ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->user_role, role::specialist);
    EXPECT_EQ(r->user_id, "Spec_1.team:a-Z9");
}

TEST(TokenVerifier, AcceptsFractionalTimesAndIgnoresUnknownClaims) {
    auto p = claims();
    p["exp"] = static_cast<double>(fixed_now_s) + 10.7509;
    p["iat"] = static_cast<double>(fixed_now_s) - 0.5;
    p["nbf"] = static_cast<double>(fixed_now_s);
    p["jti"] = "x";
    p["scope"] = json::array{"a", "b"};
    const auto r = verifier().verify(hs256_token(p), fixed_now_ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->expires_at_ms, (fixed_now_s + 10) * 1000 + 750);
}

TEST(TokenVerifier, AcceptsHeaderWithoutTypAndLowercaseTyp) {
    json::object h{{"alg", "HS256"}, {"kid", "hs256"}};
    EXPECT_TRUE(verifier().verify(jws(h, claims(), hs(algorithm::hs256, secret256)), fixed_now_ms));
    h["typ"] = "jwt";
    EXPECT_TRUE(verifier().verify(jws(h, claims(), hs(algorithm::hs256, secret256)), fixed_now_ms));
}

TEST(TokenVerifier, RefusesOtherTyp) {
    for (const json::value& typ : {json::value("at+jwt"), json::value(1), json::value(nullptr)}) {
        json::object h = header("HS256", "hs256");
        h["typ"] = typ;
        EXPECT_TRUE(refused(jws(h, claims(), hs(algorithm::hs256, secret256)), "type"));
    }
}

TEST(TokenVerifier, IgnoresKeyMaterialInTheHeader) {
    json::object h = header("HS256", "hs256");
    h["jku"] = "https://evil.example/keys";
    h["jwk"] = json::object{{"kty", "oct"}, {"k", "AAAA"}};
    EXPECT_TRUE(verifier().verify(jws(h, claims(), hs(algorithm::hs256, secret256)), fixed_now_ms));
}

// --- time -------------------------------------------------------------------------------------

TEST(TokenVerifier, RefusesExpired) {
    auto p = claims();
    p["exp"] = fixed_now_s - 3600;
    EXPECT_TRUE(refused(hs256_token(p), "expired"));
}

TEST(TokenVerifier, ExpiryBoundaryIncludesLeeway) {
    auto p = claims();
    p["exp"] = fixed_now_s;
    const auto token = hs256_token(p);
    EXPECT_TRUE(verifier().verify(token, fixed_now_ms));
    EXPECT_TRUE(verifier().verify(token, fixed_now_ms + 30'000));  // exactly exp + leeway
    EXPECT_TRUE(refused(token, "expired", verifier(), fixed_now_ms + 30'001));
}

TEST(TokenVerifier, ZeroLeewayIsExact) {
    verifier_config c;
    c.keys = key_set::from_specs({"hs256:HS256:text:" + secret256});
    c.leeway = 0s;
    const token_verifier v(std::move(c));
    auto p = claims();
    p["exp"] = fixed_now_s;
    const auto token = hs256_token(p);
    EXPECT_TRUE(v.verify(token, fixed_now_ms));
    EXPECT_TRUE(refused(token, "expired", v, fixed_now_ms + 1));
}

TEST(TokenVerifier, RefusesNotYetValid) {
    auto p = claims();
    p["nbf"] = fixed_now_s + 31;
    EXPECT_TRUE(refused(hs256_token(p), "not valid yet"));
    p["nbf"] = fixed_now_s + 30;  // within leeway
    EXPECT_TRUE(verifier().verify(hs256_token(p), fixed_now_ms));
}

TEST(TokenVerifier, RefusesIssuedInTheFuture) {
    auto p = claims();
    p["iat"] = fixed_now_s + 120;
    EXPECT_TRUE(refused(hs256_token(p), "issued in the future"));
    p["iat"] = fixed_now_s + 30;
    EXPECT_TRUE(verifier().verify(hs256_token(p), fixed_now_ms));
}

TEST(TokenVerifier, RequiresExp) {
    auto p = claims();
    p.erase("exp");
    EXPECT_TRUE(refused(hs256_token(p), "no expiry"));
}

TEST(TokenVerifier, RefusesNonNumericTimes) {
    const std::vector<json::value> bad{
        json::value(std::to_string(fixed_now_s + 3600)), json::value(true), json::value(nullptr),
        json::array{fixed_now_s + 3600}, json::object{{"s", fixed_now_s}}};
    for (const auto& v : bad) {
        auto p = claims();
        p["exp"] = v;
        EXPECT_TRUE(refused(hs256_token(p), "exp is not a number"));
        p = claims();
        p["nbf"] = v;
        EXPECT_TRUE(refused(hs256_token(p), "nbf is not a number"));
        p = claims();
        p["iat"] = v;
        EXPECT_TRUE(refused(hs256_token(p), "iat is not a number"));
    }
}

TEST(TokenVerifier, ExtremeTimes) {
    const std::string prefix = base64url_encode(json::serialize(header("HS256", "hs256"))) + ".";
    auto sign = [&](std::string_view payload) {
        const auto input = prefix + base64url_encode(payload);
        return input + "." + base64url_encode(test::hmac(algorithm::hs256, secret256, input));
    };
    // Infinity (1e999 parses as inf) is not a NumericDate.
    EXPECT_TRUE(refused(sign(R"({"sub":"a","role":"client","exp":1e999})"), "exp is not a number"));
    // Far-future and far-past values saturate instead of overflowing.
    const auto far = verifier().verify(
        sign(R"({"sub":"a","role":"client","exp":18446744073709551615})"), fixed_now_ms);
    ASSERT_TRUE(far) << far.error().message;
    EXPECT_GT(far->expires_at_ms, fixed_now_ms);
    EXPECT_TRUE(
        verifier().verify(sign(R"({"sub":"a","role":"client","exp":1e300})"), fixed_now_ms));
    EXPECT_TRUE(
        refused(sign(R"({"sub":"a","role":"client","exp":-9223372036854775808})"), "expired"));
    EXPECT_TRUE(refused(sign(R"({"sub":"a","role":"client","exp":-1e300})"), "expired"));
    EXPECT_TRUE(
        refused(sign(R"({"sub":"a","role":"client","exp":1e300,"nbf":1e300})"), "not valid yet"));
    EXPECT_TRUE(refused(sign(R"({"sub":"a","role":"client","exp":100})"), "expired", verifier(),
                        std::numeric_limits<std::int64_t>::max()));
    EXPECT_TRUE(verifier().verify(sign(R"({"sub":"a","role":"client","exp":100})"),
                                  std::numeric_limits<std::int64_t>::min()));
}

// --- signatures -------------------------------------------------------------------------------

TEST(TokenVerifier, RefusesFlippedSignatureBit) {
    const std::vector<std::string> tokens{
        hs256_token(claims()),
        jws(header("HS512", "hs512"), claims(), hs(algorithm::hs512, secret512)),
        jws(header("RS256", "rsa"), claims(), rs()), jws(header("ES256", "ec"), claims(), es())};
    for (const auto& t : tokens) {
        ASSERT_TRUE(verifier().verify(t, fixed_now_ms));
        for (std::size_t byte : {0U, 7U, 31U, 63U}) {
            EXPECT_TRUE(refused(flip_signature_bit(t, byte, 0x01), "bad token signature"));
            EXPECT_TRUE(refused(flip_signature_bit(t, byte, 0x80), "bad token signature"));
        }
    }
}

TEST(TokenVerifier, RefusesTamperedPayload) {
    const auto good = hs256_token(claims());
    auto p = claims();
    p["role"] = "specialist";
    const auto forged_payload = base64url_encode(json::serialize(p));
    const auto d1 = good.find('.');
    const auto d2 = good.rfind('.');
    const auto forged = good.substr(0, d1 + 1) + forged_payload + good.substr(d2);
    EXPECT_TRUE(refused(forged, "bad token signature"));
}

TEST(TokenVerifier, RefusesTruncatedSignature) {
    const std::vector<std::string> tokens{hs256_token(claims()),
                                          jws(header("RS256", "rsa"), claims(), rs()),
                                          jws(header("ES256", "ec"), claims(), es())};
    for (const auto& t : tokens) {
        EXPECT_TRUE(refused(truncate_signature(t, 1), "bad token signature"));
        EXPECT_TRUE(refused(t.substr(0, t.rfind('.') + 1), "bad token signature"));  // empty
    }
    // An ES256 signature in DER form, as a careless signer would send it.
    const auto der_es = jws(header("ES256", "ec"), claims(), [](std::string_view in) {
        EVP_PKEY* k = keys().ec.get();
        auto ctx = EVP_MD_CTX_new();
        EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, k, nullptr);
        unsigned char sig[80];
        std::size_t len = sizeof sig;
        EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(in.data()),
                       in.size());
        EVP_MD_CTX_free(ctx);
        return std::string(reinterpret_cast<char*>(sig), len);
    });
    EXPECT_TRUE(refused(der_es, "bad token signature"));
    // R = S = 0.
    EXPECT_TRUE(refused(jws(header("ES256", "ec"), claims(), raw(std::string(64, '\0'))),
                        "bad token signature"));
}

TEST(TokenVerifier, RefusesSignatureByAnotherKey) {
    EXPECT_TRUE(refused(jws(header("RS256", "rsa"), claims(), rs(keys().rsa_new.get())),
                        "bad token signature"));
    EXPECT_TRUE(
        refused(jws(header("HS256", "hs256"), claims(), hs(algorithm::hs256, std::string(32, 'z'))),
                "bad token signature"));
}

TEST(TokenVerifier, LeavesNoOpenSslErrors) {
    ERR_clear_error();
    for (const auto& t : {jws(header("RS256", "rsa"), claims(), raw(std::string(256, 'x'))),
                          jws(header("ES256", "ec"), claims(), raw(std::string(64, 'x')))}) {
        EXPECT_FALSE(verifier().verify(t, fixed_now_ms));
        EXPECT_EQ(ERR_peek_error(), 0UL);
    }
}

// --- algorithms and keys ----------------------------------------------------------------------

TEST(TokenVerifier, RefusesAlgNone) {
    for (const char* none : {"none", "None", "NONE"}) {
        const json::object h{{"alg", none}, {"typ", "JWT"}};
        const auto unsigned_part = base64url_encode(json::serialize(h)) + "." +
                                   base64url_encode(json::serialize(claims()));
        EXPECT_TRUE(refused(unsigned_part + ".", "not allowed"));  // empty signature part
        EXPECT_TRUE(refused(unsigned_part, "three"));              // no signature part
        // With a valid HMAC attached, and a key id, it is still not HS256.
        json::object hk = h;
        hk["kid"] = "hs256";
        EXPECT_TRUE(refused(jws(hk, claims(), hs(algorithm::hs256, secret256)), "not allowed"));
    }
    // With a single key configured, too.
    const auto single = make_verifier({"hs256:HS256:text:" + secret256});
    const json::object h{{"alg", "none"}};
    EXPECT_TRUE(refused(jws(h, claims(), raw("")), "not allowed", single));
}

TEST(TokenVerifier, RefusesAlgorithmsOffTheList) {
    for (const json::value& alg :
         {json::value("hs256"), json::value("HS256 "), json::value("RS512"), json::value("PS256"),
          json::value("ES384"), json::value("EdDSA"), json::value(""), json::value(256),
          json::value(nullptr), json::value(json::array{"HS256"})}) {
        json::object h{{"alg", alg}, {"kid", "hs256"}};
        EXPECT_TRUE(refused(jws(h, claims(), hs(algorithm::hs256, secret256)), "not allowed"));
    }
    const json::object no_alg{{"kid", "hs256"}};
    EXPECT_TRUE(refused(jws(no_alg, claims(), hs(algorithm::hs256, secret256)), "no algorithm"));
}

TEST(TokenVerifier, RefusesHsRsConfusion) {
    // The classic attack: HS256 with the RSA public key's PEM bytes as the HMAC secret.
    const auto& pem = keys().rsa_pem;
    const auto with_kid = jws(header("HS256", "rsa"), claims(), hs(algorithm::hs256, pem));
    EXPECT_TRUE(refused(with_kid, "does not match its key"));
    // Also when the RSA key is the only one and the token names none.
    const auto rsa_only = make_verifier({"rsa:RS256:file:" + keys().rsa_path});
    const auto no_kid = jws(header("HS256", ""), claims(), hs(algorithm::hs256, pem));
    EXPECT_TRUE(refused(no_kid, "does not match its key", rsa_only));
    // And the same with the PEM minus its trailing newline, and with ES256's key.
    const auto trimmed = pem.substr(0, pem.size() - 1);
    EXPECT_TRUE(refused(jws(header("HS256", "rsa"), claims(), hs(algorithm::hs256, trimmed)),
                        "does not match its key"));
    EXPECT_TRUE(refused(jws(header("HS256", "ec"), claims(),
                            hs(algorithm::hs256, test::public_pem(keys().ec.get()))),
                        "does not match its key"));
}

TEST(TokenVerifier, RefusesAlgorithmThatDiffersFromTheKey) {
    EXPECT_TRUE(refused(jws(header("HS384", "hs256"), claims(), hs(algorithm::hs384, secret256)),
                        "does not match its key"));
    EXPECT_TRUE(refused(jws(header("HS256", "hs512"), claims(), hs(algorithm::hs256, secret512)),
                        "does not match its key"));
    EXPECT_TRUE(refused(jws(header("RS256", "ec"), claims(), rs()), "does not match its key"));
    EXPECT_TRUE(refused(jws(header("ES256", "rsa"), claims(), es()), "does not match its key"));
}

TEST(TokenVerifier, RefusesUnknownKid) {
    EXPECT_TRUE(refused(hs256_token(claims(), "nope"), "unknown key id 'nope'"));
    // A key id that could inject into logs is not quoted back.
    const auto r = verifier().verify(hs256_token(claims(), "bad\nkid"), fixed_now_ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "unknown key id");
    json::object h = header("HS256", "");
    h["kid"] = 7;
    EXPECT_TRUE(refused(jws(h, claims(), hs(algorithm::hs256, secret256)), "key id is not"));
}

TEST(TokenVerifier, MissingKidNeedsExactlyOneKey) {
    const auto token = hs256_token(claims(), "");
    const auto one = make_verifier({"only:HS256:text:" + secret256});
    EXPECT_TRUE(one.verify(token, fixed_now_ms));
    const auto two =
        make_verifier({"a:HS256:text:" + secret256, "b:HS256:text:" + std::string(32, 'q')});
    EXPECT_TRUE(refused(token, "no key id", two));
}

TEST(TokenVerifier, KeyRotation) {
    const auto old_spec = "2023:RS256:file:" + keys().rsa_path;
    const auto new_spec = "2024:RS256:file:" + keys().rsa_new_path;
    const auto old_token = jws(header("RS256", "2023"), claims(), rs(keys().rsa.get()));
    const auto new_token = jws(header("RS256", "2024"), claims(), rs(keys().rsa_new.get()));

    const auto both = make_verifier({old_spec, new_spec});
    EXPECT_TRUE(both.verify(old_token, fixed_now_ms));
    EXPECT_TRUE(both.verify(new_token, fixed_now_ms));

    verifier_config c;
    c.keys = both.config().keys;
    ASSERT_TRUE(c.keys.remove("2023"));
    const token_verifier rotated(std::move(c));
    EXPECT_TRUE(rotated.verify(new_token, fixed_now_ms));
    EXPECT_TRUE(refused(old_token, "unknown key id '2023'", rotated));
    // The old verifier is unaffected: key sets are values.
    EXPECT_TRUE(both.verify(old_token, fixed_now_ms));
}

// --- issuer and audience ----------------------------------------------------------------------

TEST(TokenVerifier, Audience) {
    const auto v = make_verifier({"hs256:HS256:text:" + secret256}, "", "confide");
    auto p = claims();
    EXPECT_TRUE(refused(hs256_token(p), "no audience", v));
    p["aud"] = "other";
    EXPECT_TRUE(refused(hs256_token(p), "another audience", v));
    p["aud"] = "Confide";
    EXPECT_TRUE(refused(hs256_token(p), "another audience", v));
    p["aud"] = json::array{"other", "confide"};
    EXPECT_TRUE(v.verify(hs256_token(p), fixed_now_ms));
    p["aud"] = json::array{"other", "x"};
    EXPECT_TRUE(refused(hs256_token(p), "another audience", v));
    p["aud"] = json::array{};
    EXPECT_TRUE(refused(hs256_token(p), "another audience", v));
    p["aud"] = 1;
    EXPECT_TRUE(refused(hs256_token(p), "another audience", v));
    // Not json::array{json::array{"confide"}}: clang reads that as a copy of the inner array.
    json::array nested;
    nested.emplace_back(json::array{"confide"});
    p["aud"] = nested;
    EXPECT_TRUE(refused(hs256_token(p), "another audience", v));
    p["aud"] = "confide";
    EXPECT_TRUE(v.verify(hs256_token(p), fixed_now_ms));
    // Not configured: not checked.
    p["aud"] = "anything";
    EXPECT_TRUE(verifier().verify(hs256_token(p), fixed_now_ms));
}

TEST(TokenVerifier, Issuer) {
    const auto v = make_verifier({"hs256:HS256:text:" + secret256}, "https://platform", "");
    auto p = claims();
    EXPECT_TRUE(refused(hs256_token(p), "no issuer", v));
    p["iss"] = "https://evil";
    EXPECT_TRUE(refused(hs256_token(p), "another issuer", v));
    p["iss"] = json::array{"https://platform"};
    EXPECT_TRUE(refused(hs256_token(p), "another issuer", v));
    p["iss"] = "https://platform";
    EXPECT_TRUE(v.verify(hs256_token(p), fixed_now_ms));
}

// --- identity claims --------------------------------------------------------------------------

TEST(TokenVerifier, Role) {
    auto p = claims();
    p.erase("role");
    EXPECT_TRUE(refused(hs256_token(p), "no role"));
    for (const json::value& bad :
         {json::value("admin"), json::value("Client"), json::value(""), json::value(1),
          json::value(nullptr), json::value(json::array{"client"})}) {
        p["role"] = bad;
        EXPECT_TRUE(refused(hs256_token(p), "role must be"));
    }
}

TEST(TokenVerifier, Subject) {
    auto p = claims();
    p.erase("sub");
    EXPECT_TRUE(refused(hs256_token(p), "no subject"));
    for (const json::value& bad :
         {json::value(""), json::value("al ice"), json::value("alice/x"), json::value("al\nice"),
          json::value("\xC3\xA9lise"), json::value(std::string(129, 'a')), json::value(42),
          json::value(nullptr)}) {
        p["sub"] = bad;
        EXPECT_TRUE(refused(hs256_token(p), "subject must be"));
    }
    p["sub"] = std::string(128, 'a');
    EXPECT_TRUE(verifier().verify(hs256_token(p), fixed_now_ms));
}

// --- structure --------------------------------------------------------------------------------

TEST(TokenVerifier, RefusesMalformedHeader) {
    auto sign = hs(algorithm::hs256, secret256);
    const auto payload = json::serialize(claims());
    EXPECT_TRUE(refused(test::make_jws("{\"alg\":\"HS256\"", payload, sign), "not JSON"));
    EXPECT_TRUE(refused(test::make_jws("not json", payload, sign), "not JSON"));
    EXPECT_TRUE(refused(test::make_jws("", payload, sign), "not JSON"));
    EXPECT_TRUE(refused(test::make_jws("[\"HS256\"]", payload, sign), "not a JSON object"));
    EXPECT_TRUE(refused(test::make_jws("\"HS256\"", payload, sign), "not a JSON object"));
    EXPECT_TRUE(refused(test::make_jws("{\"alg\":\"HS256\"} x", payload, sign), "not JSON"));
    EXPECT_TRUE(refused(test::make_jws("{\"alg\":\"HS256\",}", payload, sign), "not JSON"));
    EXPECT_TRUE(refused(test::make_jws("{\"alg\":\"HS256\"/**/}", payload, sign), "not JSON"));
    EXPECT_TRUE(refused(test::make_jws("{\"alg\":\"HS\xFF\"}", payload, sign), "not JSON"));
}

TEST(TokenVerifier, RefusesMalformedPayloadEvenWhenSigned) {
    const auto h = json::serialize(header("HS256", "hs256"));
    auto sign = hs(algorithm::hs256, secret256);
    EXPECT_TRUE(refused(test::make_jws(h, "not json", sign), "payload: not JSON"));
    EXPECT_TRUE(refused(test::make_jws(h, "", sign), "payload: not JSON"));
    EXPECT_TRUE(refused(test::make_jws(h, "[1,2]", sign), "payload: not a JSON object"));
    EXPECT_TRUE(refused(test::make_jws(h, "null", sign), "payload: not a JSON object"));
    // A payload that is not base64url, with a signature that is valid over those very bytes.
    const auto input = base64url_encode(h) + ".e30=";
    EXPECT_TRUE(
        refused(input + "." + base64url_encode(test::hmac(algorithm::hs256, secret256, input)),
                "payload: not unpadded base64url"));
}

TEST(TokenVerifier, RefusesWrongNumberOfParts) {
    const auto token = hs256_token(claims());
    const auto d1 = token.find('.');
    const auto d2 = token.rfind('.');
    EXPECT_TRUE(refused(token.substr(0, d2), "three"));  // 2 parts
    EXPECT_TRUE(refused(token + ".AAAA", "three"));      // 4 parts
    EXPECT_TRUE(refused(token + ".", "three"));          // 4, last empty
    EXPECT_TRUE(refused(token.substr(0, d1), "three"));  // 1 part
    EXPECT_TRUE(refused("..", "not JSON"));              // 3 empty parts
    EXPECT_TRUE(refused("...", "three"));
    EXPECT_TRUE(refused("", "missing token"));
}

TEST(TokenVerifier, RefusesPaddingAndForeignCharacters) {
    const auto token = hs256_token(claims());
    const auto d1 = token.find('.');
    const auto d2 = token.rfind('.');
    const auto h = token.substr(0, d1);
    const auto p = token.substr(d1 + 1, d2 - d1 - 1);
    const auto s = token.substr(d2 + 1);
    // A 32-byte MAC encodes to 43 characters: padded, it takes one '='.
    ASSERT_EQ(s.size(), 43U);
    EXPECT_TRUE(refused(h + "." + p + "." + s + "=", "signature: not unpadded base64url"));
    EXPECT_TRUE(refused(h + "=." + p + "." + s, "header: not unpadded base64url"));
    EXPECT_TRUE(refused(h + "." + p + "=." + s, "bad token signature"));  // signed bytes differ
    for (const char c : {'+', '/', ' ', '\n', '\0', '~', '*'}) {
        auto bad_sig = s;
        bad_sig[5] = c;
        EXPECT_TRUE(refused(h + "." + p + "." + bad_sig, "signature: not unpadded base64url"));
        auto bad_header = h;
        bad_header[3] = c;
        EXPECT_TRUE(refused(bad_header + "." + p + "." + s, "header: not unpadded base64url"));
    }
    EXPECT_TRUE(refused(" " + token, "header: not unpadded base64url"));
    EXPECT_TRUE(refused(token + "\n", "signature: not unpadded base64url"));
    // The same 32 bytes spelled with non-zero unused bits in the last character.
    auto non_canonical = s;
    non_canonical.back() = static_cast<char>(non_canonical.back() + 1);
    EXPECT_TRUE(refused(h + "." + p + "." + non_canonical, "signature: not unpadded base64url"));
}

TEST(TokenVerifier, RefusesCrit) {
    json::object h = header("HS256", "hs256");
    h["crit"] = json::array{"exp"};
    EXPECT_TRUE(refused(jws(h, claims(), hs(algorithm::hs256, secret256)), "critical"));
    h["crit"] = json::array{};
    EXPECT_TRUE(refused(jws(h, claims(), hs(algorithm::hs256, secret256)), "critical"));
}

TEST(TokenVerifier, DuplicateMembersResolveToTheLast) {
    const auto h = std::string(R"({"alg":"none","alg":"HS256","kid":"hs256"})");
    const auto p = std::string(R"({"sub":"mallory","role":"client","exp":1,"sub":"alice","exp":)") +
                   std::to_string(fixed_now_s + 60) + "}";
    const auto r =
        verifier().verify(test::make_jws(h, p, hs(algorithm::hs256, secret256)), fixed_now_ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->user_id, "alice");
}

TEST(TokenVerifier, RefusesOversizedToken) {
    auto p = claims();
    p["pad"] = std::string(9000, 'x');
    const auto big = hs256_token(p);
    ASSERT_GT(big.size(), 8192U);
    EXPECT_TRUE(refused(big, "larger than 8192 bytes"));

    const auto token = hs256_token(claims());
    verifier_config c;
    c.keys = key_set::from_specs({"hs256:HS256:text:" + secret256});
    c.max_token_bytes = token.size();
    const token_verifier exact(c);
    EXPECT_TRUE(exact.verify(token, fixed_now_ms));
    c.max_token_bytes = token.size() - 1;
    const token_verifier under(c);
    EXPECT_TRUE(refused(token, "larger than", under));
}

// --- configuration and concurrency ------------------------------------------------------------

TEST(TokenVerifier, RefusesUnusableConfig) {
    EXPECT_THROW(token_verifier(verifier_config{}), std::invalid_argument);
    verifier_config c;
    c.keys = key_set::from_specs({"hs256:HS256:text:" + secret256});
    c.leeway = -1s;
    EXPECT_THROW((token_verifier(c)), std::invalid_argument);
    c.leeway = 2h;
    EXPECT_THROW((token_verifier(c)), std::invalid_argument);
    c.leeway = 30s;
    c.max_token_bytes = 0;
    EXPECT_THROW((token_verifier(c)), std::invalid_argument);
}

TEST(TokenVerifier, ConcurrentVerification) {
    const std::vector<std::string> good{hs256_token(claims()),
                                        jws(header("RS256", "rsa"), claims(), rs()),
                                        jws(header("ES256", "ec"), claims(), es())};
    const auto bad = flip_signature_bit(good[1], 3, 0x10);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                for (const auto& token : good) {
                    if (!verifier().verify(token, fixed_now_ms)) {
                        ++failures;
                    }
                }
                if (verifier().verify(bad, fixed_now_ms) || ERR_peek_error() != 0) {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace confide::auth
