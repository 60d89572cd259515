// Development tokens (clients/dev_token) against the server's verifier: what confide-cli,
// confide-loadgen and the tests mint is what the server accepts.

#include "confide/dev_token.hpp"

#include "auth/base64.hpp"
#include "auth/token_verifier.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <stdexcept>

namespace confide::auth {
namespace {

namespace json = boost::json;

constexpr std::int64_t dev_now_s = 1'700'000'000;
constexpr std::int64_t dev_now_ms = dev_now_s * 1000;

dev_token::claims alice() {
    dev_token::claims c;
    c.sub = "alice";
    c.role = "specialist";
    c.exp = dev_now_s + 600;
    c.iat = dev_now_s;
    return c;
}

json::object part(const std::string& token, int index) {
    std::size_t start = 0;
    for (int i = 0; i < index; ++i) {
        start = token.find('.', start) + 1;
    }
    const auto end = token.find('.', start);
    return json::parse(*base64url_decode(std::string_view(token).substr(start, end - start)))
        .as_object();
}

TEST(DevToken, RoundTripsThroughTheVerifier) {
    const auto keys = key_set::from_specs({"k256:HS256:text:" + std::string(32, 'a'),
                                           "k384:HS384:text:" + std::string(48, 'b'),
                                           "k512:HS512:text:" + std::string(64, 'c')});
    verifier_config config;
    config.keys = keys;
    config.issuer = "platform";
    config.audience = "confide";
    const token_verifier v(config);
    for (const auto* k : keys.keys()) {
        auto c = alice();
        c.iss = "platform";
        c.aud = "confide";
        c.nbf = dev_now_s - 5;
        const auto token = dev_token::mint(k->kid(), k->secret(), to_string(k->alg()), c);
        const auto r = v.verify(token, dev_now_ms);
        ASSERT_TRUE(r) << k->kid() << ": " << r.error().message;
        EXPECT_EQ(r->user_id, "alice");
        EXPECT_EQ(r->user_role, role::specialist);
        EXPECT_EQ(r->expires_at_ms, (dev_now_s + 600) * 1000);
        EXPECT_EQ(part(token, 0).at("alg").as_string(), to_string(k->alg()));
    }
}

TEST(DevToken, WritesExactlyTheClaims) {
    const auto token = dev_token::mint("dev", std::string(32, 'k'), "HS256", alice());
    const auto h = part(token, 0);
    EXPECT_EQ(h, (json::object{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "dev"}}));
    const auto p = part(token, 1);
    EXPECT_EQ(p, (json::object{{"sub", "alice"},
                               {"role", "specialist"},
                               {"exp", dev_now_s + 600},
                               {"iat", dev_now_s}}));
    auto c = alice();
    c.nbf = dev_now_s;
    c.iss = "i";
    c.aud = "a";
    const auto full = part(dev_token::mint("dev", std::string(32, 'k'), "HS256", c), 1);
    EXPECT_EQ(full.at("nbf"), dev_now_s);
    EXPECT_EQ(full.at("iss"), "i");
    EXPECT_EQ(full.at("aud"), "a");
}

TEST(DevToken, OmitsAnEmptyKid) {
    const auto token = dev_token::mint("", std::string(32, 'k'), "HS256", alice());
    EXPECT_FALSE(part(token, 0).contains("kid"));
    verifier_config config;
    config.keys.add_hmac("only", algorithm::hs256, std::string(32, 'k'));
    EXPECT_TRUE(token_verifier(config).verify(token, dev_now_ms));
}

TEST(DevToken, EscapesClaimText) {
    auto c = alice();
    c.sub = "a\"b\\c\n";
    const auto token = dev_token::mint("dev", std::string(32, 'k'), "HS256", c);
    EXPECT_EQ(part(token, 1).at("sub"), "a\"b\\c\n");
}

TEST(DevToken, RefusesWhatItCannotSign) {
    EXPECT_THROW(dev_token::mint("k", std::string(32, 'k'), "RS256", alice()),
                 std::invalid_argument);
    EXPECT_THROW(dev_token::mint("k", std::string(32, 'k'), "none", alice()),
                 std::invalid_argument);
    EXPECT_THROW(dev_token::mint("k", std::string(32, 'k'), "hs256", alice()),
                 std::invalid_argument);
    EXPECT_THROW(dev_token::mint("k", std::string(31, 'k'), "HS256", alice()),
                 std::invalid_argument);
    EXPECT_THROW(dev_token::mint("k", std::string(63, 'k'), "HS512", alice()),
                 std::invalid_argument);
}

}  // namespace
}  // namespace confide::auth
