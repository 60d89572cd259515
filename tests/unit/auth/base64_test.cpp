#include "auth/base64.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace confide::auth {
namespace {

// RFC 4648 §10 test vectors; base64url differs only in two letters and the padding.
TEST(Base64Url, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64url_encode(plain), encoded);
        EXPECT_EQ(base64url_decode(encoded), plain);
    }
}

TEST(Base64Url, UsesTheUrlAlphabet) {
    EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
    EXPECT_EQ(base64url_decode("-_-_"), "\xfb\xff\xbf");
    EXPECT_FALSE(base64url_decode("+/+/"));
}

TEST(Base64Url, RefusesPaddingWhitespaceAndOtherCharacters) {
    EXPECT_FALSE(base64url_decode("Zg=="));
    EXPECT_FALSE(base64url_decode("Zm8="));
    EXPECT_FALSE(base64url_decode("Zm9v "));
    EXPECT_FALSE(base64url_decode(" Zm9v"));
    EXPECT_FALSE(base64url_decode("Zm\n9v"));
    EXPECT_FALSE(base64url_decode(std::string("Zm\09v", 5)));
    EXPECT_FALSE(base64url_decode("Zm9v."));
    EXPECT_FALSE(base64url_decode("Zm9\xC3\xA9"));
}

TEST(Base64Url, RefusesImpossibleLengthAndNonCanonicalBits) {
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zm9vY"));
    EXPECT_FALSE(base64url_decode("Zh"));   // "f" with a stray low bit
    EXPECT_FALSE(base64url_decode("Zm9"));  // "fo" with stray low bits
    EXPECT_TRUE(base64url_decode("Zm8"));
}

TEST(Base64Url, RoundTripsEveryByteAndLength) {
    std::mt19937 rng(42);
    for (std::size_t len = 0; len < 300; ++len) {
        std::string s(len, '\0');
        for (auto& c : s) {
            c = static_cast<char>(rng() & 0xFF);
        }
        const auto e = base64url_encode(s);
        EXPECT_EQ(e.find_first_of("=+/"), std::string::npos);
        EXPECT_EQ(base64url_decode(e), s) << len;
    }
}

TEST(Base64, StandardAlphabetWithOptionalPadding) {
    EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
    EXPECT_EQ(base64_decode("Zm9vYg"), "foob");
    EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
    EXPECT_EQ(base64_decode("Zm9vYmE"), "fooba");
    EXPECT_EQ(base64_decode("+/+/"), "\xfb\xff\xbf");
    EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64, RefusesBadPadding) {
    EXPECT_FALSE(base64_decode("-_-_"));
    EXPECT_FALSE(base64_decode("Zm9vYg="));
    EXPECT_FALSE(base64_decode("Zm9vYg==="));
    EXPECT_FALSE(base64_decode("Zm9v===="));
    EXPECT_FALSE(base64_decode("Zm9vY==="));
    EXPECT_FALSE(base64_decode("Zm=vYg=="));
    EXPECT_FALSE(base64_decode("===="));
    EXPECT_FALSE(base64_decode("Zh=="));
    EXPECT_FALSE(base64_decode("Zm9vYg== "));
}

}  // namespace
}  // namespace confide::auth
