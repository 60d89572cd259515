// The token verifier: the structure of a token, configuration and concurrent use.
#include "auth/token_verifier.hpp"

#include "auth/base64.hpp"
#include "token_fixtures.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace confide::auth {
namespace {

namespace json = boost::json;
using namespace test;
using namespace std::chrono_literals;

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
