#include "auth/key_set.hpp"

#include "test_keys.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace confide::auth {
namespace {

const std::string secret32 = "0123456789abcdef0123456789ABCDEF";

// The message add() throws for `spec`, or "" when it does not throw.
std::string error_of(const std::string& spec) {
    key_set keys;
    try {
        keys.add(spec);
    } catch (const std::invalid_argument& e) {
        EXPECT_TRUE(keys.empty()) << "a refused spec left a key behind";
        return e.what();
    }
    return "";
}

::testing::AssertionResult spec_refused(const std::string& spec, std::string_view why,
                                        std::string_view secret = {}) {
    const auto msg = error_of(spec);
    if (msg.empty()) {
        return ::testing::AssertionFailure() << "accepted";
    }
    if (msg.find(why) == std::string::npos) {
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << why << "\"";
    }
    if (!secret.empty() && msg.find(secret) != std::string::npos) {
        return ::testing::AssertionFailure() << "message \"" << msg << "\" quotes the secret";
    }
    return ::testing::AssertionSuccess() << msg;
}

TEST(KeySet, ParsesTextSecret) {
    key_set keys;
    keys.add("k1:HS256:text:" + secret32);
    ASSERT_EQ(keys.size(), 1U);
    const auto* k = keys.find("k1");
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->kid(), "k1");
    EXPECT_EQ(k->alg(), algorithm::hs256);
    EXPECT_EQ(k->secret(), secret32);
    EXPECT_EQ(k->public_key(), nullptr);
    EXPECT_EQ(keys.sole_key(), k);
}

TEST(KeySet, TextSecretMayContainColons) {
    key_set keys;
    keys.add("k1:HS256:text:a:b:c:" + secret32);
    EXPECT_EQ(keys.find("k1")->secret(), "a:b:c:" + secret32);
}

TEST(KeySet, ParsesBase64Secret) {
    key_set keys;
    // 33 bytes, with both '+' and '/' and padding; and the same unpadded.
    const std::string bytes = std::string("\xfb\xff\xbf", 3) + std::string(30, '\0');
    keys.add("b:HS256:base64:+/+/" + std::string(40, 'A'));
    EXPECT_EQ(keys.find("b")->secret(), bytes);
    keys.add("c:HS384:base64:" + std::string(64, 'A'));  // 48 zero bytes
    EXPECT_EQ(keys.find("c")->secret(), std::string(48, '\0'));
    keys.add("d:HS256:base64:" + std::string(43, 'A') + "=");  // 32 bytes, padded
    EXPECT_EQ(keys.find("d")->secret().size(), 32U);
    keys.add("e:HS256:base64:" + std::string(43, 'A'));  // the same, unpadded
    EXPECT_EQ(keys.find("e")->secret().size(), 32U);
}

TEST(KeySet, RefusesBadBase64) {
    EXPECT_TRUE(spec_refused("b:HS256:base64:" + std::string(43, 'A') + "==", "not valid base64"));
    EXPECT_TRUE(spec_refused("b:HS256:base64:" + std::string(42, 'A') + "-_", "not valid base64"));
    EXPECT_TRUE(spec_refused("b:HS256:base64:" + std::string(44, 'A') + " ", "not valid base64"));
    EXPECT_TRUE(spec_refused("b:HS256:base64:" + std::string(45, 'A'), "not valid base64"));
}

TEST(KeySet, ParsesSecretFiles) {
    test::temp_dir dir;
    key_set keys;
    keys.add("lf:HS256:file:" + dir.write("lf", secret32 + "\n"));
    keys.add("crlf:HS256:file:" + dir.write("crlf", secret32 + "\r\n"));
    keys.add("bare:HS256:file:" + dir.write("bare", secret32));
    keys.add("two:HS256:file:" + dir.write("two", secret32 + "\n\n"));
    EXPECT_EQ(keys.find("lf")->secret(), secret32);
    EXPECT_EQ(keys.find("crlf")->secret(), secret32);
    EXPECT_EQ(keys.find("bare")->secret(), secret32);
    EXPECT_EQ(keys.find("two")->secret(), secret32 + "\n");  // only one newline is trimmed
    // Binary bytes are kept as they are.
    const std::string binary = std::string("\0\xff\x01", 3) + std::string(29, '\x7f');
    keys.add("bin:HS256:file:" + dir.write("bin", binary));
    EXPECT_EQ(keys.find("bin")->secret(), binary);
}

TEST(KeySet, RefusesShortSecrets) {
    const std::string s31(31, 's');
    EXPECT_TRUE(spec_refused("k:HS256:text:" + s31, "secret is 31 bytes; at least 32", s31));
    const std::string s47(47, 's');
    EXPECT_TRUE(spec_refused("k:HS384:text:" + s47, "secret is 47 bytes; at least 48", s47));
    const std::string s63(63, 's');
    EXPECT_TRUE(spec_refused("k:HS512:text:" + s63, "secret is 63 bytes; at least 64", s63));
    EXPECT_TRUE(spec_refused("k:HS256:text:", "secret is 0 bytes"));
    test::temp_dir dir;
    EXPECT_TRUE(
        spec_refused("k:HS256:file:" + dir.write("short", s31 + "\n"), "secret is 31", s31));
    EXPECT_TRUE(spec_refused("k:HS256:base64:c2VjcmV0", "secret is 6 bytes", "c2VjcmV0"));
    // The minimum is accepted.
    EXPECT_EQ(error_of("k:HS256:text:" + std::string(32, 's')), "");
    EXPECT_EQ(error_of("k:HS384:text:" + std::string(48, 's')), "");
    EXPECT_EQ(error_of("k:HS512:text:" + std::string(64, 's')), "");
}

TEST(KeySet, RefusesUnknownAlgorithms) {
    for (const char* alg : {"HS257", "none", "hs256", "RS512", "PS256", "ES384", "EdDSA", ""}) {
        EXPECT_TRUE(
            spec_refused("k:" + std::string(alg) + ":text:" + secret32, "unknown algorithm"))
            << alg;
    }
    EXPECT_TRUE(spec_refused("k:HS257:text:" + secret32, "unknown algorithm 'HS257'"));
    // A forgotten kid puts the secret where the algorithm goes: it must not be quoted.
    const std::string b64 = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";
    EXPECT_TRUE(spec_refused("base64:" + b64 + ":x", "unknown algorithm", b64));
    EXPECT_TRUE(spec_refused("text:" + secret32 + ":x", "unknown algorithm", secret32));
}

TEST(KeySet, RefusesMalformedSpecs) {
    EXPECT_TRUE(spec_refused("", "<kid>:<alg>:<material>"));
    EXPECT_TRUE(spec_refused("k1", "<kid>:<alg>:<material>"));
    EXPECT_TRUE(spec_refused("k1:HS256", "<kid>:<alg>:<material>"));
    EXPECT_TRUE(spec_refused(secret32, "<kid>:<alg>:<material>", secret32));
    EXPECT_TRUE(spec_refused(":HS256:text:" + secret32, "kid must be"));
    EXPECT_TRUE(spec_refused("a b:HS256:text:" + secret32, "kid must be"));
    EXPECT_TRUE(spec_refused(std::string(129, 'k') + ":HS256:text:" + secret32, "kid must be"));
    EXPECT_EQ(error_of(std::string(128, 'k') + ":HS256:text:" + secret32), "");
    EXPECT_TRUE(spec_refused("k:HS256:" + secret32, "material must be", secret32));
    EXPECT_TRUE(spec_refused("k:HS256:hex:" + secret32, "material must be", secret32));
    EXPECT_TRUE(spec_refused("k:HS256:file:", "material must be"));
    EXPECT_TRUE(
        spec_refused("k:RS256:text:" + secret32, "file:<path to a PEM public key>", secret32));
    EXPECT_TRUE(spec_refused("k:ES256:base64:AAAA", "file:<path to a PEM public key>"));
    EXPECT_TRUE(spec_refused("k:RS256:file:", "file:<path to a PEM public key>"));
}

TEST(KeySet, RefusesDuplicateKids) {
    key_set keys;
    keys.add("k:HS256:text:" + secret32);
    EXPECT_THROW(keys.add("k:HS512:text:" + std::string(64, 'x')), std::invalid_argument);
    EXPECT_THROW(keys.add_hmac("k", algorithm::hs256, secret32), std::invalid_argument);
    EXPECT_EQ(keys.size(), 1U);
    try {
        key_set::from_specs({"a:HS256:text:" + secret32, "a:HS256:text:" + secret32});
        ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("duplicate kid"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find(secret32), std::string::npos) << e.what();
    }
}

TEST(KeySet, RefusesUnreadableFiles) {
    test::temp_dir dir;
    EXPECT_TRUE(spec_refused("k:HS256:file:" + (dir.path() / "missing").string(), "cannot read"));
    EXPECT_TRUE(spec_refused("k:RS256:file:" + (dir.path() / "missing").string(), "cannot read"));
    EXPECT_TRUE(spec_refused("k:HS256:file:" + dir.path().string(), "not a regular file"));
    EXPECT_TRUE(
        spec_refused("k:HS256:file:" + dir.write("big", std::string(70'000, 'x')), "larger than"));
}

class KeySetPem : public ::testing::Test {
protected:
    std::string write_public(const char* name, EVP_PKEY* key) {
        return dir_.write(name, test::public_pem(key));
    }
    test::temp_dir dir_;
};

TEST_F(KeySetPem, ParsesRsaAndEcPublicKeys) {
    const auto rsa = test::generate_rsa(2048);
    const auto ec = test::generate_ec("P-256");
    key_set keys;
    keys.add("r:RS256:file:" + write_public("rsa.pem", rsa.get()));
    keys.add("e:ES256:file:" + write_public("ec.pem", ec.get()));
    ASSERT_EQ(keys.size(), 2U);
    EXPECT_EQ(keys.sole_key(), nullptr);
    const auto* r = keys.find("r");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->alg(), algorithm::rs256);
    EXPECT_TRUE(r->secret().empty());
    ASSERT_NE(r->public_key(), nullptr);
    EXPECT_EQ(EVP_PKEY_eq(r->public_key(), rsa.get()), 1);
    EXPECT_EQ(EVP_PKEY_eq(keys.find("e")->public_key(), ec.get()), 1);
    // Larger RSA keys are fine.
    const auto rsa3072 = test::generate_rsa(3072);
    keys.add("r3:RS256:file:" + write_public("rsa3072.pem", rsa3072.get()));
    EXPECT_EQ(keys.size(), 3U);
}

TEST_F(KeySetPem, RefusesBadPem) {
    EXPECT_TRUE(spec_refused("k:RS256:file:" + dir_.write("junk.pem", "not a pem"),
                             "not a PEM public key"));
    EXPECT_TRUE(
        spec_refused("k:RS256:file:" + dir_.write("empty.pem", ""), "not a PEM public key"));
    auto pem = test::public_pem(test::generate_rsa(2048).get());
    pem[40] = pem[40] == 'A' ? 'B' : 'A';
    pem.erase(60, 10);
    EXPECT_TRUE(
        spec_refused("k:RS256:file:" + dir_.write("corrupt.pem", pem), "not a PEM public key"));
}

TEST_F(KeySetPem, RefusesPrivateKeys) {
    const auto rsa = test::generate_rsa(2048);
    EXPECT_TRUE(spec_refused("k:RS256:file:" + dir_.write("priv.pem", test::private_pem(rsa.get())),
                             "private key"));
}

TEST_F(KeySetPem, RefusesShortRsa) {
    const auto rsa = test::generate_rsa(1024);
    EXPECT_TRUE(spec_refused("k:RS256:file:" + write_public("rsa1024.pem", rsa.get()),
                             "1024 bits; at least 2048"));
}

TEST_F(KeySetPem, RefusesWrongKeyTypes) {
    const auto rsa = test::generate_rsa(2048);
    const auto p256 = test::generate_ec("P-256");
    const auto p384 = test::generate_ec("P-384");
    const auto k1 = test::generate_ec("secp256k1");
    const auto ed = test::generate_ed25519();
    EXPECT_TRUE(spec_refused("k:ES256:file:" + write_public("p384.pem", p384.get()), "P-256"));
    EXPECT_TRUE(spec_refused("k:ES256:file:" + write_public("k1.pem", k1.get()), "P-256"));
    EXPECT_TRUE(spec_refused("k:ES256:file:" + write_public("rsa.pem", rsa.get()), "P-256"));
    EXPECT_TRUE(spec_refused("k:ES256:file:" + write_public("ed.pem", ed.get()), "P-256"));
    EXPECT_TRUE(spec_refused("k:RS256:file:" + write_public("p256.pem", p256.get()), "RSA"));
    EXPECT_TRUE(spec_refused("k:RS256:file:" + write_public("ed.pem", ed.get()), "RSA"));
}

TEST(KeySet, ProgrammaticAdd) {
    key_set keys;
    keys.add_hmac("h", algorithm::hs512, std::string(64, 'x'));
    EXPECT_EQ(keys.find("h")->alg(), algorithm::hs512);
    EXPECT_THROW(keys.add_hmac("r", algorithm::rs256, secret32), std::invalid_argument);
    EXPECT_THROW(keys.add_public_key("p", algorithm::hs256, "pem"), std::invalid_argument);
    EXPECT_THROW(keys.add_hmac("", algorithm::hs256, secret32), std::invalid_argument);
    const auto ec = test::generate_ec("P-256");
    keys.add_public_key("e", algorithm::es256, test::public_pem(ec.get()));
    EXPECT_EQ(keys.size(), 2U);
}

TEST(KeySet, FindRemoveAndCopies) {
    auto keys = key_set::from_specs({"a:HS256:text:" + secret32, "b:HS256:text:" + secret32});
    ASSERT_EQ(keys.size(), 2U);
    EXPECT_EQ(keys.sole_key(), nullptr);
    const auto listed = keys.keys();
    ASSERT_EQ(listed.size(), 2U);
    EXPECT_EQ(listed[0]->kid(), "a");
    EXPECT_EQ(listed[1]->kid(), "b");
    EXPECT_EQ(keys.find("c"), nullptr);
    EXPECT_EQ(keys.find("A"), nullptr);

    const key_set copy = keys;
    EXPECT_EQ(copy.find("a"), keys.find("a"));  // shared, not duplicated
    EXPECT_TRUE(keys.remove("a"));
    EXPECT_FALSE(keys.remove("a"));
    EXPECT_EQ(keys.find("a"), nullptr);
    EXPECT_EQ(keys.sole_key(), keys.find("b"));
    EXPECT_NE(copy.find("a"), nullptr);  // the copy still holds it
    EXPECT_EQ(copy.find("a")->secret(), secret32);
    EXPECT_TRUE(key_set{}.empty());
}

TEST(Algorithm, Names) {
    for (auto a : {algorithm::hs256, algorithm::hs384, algorithm::hs512, algorithm::rs256,
                   algorithm::es256}) {
        EXPECT_EQ(parse_algorithm(to_string(a)), a);
    }
    EXPECT_EQ(to_string(algorithm::es256), "ES256");
    EXPECT_FALSE(parse_algorithm("none"));
    EXPECT_FALSE(parse_algorithm("Hs256"));
    EXPECT_TRUE(is_hmac(algorithm::hs384));
    EXPECT_FALSE(is_hmac(algorithm::rs256));
}

}  // namespace
}  // namespace confide::auth
