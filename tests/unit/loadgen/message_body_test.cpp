#include "message_body.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using namespace confide::loadgen;

TEST(message_body, exact_size_printable_and_deterministic) {
    for (const std::size_t size : {32U, 33U, 100U, 1000U, 8192U}) {
        const auto b = make_body(1234, 567, size);
        EXPECT_EQ(b.size(), size);
        EXPECT_EQ(b, make_body(1234, 567, size));
        for (const char c : b) {
            EXPECT_TRUE(c >= 0x21 && c < 0x7f) << int(c);
        }
    }
}

TEST(message_body, small_sizes_are_raised_to_the_minimum) {
    EXPECT_EQ(make_body(1, 2, 0).size(), min_body_bytes);
    // A header longer than the minimum still gets its checksum.
    const auto b = make_body(18'446'744'073'709'551'615ULL, 18'446'744'073'709'551'615ULL, 32);
    EXPECT_GT(b.size(), 32U);
    EXPECT_TRUE(parse_body(b).has_value());
}

TEST(message_body, differs_per_sender_and_number) {
    std::set<std::string> seen;
    for (std::uint64_t s = 0; s < 20; ++s) {
        for (std::uint64_t n = 0; n < 20; ++n) {
            EXPECT_TRUE(seen.insert(make_body(s, n, 64)).second);
        }
    }
}

TEST(message_body, parses_its_header) {
    const auto h = parse_body(make_body(42, 7, 100));
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->sender, 42U);
    EXPECT_EQ(h->n, 7U);
    EXPECT_TRUE(body_matches(make_body(42, 7, 100), 42, 7, 100));
    EXPECT_FALSE(body_matches(make_body(42, 7, 100), 42, 8, 100));
    EXPECT_FALSE(body_matches(make_body(42, 7, 100), 42, 7, 101));
}

TEST(message_body, any_single_byte_change_is_detected) {
    const auto good = make_body(3, 9, 80);
    for (std::size_t i = 0; i < good.size(); ++i) {
        auto bad = good;
        bad[i] = static_cast<char>(bad[i] == 'x' ? 'y' : 'x');
        EXPECT_FALSE(body_matches(bad, 3, 9, 80)) << i;
        EXPECT_FALSE(parse_body(bad).has_value()) << "checksum catches byte " << i;
    }
    EXPECT_FALSE(body_matches(good.substr(0, good.size() - 1), 3, 9, 80));
    EXPECT_FALSE(body_matches(good + "x", 3, 9, 80));
    EXPECT_FALSE(parse_body(good.substr(0, good.size() - 1)).has_value());
    EXPECT_FALSE(parse_body(good + "x").has_value());
    EXPECT_FALSE(parse_body("").has_value());
    EXPECT_FALSE(parse_body(":00000000").has_value());
}

TEST(message_body, the_bytes_stay_what_they_were) {
    // Pinned: senders and receivers of different builds must agree.
    EXPECT_EQ(make_body(1, 2, 32), "1.2:qxdxjdwppqnsmarmtfl:e2d4c319");
    EXPECT_EQ(make_body(42, 7, 100),
              "42.7:osfztfpqdwtdrstauynwuyxiccephryahamxnxubxnxeiqyxebywpfqngdbdosozdqrcmlzibefxeuh"
              "xxgyxoi:73da1313");
}

TEST(message_body, fnv1a_reference_values) {
    EXPECT_EQ(fnv1a(""), 2166136261U);
    EXPECT_EQ(fnv1a("a"), 0xe40c292cU);
    EXPECT_EQ(fnv1a("foobar"), 0xbf9cf968U);
}

}  // namespace
