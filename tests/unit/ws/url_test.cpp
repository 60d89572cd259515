#include "confide/ws/url.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using confide::ws::host_header;
using confide::ws::parse_url;

TEST(parse_url, host_port_and_path) {
    auto ep = parse_url("ws://127.0.0.1:8080/");
    EXPECT_EQ(ep.host, "127.0.0.1");
    EXPECT_EQ(ep.port, "8080");
    EXPECT_EQ(ep.target, "/");
    ep = parse_url("ws://chat.example.org/v1/ws?x=1");
    EXPECT_EQ(ep.host, "chat.example.org");
    EXPECT_EQ(ep.port, "80");
    EXPECT_EQ(ep.target, "/v1/ws?x=1");
    ep = parse_url("ws://[::1]:9000");
    EXPECT_EQ(ep.host, "::1");
    EXPECT_EQ(ep.port, "9000");
    EXPECT_EQ(ep.target, "/");
    EXPECT_FALSE(ep.tls);
}

TEST(parse_url, wss_defaults_to_port_443) {
    auto ep = parse_url("wss://chat.example.org/");
    EXPECT_TRUE(ep.tls);
    EXPECT_EQ(ep.host, "chat.example.org");
    EXPECT_EQ(ep.port, "443");
    ep = parse_url("wss://localhost:8443/x");
    EXPECT_TRUE(ep.tls);
    EXPECT_EQ(ep.port, "8443");
    EXPECT_EQ(ep.target, "/x");
}

TEST(parse_url, refuses_what_it_cannot_do) {
    for (const char* bad :
         {"127.0.0.1:8080", "http://h/", "https://h/", "wss:/h/", "ws://", "ws://:80/", "ws://h:0/",
          "ws://h:99999/", "ws://h:8x/", "ws://[::1/", "ws://u@h/"}) {
        EXPECT_THROW(parse_url(bad), std::invalid_argument) << bad;
    }
}

TEST(host_header, brackets_ipv6_and_omits_the_default_port) {
    EXPECT_EQ(host_header("127.0.0.1", "8080"), "127.0.0.1:8080");
    EXPECT_EQ(host_header("chat.example.org", "80"), "chat.example.org");
    EXPECT_EQ(host_header("::1", "9000"), "[::1]:9000");
    EXPECT_EQ(host_header("chat.example.org", "443", true), "chat.example.org");
    EXPECT_EQ(host_header("chat.example.org", "80", true), "chat.example.org:80");
}

}  // namespace
