#include "common/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace confide {
namespace {

TEST(text, id_characters_are_exactly_the_documented_ones) {
    const std::string allowed =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
    for (int i = 0; i < 256; ++i) {
        const char c = static_cast<char>(i);
        EXPECT_EQ(is_id_char(c), allowed.find(c) != std::string::npos) << "byte " << i;
    }
}

TEST(text, an_id_is_one_to_max_id_characters) {
    EXPECT_TRUE(is_valid_id("dr.bob"));
    EXPECT_TRUE(is_valid_id("c:01H-x_y"));
    EXPECT_FALSE(is_valid_id(""));
    EXPECT_FALSE(is_valid_id("has space"));
    EXPECT_FALSE(is_valid_id("a/b"));
    EXPECT_FALSE(is_valid_id("caf\xC3\xA9"));
    EXPECT_FALSE(is_valid_id(std::string("a\0b", 3)));
    EXPECT_TRUE(is_valid_id(std::string(max_id_bytes, 'a')));
    EXPECT_FALSE(is_valid_id(std::string(max_id_bytes + 1, 'a')));
    EXPECT_TRUE(is_valid_id("abcd", 4));
    EXPECT_FALSE(is_valid_id("abcde", 4));
}

TEST(text, iequals_ignores_ascii_case_only) {
    EXPECT_TRUE(iequals("PING", "ping"));
    EXPECT_TRUE(iequals("SubScribe", "sUBsCRIBE"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("ping", "pin"));
    EXPECT_FALSE(iequals("none", "nonE "));
    // Bytes one case bit apart that are not letters, and Latin-1 letters: never equal.
    EXPECT_FALSE(iequals("@", "`"));
    EXPECT_FALSE(iequals("[", "{"));
    EXPECT_FALSE(iequals("\xC4", "\xE4"));
    static_assert(iequals("JWT", "jwt"));
}

}  // namespace
}  // namespace confide
