// The pure parts of store/redis, without sockets: reply copying (fed by hiredis's own parser), the
// backoff, the error category.
#include "store/redis/reconnecting_context.hpp"
#include "store/redis/errc.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace confide::store::redis {
namespace {

using namespace std::chrono_literals;

reply parse(const std::string& wire) {
    std::unique_ptr<redisReader, decltype(&redisReaderFree)> reader(redisReaderCreate(),
                                                                    &redisReaderFree);
    EXPECT_EQ(redisReaderFeed(reader.get(), wire.data(), wire.size()), REDIS_OK);
    void* raw = nullptr;
    EXPECT_EQ(redisReaderGetReply(reader.get(), &raw), REDIS_OK);
    EXPECT_NE(raw, nullptr);
    if (raw == nullptr) {
        return {};
    }
    reply out = detail::copy_reply(*static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    return out;
}

TEST(redis_reply, copies_every_type) {
    EXPECT_TRUE(parse("$-1\r\n").is_nil());
    EXPECT_TRUE(parse("*-1\r\n").is_nil());

    auto s = parse(std::string("$4\r\na\0\r\n\r\n", 10));
    EXPECT_EQ(s.type, reply::kind::string);
    EXPECT_EQ(s.str, std::string("a\0\r\n", 4));

    auto st = parse("+OK\r\n");
    EXPECT_EQ(st.type, reply::kind::status);
    EXPECT_TRUE(st.is_string());
    EXPECT_EQ(st.str, "OK");

    auto e = parse("-ERR bad\r\n");
    EXPECT_TRUE(e.is_error());
    EXPECT_EQ(e.str, "ERR bad");

    auto i = parse(":-9223372036854775808\r\n");
    EXPECT_TRUE(i.is_integer());
    EXPECT_EQ(i.integer, INT64_MIN);

    auto a = parse("*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n*0\r\n");
    ASSERT_TRUE(a.is_array());
    ASSERT_EQ(a.elements.size(), 3u);
    EXPECT_EQ(a.elements[0].str, "x");
    ASSERT_EQ(a.elements[1].elements.size(), 2u);
    EXPECT_EQ(a.elements[1].elements[0].integer, 1);
    EXPECT_TRUE(a.elements[1].elements[1].is_nil());
    EXPECT_TRUE(a.elements[2].is_array());
    EXPECT_TRUE(a.elements[2].elements.empty());
}

TEST(redis_backoff, doubles_up_to_the_maximum_with_jitter) {
    EXPECT_EQ(detail::backoff_delay(100ms, 5000ms, 0, 1.0), 100ms);
    EXPECT_EQ(detail::backoff_delay(100ms, 5000ms, 0, 0.0), 50ms);
    EXPECT_EQ(detail::backoff_delay(100ms, 5000ms, 1, 1.0), 200ms);
    EXPECT_EQ(detail::backoff_delay(100ms, 5000ms, 3, 1.0), 800ms);
    EXPECT_EQ(detail::backoff_delay(100ms, 5000ms, 6, 1.0), 5000ms);
    EXPECT_EQ(detail::backoff_delay(100ms, 5000ms, 1000, 1.0), 5000ms);
    EXPECT_EQ(detail::backoff_delay(100ms, 5000ms, 1000, 0.0), 2500ms);
    const auto mid = detail::backoff_delay(100ms, 5000ms, 2, 0.5);
    EXPECT_GE(mid, 200ms);
    EXPECT_LE(mid, 400ms);
    EXPECT_GE(detail::backoff_delay(0ms, 0ms, 0, 0.0), 0ms);  // degenerate config: no crash
}

TEST(redis_errc, has_its_own_category) {
    const boost::system::error_code ec = errc::timeout;
    EXPECT_STREQ(ec.category().name(), "confide.redis");
    EXPECT_FALSE(ec.message().empty());
    EXPECT_NE(ec, boost::system::error_code(errc::disconnected));
}

}  // namespace
}  // namespace confide::store::redis
