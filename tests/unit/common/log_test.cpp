// The JSON log format: one object per line, ids lifted out of the message, everything escaped.

#include "common/log.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <string>

namespace confide::log {
namespace {

boost::json::object format(std::string_view message, spdlog::level::level_enum level,
                           std::string node = "n1") {
    auto f = json_formatter(std::move(node));
    spdlog::details::log_msg m("confide", level, message);
    spdlog::memory_buf_t out;
    f->format(m, out);
    const std::string line(out.data(), out.size());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line: " << line;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << line;
    return v.is_object() ? v.as_object() : boost::json::object{};
}

TEST(JsonLog, RoutingPrefixBecomesConnAndUser) {
    auto o = format("conn=ab12 user=alice authenticated as client", spdlog::level::info);
    EXPECT_EQ(o.at("level"), "info");
    EXPECT_EQ(o.at("node"), "n1");
    EXPECT_EQ(o.at("conn"), "ab12");
    EXPECT_EQ(o.at("user"), "alice");
    EXPECT_EQ(o.at("msg"), "authenticated as client");
    const std::string time(o.at("time").as_string());
    EXPECT_EQ(time.size(), 24u) << time;  // 2026-01-31T12:00:00.123Z
    EXPECT_EQ(time.back(), 'Z');
}

TEST(JsonLog, UnauthenticatedConnectionsHaveNoUser) {
    auto o = format("conn=ab12 user=- authentication refused: expired", spdlog::level::info);
    EXPECT_EQ(o.at("conn"), "ab12");
    EXPECT_FALSE(o.contains("user"));
    EXPECT_EQ(o.at("msg"), "authentication refused: expired");
}

TEST(JsonLog, NetworkAndUserPrefixes) {
    auto net = format("conn 9f00: upgrade to WebSocket", spdlog::level::debug);
    EXPECT_EQ(net.at("conn"), "9f00");
    EXPECT_EQ(net.at("msg"), "upgrade to WebSocket");
    EXPECT_EQ(net.at("level"), "debug");
    auto user = format("user=bob presence: offline", spdlog::level::warn);
    EXPECT_EQ(user.at("user"), "bob");
    EXPECT_EQ(user.at("msg"), "presence: offline");
    EXPECT_EQ(user.at("level"), "warning");
    auto plain = format("listening on 127.0.0.1:8080", spdlog::level::info, "");
    EXPECT_FALSE(plain.contains("conn") || plain.contains("user") || plain.contains("node"));
    EXPECT_EQ(plain.at("msg"), "listening on 127.0.0.1:8080");
}

TEST(JsonLog, QuotesControlCharactersAndBadUtf8AreEscaped) {
    auto o = format("origin '\"x\\y\"\n\t\x01' caf\xc3\xa9 bad\xff\xc3 end", spdlog::level::info);
    EXPECT_EQ(o.at("msg"), "origin '\"x\\y\"\n\t\x01' caf\xc3\xa9 bad\xef\xbf\xbd\xef\xbf\xbd end");
}

}  // namespace
}  // namespace confide::log
