#include "options.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace confide::loadgen;

const std::string secret(32, 's');

options parse(std::vector<std::string> args) {
    args.insert(args.begin(), "confide-loadgen");
    std::vector<const char*> argv;
    for (const auto& a : args) {
        argv.push_back(a.c_str());
    }
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(options, defaults) {
    const auto o = parse({"--secret", secret});
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, "8080");
    EXPECT_EQ(o.target, "/");
    EXPECT_EQ(o.clients, 10U);
    EXPECT_EQ(o.specialists, 10U);
    EXPECT_EQ(o.connections(), 20U);
    EXPECT_EQ(o.threads, 1U);
    EXPECT_EQ(o.window, 1U);
    EXPECT_EQ(o.rate, 0.0);
    EXPECT_TRUE(o.expect_echo);
    EXPECT_TRUE(o.skip_own_echo);
    EXPECT_TRUE(o.progress);
    EXPECT_EQ(o.run_id.size(), 8U) << "random run id";
    EXPECT_NE(o.run_id, parse({"--secret", secret}).run_id);
}

TEST(options, everything) {
    const auto o = parse({"--url",
                          "ws://[::1]:9000/chat",
                          "--secret",
                          secret,
                          "--key-id",
                          "k1",
                          "--run-id",
                          "abc123",
                          "--clients",
                          "1000",
                          "--specialists",
                          "100",
                          "--threads",
                          "2",
                          "--rate",
                          "5000",
                          "--window",
                          "8",
                          "--duration",
                          "30",
                          "--messages-per-connection",
                          "50",
                          "--body-bytes",
                          "200",
                          "--ramp-up",
                          "5",
                          "--churn",
                          "0.05",
                          "--source-addresses",
                          "127.0.0.1,127.0.0.2,,127.0.0.3",
                          "--report-json",
                          "/tmp/r.json",
                          "--drain",
                          "20",
                          "--no-echo-check",
                          "--skip-own-echo",
                          "0",
                          "--quiet",
                          "--max-failed-connections",
                          "5",
                          "--ack-delay-ms",
                          "0"});
    EXPECT_EQ(o.host, "::1");
    EXPECT_EQ(o.port, "9000");
    EXPECT_EQ(o.target, "/chat");
    EXPECT_EQ(o.key_id, "k1");
    EXPECT_EQ(o.run_id, "abc123");
    EXPECT_EQ(o.clients, 1000U);
    EXPECT_EQ(o.specialists, 100U);
    EXPECT_EQ(o.threads, 2U);
    EXPECT_EQ(o.rate, 5000.0);
    EXPECT_EQ(o.window, 8U);
    EXPECT_EQ(o.duration_s, 30.0);
    EXPECT_EQ(o.messages_per_connection, 50U);
    EXPECT_EQ(o.body_bytes, 200U);
    EXPECT_EQ(o.ramp_up_s, 5.0);
    EXPECT_EQ(o.churn, 0.05);
    EXPECT_EQ(o.source_addresses,
              (std::vector<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.3"}));
    EXPECT_EQ(o.report_json, "/tmp/r.json");
    EXPECT_EQ(o.drain_s, 20.0);
    EXPECT_FALSE(o.expect_echo);
    EXPECT_FALSE(o.skip_own_echo);
    EXPECT_FALSE(o.progress);
    EXPECT_EQ(o.max_failed_connections, 5U);
    EXPECT_EQ(o.ack_delay_ms, 0U);
}

TEST(options, connect_only_and_backlog) {
    auto o =
        parse({"--secret", secret, "--connect-only", "--clients", "5000", "--specialists", "0"});
    EXPECT_TRUE(o.connect_only);
    EXPECT_EQ(o.connections(), 5000U);
    o = parse({"--secret", secret, "--backlog", "--messages-per-connection", "100"});
    EXPECT_TRUE(o.backlog);
}

TEST(options, seeded_conversations) {
    EXPECT_TRUE(parse({"--secret", secret}).conversation_prefix.empty());
    EXPECT_EQ(parse({"--secret", secret, "--conversation-prefix", "conv-r1-"}).conversation_prefix,
              "conv-r1-");
    EXPECT_NE(usage_text().find("--conversation-prefix"), std::string::npos);
}

TEST(options, help) {
    EXPECT_TRUE(parse({"--help"}).help_requested);
    EXPECT_NE(usage_text().find("--source-addresses"), std::string::npos);
}

TEST(options, refuses_bad_values) {
    const std::vector<std::vector<std::string>> bad = {
        {},                                             // no secret
        {"--secret", "short"},                          // secret too short
        {"--secret", secret, "--bogus"},                // unknown option
        {"--secret", secret, "--clients", "x"},         // not a number
        {"--secret", secret, "--url", "http://h:1/"},   // not ws://
        {"--secret", secret, "--url", "ws://h:0/"},     // port 0
        {"--secret", secret, "--url", "ws://h:70000"},  // port too big
        {"--secret", secret, "--url", "ws://u@h/"},     // userinfo
        {"--secret", secret, "--url", "ws://[::1"},     // unterminated literal
        {"--secret", secret, "--window", "0"},
        {"--secret", secret, "--window", "5000"},
        {"--secret", secret, "--threads", "0"},
        {"--secret", secret, "--rate", "-1"},
        {"--secret", secret, "--duration", "0"},
        {"--secret", secret, "--body-bytes", "10"},
        {"--secret", secret, "--body-bytes", "9000"},
        {"--secret", secret, "--churn", "1.5"},
        {"--secret", secret, "--ramp-up", "20", "--duration", "10"},
        {"--secret", secret, "--run-id", "has-dash"},
        {"--secret", secret, "--run-id", "seventeen_chars_x"},
        {"--secret", secret, "--specialists", "0"},  // nobody to write to
        {"--secret", secret, "--source-addresses", ","},
        {"--secret", secret, "--backlog"},  // needs messages per connection
        {"--secret", secret, "--backlog", "--connect-only", "--messages-per-connection", "1"},
        {"--secret", secret, "--backlog", "--messages-per-connection", "1", "--churn", "0.1"},
    };
    for (const auto& args : bad) {
        std::string joined;
        for (const auto& a : args) {
            joined += a + " ";
        }
        EXPECT_THROW(parse(args), options_error) << joined;
    }
}

}  // namespace
