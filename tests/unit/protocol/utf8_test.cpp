#include "protocol/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace confide::protocol {
namespace {

TEST(Utf8, AcceptsAsciiAndMultibyte) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("hello"));
    EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));           // é
    EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));          // €
    EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));      // 😀
    EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF
    EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));  // NUL is valid UTF-8
}

TEST(Utf8, RejectsMalformedSequences) {
    EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
    EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong 3-byte
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xFF"));
    EXPECT_FALSE(is_valid_utf8("\xE2\x82"));        // truncated €
    EXPECT_FALSE(is_valid_utf8("ok\xE2\x28\xA1"));  // bad continuation
}

}  // namespace
}  // namespace confide::protocol
