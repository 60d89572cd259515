// The token verifier: valid tokens of every algorithm, time claims, signatures.
// (Keys and claims: token_verifier_claims_test.cpp; structure and configuration:
// token_verifier_structure_test.cpp.)
#include "auth/token_verifier.hpp"

#include "auth/base64.hpp"
#include "token_fixtures.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <boost/json.hpp>

#include <chrono>

namespace confide::auth {
namespace {

namespace json = boost::json;
using namespace test;
using namespace std::chrono_literals;

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

}  // namespace
}  // namespace confide::auth
