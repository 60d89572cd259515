// The token verifier: algorithms and keys, issuer and audience, identity claims.
#include "auth/token_verifier.hpp"

#include "auth/base64.hpp"
#include "token_fixtures.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace confide::auth {
namespace {

namespace json = boost::json;
using namespace test;

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

}  // namespace
}  // namespace confide::auth
